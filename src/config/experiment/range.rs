//! Ranges of values in `[vary]`: `{ from, to, step }` of integers, floats
//! or durations.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::ParamValue;
use super::literal::{float_literal, quote};
use super::parse::Text;
use crate::config::error::{ConfigError, did_you_mean};
use crate::config::units::parse_duration;
use crate::engine::format_nanos;

/// Most values one range may produce.
const MAX_RANGE_VALUES: usize = 10_000;

type Entry<'s, 'a> = (
    &'s Spanned<std::borrow::Cow<'a, str>>,
    &'s Spanned<DeValue<'a>>,
);

/// A number of a range bound.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

/// Expands `{ from, to, step }`: integers, floats, or duration strings;
/// `to` is included when a step lands on it.
pub(super) fn range(
    cx: &Text<'_, '_>,
    key: &str,
    t: &DeTable<'_>,
    span: &Range<usize>,
) -> Result<Vec<ParamValue>, ConfigError> {
    const FORM: &str = "{ from = 50, to = 200, step = 50 } (integers, floats, or durations such as from = \"100ms\")";
    for (k, _) in t.iter() {
        if !["from", "to", "step"].contains(&k.get_ref().as_ref()) {
            let hint = did_you_mean(k.get_ref(), ["from", "to", "step"])
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(cx.err_allowed(
                &k.span(),
                &format!("{key}.{}", k.get_ref()),
                format!("unknown key `{}` in a range{hint}", k.get_ref()),
                FORM,
            ));
        }
    }
    let part = |name: &str| -> Result<Entry<'_, '_>, ConfigError> {
        t.get_key_value(name)
            .ok_or_else(|| cx.err_allowed(span, key, format!("the range has no `{name}`"), FORM))
    };
    let (from, to, step) = (part("from")?, part("to")?, part("step")?);
    let origin = cx.origin(span);
    let make = |literal: String, display: String| ParamValue {
        literal,
        display,
        origin: origin.clone(),
    };
    let all = [from, to, step];
    if all.iter().all(|(_, v)| v.get_ref().is_str()) {
        let mut ns = [0u64; 3];
        for (i, (k, v)) in all.iter().enumerate() {
            let s = v.get_ref().as_str().unwrap_or_default();
            ns[i] = parse_duration(s).map_err(|m| {
                cx.err_allowed(
                    &v.span(),
                    &format!("{key}.{}", k.get_ref()),
                    m,
                    crate::config::units::DURATION_UNITS,
                )
            })?;
        }
        let [a, b, s] = ns;
        check_bounds(cx, key, span, a as f64, b as f64, s as f64)?;
        let n = (b - a) / s + 1;
        check_count(cx, key, span, n as f64)?;
        return Ok((0..n)
            .map(|i| {
                let d = format_nanos(a + i * s);
                make(quote(&d), d)
            })
            .collect());
    }
    let mut nums = [Num::Int(0); 3];
    for (i, (k, v)) in all.iter().enumerate() {
        nums[i] = match v.get_ref() {
            DeValue::Integer(x) => Num::Int(
                i64::from_str_radix(x.as_str(), x.radix())
                    .map_err(|_| cx.err(&v.span(), key, "the integer does not fit in 64 bits"))?,
            ),
            DeValue::Float(x) => Num::Float(
                x.as_str()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| cx.err(&v.span(), key, "a range needs finite numbers"))?,
            ),
            other => {
                return Err(cx.err_allowed(
                    &v.span(),
                    &format!("{key}.{}", k.get_ref()),
                    format!(
                        "found a {}; `from`, `to` and `step` must all be numbers or all duration strings",
                        other.type_str()
                    ),
                    FORM,
                ));
            }
        };
    }
    check_bounds(cx, key, span, nums[0].f(), nums[1].f(), nums[2].f())?;
    if let [Num::Int(a), Num::Int(b), Num::Int(s)] = nums {
        let n = ((b as i128 - a as i128) / s as i128 + 1) as f64;
        check_count(cx, key, span, n)?;
        return Ok((0..n as i64)
            .map(|i| {
                let x = (a + i * s).to_string();
                make(x.clone(), x)
            })
            .collect());
    }
    let (a, b, s) = (nums[0].f(), nums[1].f(), nums[2].f());
    // Round each value to the decimals of `from` and `step`, so 0.1 + 2 × 0.1
    // is 0.3, not 0.30000000000000004.
    let decimals = |x: f64| {
        let s = format!("{x}");
        s.split_once('.').map_or(0, |(_, f)| f.len()) as i32
    };
    let d = decimals(a).max(decimals(s)).min(15);
    let scale = 10f64.powi(d);
    let n = ((b - a) / s * (1.0 + 1e-12) + 1e-9).floor() + 1.0;
    check_count(cx, key, span, n)?;
    Ok((0..n as i64)
        .map(|i| {
            let x = ((a + i as f64 * s) * scale).round() / scale;
            let lit = float_literal(x);
            make(lit.clone(), lit)
        })
        .collect())
}

fn check_bounds(
    cx: &Text<'_, '_>,
    key: &str,
    span: &Range<usize>,
    from: f64,
    to: f64,
    step: f64,
) -> Result<(), ConfigError> {
    if step <= 0.0 {
        return Err(cx.err(span, key, "the range's `step` must be greater than zero"));
    }
    if to < from {
        return Err(cx.err(span, key, "the range's `to` is below its `from`"));
    }
    Ok(())
}

fn check_count(
    cx: &Text<'_, '_>,
    key: &str,
    span: &Range<usize>,
    n: f64,
) -> Result<(), ConfigError> {
    if n > MAX_RANGE_VALUES as f64 {
        return Err(cx.err(
            span,
            key,
            format!("the range has {n} values; the limit is {MAX_RANGE_VALUES}"),
        ));
    }
    Ok(())
}
