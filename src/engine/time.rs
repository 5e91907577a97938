//! Simulated time: an integer count of nanoseconds, never a float.

/// A point in simulated time or a span of it, in nanoseconds.
///
/// `u64` nanoseconds cover 584 years, far beyond any run.
pub type Nanos = u64;

/// Nanoseconds per microsecond.
pub const US: Nanos = 1_000;
/// Nanoseconds per millisecond.
pub const MS: Nanos = 1_000_000;
/// Nanoseconds per second.
pub const SEC: Nanos = 1_000_000_000;

/// Converts nanoseconds to (fractional) seconds, for reports only.
pub fn secs(t: Nanos) -> f64 {
    t as f64 / SEC as f64
}

/// Converts nanoseconds to (fractional) milliseconds, for reports only.
pub fn millis(t: Nanos) -> f64 {
    t as f64 / MS as f64
}

/// Formats a span with the largest unit that divides it exactly
/// (`2500ms`, `30s`, `150us`), the spelling model files use.
pub fn format_nanos(t: Nanos) -> String {
    const UNITS: [(Nanos, &str); 5] = [
        (3_600 * SEC, "h"),
        (60 * SEC, "m"),
        (SEC, "s"),
        (MS, "ms"),
        (US, "us"),
    ];
    if t == 0 {
        return "0s".to_string();
    }
    match UNITS.iter().find(|(unit, _)| t.is_multiple_of(*unit)) {
        Some((unit, name)) => format!("{}{}", t / unit, name),
        None => format!("{t}ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_the_largest_exact_unit() {
        assert_eq!(format_nanos(2_500 * MS), "2500ms");
        assert_eq!(format_nanos(30 * SEC), "30s");
        assert_eq!(format_nanos(120 * SEC), "2m");
        assert_eq!(format_nanos(150 * US), "150us");
        assert_eq!(format_nanos(7), "7ns");
        assert_eq!(format_nanos(0), "0s");
    }
}
