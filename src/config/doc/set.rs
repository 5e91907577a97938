//! Dotted-path overrides (`--set client.op_timeout=100ms`, swept values):
//! each replaces or creates one value, with a span that names the override.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::{
    Document, MAX_KEY_PARTS, SYNTHETIC, Seg, Value, parse_override_value, parse_path, respan,
};
use crate::config::error::{ConfigError, Origin};

impl<'a> Document<'a> {
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
