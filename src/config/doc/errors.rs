//! serde's errors, translated: the key path and position of the bad value,
//! a did-you-mean for near-miss keys and values, and what is allowed.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::DeValue;

use super::{Document, Seg, join_path};
use crate::config::error::{ConfigError, Origin, did_you_mean};

/// A visitor of the document's entries: (path, key, value) → stop.
type Visit<'v> = dyn FnMut(
        &[Seg],
        &serde_spanned::Spanned<std::borrow::Cow<'_, str>>,
        &serde_spanned::Spanned<DeValue<'_>>,
    ) -> bool
    + 'v;

impl Document<'_> {
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

    /// Calls `visit(path, key, value)` for every entry of the tree, depth
    /// first, until it returns true.
    fn walk_entries(&self, visit: &mut Visit<'_>) {
        fn walk(path: &mut Vec<Seg>, value: &DeValue<'_>, visit: &mut Visit<'_>) -> bool {
            match value {
                DeValue::Table(t) => {
                    for (k, v) in t.iter() {
                        path.push(Seg::Key(k.get_ref().to_string()));
                        if visit(path, k, v) || walk(path, v.get_ref(), visit) {
                            return true;
                        }
                        path.pop();
                    }
                }
                DeValue::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        path.push(Seg::Index(i));
                        if walk(path, v.get_ref(), visit) {
                            return true;
                        }
                        path.pop();
                    }
                }
                _ => {}
            }
            false
        }
        let mut path = Vec::new();
        for (k, v) in self.root.get_ref().iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            if visit(&path, k, v) || walk(&mut path, v.get_ref(), visit) {
                return;
            }
            path.pop();
        }
    }

    /// The path of the table whose value span is exactly `span` (where serde
    /// reports a missing key): the root when none is.
    fn path_of_table(&self, span: &Range<usize>) -> Vec<Seg> {
        fn walk(
            path: &mut Vec<Seg>,
            v: &serde_spanned::Spanned<DeValue<'_>>,
            span: &Range<usize>,
        ) -> bool {
            match v.get_ref() {
                DeValue::Table(t) => {
                    if v.span() == *span {
                        return true;
                    }
                    for (k, inner) in t.iter() {
                        path.push(Seg::Key(k.get_ref().to_string()));
                        if walk(path, inner, span) {
                            return true;
                        }
                        path.pop();
                    }
                }
                DeValue::Array(a) => {
                    for (i, inner) in a.iter().enumerate() {
                        path.push(Seg::Index(i));
                        if walk(path, inner, span) {
                            return true;
                        }
                        path.pop();
                    }
                }
                _ => {}
            }
            false
        }
        let mut path = Vec::new();
        for (k, v) in self.root.get_ref().iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            if walk(&mut path, v, span) {
                return path;
            }
            path.pop();
        }
        Vec::new()
    }

    /// The path of the key `name` written at `span` (where serde reports an
    /// unknown key); without one at that span (a `--set` override has
    /// none), the first key of that name.
    fn path_of_key(&self, name: &str, span: &Range<usize>) -> Option<Vec<Seg>> {
        let (mut exact, mut first) = (None, None);
        self.walk_entries(&mut |path, k, _| {
            if k.get_ref() == name {
                if k.span() == *span {
                    exact = Some(path.to_vec());
                    return true;
                }
                first.get_or_insert_with(|| path.to_vec());
            }
            false
        });
        exact.or(first)
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
            // The span of an unknown field is its key: find that key (the
            // tightest span around it may be another entry's).
            match self.path_of_key(&found, &span) {
                Some(p) => path = p,
                None => {
                    if path.last() != Some(&Seg::Key(found.clone())) {
                        path.push(Seg::Key(found.clone()));
                    }
                }
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
            // The span of a missing field is the table it is missing from.
            path = self.path_of_table(&span);
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
    "database.overload",
    "database.contention",
    "database.retry",
    "database.budget",
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
