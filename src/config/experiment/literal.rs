//! Canonical TOML spellings of values, so equal values compare equal
//! however they were written.

use toml::de::DeValue;

use crate::config::units::{parse_bytes, parse_duration};

/// True when two literals name the same value: the same spelling, the same
/// duration (`"100ms"` and `"0.1s"`), size (`"1KiB"` and `"1024B"`) or
/// number (`2` and `2.0`).
#[cfg(test)]
pub(super) fn same_value(a: &str, b: &str) -> bool {
    a == b || normal_form(a) == normal_form(b)
}

/// A literal normalised so that two spellings of one value are equal:
/// numbers by value (`2`, `2.0` and `+2` alike; `-0.0` is `0`, its `as` cast), strings
/// that are durations by their nanoseconds, strings that are sizes by their
/// bytes, anything else as written. Duplicate detection and `[[exclude]]`
/// matching compare these, so both are linear with a hash set.
pub fn normal_form(literal: &str) -> String {
    let Ok(v) = DeValue::parse(literal) else {
        return format!("lit:{literal}");
    };
    match v.get_ref() {
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => format!("num:{n}"),
            Err(_) => format!("lit:{literal}"),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) if x.fract() == 0.0 && x.abs() < 1e30 => format!("num:{}", x as i128),
            Ok(x) => format!("num:{x:?}"),
            Err(_) => format!("lit:{literal}"),
        },
        DeValue::String(s) => {
            if let Ok(ns) = parse_duration(s) {
                format!("dur:{ns}")
            } else if let Ok(b) = parse_bytes(s) {
                format!("size:{b}")
            } else {
                format!("str:{s}")
            }
        }
        DeValue::Boolean(_) | DeValue::Datetime(_) | DeValue::Array(_) | DeValue::Table(_) => {
            format!("lit:{literal}")
        }
    }
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float as TOML writes it, with a `.0` when the shortest spelling is an
/// integer.
pub(super) fn float_literal(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{x}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn bare_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// The canonical TOML spelling of a value: integers in decimal, floats in
/// their shortest round-trip form, strings as basic strings, tables with
/// their keys sorted. Equal values have equal literals however written.
pub fn literal(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => quote(s),
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .map(|n| n.to_string())
            .unwrap_or_else(|_| i.to_string()),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .map(float_literal)
            .unwrap_or_else(|_| f.to_string()),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|x| literal(x.get_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DeValue::Table(t) => {
            if t.is_empty() {
                return "{}".into();
            }
            let mut entries: Vec<(String, String)> = t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), literal(v.get_ref())))
                .collect();
            entries.sort();
            format!(
                "{{ {} }}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{} = {v}", bare_key(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}
