//! `[map]`: a vulnerability map instead of a grid. For each value of one
//! load key, the sweep looks for the smallest trigger (a fault's duration,
//! the keys deleted, a spike's size) that leaves the system stuck, by
//! bisection with replications (`crate::sweep::vmap` runs it).
//!
//! ```toml
//! model = "../models/metastable/hotos-retry.toml"
//! replications = 4                     # runs per trigger size tried
//! [map]
//! load = { key = "workload.rate", values = [100, 200, 280] }
//! trigger = { key = "fault.0.duration", low = "1s", high = "40s", tolerance = "1s" }
//! stuck_probability = 0.5              # a size is "stuck" from this share of runs
//! ```
//!
//! `low`, `high` and `tolerance` are all durations (`"10s"`), all integers
//! (keys deleted) or numbers (a spike's factor); `low < high`,
//! `tolerance > 0`. The load key's values are checked like a `[vary]` list;
//! both keys are checked against the model where the plan builds each load
//! value's model at `low` and at `high`.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::axes::{Varied, VariedForm, axis, check_key};
use super::parse::Text;
use super::{Axis, Located, ParamValue};
use crate::config::error::{ConfigError, Origin};
use crate::config::units::parse_duration;
use crate::engine::format_nanos;

/// The share of a trigger size's replications that must stay stuck for the
/// size to count as stuck, when `stuck_probability` is not written: the
/// median (a size is stuck when it is more likely than not to stick).
pub const DEFAULT_STUCK_PROBABILITY: f64 = 0.5;

/// What a trigger size is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerScale {
    /// A duration; values are nanoseconds, spelled with the largest unit
    /// that divides them (`"12500ms"`).
    Duration,
    /// A whole number (keys deleted); values are counts.
    Integer,
    /// A real number (a spike's factor).
    Real,
}

impl TriggerScale {
    /// Every scale.
    pub const ALL: &'static [TriggerScale] = &[
        TriggerScale::Duration,
        TriggerScale::Integer,
        TriggerScale::Real,
    ];

    /// The name in `vmap.csv`'s `trigger_unit` column.
    pub const fn name(self) -> &'static str {
        match self {
            TriggerScale::Duration => "s",
            TriggerScale::Integer => "count",
            TriggerScale::Real => "value",
        }
    }
}

/// The trigger searched for.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// Dotted model key.
    pub key: String,
    /// Where the `trigger` table is.
    pub origin: Origin,
    /// What its values are.
    pub scale: TriggerScale,
    /// The smallest size tried (nanoseconds for a duration).
    pub low: f64,
    /// The largest size tried.
    pub high: f64,
    /// The bisection stops once the bracket is this narrow.
    pub tolerance: f64,
}

impl Trigger {
    /// The spacing of the grid the bisection's midpoints lie on, in the
    /// trigger's own values: a duration bisects on whole milliseconds, or
    /// on whole microseconds or nanoseconds when the tolerance is finer
    /// (the largest of the three that divides it); an integer on whole
    /// numbers; a real number on the tolerance's decimals (`0.05` → 0.01).
    /// The grid is never coarser than the tolerance, so a bracket wider
    /// than the tolerance always has a grid point inside.
    pub fn grid(&self) -> f64 {
        match self.scale {
            TriggerScale::Duration => {
                let tol = self.tolerance as u64;
                [1_000_000u64, 1_000]
                    .into_iter()
                    .find(|g| tol.is_multiple_of(*g))
                    .unwrap_or(1) as f64
            }
            TriggerScale::Integer => 1.0,
            TriggerScale::Real => 10f64.powi(-(decimals(self.tolerance) as i32)),
        }
    }

    /// The point of the grid ([`grid`](Trigger::grid)) nearest below the
    /// middle of `lo` and `hi` (a real number: nearest to it), or the next
    /// one up when that is not above `lo`; `None` when the bracket is
    /// within the tolerance or no grid point lies strictly inside it.
    pub fn midpoint(&self, lo: f64, hi: f64) -> Option<f64> {
        if hi - lo <= self.tolerance {
            return None;
        }
        let mid = lo + (hi - lo) / 2.0;
        let inside = |x: f64| (x > lo && x < hi).then_some(x);
        let g = self.grid();
        match self.scale {
            TriggerScale::Duration | TriggerScale::Integer => {
                inside((mid / g).floor() * g).or_else(|| inside((mid / g).ceil() * g))
            }
            TriggerScale::Real => {
                // Spelled with the tolerance's decimals and read back, so a
                // midpoint is the f64 its short spelling reads as (1.35, not
                // 1.3500000000000001).
                let d = decimals(self.tolerance);
                let on_grid = |x: f64| format!("{x:.d$}").parse::<f64>().ok();
                on_grid(mid)
                    .and_then(inside)
                    .or_else(|| on_grid((mid / g).floor() * g).and_then(inside))
                    .or_else(|| on_grid((mid / g).ceil() * g).and_then(inside))
            }
        }
    }

    /// An upper bound on the sizes the search tries at one load, whatever
    /// it finds: `high`, `low`, then one per midpoint. A midpoint on the
    /// grid leaves a bracket at most half the old one plus one grid step,
    /// until the bracket is within the tolerance or four grid steps; from
    /// there each midpoint removes at least one of the grid points left
    /// inside, and halves them. The map's journal has this many step slots
    /// per load.
    pub fn max_steps(&self) -> u32 {
        let g = self.grid();
        let (mut n, mut w) = (2u32, self.high - self.low);
        while w > self.tolerance && w > 4.0 * g {
            w = w / 2.0 + g;
            n += 1;
        }
        if w > self.tolerance {
            n += ((w / g + 2.0).log2().ceil() as u32) + 1;
        }
        n
    }

    /// The override that sets the trigger to `size`, located at the trigger
    /// table (a bad size is reported there).
    pub fn value(&self, size: f64) -> ParamValue {
        let literal = match self.scale {
            TriggerScale::Duration => format!("\"{}\"", format_nanos(size as u64)),
            TriggerScale::Integer => format!("{}", size as i64),
            TriggerScale::Real => real_literal(size),
        };
        ParamValue {
            display: literal.trim_matches('"').to_string(),
            literal,
            origin: self.origin.clone(),
        }
    }

    /// `size` in the unit of [`TriggerScale::name`] (seconds for a duration).
    pub fn in_unit(&self, size: f64) -> f64 {
        match self.scale {
            TriggerScale::Duration => size / 1e9,
            TriggerScale::Integer | TriggerScale::Real => size,
        }
    }
}

/// A real number as TOML reads it back: the shortest round-trip spelling,
/// with a `.0` when it has no fraction.
fn real_literal(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// The finest tolerance of a real trigger: midpoints are spelled with the
/// tolerance's decimals, at most nine.
pub const MIN_REAL_TOLERANCE: f64 = 1e-9;

/// The decimals of a real number's shortest spelling (`0.05` → 2, `2` → 0),
/// at most 9 (the parser refuses a finer tolerance).
fn decimals(x: f64) -> usize {
    let s = format!("{x}");
    s.split_once('.').map_or(0, |(_, f)| f.len().min(9))
}

/// A checked `[map]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct VulnerabilityMap {
    /// The load key and its values (the map's x axis; the experiment's one
    /// axis, so a point is a load value).
    pub load: Axis,
    /// The trigger searched for at each load.
    pub trigger: Trigger,
    /// A size is stuck when at least this share of its runs stay stuck.
    pub stuck_probability: Located<f64>,
    /// Where the `[map]` table is.
    pub origin: Origin,
}

const LOAD_ALLOWED: &str = "load = { key = \"dotted.model.key\", values = [v1, v2, …] } (or `{ from, to, step }` for values)";
const TRIGGER_ALLOWED: &str = "trigger = { key = \"dotted.model.key\", low = L, high = H, tolerance = T }: all durations (\"1s\") or all numbers, 0 ≤ low < high, tolerance > 0";

/// Reads `[map]` (its key at `key_span`, its value `v`).
pub(super) fn map(
    cx: &Text<'_, '_>,
    key_span: &Range<usize>,
    v: &serde_spanned::Spanned<DeValue<'_>>,
) -> Result<VulnerabilityMap, ConfigError> {
    let DeValue::Table(t) = v.get_ref() else {
        return Err(cx.err_allowed(
            key_span,
            "map",
            format!("expected a table, found a {}", v.get_ref().type_str()),
            "[map] with `load`, `trigger` and optionally `stuck_probability`",
        ));
    };
    for (k, _) in t.iter() {
        let name = k.get_ref().as_ref();
        if !["load", "trigger", "stuck_probability"].contains(&name) {
            let hint =
                crate::config::error::did_you_mean(name, ["load", "trigger", "stuck_probability"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
            return Err(cx.err_allowed(
                &k.span(),
                &format!("map.{name}"),
                format!("unknown key{hint}"),
                "load, trigger, stuck_probability",
            ));
        }
    }
    let need = |name: &str, allowed: &str| {
        t.get_key_value(name).ok_or_else(|| {
            cx.err_allowed(
                key_span,
                &format!("map.{name}"),
                "missing",
                allowed.to_string(),
            )
        })
    };
    let (_, load_v) = need("load", LOAD_ALLOWED)?;
    let (_, trig_v) = need("trigger", TRIGGER_ALLOWED)?;
    let load_t = table(cx, load_v, "map.load", LOAD_ALLOWED)?;
    let (load_key, load_key_span) = key_of(cx, load_t, &load_v.span(), "map.load", LOAD_ALLOWED)?;
    for (k, _) in load_t.iter() {
        let name = k.get_ref().as_ref();
        if !["key", "values"].contains(&name) {
            return Err(cx.err_allowed(
                &k.span(),
                &format!("map.load.{name}"),
                "unknown key",
                LOAD_ALLOWED,
            ));
        }
    }
    let Some((_, values)) = load_t.get_key_value("values") else {
        return Err(cx.err_allowed(&load_v.span(), "map.load.values", "missing", LOAD_ALLOWED));
    };
    let form = match values.get_ref() {
        DeValue::Array(a) => VariedForm::List(a),
        DeValue::Table(t) => VariedForm::Range(t),
        other => {
            return Err(cx.err_allowed(
                &values.span(),
                "map.load.values",
                format!("expected a list, found a {}", other.type_str()),
                LOAD_ALLOWED,
            ));
        }
    };
    let load = axis(
        cx,
        load_key,
        &load_key_span,
        Varied {
            span: values.span(),
            form,
        },
    )?;

    let trig_t = table(cx, trig_v, "map.trigger", TRIGGER_ALLOWED)?;
    let (trigger_key, trigger_key_span) =
        key_of(cx, trig_t, &trig_v.span(), "map.trigger", TRIGGER_ALLOWED)?;
    check_key(cx, &trigger_key, &trigger_key_span, "map")?;
    if trigger_key == load.key
        || trigger_key.starts_with(&format!("{}.", load.key))
        || load.key.starts_with(&format!("{trigger_key}."))
    {
        return Err(cx.err_allowed(
            &trigger_key_span,
            "map.trigger.key",
            format!(
                "`{trigger_key}` is the load key `{}` or part of it",
                load.key
            ),
            "a trigger key other than the load key",
        ));
    }
    for (k, _) in trig_t.iter() {
        let name = k.get_ref().as_ref();
        if !["key", "low", "high", "tolerance"].contains(&name) {
            return Err(cx.err_allowed(
                &k.span(),
                &format!("map.trigger.{name}"),
                "unknown key",
                TRIGGER_ALLOWED,
            ));
        }
    }
    let mut scale = None;
    let mut num = |name: &str| -> Result<(f64, Range<usize>), ConfigError> {
        let Some((_, v)) = trig_t.get_key_value(name) else {
            return Err(cx.err_allowed(
                &trig_v.span(),
                &format!("map.trigger.{name}"),
                "missing",
                TRIGGER_ALLOWED,
            ));
        };
        let span = v.span();
        let key = format!("map.trigger.{name}");
        let (s, x) = match v.get_ref() {
            DeValue::String(s) => (
                TriggerScale::Duration,
                parse_duration(s).map_err(|e| cx.err_allowed(&span, &key, e, TRIGGER_ALLOWED))?
                    as f64,
            ),
            DeValue::Integer(i) => (
                TriggerScale::Integer,
                i64::from_str_radix(i.as_str(), i.radix())
                    .map_err(|e| cx.err_allowed(&span, &key, e.to_string(), TRIGGER_ALLOWED))?
                    as f64,
            ),
            DeValue::Float(f) => (
                TriggerScale::Real,
                f.as_str()
                    .parse::<f64>()
                    .map_err(|e| cx.err_allowed(&span, &key, e.to_string(), TRIGGER_ALLOWED))?,
            ),
            other => {
                return Err(cx.err_allowed(
                    &span,
                    &key,
                    format!(
                        "expected a duration or a number, found a {}",
                        other.type_str()
                    ),
                    TRIGGER_ALLOWED,
                ));
            }
        };
        if !x.is_finite() || !(0.0..=9.0e15).contains(&x) {
            return Err(cx.err_allowed(
                &span,
                &key,
                format!("{x} is out of range"),
                TRIGGER_ALLOWED,
            ));
        }
        match scale {
            None => scale = Some(s),
            // An integer among reals is a real.
            Some(TriggerScale::Real) if s == TriggerScale::Integer => {}
            Some(TriggerScale::Integer) if s == TriggerScale::Real => {
                scale = Some(TriggerScale::Real)
            }
            Some(prev) if prev != s => {
                return Err(cx.err_allowed(
                    &span,
                    &key,
                    "low, high and tolerance mix durations and numbers",
                    TRIGGER_ALLOWED,
                ));
            }
            Some(_) => {}
        }
        Ok((x, span))
    };
    let (low, _) = num("low")?;
    let (high, high_span) = num("high")?;
    let (tolerance, tol_span) = num("tolerance")?;
    let scale = scale.expect("three values read");
    if low >= high {
        return Err(cx.err_allowed(
            &high_span,
            "map.trigger.high",
            "high must be above low",
            TRIGGER_ALLOWED,
        ));
    }
    if tolerance <= 0.0 {
        return Err(cx.err_allowed(
            &tol_span,
            "map.trigger.tolerance",
            "the tolerance must be above zero",
            TRIGGER_ALLOWED,
        ));
    }
    if scale == TriggerScale::Real && tolerance < MIN_REAL_TOLERANCE {
        return Err(cx.err_allowed(
            &tol_span,
            "map.trigger.tolerance",
            format!("{tolerance} has more than 9 decimals"),
            "a tolerance of at most 9 decimals (≥ 0.000000001): midpoints are spelled with the tolerance's decimals",
        ));
    }
    let trigger = Trigger {
        key: trigger_key,
        origin: cx.origin(&trig_v.span()),
        scale,
        low,
        high,
        tolerance,
    };

    let stuck_probability = match t.get_key_value("stuck_probability") {
        None => Located {
            value: DEFAULT_STUCK_PROBABILITY,
            origin: cx.origin(key_span),
        },
        Some((_, v)) => {
            let x = match v.get_ref() {
                DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|i| i as f64),
                _ => None,
            };
            match x {
                Some(x) if x > 0.0 && x <= 1.0 => Located {
                    value: x,
                    origin: cx.origin(&v.span()),
                },
                _ => {
                    return Err(cx.err_allowed(
                        &v.span(),
                        "map.stuck_probability",
                        "must be a number above 0 and at most 1",
                        "a share in (0, 1]: a size counts as stuck when at least this share of its runs stay stuck (default 0.5)",
                    ));
                }
            }
        }
    };
    Ok(VulnerabilityMap {
        load,
        trigger,
        stuck_probability,
        origin: cx.origin(key_span),
    })
}

fn table<'s, 'a>(
    cx: &Text<'_, '_>,
    v: &'s serde_spanned::Spanned<DeValue<'a>>,
    key: &str,
    allowed: &str,
) -> Result<&'s DeTable<'a>, ConfigError> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(cx.err_allowed(
            &v.span(),
            key,
            format!("expected a table, found a {}", other.type_str()),
            allowed,
        )),
    }
}

fn key_of(
    cx: &Text<'_, '_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    what: &str,
    allowed: &str,
) -> Result<(String, Range<usize>), ConfigError> {
    match t.get_key_value("key") {
        Some((_, v)) => match v.get_ref() {
            DeValue::String(s) if !s.is_empty() => Ok((s.to_string(), v.span())),
            _ => Err(cx.err_allowed(
                &v.span(),
                &format!("{what}.key"),
                "expected a dotted model key as a string",
                allowed,
            )),
        },
        None => Err(cx.err_allowed(span, &format!("{what}.key"), "missing", allowed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trig(scale: TriggerScale, low: f64, high: f64, tolerance: f64) -> Trigger {
        Trigger {
            key: "k".into(),
            origin: Origin::WholeFile("e.toml".into()),
            scale,
            low,
            high,
            tolerance,
        }
    }

    #[test]
    fn midpoints_split_until_the_tolerance() {
        let t = trig(TriggerScale::Duration, 1e9, 41e9, 1e9);
        assert_eq!(t.midpoint(1e9, 41e9), Some(21e9));
        assert_eq!(t.midpoint(20e9, 21e9), None);
        assert_eq!(t.value(12.5e9).literal, "\"12500ms\"");
        assert_eq!(t.value(12.5e9).display, "12500ms");
        assert_eq!(t.in_unit(12.5e9), 12.5);
        let k = trig(TriggerScale::Integer, 0.0, 10.0, 0.5);
        assert_eq!(k.midpoint(3.0, 4.0), None, "no whole number between");
        assert_eq!(k.midpoint(3.0, 6.0), Some(4.0));
        assert_eq!(k.value(4.0).literal, "4");
        let r = trig(TriggerScale::Real, 1.0, 2.0, 0.1);
        assert_eq!(r.midpoint(1.0, 2.0), Some(1.5));
        assert_eq!(r.value(2.0).literal, "2.0");
    }

    /// Every midpoint of a whole search lies on the key's grid (whole
    /// milliseconds for a duration with a tolerance in milliseconds, whole
    /// numbers for a count, the tolerance's decimals for a real), and the
    /// search still ends with a bracket no wider than the tolerance.
    #[test]
    fn midpoints_stay_on_the_grid_and_the_tolerance_bounds_the_bracket() {
        let ms = 1e6;
        let cases = [
            (
                trig(TriggerScale::Duration, 100.0 * ms, 30e9, 100.0 * ms),
                ms,
            ),
            (trig(TriggerScale::Duration, 1e9, 40e9, 250_000.0), 1e3),
            (trig(TriggerScale::Duration, 1e9, 40e9, 1001.0), 1.0),
            (trig(TriggerScale::Integer, 10.0, 10_000.0, 100.0), 1.0),
            (trig(TriggerScale::Real, 1.0, 10.0, 0.05), 0.01),
            (trig(TriggerScale::Real, 0.3, 7.7, 0.5), 0.1),
        ];
        for (t, grid) in cases {
            assert_eq!(t.grid(), grid, "{t:?}");
            // Every path: always stuck (hi falls) and never stuck (lo rises).
            for stuck in [true, false] {
                let (mut lo, mut hi) = (t.low, t.high);
                while let Some(mid) = t.midpoint(lo, hi) {
                    assert!(mid > lo && mid < hi, "{t:?}: {mid} outside ({lo}, {hi})");
                    let steps = mid / grid;
                    assert!(
                        (steps - steps.round()).abs() < 1e-6,
                        "{t:?}: {mid} is not on the grid {grid}"
                    );
                    if t.scale == TriggerScale::Real {
                        let d = decimals(t.tolerance);
                        assert_eq!(
                            format!("{mid}"),
                            format!("{mid:.d$}")
                                .trim_end_matches('0')
                                .trim_end_matches('.'),
                            "{t:?}: {mid} prints with more decimals than the tolerance"
                        );
                    }
                    if stuck { hi = mid } else { lo = mid }
                }
                assert!(
                    hi - lo <= t.tolerance,
                    "{t:?}: the bracket ({lo}, {hi}) is wider than the tolerance"
                );
            }
        }
        // The shipped retry map's tolerance of 100 ms: no midpoint prints
        // with more than three decimals of a second.
        let t = &cases_retry();
        let (mut lo, mut hi) = (t.low, t.high);
        while let Some(mid) = t.midpoint(lo, hi) {
            let s = format!("{}", t.in_unit(mid));
            assert!(s.split_once('.').is_none_or(|(_, f)| f.len() <= 3), "{s}");
            if mid > 1.8e9 { hi = mid } else { lo = mid }
        }
    }

    /// No path of the search, whatever it finds at each size, tries more
    /// sizes than [`Trigger::max_steps`] (the journal's slots per load).
    #[test]
    fn no_search_tries_more_sizes_than_its_bound() {
        let ms = 1e6;
        let cases = [
            trig(TriggerScale::Duration, 100.0 * ms, 30e9, 100.0 * ms),
            trig(TriggerScale::Duration, 1.0, 40e9, 1.0),
            trig(TriggerScale::Duration, 250_001.0, 40e9, 1e6),
            trig(TriggerScale::Integer, 10.0, 10_000.0, 100.0),
            trig(TriggerScale::Integer, 0.0, 10.0, 0.5),
            trig(TriggerScale::Real, 1.0, 10.0, 0.05),
            trig(TriggerScale::Real, 0.33, 7.7, 0.01),
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for t in cases {
            let bound = t.max_steps();
            let mut longest = 0;
            for _ in 0..2000 {
                let (mut lo, mut hi, mut n) = (t.low, t.high, 2u32);
                while let Some(mid) = t.midpoint(lo, hi) {
                    x = crate::engine::rng::SplitMix64::new(x).next();
                    if x & 1 == 1 {
                        hi = mid
                    } else {
                        lo = mid
                    }
                    n += 1;
                }
                longest = longest.max(n);
            }
            assert!(
                longest <= bound,
                "{t:?}: a search tried {longest} sizes, over the bound {bound}"
            );
            assert!(
                bound <= longest + 3,
                "{t:?}: the bound {bound} is loose (longest path {longest})"
            );
        }
    }

    fn cases_retry() -> Trigger {
        trig(TriggerScale::Duration, 1e8, 30e9, 1e8)
    }

    #[test]
    fn durations_print_with_the_projects_one_formatter() {
        let t = trig(TriggerScale::Duration, 1e9, 41e9, 1e9);
        for s in ["30s", "1500us", "7ns", "12500ms", "2m"] {
            let ns = parse_duration(s).unwrap();
            assert_eq!(t.value(ns as f64).display, format_nanos(ns), "{s}");
            assert_eq!(t.value(ns as f64).display, s, "round trip");
        }
    }
}
