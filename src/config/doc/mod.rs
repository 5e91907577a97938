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

use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::error::{ConfigError, Origin};

mod errors;
mod set;

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

impl From<&str> for Seg {
    fn from(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
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
    /// Where the lines start, built on the first position asked for, so
    /// that naming the position of each of a million values is linear.
    lines: std::sync::Arc<std::sync::OnceLock<LineIndex>>,
}

/// The start of every line of a text and whether the line is ASCII (its
/// column is then a byte offset); for other lines, the last position
/// computed, since positions are mostly asked for in order.
struct LineIndex {
    starts: Vec<usize>,
    ascii: Vec<bool>,
    last: std::sync::Mutex<(usize, usize, usize)>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut is_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            is_ascii &= b.is_ascii();
            if b == b'\n' {
                starts.push(i + 1);
                ascii.push(is_ascii);
                is_ascii = true;
            }
        }
        ascii.push(is_ascii);
        LineIndex {
            starts,
            ascii,
            last: std::sync::Mutex::new((usize::MAX, 0, 0)),
        }
    }

    /// 1-based (line, column in characters) of byte `offset` (a char
    /// boundary) of `text`.
    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        if self.ascii[line] {
            return (line + 1, offset - start + 1);
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let (from, base) = if last.0 == line && last.1 <= offset {
            (last.1, last.2)
        } else {
            (start, 0)
        };
        let column = base + text[from..offset].chars().count();
        *last = (line, offset, column);
        (line + 1, column + 1)
    }
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
            lines: Default::default(),
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

    /// The document's top-level table, with every value's span.
    pub fn root(&self) -> &DeTable<'a> {
        self.root.get_ref()
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
        let offset = self.floor_char_boundary(span.start.min(self.text.len()));
        let (line, column) = self
            .lines
            .get_or_init(|| LineIndex::new(self.text))
            .position(self.text, offset);
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
