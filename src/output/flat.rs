//! Flattens any `Serialize` value into (dotted path, leaf) pairs in
//! declaration order: how a metric's key is spelled
//! (`windows.fault.success_ratio`, `nodes.1.served`).
//!
//! The value goes through `serde_json::to_value`, with serde_json's
//! `preserve_order` feature on (`Cargo.toml`): objects keep the order the
//! struct declares its fields in, and floats arrive as the `f64` the run
//! computed (no text in between). Like `summary.json`, a non-finite float
//! has no JSON value: it becomes a missing number (an empty cell).

use serde::Serialize;
use serde_json::Value;

/// The one spelling of a float in every file the sweep writes: the shortest
/// text that reads back to the same `f64` (`0.1`, `12.5`, `1000`), `inf` and
/// `-inf` for infinities; NaN has no spelling (an empty cell).
pub fn fmt_f64(x: f64) -> Option<String> {
    if x.is_nan() {
        None
    } else if x.is_infinite() {
        Some(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Some(format!("{x}"))
    }
}

/// A leaf of a flattened value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A number in its exact spelling, or `None` for a missing one
    /// (`Option::None`, unit, NaN).
    Number(Option<String>),
    /// Text or a boolean: not a metric.
    Text,
}

/// Flattens `value` into (dotted path, leaf) pairs.
pub fn leaves<T: Serialize + ?Sized>(value: &T) -> Vec<(String, Leaf)> {
    let v = serde_json::to_value(value).expect("flattening cannot fail on plain data");
    let mut out = Vec::new();
    walk(&v, String::new(), &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(v: &Value, path: String, out: &mut Vec<(String, Leaf)>) {
    match v {
        Value::Null => out.push((path, Leaf::Number(None))),
        Value::Bool(_) | Value::String(_) => out.push((path, Leaf::Text)),
        Value::Number(n) => {
            let text = if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                n.as_f64().and_then(fmt_f64)
            };
            out.push((path, Leaf::Number(text)));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, join(&path, &i.to_string()), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, join(&path, k), out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        z: f64,
        a: Option<u64>,
    }
    #[derive(Serialize)]
    struct Outer {
        name: String,
        b: Inner,
        list: Vec<Inner>,
        flag: bool,
    }

    #[test]
    fn keeps_declaration_order_and_exact_values() {
        let v = Outer {
            name: "x".into(),
            b: Inner {
                z: 0.1 + 0.2,
                a: None,
            },
            list: vec![Inner { z: 1.0, a: Some(3) }],
            flag: true,
        };
        let l = leaves(&v);
        let n = |s: &str| Leaf::Number(Some(s.to_string()));
        assert_eq!(
            l,
            vec![
                ("name".into(), Leaf::Text),
                ("b.z".into(), n("0.30000000000000004")),
                ("b.a".into(), Leaf::Number(None)),
                ("list.0.z".into(), n("1")),
                ("list.0.a".into(), n("3")),
                ("flag".into(), Leaf::Text),
            ]
        );
    }

    /// The shapes the summary uses besides structs: maps keep their
    /// iteration order, newtype variants add their name, unit variants are
    /// text, and an infinity (no JSON value) is a missing number.
    #[test]
    fn maps_enums_and_non_finite_floats() {
        #[derive(Serialize)]
        enum Kind {
            Plain,
            Wrapped(u32),
        }
        #[derive(Serialize)]
        struct S {
            m: std::collections::BTreeMap<u16, f64>,
            k: Kind,
            w: Kind,
            inf: f64,
            neg: i64,
        }
        let v = S {
            m: [(2, 0.5), (10, 1.5)].into_iter().collect(),
            k: Kind::Plain,
            w: Kind::Wrapped(7),
            inf: f64::INFINITY,
            neg: -3,
        };
        let n = |s: &str| Leaf::Number(Some(s.to_string()));
        assert_eq!(
            leaves(&v),
            vec![
                ("m.2".into(), n("0.5")),
                ("m.10".into(), n("1.5")),
                ("k".into(), Leaf::Text),
                ("w.Wrapped".into(), n("7")),
                ("inf".into(), Leaf::Number(None)),
                ("neg".into(), n("-3")),
            ]
        );
    }
}
