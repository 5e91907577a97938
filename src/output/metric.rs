//! The metrics: every numeric field of `summary.json`, by dotted path
//! (`requests.offered`, `windows.fault.success_ratio`, `nodes.1.served`),
//! with a human label, a unit, a direction (is more better, worse, or
//! neither) and a number format, declared once in [`METRICS`]. Sweeps rank
//! by the direction; tables and plots format and label by the rest.
//!
//! An entry names a field of the summary ([`Within::Summary`]), of each
//! window (`windows.<steady|fault|recovery>.<key>`, [`Within::Windows`]),
//! of both ([`Within::SummaryAndWindows`]: the request counts and
//! latencies), or of each node (`nodes.<i>.<key>`, [`Within::Nodes`]). A
//! test walks every numeric field of the summary and requires exactly one
//! entry for it, so a new summary field without an entry fails the tests.

use super::flat::{Leaf, leaves};
use crate::metrics::Summary;
use crate::metrics::summary::NodeSummary;

/// What a number counts or measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A count of requests, operations, events.
    Count,
    /// A share in [0, 1], shown as a percentage.
    Share,
    /// Milliseconds.
    Milliseconds,
    /// Seconds (simulated).
    Seconds,
    /// A code listed in the field's description (a node's state).
    Code,
}

impl Unit {
    /// The symbol shown after a value or an axis title (empty for counts
    /// and codes).
    pub const fn symbol(self) -> &'static str {
        match self {
            Unit::Count | Unit::Code => "",
            Unit::Share => "%",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }
}

/// Which way a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// More is better (success, hits).
    HigherIsBetter,
    /// Less is better (errors, latency, peaks).
    LowerIsBetter,
    /// Neither: it describes the load or the run (offered requests, times,
    /// queries). Ranked in ascending order.
    Neither,
}

impl Direction {
    /// Whether a ranking puts larger values first.
    pub const fn higher_is_better(self) -> bool {
        match self {
            Direction::HigherIsBetter => true,
            Direction::LowerIsBetter | Direction::Neither => false,
        }
    }

    /// How a ranking by this metric is described.
    pub const fn describe(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher is better",
            Direction::LowerIsBetter => "lower is better",
            Direction::Neither => "ascending; neither direction is better",
        }
    }
}

/// How a value is printed for people (files keep the exact value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// A share as a percentage (`95.12 %`).
    Percent,
    /// Four significant digits, no exponent (`0.9512`, `1235`).
    Significant,
}

impl Format {
    /// `v` as people read it: `95.12 %` for a share, `0.9512` or `1235`
    /// otherwise.
    pub fn text(self, v: f64) -> String {
        match self {
            Format::Percent => format!("{:.2} %", 100.0 * v),
            Format::Significant => significant(v),
        }
    }
}

/// A number for people: four significant digits, no exponent
/// ([`Format::Significant`]).
pub fn significant(x: f64) -> String {
    if !x.is_finite() {
        return super::flat::fmt_f64(x).unwrap_or_else(|| "n/a".into());
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 6) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Where an entry's fields live in the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Within {
    /// `<key>`.
    Summary,
    /// `windows.<window>.<key>` for each of [`WINDOWS`].
    Windows,
    /// Both `<key>` and `windows.<window>.<key>`.
    SummaryAndWindows,
    /// `nodes.<i>.<key>` for each cache node.
    Nodes,
}

/// The windows of the summary, by arrival time.
pub const WINDOWS: [&str; 3] = ["steady", "fault", "recovery"];

/// One metric (or one family of them: a field of every window or node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Where its fields live.
    pub within: Within,
    /// The dotted key inside that place.
    pub key: &'static str,
    /// A human label (the window or node is added by [`label`]).
    pub label: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// How it is printed.
    pub format: Format,
}

use Direction::{HigherIsBetter as Higher, LowerIsBetter as Lower, Neither};
use Format::{Percent, Significant};
use Unit::{Count, Milliseconds, Seconds, Share};
use Within::{Nodes, Summary as Top, SummaryAndWindows as Both, Windows};

const fn m(
    within: Within,
    key: &'static str,
    label: &'static str,
    unit: Unit,
    direction: Direction,
) -> Metric {
    let format = match unit {
        Share => Percent,
        Count | Milliseconds | Seconds | Unit::Code => Significant,
    };
    Metric {
        within,
        key,
        label,
        unit,
        direction,
        format,
    }
}

/// Every metric. Adding a field to the summary means adding its entry here.
#[rustfmt::skip]
pub const METRICS: &[Metric] = &[
    m(Top, "simulated_s", "simulated time", Seconds, Neither),
    m(Top, "events", "events handled", Count, Neither),
    m(Both, "requests.offered", "requests offered", Count, Neither),
    m(Both, "requests.succeeded", "requests succeeded", Count, Higher),
    m(Both, "requests.late", "requests late", Count, Lower),
    m(Both, "requests.rejected", "requests rejected", Count, Lower),
    m(Both, "requests.timed_out", "requests timed out", Count, Lower),
    m(Both, "requests.failed", "requests failed", Count, Lower),
    m(Both, "requests.unfinished", "requests unfinished", Count, Lower),
    m(Both, "latency_ms.mean", "mean latency", Milliseconds, Lower),
    m(Both, "latency_ms.p50", "median latency", Milliseconds, Lower),
    m(Both, "latency_ms.p90", "p90 latency", Milliseconds, Lower),
    m(Both, "latency_ms.p99", "p99 latency", Milliseconds, Lower),
    m(Both, "latency_ms.p999", "p99.9 latency", Milliseconds, Lower),
    m(Both, "latency_ms.max", "maximum latency", Milliseconds, Lower),
    m(Both, "over_slo", "requests over the SLO", Count, Lower),
    m(Top, "cache_ops.hit", "cache hits", Count, Higher),
    m(Top, "cache_ops.miss", "cache misses", Count, Lower),
    m(Top, "cache_ops.stored", "cache writes acknowledged", Count, Neither),
    m(Top, "cache_ops.timeout", "cache timeouts", Count, Lower),
    m(Top, "cache_ops.unsent_timeout", "cache timeouts before sending", Count, Lower),
    m(Top, "cache_ops.cancelled", "cache ops cancelled", Count, Lower),
    m(Top, "cache_ops.redirected", "cache ops redirected", Count, Lower),
    m(Top, "cache_ops.queue_full", "cache ops refused (queue full)", Count, Lower),
    m(Top, "cache_ops.error", "cache errors", Count, Lower),
    m(Top, "cache_ops.unfinished", "cache ops unfinished", Count, Lower),
    m(Top, "memory.hit_ratio", "cache hit ratio (gets served by the nodes)", Share, Higher),
    m(Top, "memory.fills", "cache sets stored", Count, Neither),
    m(Top, "memory.evictions", "cache evictions", Count, Lower),
    m(Top, "memory.expired", "cache items expired", Count, Neither),
    m(Top, "memory.flushed", "cache items flushed", Count, Neither),
    m(Top, "memory.lease_waits", "gets that waited on a lease", Count, Neither),
    m(Top, "memory.stale_served", "stale values served under a lease", Count, Neither),
    m(Top, "memory.items", "cache items held at the end", Count, Neither),
    m(Windows, "start_s", "window start", Seconds, Neither),
    m(Windows, "end_s", "window end", Seconds, Neither),
    m(Windows, "offered", "requests arrived", Count, Neither),
    m(Windows, "success_ratio", "success", Share, Higher),
    m(Windows, "rejected_ratio", "rejected", Share, Lower),
    m(Windows, "timed_out_ratio", "timed out", Share, Lower),
    m(Windows, "failed_ratio", "failed", Share, Lower),
    m(Windows, "late_ratio", "late", Share, Lower),
    m(Windows, "cache_timeout_ratio", "requests that met a cache timeout", Share, Lower),
    m(Windows, "cache_cancel_ratio", "requests that met a cache cancellation or error", Share, Lower),
    m(Windows, "miss_ratio", "requests that met a cache miss", Share, Lower),
    m(Windows, "stale_ratio", "requests that read a stale value", Share, Lower),
    m(Top, "first_bad_s", "time to the first bad request", Seconds, Neither),
    m(Top, "recovery_s", "time to recover", Seconds, Lower),
    m(Top, "peak_bucket_error_ratio", "worst bucket's error share", Share, Lower),
    m(Top, "verdict.stuck", "stuck after the last fault (share of runs)", Share, Lower),
    m(Top, "verdict.recovered_s", "time to recover (verdict)", Seconds, Lower),
    m(Top, "verdict.tail.seconds", "tail length", Seconds, Neither),
    m(Top, "verdict.tail.offered_per_sec", "tail offered per second", Count, Neither),
    m(Top, "verdict.tail.goodput_per_sec", "tail goodput per second", Count, Higher),
    m(Top, "verdict.tail.success_ratio", "tail success share", Share, Higher),
    m(Top, "verdict.tail.db_calls_per_sec", "tail database calls per second", Count, Neither),
    m(Top, "verdict.tail.db_amplification", "tail database calls per request", Count, Lower),
    m(Top, "verdict.tail.db_in_flight", "database in flight at the end", Count, Lower),
    m(Top, "verdict.tail.cache_hit_ratio", "tail cache hit share", Share, Higher),
    m(Top, "db.peak_in_flight", "database peak in flight", Count, Lower),
    m(Top, "db.peak_waiting", "database peak waiting", Count, Lower),
    m(Top, "db.queries", "database queries", Count, Neither),
    m(Top, "db.wait_timeouts", "database connection wait timeouts", Count, Lower),
    m(Top, "db.calls", "database calls", Count, Neither),
    m(Top, "db.deadline_exceeded", "database calls past their deadline", Count, Lower),
    m(Top, "db.killed", "database queries killed", Count, Lower),
    m(Top, "db.refused", "database queries refused", Count, Lower),
    m(Top, "db.wasted", "database queries finished after their caller left", Count, Lower),
    m(Top, "db.retries", "database call retries", Count, Neither),
    m(Top, "db.slowed", "database queries slowed down", Count, Lower),
    m(Top, "client.trips", "client connection trips", Count, Lower),
    m(Top, "client.first_trip_s", "time of the first trip", Seconds, Neither),
    m(Top, "client.connections_lost", "connections lost", Count, Lower),
    m(Top, "client.reconnects", "reconnects", Count, Neither),
    m(Top, "client.stale_reads", "stale reads", Count, Lower),
    m(Top, "client.ejections", "nodes ejected or marked dead", Count, Lower),
    m(Top, "client.first_ejection_s", "time of the first ejection", Seconds, Neither),
    m(Top, "client.marked_failed", "nodes marked failed", Count, Lower),
    m(Nodes, "served", "requests served", Count, Neither),
    m(Nodes, "expired", "requests skipped (caller gone)", Count, Lower),
    m(Nodes, "mean_wait_ms", "mean wait", Milliseconds, Lower),
    m(Nodes, "peak_queue", "peak queue", Count, Lower),
    m(Nodes, "utilization", "utilization", Share, Neither),
];

/// Where a full key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place<'k> {
    /// The summary itself.
    Summary,
    /// A window, by name.
    Window(&'k str),
    /// A node, by index.
    Node(usize),
}

/// Splits a full key into its place and the key inside it.
fn place(key: &str) -> (Place<'_>, &str) {
    if let Some(rest) = key.strip_prefix("windows.")
        && let Some((w, inner)) = rest.split_once('.')
        && WINDOWS.contains(&w)
    {
        return (Place::Window(w), inner);
    }
    if let Some(rest) = key.strip_prefix("nodes.")
        && let Some((i, inner)) = rest.split_once('.')
        && let Ok(i) = i.parse::<usize>()
    {
        return (Place::Node(i), inner);
    }
    (Place::Summary, key)
}

impl Metric {
    /// The entry for a full dotted key, if it is a metric.
    pub fn find(key: &str) -> Option<&'static Metric> {
        let (at, inner) = place(key);
        METRICS.iter().find(|m| {
            m.key == inner
                && match (at, m.within) {
                    (Place::Summary, Top | Both) | (Place::Window(_), Windows | Both) => true,
                    (Place::Node(_), Nodes) => true,
                    (Place::Summary, Windows | Nodes)
                    | (Place::Window(_), Top | Nodes)
                    | (Place::Node(_), Top | Windows | Both) => false,
                }
        })
    }

    /// The entry for `key`, or [`OTHER`] for a key that is not in the table
    /// (a journal written by another version).
    pub fn of(key: &str) -> &'static Metric {
        Metric::find(key).unwrap_or(&OTHER)
    }

    /// Every full key of this entry in a summary with `nodes` nodes.
    pub fn keys(&self, nodes: usize) -> Vec<String> {
        let windows = || WINDOWS.iter().map(|w| format!("windows.{w}.{}", self.key));
        match self.within {
            Top => vec![self.key.to_string()],
            Windows => windows().collect(),
            Both => std::iter::once(self.key.to_string())
                .chain(windows())
                .collect(),
            Nodes => (0..nodes)
                .map(|i| format!("nodes.{i}.{}", self.key))
                .collect(),
        }
    }
}

/// What an unknown key is taken for: a plain number, no better direction.
pub const OTHER: Metric = Metric {
    within: Top,
    key: "",
    label: "",
    unit: Count,
    direction: Neither,
    format: Significant,
};

/// The human label of a full key: the entry's label with its window or
/// node (`success (fault window)`, `node 1: requests served`); the key
/// itself when it is not in the table.
pub fn label(key: &str) -> String {
    let Some(m) = Metric::find(key) else {
        return key.to_string();
    };
    match place(key).0 {
        Place::Summary => m.label.to_string(),
        Place::Window(w) => format!("{} ({w} window)", m.label),
        Place::Node(i) => format!("node {i}: {}", m.label),
    }
}

/// The axis title of a metric: its human label with its window or node,
/// then its unit (`success in the fault window (%)`, `p99 latency (ms)`,
/// `node 2: peak queue`); the key itself when it is not in the table.
pub fn axis_label(key: &str) -> String {
    let Some(m) = Metric::find(key) else {
        return key.to_string();
    };
    let text = match place(key).0 {
        Place::Summary => m.label.to_string(),
        Place::Window(w) => format!("{} in the {w} window", m.label),
        Place::Node(i) => format!("node {i}: {}", m.label),
    };
    match m.unit.symbol() {
        "" => text,
        unit => format!("{text} ({unit})"),
    }
}

/// What a metric name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A number (or a number that may be missing).
    Numeric,
    /// Text (`model`, `nodes.0.name`).
    Text,
    /// Not a summary field.
    Unknown,
}

/// The summary fields of a model with `nodes` cache nodes: numeric ones
/// (every metric, and `seed`), and text ones (which cannot be metrics).
pub fn summary_fields(nodes: usize) -> (Vec<String>, Vec<String>) {
    let summary = Summary {
        nodes: vec![NodeSummary::default(); nodes],
        ..Default::default()
    };
    let mut numeric = Vec::new();
    let mut text = Vec::new();
    for (k, leaf) in leaves(&summary) {
        match leaf {
            Leaf::Number(_) => numeric.push(k),
            Leaf::Text => text.push(k),
        }
    }
    (numeric, text)
}

/// Whether `name` is a numeric summary field of a model with `nodes` nodes.
pub fn field_kind(name: &str, nodes: usize) -> FieldKind {
    let (numeric, text) = summary_fields(nodes);
    if numeric.iter().any(|f| f == name) {
        FieldKind::Numeric
    } else if text.iter().any(|f| f == name) {
        FieldKind::Text
    } else {
        FieldKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_summary_number_has_exactly_one_entry_and_every_entry_a_field() {
        let (numeric, _) = summary_fields(3);
        // The seed identifies a run (records keep it apart); not a metric.
        for key in numeric.iter().filter(|k| *k != "seed") {
            let (at, inner) = place(key);
            let hits = METRICS.iter().filter(|m| m.keys(3).contains(key)).count();
            assert_eq!(
                hits, 1,
                "{key} ({at:?}, {inner}) needs exactly one entry in METRICS"
            );
            assert!(Metric::find(key).is_some(), "{key}");
        }
        for m in METRICS {
            for k in m.keys(3) {
                assert!(
                    numeric.contains(&k),
                    "{} names {k}, not a summary number",
                    m.key
                );
                assert_eq!(Metric::find(&k), Some(m), "{k}");
            }
        }
    }

    #[test]
    fn every_metric_has_a_label_a_unit_and_a_direction() {
        for m in METRICS {
            assert!(!m.label.trim().is_empty(), "{}", m.key);
            assert_eq!(
                m.format == Format::Percent,
                m.unit == Unit::Share,
                "{}: shares print as percentages, and only they",
                m.key
            );
            // Spelled-out units agree with the name's suffix.
            let last = m.key.rsplit('.').next().unwrap();
            if last.ends_with("_ratio") {
                assert_eq!(m.unit, Unit::Share, "{}", m.key);
            }
            if last.ends_with("_s") {
                assert_eq!(m.unit, Unit::Seconds, "{}", m.key);
            }
            if m.key.contains("_ms") {
                assert_eq!(m.unit, Unit::Milliseconds, "{}", m.key);
            }
        }
        let keys: Vec<(Within, &str)> = METRICS.iter().map(|m| (m.within, m.key)).collect();
        let unique: std::collections::BTreeSet<&str> = keys.iter().map(|k| k.1).collect();
        assert_eq!(unique.len(), keys.len(), "a key is declared twice");
    }

    #[test]
    fn directions_labels_and_axes() {
        let dir = |k: &str| Metric::of(k).direction;
        assert_eq!(
            dir("windows.fault.success_ratio"),
            Direction::HigherIsBetter
        );
        assert_eq!(dir("requests.succeeded"), Direction::HigherIsBetter);
        assert_eq!(
            dir("windows.steady.requests.succeeded"),
            Direction::HigherIsBetter
        );
        assert_eq!(dir("cache_ops.hit"), Direction::HigherIsBetter);
        assert_eq!(dir("latency_ms.p99"), Direction::LowerIsBetter);
        assert_eq!(dir("over_slo"), Direction::LowerIsBetter);
        assert_eq!(dir("requests.offered"), Direction::Neither);
        assert_eq!(dir("no.such.metric"), Direction::Neither);
        assert_eq!(
            label("windows.fault.success_ratio"),
            "success (fault window)"
        );
        assert_eq!(label("nodes.2.served"), "node 2: requests served");
        assert_eq!(label("db.peak_in_flight"), "database peak in flight");
        assert_eq!(
            axis_label("windows.fault.success_ratio"),
            "success in the fault window (%)"
        );
        assert_eq!(
            axis_label("windows.steady.latency_ms.p99"),
            "p99 latency in the steady window (ms)"
        );
        assert_eq!(axis_label("recovery_s"), "time to recover (s)");
        assert_eq!(axis_label("client.trips"), "client connection trips");
        assert_eq!(axis_label("no.such.key"), "no.such.key");
        assert!(Metric::find("windows.other.success_ratio").is_none());
        assert!(Metric::find("success_ratio").is_none());
        assert!(Metric::find("nodes.x.served").is_none());
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(significant(0.951234), "0.9512");
        assert_eq!(significant(1234.6), "1235");
        assert_eq!(significant(12.0), "12");
        assert_eq!(significant(0.0001234), "0.000123");
        assert_eq!(Format::Percent.text(0.95123), "95.12 %");
        assert_eq!(Format::Significant.text(0.95123), "0.9512");
    }

    #[test]
    fn knows_numeric_and_text_fields() {
        assert_eq!(field_kind("latency_ms.p99", 4), FieldKind::Numeric);
        assert_eq!(field_kind("recovery_s", 4), FieldKind::Numeric);
        assert_eq!(field_kind("nodes.3.served", 4), FieldKind::Numeric);
        assert_eq!(field_kind("nodes.4.served", 4), FieldKind::Unknown);
        assert_eq!(field_kind("nodes.0.name", 4), FieldKind::Text);
        assert_eq!(field_kind("latency.p99", 4), FieldKind::Unknown);
    }
}
