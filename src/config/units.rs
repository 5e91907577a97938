//! Values with units: durations (`"2500ms"`) and byte sizes (`"128KiB"`).
//!
//! A bare number is refused for a duration: `op_timeout = 2500` could mean
//! milliseconds or seconds, and a wrong guess silently changes every result.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::engine::Nanos;

/// The duration units a model file may use.
pub const DURATION_UNITS: &str = "ns, us, ms, s, m, h, e.g. \"2500ms\" or \"30s\"";

/// The longest duration a model file may write: 100000 h (about 11 years).
/// Far beyond any run, and small enough that sums of a few durations (a run
/// and its drain, a time and a timeout) can never overflow 64-bit
/// nanoseconds.
pub const MAX_DURATION: Nanos = 100_000 * 3_600_000_000_000;

/// A span of simulated time read from a model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub Nanos);

impl Duration {
    /// The span in nanoseconds.
    pub fn nanos(self) -> Nanos {
        self.0
    }
}

/// Parses `"2500ms"`, `"1.5s"`, `"30s"`, `"2m"`. Fractions are allowed when
/// the result is a whole number of nanoseconds.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
        .ok_or_else(|| format!("`{s}` has no unit"))?;
    let (num, unit) = s.split_at(split);
    let num = num.trim();
    let scale: u128 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => return Err(format!("`{other}` is not a duration unit")),
    };
    if num.is_empty() {
        return Err(format!("`{s}` has no number before the unit"));
    }
    if num.starts_with('-') {
        return Err(format!("`{s}` is negative"));
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("`{num}` is not a number"));
    }
    let too_big = || format!("`{s}` is too long (the limit is 100000h, about 11 years)");
    let int_part: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_big())?
    };
    let mut total = int_part.checked_mul(scale).ok_or_else(too_big)?;
    let mut place = scale;
    for d in frac.chars() {
        let digit = d.to_digit(10).unwrap_or(0) as u128;
        if !place.is_multiple_of(10) {
            if digit != 0 {
                return Err(format!("`{s}` is finer than one nanosecond"));
            }
            continue;
        }
        place /= 10;
        total += digit * place;
    }
    u64::try_from(total)
        .ok()
        .filter(|&t| t <= MAX_DURATION)
        .ok_or_else(too_big)
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a duration string with a unit: {DURATION_UNITS}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                parse_duration(s).map(Duration).map_err(|m| {
                    if m.contains("too long") {
                        E::custom(format!("{m} (allowed: at most \"100000h\")"))
                    } else {
                        E::custom(format!(
                            "{m} (allowed: a duration with a unit: {DURATION_UNITS})"
                        ))
                    }
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS})"
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS})"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS})"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// An optional duration that may also be written `"none"`: the key unset, as
/// if absent. For keys whose absence means "no limit" (a deadline, a
/// timeout), so that a sweep can list `"none"` beside durations and `--set`
/// can take a limit away. Use as `#[serde(default, deserialize_with =
/// "crate::config::units::duration_or_none")]`.
pub fn duration_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<Duration>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(
                f,
                "a duration string with a unit ({DURATION_UNITS}) or \"none\""
            )
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Duration>, E> {
            if s.trim() == "none" {
                return Ok(None);
            }
            parse_duration(s).map(|n| Some(Duration(n))).map_err(|m| {
                if m.contains("too long") {
                    E::custom(format!("{m} (allowed: at most \"100000h\", or \"none\")"))
                } else {
                    E::custom(format!(
                        "{m} (allowed: a duration with a unit: {DURATION_UNITS}; or \"none\" for no limit)"
                    ))
                }
            })
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Duration>, E> {
            Err(E::custom(format!(
                "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS}; or \"none\" for no limit)"
            )))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Duration>, E> {
            Err(E::custom(format!(
                "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS}; or \"none\" for no limit)"
            )))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Duration>, E> {
            Err(E::custom(format!(
                "found the bare number {v} (allowed: a duration with a unit: {DURATION_UNITS}; or \"none\" for no limit)"
            )))
        }
    }
    d.deserialize_any(V)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::engine::format_nanos(self.0))
    }
}

/// A size in bytes: an integer, or a string with a unit (`"128KiB"`, `"4MiB"`,
/// `"150KB"`, `"100B"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Bytes(pub u64);

/// Parses a byte size with an optional unit.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "`{other}` is not a size unit (B, KB, MB, GB, KiB, MiB, GiB)"
            ));
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` does not start with a whole number"))?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too large"))
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a size in bytes: an integer, or a string such as \"128KiB\""
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Bytes, E> {
                parse_bytes(s).map(Bytes).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                u64::try_from(v)
                    .map(Bytes)
                    .map_err(|_| E::custom(format!("a size cannot be negative, found {v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MS, SEC, US};

    #[test]
    fn parses_units_and_fractions() {
        assert_eq!(parse_duration("2500ms"), Ok(2_500 * MS));
        assert_eq!(parse_duration("30s"), Ok(30 * SEC));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * MS));
        assert_eq!(parse_duration("20us"), Ok(20 * US));
        assert_eq!(parse_duration("2m"), Ok(120 * SEC));
        assert_eq!(parse_duration("1h"), Ok(3_600 * SEC));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("0s"), Ok(0));
    }

    #[test]
    fn refuses_what_is_ambiguous_or_impossible() {
        assert!(parse_duration("100").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("1.5ns").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("99999999999999h").is_err());
        assert!(parse_duration("1e3ms").is_err());
        assert_eq!(parse_duration("100000h"), Ok(MAX_DURATION));
        assert!(parse_duration("100001h").is_err());
        assert!(parse_duration("360000001s").is_err());
    }

    #[test]
    fn parses_byte_sizes() {
        assert_eq!(parse_bytes("128KiB"), Ok(131_072));
        assert_eq!(parse_bytes("4MiB"), Ok(4 << 20));
        assert_eq!(parse_bytes("150KB"), Ok(150_000));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("12XB").is_err());
        assert!(parse_bytes("99999999999999GiB").is_err());
    }
}
