//! The free-form tables of an experiment: `[vary]`, `[set]`,
//! `[[variant]]` and `[[exclude]]`, walked with their positions.

use std::collections::HashMap;
use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::literal::{literal, normal_form, quote};
use super::parse::{MAX_GRID, Text};
use super::range::range;
use super::{Axis, Exclude, ParamValue, Setting, VARIANT};
use crate::config::error::{ConfigError, Origin, did_you_mean};

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A `[vary]` leaf's value and where it stands.
pub(super) struct Varied<'s, 'a> {
    /// The value's span.
    pub span: Range<usize>,
    /// The value.
    pub form: VariedForm<'s, 'a>,
}

/// The two forms a varied key's value takes.
pub(super) enum VariedForm<'s, 'a> {
    /// `key = [a, b, c]`.
    List(&'s DeArray<'a>),
    /// `key = { from, to, step }`.
    Range(&'s DeTable<'a>),
}

/// Flattens `[vary]`: arrays and range tables are leaves, other tables nest.
pub(super) fn collect_vary<'s, 'a>(
    cx: &Text<'_, '_>,
    table: &'s DeTable<'a>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, Varied<'s, 'a>)>,
) -> Result<(), ConfigError> {
    for (k, v) in table.iter() {
        let key = join_key(prefix, k.get_ref());
        let form = match v.get_ref() {
            DeValue::Array(items) => VariedForm::List(items),
            DeValue::Table(t) if ["from", "to", "step"].iter().any(|r| t.contains_key(*r)) => {
                VariedForm::Range(t)
            }
            DeValue::Table(t) => {
                collect_vary(cx, t, &key, out)?;
                continue;
            }
            other => {
                return Err(cx.err_allowed(
                    &v.span(),
                    &key,
                    format!(
                        "a varied key needs a list of values or a range, found a {}",
                        other.type_str()
                    ),
                    format!(
                        "`{key} = [a, b, c]`, `{key} = {{ from = 1, to = 9, step = 2 }}` (or durations: from = \"100ms\"), or move it to [set]"
                    ),
                ));
            }
        };
        let span = v.span();
        out.push((key, k.span(), Varied { span, form }));
    }
    Ok(())
}

/// Flattens `[set]`: a standard or dotted table nests; anything else,
/// including an inline table `{ … }`, is a value that replaces the key's.
pub(super) fn collect_set<'s, 'a>(
    cx: &Text<'_, '_>,
    table: &'s DeTable<'a>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'s Spanned<DeValue<'a>>)>,
) {
    for (k, v) in table.iter() {
        let key = join_key(prefix, k.get_ref());
        match v.get_ref() {
            DeValue::Table(t) if !cx.is_inline_table(&v.span()) => collect_set(cx, t, &key, out),
            _ => out.push((key, k.span(), v)),
        }
    }
}

/// A key of `[vary]` or `[set]` must name a model key other than `seed`.
pub(super) fn check_key(
    cx: &Text<'_, '_>,
    key: &str,
    span: &Range<usize>,
    table: &str,
) -> Result<(), ConfigError> {
    if key.split('.').any(str::is_empty) {
        return Err(cx.err(span, key, "the key is empty or has an empty part"));
    }
    if key == "seed" {
        return Err(cx.err_allowed(
            span,
            key,
            format!("the run seed cannot be in [{table}]: each replication's seed is derived from the experiment's"),
            "`seed = N` at the top of the experiment file, or `cachestorm sweep --seed N`",
        ));
    }
    Ok(())
}

/// Two keys overlap when they are equal or one is inside the other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|r| r.starts_with('.'))
    };
    inside(a, b) || inside(b, a)
}

pub(super) fn check_overlaps(
    cx: &Text<'_, '_>,
    axes: &[Axis],
    sets: &[Setting],
) -> Result<(), ConfigError> {
    // A variant's key may not also be varied (which would win?); it may
    // change a key that [set] fixes for the other variants.
    let varied: Vec<&Axis> = axes.iter().filter(|a| a.variants.is_none()).collect();
    for a in axes.iter().filter_map(|a| a.variants.as_ref()) {
        for s in a.iter().flatten() {
            if let Some(v) = varied.iter().find(|v| overlaps(&v.key, &s.key)) {
                return Err(ConfigError {
                    origin: s.value.origin.clone(),
                    key: s.key.clone(),
                    message: format!(
                        "`{}` is set in a [[variant]] and varied in [vary] (`{}`): give it in one place",
                        s.key, v.key
                    ),
                    allowed: None,
                });
            }
        }
    }
    let keys: Vec<(&str, &Origin, &str)> = varied
        .iter()
        .map(|a| (a.key.as_str(), &a.origin, "[vary]"))
        .chain(
            sets.iter()
                .map(|s| (s.key.as_str(), &s.value.origin, "[set]")),
        )
        .collect();
    for (i, (a, origin, table)) in keys.iter().enumerate() {
        for (b, _, other) in &keys[..i] {
            if overlaps(a, b) {
                let _ = cx;
                return Err(ConfigError {
                    origin: (*origin).clone(),
                    key: a.to_string(),
                    message: if a == b {
                        format!("`{a}` is given twice (here in {table}, and before in {other})")
                    } else {
                        format!(
                            "`{a}` in {table} overlaps `{b}` in {other}: one is part of the other, so the result would depend on the order"
                        )
                    },
                    allowed: None,
                });
            }
        }
    }
    Ok(())
}

/// The axis of the `[[variant]]` tables: each has a `name` and overrides
/// written like `[set]`'s (dotted keys); a variant's overrides are applied
/// after `[set]`'s, so a variant may change a key that `[set]` fixes for the
/// others.
pub(super) fn variant_axis(
    cx: &Text<'_, '_>,
    key_span: &Range<usize>,
    value: &Spanned<DeValue<'_>>,
) -> Result<Axis, ConfigError> {
    let allowed = "[[variant]] tables with `name = \"…\"` and overrides such as `\"client.op_timeout\" = \"100ms\"`";
    let items = value.get_ref().as_array().expect("checked by serde");
    let mut values: Vec<ParamValue> = Vec::new();
    let mut variants = Vec::new();
    for item in items.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            return Err(cx.err_allowed(
                &item.span(),
                VARIANT,
                format!("expected a table, found a {}", item.get_ref().type_str()),
                allowed,
            ));
        };
        let span = if item.span().is_empty() {
            key_span.clone()
        } else {
            item.span()
        };
        let Some((nk, nv)) = t.get_key_value("name") else {
            return Err(cx.err_allowed(&span, VARIANT, "this variant has no `name`", allowed));
        };
        let Some(name) = nv.get_ref().as_str() else {
            return Err(cx.err_allowed(
                &nv.span(),
                "variant.name",
                format!("expected a string, found a {}", nv.get_ref().type_str()),
                "a short name for tables and plots, e.g. \"op timeout 100 ms\"",
            ));
        };
        if name.trim().is_empty() || values.iter().any(|v| v.display == name) {
            return Err(cx.err(
                &nv.span(),
                "variant.name",
                format!("the variant name `{name}` is empty or used twice"),
            ));
        }
        let _ = nk;
        let mut raw = Vec::new();
        collect_set(cx, t, "", &mut raw);
        raw.retain(|(k, _, _)| k != "name");
        raw.sort_by_key(|(_, _, v)| v.span().start);
        let mut settings = Vec::new();
        for (k, k_span, v) in raw {
            check_key(cx, &k, &k_span, "variant")?;
            if settings.iter().any(|s: &Setting| overlaps(&s.key, &k)) {
                return Err(cx.err(
                    &k_span,
                    &k,
                    format!("`{k}` is given twice in the variant `{name}`"),
                ));
            }
            settings.push(Setting {
                key: k,
                value: param(cx, v.get_ref(), &v.span()),
            });
        }
        values.push(ParamValue {
            literal: quote(name),
            display: name.to_string(),
            origin: cx.origin(&nv.span()),
        });
        variants.push(settings);
    }
    if values.is_empty() {
        return Err(cx.err_allowed(key_span, VARIANT, "no variants are given", allowed));
    }
    Ok(Axis {
        key: VARIANT.into(),
        origin: cx.origin(&value.span()),
        values,
        variants: Some(variants),
    })
}

/// One varied key: a list of values or a range.
pub(super) fn axis(
    cx: &Text<'_, '_>,
    key: String,
    key_span: &Range<usize>,
    value: Varied<'_, '_>,
) -> Result<Axis, ConfigError> {
    check_key(cx, &key, key_span, "vary")?;
    if let VariedForm::List(items) = &value.form
        && items.len() > MAX_GRID
    {
        return Err(cx.err_allowed(
            &value.span,
            &key,
            format!(
                "the list has {} values, so the grid has more than {MAX_GRID} points",
                items.len()
            ),
            format!("at most {MAX_GRID} values"),
        ));
    }
    let values = match value.form {
        VariedForm::List(items) => items
            .iter()
            .map(|item| param(cx, item.get_ref(), &item.span()))
            .collect(),
        VariedForm::Range(t) => range(cx, &key, t, &value.span)?,
    };
    if values.is_empty() {
        return Err(cx.err_allowed(
            &value.span,
            &key,
            "the list of values is empty",
            "at least one value",
        ));
    }
    // Duplicates by value, however spelled ("100ms" and "0.1s", 2 and
    // 2.0): linear, with a hash map of normal forms.
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        if let Some(&first) = seen.get(&normal_form(&v.literal)) {
            let w = &values[first];
            let same = if w.literal == v.literal {
                String::new()
            } else {
                format!(" (as {} at {})", w.literal, w.origin)
            };
            return Err(ConfigError {
                origin: v.origin.clone(),
                key: key.clone(),
                message: format!("the value {} is listed twice{same}", v.literal),
                allowed: Some(
                    "each value once: two spellings of one value make two identical points".into(),
                ),
            });
        }
        seen.insert(normal_form(&v.literal), i);
    }
    Ok(Axis {
        key,
        origin: cx.origin(&value.span),
        values,
        variants: None,
    })
}

pub(super) fn param(cx: &Text<'_, '_>, v: &DeValue<'_>, span: &Range<usize>) -> ParamValue {
    let literal = literal(v);
    let display = match v {
        DeValue::String(s) => s.to_string(),
        _ => literal.clone(),
    };
    ParamValue {
        literal,
        display,
        origin: cx.origin(span),
    }
}

/// One `[[exclude]]` entry: its keys must be varied keys, each value one of
/// that key's values.
pub(super) fn exclude(
    cx: &Text<'_, '_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    axes: &[Axis],
    index: &[HashMap<String, usize>],
) -> Result<Exclude, ConfigError> {
    let mut raw = Vec::new();
    collect_exclude(cx, t, "", axes, &mut raw)?;
    if raw.is_empty() {
        return Err(cx.err_allowed(
            span,
            "exclude",
            "this [[exclude]] entry is empty, so it would remove every point",
            "`varied.key = value` pairs; a point is skipped when it matches all of them",
        ));
    }
    let mut conditions: Vec<(usize, usize)> = Vec::new();
    for (key, v) in raw {
        let ai = axes.iter().position(|a| a.key == key).expect("collected");
        let found = index[ai].get(&normal_form(&literal(v.get_ref()))).copied();
        let Some(vi) = found else {
            return Err(cx.err_allowed(
                &v.span(),
                &key,
                format!(
                    "{} is not one of the values of `{key}` in [vary], so this entry never matches",
                    literal(v.get_ref())
                ),
                axes[ai]
                    .values
                    .iter()
                    .map(|x| x.literal.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        };
        if conditions.iter().any(|(a, _)| *a == ai) {
            return Err(cx.err(&v.span(), &key, "this key is given twice in one entry"));
        }
        conditions.push((ai, vi));
    }
    Ok(Exclude {
        origin: cx.origin(span),
        conditions,
    })
}

fn collect_exclude<'s, 'a>(
    cx: &Text<'_, '_>,
    t: &'s DeTable<'a>,
    prefix: &str,
    axes: &[Axis],
    out: &mut Vec<(String, &'s Spanned<DeValue<'a>>)>,
) -> Result<(), ConfigError> {
    for (k, v) in t.iter() {
        let key = join_key(prefix, k.get_ref());
        if axes.iter().any(|a| a.key == key) {
            out.push((key, v));
        } else if let DeValue::Table(inner) = v.get_ref()
            && axes.iter().any(|a| a.key.starts_with(&format!("{key}.")))
        {
            collect_exclude(cx, inner, &key, axes, out)?;
        } else {
            let hint = did_you_mean(&key, axes.iter().map(|a| a.key.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(cx.err_allowed(
                &k.span(),
                &key,
                format!("`{key}` is not a key of [vary]{hint}"),
                axes.iter()
                    .map(|a| a.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    Ok(())
}
