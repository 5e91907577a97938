//! Axis ranges, ticks and number formatting shared by the charts.

/// How to scale a numeric axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AxisScale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic.
    Log,
    /// Let the chart decide from the data: log when the decade-rounded
    /// range of the positive values spans three decades or more (see
    /// [`wants_log`]) and a log axis can show every value.
    #[default]
    Auto,
}

/// How to print values on ticks, in cells and next to bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFormat {
    /// The value is a fraction (0.995) printed as a percentage ("99.5%")
    /// with this many decimals.
    Percent {
        /// Decimals after the point.
        decimals: usize,
    },
    /// Printed as is with this many decimals.
    Fixed {
        /// Decimals after the point.
        decimals: usize,
    },
    /// About three significant digits.
    #[default]
    Auto,
}

impl ValueFormat {
    /// Formats one value; non-finite values print as "n/a".
    pub fn format(&self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        match *self {
            ValueFormat::Percent { decimals } => format!("{:.*}%", decimals, v * 100.0),
            ValueFormat::Fixed { decimals } => format!("{v:.decimals$}"),
            ValueFormat::Auto => format_auto(v),
        }
    }

    /// Formats a tick value, with enough decimals to tell ticks `step` apart
    /// and no more.
    pub fn format_tick(&self, v: f64, step: f64) -> String {
        let v = if v.abs() < step.abs() * 1e-9 { 0.0 } else { v };
        match *self {
            ValueFormat::Percent { .. } => {
                let d = decimals_for_step(step * 100.0);
                format!("{:.*}%", d, v * 100.0)
            }
            ValueFormat::Fixed { .. } | ValueFormat::Auto => {
                let d = decimals_for_step(step);
                format!("{v:.d$}")
            }
        }
    }
}

/// Decimals needed to print multiples of `step` exactly (2.5 needs one,
/// 0.25 two), at most six.
fn decimals_for_step(step: f64) -> usize {
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    for d in 0..6 {
        let s = step * 10f64.powi(d as i32);
        if (s - s.round()).abs() < 1e-6 * s.max(1.0) {
            return d;
        }
    }
    6
}

/// About three significant digits, no exponent for everyday magnitudes.
fn format_auto(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if a >= 1e6 {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// Formats a tick chosen by plotters: integers without decimals, others
/// with up to three decimals and no trailing zeros.
pub fn format_plain(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if (v - v.round()).abs() < 1e-9 {
        return format!("{:.0}", v.round() + 0.0);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Formats with k / M suffixes for big counts ("2.5k", "20k", "1.2M").
pub fn format_si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format_plain((v / 1e6 * 100.0).round() / 100.0) + "M"
    } else if a >= 1e3 {
        format_plain((v / 1e3 * 100.0).round() / 100.0) + "k"
    } else {
        format_plain(v)
    }
}

/// Formats a value on a log axis: decades print without trailing zeros.
pub fn format_log_tick(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        return String::new();
    }
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let d = decimals_for_step(v);
        format!("{v:.d$}")
    }
}

/// Range for a base-10 log axis: the decades around the positive, finite
/// values. Zeros, negatives and NaN cannot sit on a log axis and are
/// ignored here (the charts clamp them to the floor or leave them out).
/// `None` when no value is positive.
pub fn log_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = 0.0_f64;
    for v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if hi <= 0.0 {
        return None;
    }
    let lo_d = 10f64.powf(lo.log10().floor());
    let mut hi_d = 10f64.powf(hi.log10().ceil());
    if hi_d <= lo_d {
        hi_d = lo_d * 10.0;
    }
    Some((lo_d, hi_d))
}

/// Number of whole decades in a log range.
pub fn decades(lo: f64, hi: f64) -> usize {
    if lo > 0.0 && hi > lo {
        (hi / lo).log10().round().max(1.0) as usize
    } else {
        1
    }
}

/// Whether positive values spread enough to want a log axis: their
/// decade-rounded range ([`log_range`]) spans three decades or more.
pub fn wants_log(values: impl IntoIterator<Item = f64>) -> bool {
    match log_range(values) {
        Some((lo, hi)) => decades(lo, hi) >= 3,
        None => false,
    }
}

/// Smallest "nice" number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or
/// above `v`; 1 for anything that is not positive and finite.
pub fn nice_ceil(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        let c = m * mag;
        if c >= v * (1.0 - 1e-12) {
            return c;
        }
    }
    10.0 * mag
}

/// A step of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over
/// `[lo, hi]`.
pub fn nice_step(lo: f64, hi: f64, target: usize) -> f64 {
    let span = (hi - lo).abs();
    if !span.is_finite() || span == 0.0 {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Ticks at multiples of a nice step inside `[lo, hi]`.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let step = nice_step(lo, hi, target);
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let mut ticks = Vec::new();
    if !(lo.is_finite() && hi.is_finite()) {
        return (ticks, step);
    }
    let mut k = (lo / step - 1e-9).ceil();
    while k * step <= hi + step * 1e-9 && ticks.len() < 1000 {
        ticks.push(k * step);
        k += 1.0;
    }
    (ticks, step)
}

/// Min and max of the finite values, or `None`.
pub fn finite_min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in values.into_iter().filter(|v| v.is_finite()) {
        r = Some(match r {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    r
}

/// A linear range covering the finite values with a little padding, with
/// nice bounds; degenerate inputs (none, or all equal) still give a usable
/// non-empty range. `clamp` keeps the range inside a natural domain such as
/// 0..1 for fractions when the data stays inside it.
pub fn padded_range(
    values: impl IntoIterator<Item = f64>,
    pad: f64,
    clamp: Option<(f64, f64)>,
) -> (f64, f64) {
    let Some((dmin, dmax)) = finite_min_max(values) else {
        return clamp.unwrap_or((0.0, 1.0));
    };
    let (mut lo, mut hi) = (dmin, dmax);
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        lo -= d;
        hi += d;
    } else {
        let p = (hi - lo) * pad;
        lo -= p;
        hi += p;
    }
    let step = nice_step(lo, hi, 8);
    lo = (lo / step).floor() * step;
    hi = (hi / step).ceil() * step;
    if let Some((cmin, cmax)) = clamp {
        if dmin >= cmin && lo < cmin {
            lo = cmin;
        }
        if dmax <= cmax && hi > cmax {
            hi = cmax;
        }
    }
    if hi <= lo {
        hi = lo + step;
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_range_ignores_zeros_negatives_and_nan() {
        let r = log_range([0.0, -3.0, f64::NAN, 2.5, 340.0, f64::INFINITY]);
        assert_eq!(r, Some((1.0, 1000.0)));
        assert_eq!(log_range([0.0, 0.0]), None);
        assert_eq!(log_range(Vec::<f64>::new()), None);
    }

    #[test]
    fn log_range_is_at_least_one_decade() {
        assert_eq!(log_range([5.0]), Some((1.0, 10.0)));
        assert_eq!(log_range([100.0]), Some((100.0, 1000.0)));
        let (lo, hi) = log_range([0.02, 0.03]).expect("positive");
        assert!((lo - 0.01).abs() < 1e-12 && (hi - 0.1).abs() < 1e-12);
        assert_eq!(decades(1.0, 1000.0), 3);
    }

    #[test]
    fn wants_log_needs_a_wide_positive_spread() {
        assert!(wants_log([0.0, 1.0, 5.0, 2000.0]));
        assert!(!wants_log([0.0, 1.0, 5.0, 20.0]));
        assert!(!wants_log([0.0, 0.0]));
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(nice_ceil(f64::NAN), 1.0);
        assert_eq!(nice_ceil(7.3), 8.0);
        assert_eq!(nice_ceil(27.3), 30.0);
        assert_eq!(nice_ceil(2.1), 2.5);
        assert_eq!(nice_ceil(1234.0), 1500.0);
        let (ticks, step) = nice_ticks(0.0, 1.0, 5);
        assert_eq!(step, 0.2);
        assert_eq!(ticks.len(), 6);
    }

    #[test]
    fn padded_range_handles_degenerate_input() {
        assert_eq!(padded_range([f64::NAN], 0.05, None), (0.0, 1.0));
        let (lo, hi) = padded_range([0.0, 0.0], 0.05, None);
        assert!(lo < 0.0 && hi > 0.0);
        let (lo, hi) = padded_range([0.97, 0.999], 0.05, Some((0.0, 1.0)));
        assert!(lo <= 0.97 && lo > 0.9, "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn formats() {
        let p = ValueFormat::Percent { decimals: 1 };
        assert_eq!(p.format(0.9951), "99.5%");
        assert_eq!(p.format(f64::NAN), "n/a");
        assert_eq!(p.format_tick(0.95, 0.01), "95%");
        assert_eq!(p.format_tick(0.995, 0.005), "99.5%");
        assert_eq!(p.format_tick(0.925, 0.025), "92.5%");
        assert_eq!(ValueFormat::Auto.format_tick(0.25, 0.25), "0.25");
        assert_eq!(ValueFormat::Fixed { decimals: 2 }.format(1.23456), "1.23");
        assert_eq!(ValueFormat::Auto.format(1234.5), "1234");
        assert_eq!(ValueFormat::Auto.format(0.0123), "0.012");
        assert_eq!(ValueFormat::Auto.format_tick(2.5, 0.5), "2.5");
        assert_eq!(ValueFormat::Auto.format_tick(-1e-17, 0.5), "0.0");
        assert_eq!(format_log_tick(0.1), "0.1");
        assert_eq!(format_log_tick(1000.0), "1000");
        assert_eq!(format_log_tick(0.0), "");
        assert_eq!(format_plain(2.0), "2");
        assert_eq!(format_plain(-0.0), "0");
        assert_eq!(format_plain(0.25), "0.25");
        assert_eq!(format_si(20000.0), "20k");
        assert_eq!(format_si(2500.0), "2.5k");
        assert_eq!(format_si(1_250_000.0), "1.25M");
        assert_eq!(format_si(150.0), "150");
    }
}
