//! One finished run as the sweep keeps it: the point, the replication, the
//! seed and every numeric field of the run's summary, flattened by dotted
//! path (`requests.offered`, `windows.fault.success_ratio`, `nodes.1.served`).
//!
//! Values are kept as text, never re-rounded: integers in decimal, floats in
//! Rust's shortest round-trip spelling (`{}` of an `f64`: the fewest digits
//! that read back to the same number, no exponent). So a value read back from
//! the journal is bit-for-bit the value the run produced, and every file
//! built from records is the same whether the record came from a run just
//! now or from a journal written before a crash.

use serde::{Deserialize, Serialize};

use crate::metrics::Summary;
use crate::output::flat::{Leaf, leaves};

/// One run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Point index (0-based, grid order).
    pub point: usize,
    /// Replication index (0-based).
    pub replication: u32,
    /// The run's seed.
    pub seed: u64,
    /// Summary fields in the summary's order: (dotted path, value), `None`
    /// for a missing value (`null` in `summary.json`: e.g. `recovery_s` of a
    /// run that never recovered, or a ratio of nothing).
    pub values: Vec<(String, Option<String>)>,
}

impl Record {
    /// The value of `field` as a number, if present.
    pub fn number(&self, field: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .and_then(|(_, v)| v.as_deref())
            .and_then(|v| v.parse::<f64>().ok())
    }
}

/// Flattens a summary: every number (and every missing number, `null` in
/// `summary.json`) by dotted path, in the summary's field order. Text fields
/// and the summary's `seed` (the record has its own) are left out.
pub fn flatten(summary: &Summary) -> Vec<(String, Option<String>)> {
    leaves(summary)
        .into_iter()
        .filter_map(|(k, leaf)| match leaf {
            Leaf::Number(v) if k != "seed" => Some((k, v)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::NodeSummary;
    use crate::output::flat::fmt_f64;

    #[test]
    fn floats_round_trip_exactly() {
        for x in [0.1, 1.0 / 3.0, 12.5, 1e-9, 123456789.123, 2.0, -0.5] {
            let s = fmt_f64(x).unwrap();
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
            assert!(!s.contains('e'), "{s}");
        }
        assert_eq!(fmt_f64(2.0).unwrap(), "2");
        assert_eq!(fmt_f64(f64::NAN), None);
    }

    #[test]
    fn flattens_numbers_by_dotted_path() {
        let mut s = Summary {
            seed: 99,
            ..Default::default()
        };
        s.requests.offered = 7;
        s.windows.fault.success_ratio = 0.25;
        s.nodes = vec![NodeSummary::default(); 2];
        let f = flatten(&s);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("requests.offered"), Some(Some("7".into())));
        assert_eq!(
            get("windows.fault.success_ratio"),
            Some(Some("0.25".into()))
        );
        assert_eq!(get("recovery_s"), Some(None));
        assert_eq!(get("nodes.1.served"), Some(Some("0".into())));
        assert_eq!(get("seed"), None);
        assert_eq!(get("model"), None);
        assert_eq!(get("nodes.0.name"), None);
        assert_eq!(f[0].0, "simulated_s", "summary order is kept");
    }
}
