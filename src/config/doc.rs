//! A parsed TOML document that remembers where every value came from, and the
//! dotted-path overrides (`--set client.op_timeout=100ms`, swept values) that
//! are applied to it before it is validated once.
//!
//! Values keep their byte spans in the file. Overridden values get a synthetic
//! span past the end of any file, which names the override instead, so every
//! error (from serde or from semantic validation) points at the file, line and
//! column, or at the `--set` argument, that produced the bad value.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::error::{ConfigError, Origin, did_you_mean};

/// Most parts of a dotted key in an override: model keys have at most 8
/// (`workload.flow.0.steps.1.time.mean`); a bound keeps a garbage key from
/// nesting tables deeply enough to exhaust the stack.
const MAX_KEY_PARTS: usize = 16;

/// Spans at or past this offset are not in the file: they name an override.
const SYNTHETIC: usize = 1 << 48;

/// One step of a dotted key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Splits `a.b.0.c` into segments; numeric segments are array indices.
pub fn parse_path(dotted: &str) -> Vec<Seg> {
    dotted
        .split('.')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key(s.to_string()),
        })
        .collect()
}

/// Joins segments back into the dotted spelling.
pub fn join_path(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

type Value<'a> = Spanned<DeValue<'a>>;

/// A model or experiment file with its overrides. It borrows the file's text
/// and the override values, so it lives no longer than they do.
#[derive(Clone)]
pub struct Document<'a> {
    path: PathBuf,
    text: &'a str,
    root: Spanned<DeTable<'a>>,
    /// For each override: how to name it in an error.
    overrides: Vec<String>,
}

/// Rebuilds a value with every span (its own and its children's) set to `span`.
fn respan<'a>(value: DeValue<'a>, span: Range<usize>) -> Value<'a> {
    let inner = match value {
        DeValue::Array(items) => {
            let mut out = DeArray::new();
            for item in items.iter() {
                out.push(respan(item.get_ref().clone(), span.clone()));
            }
            DeValue::Array(out)
        }
        DeValue::Table(table) => {
            let mut out = DeTable::new();
            for (k, v) in table.iter() {
                out.insert(
                    Spanned::new(span.clone(), k.get_ref().clone()),
                    respan(v.get_ref().clone(), span.clone()),
                );
            }
            DeValue::Table(out)
        }
        other => other,
    };
    Spanned::new(span, inner)
}

/// Parses the right-hand side of `key=value`: a TOML value if it is one
/// (`100`, `true`, `"x"`, `[1, 2]`), otherwise the text as a string
/// (`100ms`, `crash`).
pub fn parse_override_value(text: &str) -> DeValue<'_> {
    match DeValue::parse(text) {
        Ok(v) => v.into_inner(),
        Err(_) => DeValue::String(text.into()),
    }
}

/// The largest model or experiment file read (16 MiB): hand-written files
/// are a few kilobytes, and a bound keeps `cachestorm run /dev/zero` or a
/// mistaken multi-gigabyte file from exhausting memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads a file as UTF-8 text, with a clear error for a directory, a missing
/// file, a file over [`MAX_FILE_BYTES`] or binary content.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let whole = |message: String| ConfigError {
        origin: Origin::WholeFile(path.to_path_buf()),
        key: String::new(),
        message,
        allowed: None,
    };
    if path.is_dir() {
        return Err(whole("is a directory, not a TOML file".into()));
    }
    let file = std::fs::File::open(path).map_err(|e| whole(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError {
            allowed: Some(format!("a file of at most {} MiB", MAX_FILE_BYTES >> 20)),
            ..whole(format!(
                "is larger than {} MiB: not a model file",
                MAX_FILE_BYTES >> 20
            ))
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        whole(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl<'a> Document<'a> {
    /// Parses TOML text that came from `path` (used in messages only).
    pub fn parse(path: &Path, text: &'a str) -> Result<Self, ConfigError> {
        let mut doc = Document {
            path: path.to_path_buf(),
            text,
            root: Spanned::new(0..0, DeTable::new()),
            overrides: Vec::new(),
        };
        if doc.text.trim().is_empty() {
            return Err(ConfigError {
                origin: Origin::WholeFile(doc.path.clone()),
                key: String::new(),
                message: "the file is empty".into(),
                allowed: None,
            });
        }
        match DeTable::parse(doc.text) {
            Ok(root) => {
                doc.root = root;
                Ok(doc)
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let mut message = e.message().trim().to_string();
                // Name the key that is defined twice (its span is the key).
                if message == "duplicate key"
                    && let Some(key) = doc.text.get(span.clone())
                {
                    let key = key.trim().trim_start_matches('[').trim_end_matches(']');
                    if !key.is_empty() && key.len() <= 100 && !key.contains('\n') {
                        message = format!("`{key}` is defined twice");
                    }
                }
                Err(ConfigError {
                    origin: doc.origin_of_span(&span),
                    key: String::new(),
                    message: format!("not valid TOML: {message}"),
                    allowed: None,
                })
            }
        }
    }

    /// The file this document was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a span points: a file position, or an override.
    pub fn origin_of_span(&self, span: &Range<usize>) -> Origin {
        if span.start >= SYNTHETIC {
            let i = span.start - SYNTHETIC;
            return Origin::Override(
                self.overrides
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "an override".into()),
            );
        }
        let offset = span.start.min(self.text.len());
        let before = &self.text[..self.floor_char_boundary(offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Origin::File {
            path: self.path.clone(),
            line,
            column,
        }
    }

    fn floor_char_boundary(&self, mut i: usize) -> usize {
        while i > 0 && !self.text.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    /// The value at `path`, if present.
    fn get(&self, path: &[Seg]) -> Option<&Value<'a>> {
        let mut table = self.root.get_ref();
        let mut current: Option<&Value> = None;
        for seg in path {
            let next = match (seg, current.map(|v| v.get_ref())) {
                (Seg::Key(k), None) => table.get(k.as_str()),
                (Seg::Key(k), Some(DeValue::Table(t))) => t.get(k.as_str()),
                (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            }?;
            if let DeValue::Table(t) = next.get_ref() {
                table = t;
            }
            current = Some(next);
        }
        current
    }

    /// True when the key at `path` is written in the document (or set).
    pub fn contains(&self, path: &[Seg]) -> bool {
        self.get(path).is_some()
    }

    /// Where the value at `path` is, or the nearest enclosing value that exists.
    pub fn origin_of_path(&self, path: &[Seg]) -> Origin {
        for n in (0..=path.len()).rev() {
            if let Some(v) = self.get(&path[..n]) {
                return self.origin_of_span(&v.span());
            }
        }
        self.origin_of_span(&(0..0))
    }

    /// A semantic error about the value at `path`.
    pub fn error_at(
        &self,
        path: &[Seg],
        message: impl Into<String>,
        allowed: Option<String>,
    ) -> ConfigError {
        ConfigError {
            origin: self.origin_of_path(path),
            key: join_path(path),
            message: message.into(),
            allowed,
        }
    }

    /// The key path of the entry whose key or value span most tightly
    /// contains `span`. Spans of standard tables cover only their header, so
    /// the whole tree is searched rather than just the enclosing spans.
    fn path_at_span(&self, span: &Range<usize>) -> Vec<Seg> {
        fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
            outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
        }
        struct Search<'s> {
            target: &'s Range<usize>,
            path: Vec<Seg>,
            best: Option<(usize, Vec<Seg>)>,
        }
        impl Search<'_> {
            fn consider(&mut self, spans: [Range<usize>; 2]) {
                for s in spans {
                    if contains(&s, self.target) {
                        let len = s.end - s.start;
                        if self.best.as_ref().is_none_or(|(b, p)| {
                            len < *b || (len == *b && self.path.len() > p.len())
                        }) {
                            self.best = Some((len, self.path.clone()));
                        }
                    }
                }
            }
            fn walk(&mut self, value: &DeValue<'_>) {
                match value {
                    DeValue::Table(t) => {
                        for (k, v) in t.iter() {
                            self.path.push(Seg::Key(k.get_ref().to_string()));
                            self.consider([k.span(), v.span()]);
                            self.walk(v.get_ref());
                            self.path.pop();
                        }
                    }
                    DeValue::Array(a) => {
                        for (i, v) in a.iter().enumerate() {
                            self.path.push(Seg::Index(i));
                            self.consider([v.span(), 0..0]);
                            self.walk(v.get_ref());
                            self.path.pop();
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut search = Search {
            target: span,
            path: Vec::new(),
            best: None,
        };
        for (k, v) in self.root.get_ref().iter() {
            search.path.push(Seg::Key(k.get_ref().to_string()));
            search.consider([k.span(), v.span()]);
            search.walk(v.get_ref());
            search.path.pop();
        }
        search.best.map(|(_, p)| p).unwrap_or_default()
    }

    /// Applies one `key=value` override given on the command line.
    pub fn set_arg(&mut self, arg: &'a str) -> Result<(), ConfigError> {
        // How errors name the argument: whole, unless it is very long.
        let shown = if arg.chars().count() > 120 {
            format!("--set {}…", arg.chars().take(120).collect::<String>())
        } else {
            format!("--set {arg}")
        };
        let fail = |message: String, allowed: Option<String>| ConfigError {
            origin: Origin::Override(shown.clone()),
            key: arg
                .split('=')
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect(),
            message,
            allowed,
        };
        let Some((key, value)) = arg.split_once('=') else {
            return Err(fail(
                "expected `dotted.key=value`".into(),
                Some("e.g. --set client.op_timeout=100ms".into()),
            ));
        };
        let key = key.trim();
        if key.is_empty() || key.split('.').any(|s| s.is_empty()) {
            return Err(fail(
                "the key is empty or has an empty part".into(),
                Some("e.g. --set fault.0.kind=crash".into()),
            ));
        }
        self.set(key, parse_override_value(value.trim()), shown)
    }

    /// Sets the value at `dotted` (creating missing tables, or appending to an
    /// array at exactly its length). `origin` names the override in errors.
    pub fn set(
        &mut self,
        dotted: &str,
        value: DeValue<'a>,
        origin: String,
    ) -> Result<(), ConfigError> {
        let path = parse_path(dotted);
        if path.len() > MAX_KEY_PARTS {
            return Err(ConfigError {
                origin: Origin::Override(origin),
                key: if dotted.chars().count() > 60 {
                    dotted.chars().take(60).collect::<String>() + "…"
                } else {
                    dotted.to_string()
                },
                message: format!("the key has {} parts", path.len()),
                allowed: Some(format!(
                    "a dotted key of at most {MAX_KEY_PARTS} parts, e.g. workload.flow.0.steps.1.op"
                )),
            });
        }
        let index = self.overrides.len();
        self.overrides.push(origin.clone());
        let span = SYNTHETIC + index..SYNTHETIC + index + 1;
        let fail = |message: String| ConfigError {
            origin: Origin::Override(origin.clone()),
            key: dotted.to_string(),
            message,
            allowed: None,
        };
        let root_span = self.root.span();
        let mut root =
            std::mem::replace(&mut self.root, Spanned::new(0..0, DeTable::new())).into_inner();
        let result = set_in_table(&mut root, &path, value, &span, &fail);
        self.root = Spanned::new(root_span, root);
        result
    }

    /// Deserializes the whole document, mapping serde's errors to a key path
    /// and origin, with a "did you mean" for near-miss keys and values.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let de = toml::de::Deserializer::from(self.root.clone());
        T::deserialize(de).map_err(|e| self.translate(&e))
    }

    fn translate(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let mut path = self.path_at_span(&span);
        let raw = e.message().trim().to_string();
        let origin = self.origin_of_span(&span);
        if let Some(e) = self.table_written_as_array(&path, &origin) {
            return e;
        }
        let (message, allowed) = if let Some(rest) = raw.strip_prefix("unknown field `") {
            let (found, expected) = split_expected(rest);
            // The span of an unknown field is its key, so the path ends with it.
            if path.last() != Some(&Seg::Key(found.clone())) {
                path.push(Seg::Key(found.clone()));
            }
            let hint = did_you_mean(&found, expected.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            (
                format!("unknown key `{found}`{hint}"),
                Some(expected.join(", ")),
            )
        } else if let Some(rest) = raw.strip_prefix("unknown variant `") {
            let (found, expected) = split_expected(rest);
            let hint = did_you_mean(&found, expected.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            (
                format!("unknown value `{found}`{hint}"),
                Some(expected.join(", ")),
            )
        } else if let Some(rest) = raw.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or("").to_string();
            path.push(Seg::Key(field));
            ("this required key is missing".to_string(), None)
        } else {
            humanize(&raw)
        };
        ConfigError {
            origin,
            key: join_path(&path),
            message,
            allowed,
        }
    }
}

/// Tables of a model file that are sometimes mistakenly written as arrays
/// (`[[client]]` for `[client]`); `*` stands for an array index.
const MODEL_TABLES: &[&str] = &[
    "workload",
    "workload.keys",
    "workload.keys.popularity",
    "frontend",
    "service",
    "service.bulkhead",
    "client",
    "client.plain",
    "client.spymemcached",
    "network",
    "cluster",
    "database",
    "fault.*.frozen",
    "fault.*.slow",
    "fault.*.lossy",
    "fault.*.flapping",
];

impl Document<'_> {
    /// An error for a table written as an array of tables (`[[client]]`),
    /// which serde would otherwise report as a baffling error inside it.
    fn table_written_as_array(&self, path: &[Seg], origin: &Origin) -> Option<ConfigError> {
        for n in 1..path.len() {
            if !matches!(path[n], Seg::Index(_)) {
                continue;
            }
            let prefix = &path[..n];
            let pattern: Vec<String> = prefix
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => k.clone(),
                    Seg::Index(_) => "*".into(),
                })
                .collect();
            if !MODEL_TABLES.contains(&pattern.join(".").as_str()) {
                continue;
            }
            if let Some(v) = self.get(prefix)
                && matches!(v.get_ref(), DeValue::Array(_))
            {
                let name = join_path(prefix);
                return Some(ConfigError {
                    origin: origin.clone(),
                    key: name.clone(),
                    message: format!(
                        "`{name}` is a table, but an array (`[[{name}]]` or `[...]`) was found"
                    ),
                    allowed: Some(format!("one table: `[{name}]` or `{{ ... }}`")),
                });
            }
        }
        None
    }
}

/// Turns serde's type errors (`invalid type: string "20", expected u32`) into
/// what was found and what is allowed, spelled for people; a message that
/// already ends in `(allowed: …)` is split there.
fn humanize(raw: &str) -> (String, Option<String>) {
    if let Some(open) = raw.rfind(" (allowed: ")
        && raw.ends_with(')')
    {
        let allowed = &raw[open + " (allowed: ".len()..raw.len() - 1];
        return (raw[..open].to_string(), Some(allowed.to_string()));
    }
    if raw == "integer number overflowed" {
        return ("found an integer too large for 64 bits".to_string(), None);
    }
    let body = raw
        .strip_prefix("invalid type: ")
        .or_else(|| raw.strip_prefix("invalid value: "));
    let Some((found, expected)) = body.and_then(|b| b.split_once(", expected ")) else {
        return (raw.to_string(), None);
    };
    let found = match found.replace(" as i128", "").replace(" as u128", "") {
        f if f == "map" => "a table".to_string(),
        f if f == "sequence" => "an array".to_string(),
        f => f,
    };
    let range = |lo: i128, hi: i128| format!("an integer from {lo} to {hi}");
    let allowed = match expected.trim() {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "u64" | "usize" => range(0, u64::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => range(i64::MIN.into(), i64::MAX.into()),
        "f64" | "f32" => "a number, e.g. 100 or 0.5".to_string(),
        "a boolean" => "true or false".to_string(),
        "a sequence" => "an array `[...]`".to_string(),
        e if e.starts_with("struct ") || e == "a map" => "a table `{ ... }`".to_string(),
        e => e.to_string(),
    };
    (format!("found {found}"), Some(allowed))
}

/// Splits serde's "x`, expected one of `a`, `b`" into ("x", ["a", "b"]).
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let found = rest.split('`').next().unwrap_or("").to_string();
    let expected = rest
        .split_once("expected")
        .map(|(_, e)| {
            e.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    (found, expected)
}

fn set_in_table<'a>(
    table: &mut DeTable<'a>,
    path: &[Seg],
    value: DeValue<'a>,
    span: &Range<usize>,
    fail: &dyn Fn(String) -> ConfigError,
) -> Result<(), ConfigError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(fail("empty key".into()));
    };
    let Seg::Key(key) = first else {
        return Err(fail(
            "a table key was expected, found an array index".into(),
        ));
    };
    if rest.is_empty() {
        let k = Spanned::new(span.clone(), key.clone().into());
        table.remove(key.as_str());
        table.insert(k, respan(value, span.clone()));
        return Ok(());
    }
    if table.get(key.as_str()).is_none() {
        let empty = match rest[0] {
            Seg::Key(_) => DeValue::Table(DeTable::new()),
            Seg::Index(_) => DeValue::Array(DeArray::new()),
        };
        table.insert(
            Spanned::new(span.clone(), key.clone().into()),
            Spanned::new(span.clone(), empty),
        );
    }
    let Some(child) = table.get_mut(key.as_str()) else {
        return Err(fail(format!("cannot create `{key}`")));
    };
    set_in_value(child.get_mut(), rest, value, span, fail, key)
}

fn set_in_value<'a>(
    current: &mut DeValue<'a>,
    path: &[Seg],
    value: DeValue<'a>,
    span: &Range<usize>,
    fail: &dyn Fn(String) -> ConfigError,
    name: &str,
) -> Result<(), ConfigError> {
    match (current, &path[0]) {
        (DeValue::Table(t), Seg::Key(_)) => set_in_table(t, path, value, span, fail),
        (DeValue::Array(a), Seg::Index(i)) => {
            let i = *i;
            let rest = &path[1..];
            if i > a.len() {
                return Err(fail(format!(
                    "`{name}` has {} item(s), so index {i} does not exist (use an index from 0 to {} ; {} appends)",
                    a.len(),
                    a.len().saturating_sub(1),
                    a.len()
                )));
            }
            if i == a.len() {
                let empty = if rest.is_empty() {
                    DeValue::Boolean(false)
                } else {
                    match rest[0] {
                        Seg::Key(_) => DeValue::Table(DeTable::new()),
                        Seg::Index(_) => DeValue::Array(DeArray::new()),
                    }
                };
                a.push(Spanned::new(span.clone(), empty));
            }
            let items: &mut [Value<'a>] = a;
            if rest.is_empty() {
                items[i] = respan(value, span.clone());
                return Ok(());
            }
            set_in_value(
                items[i].get_mut(),
                rest,
                value,
                span,
                fail,
                &format!("{name}.{i}"),
            )
        }
        (DeValue::Array(_), Seg::Key(k)) => Err(fail(format!(
            "`{name}` is an array: use an index, not `{k}`"
        ))),
        (other, seg) => Err(fail(format!(
            "`{name}` is a {}, so it has no {}",
            other.type_str(),
            match seg {
                Seg::Key(k) => format!("key `{k}`"),
                Seg::Index(i) => format!("item {i}"),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        b: u32,
        #[serde(default)]
        c: Option<String>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        a: Inner,
        #[serde(default)]
        list: Vec<Inner>,
    }

    fn doc(text: &str) -> Document<'_> {
        Document::parse(Path::new("t.toml"), text).unwrap()
    }

    #[test]
    fn reports_line_column_and_key_of_a_bad_value() {
        let d = doc("[a]\nb = \"x\"\n");
        let e = d.deserialize::<Outer>().unwrap_err();
        assert_eq!(e.key, "a.b");
        assert_eq!(e.origin.to_string(), "t.toml:2:5");
    }

    #[test]
    fn unknown_key_gets_a_suggestion() {
        let d = doc("[a]\nb = 1\ncc = \"x\"\n");
        let e = d.deserialize::<Outer>().unwrap_err();
        assert_eq!(e.key, "a.cc");
        assert!(e.message.contains("did you mean `c`"), "{}", e.message);
        assert_eq!(e.origin.to_string(), "t.toml:3:1");
    }

    #[test]
    fn missing_key_is_named() {
        let d = doc("[a]\nc = \"x\"\n");
        let e = d.deserialize::<Outer>().unwrap_err();
        assert_eq!(e.key, "a.b");
    }

    #[test]
    fn overrides_create_tables_and_append_array_items() {
        let mut d = doc("list = []\n");
        d.set_arg("a.b=7").unwrap();
        d.set_arg("list.0.b=3").unwrap();
        d.set_arg("list.0.c=hello").unwrap();
        let o: Outer = d.deserialize().unwrap();
        assert_eq!(o.a.b, 7);
        assert_eq!(o.list[0].b, 3);
        assert_eq!(o.list[0].c.as_deref(), Some("hello"));
        let e = d.set_arg("list.5.b=1").unwrap_err();
        assert!(
            e.message.contains("index 5 does not exist"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_bad_override_is_named_as_the_override() {
        let mut d = doc("[a]\nb = 1\n");
        d.set_arg("a.b=oops").unwrap();
        let e = d.deserialize::<Outer>().unwrap_err();
        assert_eq!(e.origin.to_string(), "--set a.b=oops");
        assert_eq!(e.key, "a.b");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = Document::parse(Path::new("t.toml"), "a = 1\nb = = 2\n")
            .err()
            .unwrap();
        assert!(e.origin.to_string().starts_with("t.toml:2:"), "{}", e);
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
