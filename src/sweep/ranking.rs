//! The ranked table of a sweep (`ranking.csv`, `ranking.md`): every point by
//! the experiment's `rank_by` metric, best first, with its 95 % interval,
//! beside what the configuration costs: the database's side (its peak in
//! flight, the queries it ran slowed down — it tipped over its knee — the
//! calls past their deadline, and the share of runs left stuck: a
//! mitigation that moves the failure into the database shows here) and the
//! steady-state p99 (what the change costs when nothing is broken). Feeds
//! the ranking plot.

use super::journal::Header;
use super::output::{PointStats, ranked};
use super::record::Record;
use super::stats::MetricStats;
use crate::output::Metric;
use crate::output::flat::fmt_f64;
use crate::output::metric::axis_label;

/// The costs shown beside the ranking metric.
pub const COSTS: [&str; 5] = [
    "db.peak_in_flight",
    "db.slowed",
    "db.deadline_exceeded",
    "verdict.stuck",
    "windows.steady.latency_ms.p99",
];

/// The database's side in the worst-case table: each configuration's worst
/// mean across the fault kinds.
pub const DB_COSTS: [&str; 4] = [
    "db.peak_in_flight",
    "db.slowed",
    "db.deadline_exceeded",
    "verdict.stuck",
];

/// One ranked point.
pub struct Row {
    /// 1 = best.
    pub rank: usize,
    /// Point index.
    pub point: usize,
    /// The ranking metric.
    pub metric: MetricStats,
    /// [`COSTS`], in order.
    pub costs: Vec<MetricStats>,
    /// Replications.
    pub n: usize,
}

/// Every point with records, ranked by `rank_by`.
pub fn rows(header: &Header, stats: &[PointStats], records: &[Record]) -> Vec<Row> {
    rows_with(header, stats, &|p, c| point_metric(records, p, c))
}

/// Every point of `stats`, ranked by `rank_by`, with `cost(point, key)`
/// giving the statistics of each of [`COSTS`].
pub fn rows_with(
    header: &Header,
    stats: &[PointStats],
    cost: &dyn Fn(usize, &str) -> MetricStats,
) -> Vec<Row> {
    let Some(m) = header.metrics.iter().position(|x| *x == header.rank_by) else {
        return Vec::new();
    };
    ranked(header, stats, m)
        .into_iter()
        .enumerate()
        .map(|(i, s)| Row {
            rank: i + 1,
            point: s.point,
            metric: s.metrics[m],
            costs: COSTS.iter().map(|c| cost(s.point, c)).collect(),
            n: s.n,
        })
        .collect()
}

fn cell(x: Option<f64>) -> String {
    x.and_then(fmt_f64).unwrap_or_default()
}

/// The text of `ranking.csv`.
pub fn csv(header: &Header, rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["rank".to_string(), "point".to_string()];
    head.extend(header.params.iter().map(|p| format!("param.{p}")));
    for s in ["mean", "ci95_low", "ci95_high"] {
        head.push(format!("{}.{s}", header.rank_by));
    }
    head.extend(COSTS.iter().map(|c| format!("{c}.mean")));
    head.push("n".into());
    w.write_record(&head).expect("memory");
    for r in rows {
        let mut row = vec![r.rank.to_string(), r.point.to_string()];
        row.extend(header.points[r.point].iter().map(|v| md_cell(v)));
        row.extend([cell(r.metric.mean), cell(r.metric.low), cell(r.metric.high)]);
        row.extend(r.costs.iter().map(|c| cell(c.mean)));
        row.push(r.n.to_string());
        w.write_record(&row).expect("memory");
    }
    w.into_inner().expect("memory")
}

fn show(metric: &str, x: Option<f64>) -> String {
    x.map_or("–".into(), |v| Metric::of(metric).format.text(v))
}

/// Text from the experiment (a variant's name, a value, the experiment's
/// name) as one Markdown table cell: `|` escaped as `\|`, line breaks and
/// other control characters as spaces, so a name can neither split a row
/// nor end it. Other text is kept as written (keys such as
/// `client.op_timeout` read as they are in the experiment file).
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A metric's value with its interval, in the metric's one format (the
/// console, `ranking.md` and the report print the same text):
/// `95.12 % [94.80 %, 95.40 %]`, or the value alone from one replication.
pub fn with_interval(metric: &str, s: &MetricStats) -> String {
    match (s.mean, s.low, s.high) {
        (Some(x), Some(l), Some(h)) if s.n > 1 => format!(
            "{} [{}, {}]",
            show(metric, Some(x)),
            show(metric, Some(l)),
            show(metric, Some(h))
        ),
        (x, _, _) => show(metric, x),
    }
}

/// How the intervals of `metric` are computed, for the tables' notes.
pub fn interval_method(metric: &str) -> &'static str {
    use crate::output::Unit;
    match Metric::of(metric).unit {
        Unit::Share => {
            "logit-t (Student t on the replications' empirical logits, mapped back into [0, 1])"
        }
        Unit::Count | Unit::Milliseconds | Unit::Seconds | Unit::Code => {
            "Student t over the replications"
        }
    }
}

/// The statistics of `metric` at point `p` from `records`.
pub fn point_metric(records: &[Record], p: usize, metric: &str) -> MetricStats {
    super::stats::metric_stats(metric, records.iter().filter(|r| r.point == p))
}

/// A Markdown table.
fn md_table(head: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", head.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// The worst-case table (when the sweep varies a fault's kind): header and
/// rows, each configuration by its worst case, then each fault kind's mean.
pub fn worst_case_table(header: &Header, records: &[Record]) -> Option<WorstCaseTable> {
    let points: Vec<usize> = records
        .iter()
        .map(|r| r.point)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    worst_case_table_with(header, &points, &|p, metric| {
        point_metric(records, p, metric)
    })
}

/// The worst-case table: its fault axes, header and rows.
pub type WorstCaseTable = (FaultAxes, Vec<String>, Vec<Vec<String>>);

/// [`worst_case_table`] of the points `points` (those with records, in
/// order), with `of(point, metric)` giving the statistics of `rank_by` and
/// of the [`DB_COSTS`].
pub fn worst_case_table_with(
    header: &Header,
    points: &[usize],
    of: &dyn Fn(usize, &str) -> MetricStats,
) -> Option<WorstCaseTable> {
    let axes = FaultAxes::of(header, &[])?;
    let m = &header.rank_by;
    let higher = Metric::of(m).direction.higher_is_better();
    let points = points.to_vec();
    let label = |p: usize| {
        crate::output::names::config_label(&header.params, &header.points[p], |k| {
            !axes.keys.contains(&k)
        })
    };
    let rows = worst_case(header, &axes, &points, higher, |p| of(p, m), label);
    let mut head = vec![
        "rank".to_string(),
        "configuration".to_string(),
        format!("worst case: {} [95 % CI]", axis_label(m)),
        "worst under".to_string(),
    ];
    head.extend((0..axes.scenarios.len()).map(|s| md_cell(&axes.name(s))));
    head.extend(DB_COSTS.iter().map(|c| format!("worst {}", axis_label(c))));
    // The worse of a cost's means over the configuration's points.
    let worst_cost = |r: &WorstRow, c: &str| -> Option<f64> {
        let lower = !Metric::of(c).direction.higher_is_better();
        r.per_scenario
            .iter()
            .flatten()
            .filter_map(|&(p, _)| of(p, c).mean)
            .reduce(|a, b| if (b > a) == lower { b } else { a })
    };
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = vec![
                (i + 1).to_string(),
                md_cell(&label(r.point)),
                with_interval(m, &r.worst),
                md_cell(&r.worst_under(&axes)),
            ];
            row.extend(
                r.per_scenario
                    .iter()
                    .map(|x| x.map_or("–".into(), |(_, s)| show(m, s.mean))),
            );
            row.extend(DB_COSTS.iter().map(|c| show(c, worst_cost(r, c))));
            row
        })
        .collect();
    Some((axes, head, body))
}

/// How many replications each point ran, as the ranking and every sweep
/// chart state it: "5 replications per point", or for a sequential sweep
/// "3 to 5 replications per point (each point stopped once …)". `long`
/// names the ranking metric (the ranking's header); charts say "its
/// interval", their axis names the metric.
pub fn replications_per_point(header: &Header, long: bool) -> String {
    match &header.sequential {
        None => format!("{} replications per point", header.replications),
        Some(s) => {
            let what = if long {
                format!("the interval of {}", axis_label(&header.rank_by))
            } else {
                "its interval".to_string()
            };
            format!(
                "{} to {} replications per point (each point stopped once {what} was within {})",
                s.min, header.replications, s.until
            )
        }
    }
}

/// The text of `ranking.md`: a Markdown table for a review document. When
/// the sweep varies a fault's kind, first every configuration by its worst
/// case across the fault kinds, then one table per fault kind; then every
/// point. Names and labels come from the output contract; the raw keys
/// close it.
pub fn markdown(header: &Header, rows: &[Row], records: &[Record]) -> String {
    markdown_with(header, rows, worst_case_table(header, records))
}

/// [`markdown`] with the worst-case table already made
/// ([`worst_case_table_with`]).
pub fn markdown_with(header: &Header, rows: &[Row], worst: Option<WorstCaseTable>) -> String {
    use crate::output::names::{key_name, raw_keys_note};
    let m = &header.rank_by;
    let replications = replications_per_point(header, true);
    let mut out = format!(
        "# {}: ranked by {}\n\n{replications}, seed {} ({} seeds); 95 % confidence intervals: {}.\n\n",
        md_cell(&header.experiment),
        axis_label(m),
        header.seed,
        header.seed_mode,
        interval_method(m)
    );
    let cost_head = || COSTS.iter().map(|c| axis_label(c)).collect::<Vec<_>>();
    if let Some((axes, head, body)) = worst {
        out.push_str("## Worst case across fault kinds\n\n");
        out.push_str(&md_table(&head, &body));
        for (si, scenario) in axes.scenarios.iter().enumerate() {
            out.push_str(&format!(
                "\n## {}: {}\n\n",
                key_name(&header.params[axes.keys[0]]),
                md_cell(&axes.name(si))
            ));
            let mut head = vec!["rank".to_string(), "configuration".to_string()];
            head.push(format!("{} [95 % CI]", axis_label(m)));
            head.extend(cost_head());
            let body: Vec<Vec<String>> = rows
                .iter()
                .filter(|r| {
                    axes.keys
                        .iter()
                        .zip(scenario)
                        .all(|(&k, v)| header.points[r.point][k] == *v)
                })
                .enumerate()
                .map(|(i, r)| {
                    let mut row = vec![
                        (i + 1).to_string(),
                        md_cell(&crate::output::names::config_label(
                            &header.params,
                            &header.points[r.point],
                            |k| !axes.keys.contains(&k),
                        )),
                        with_interval(m, &r.metric),
                    ];
                    row.extend(COSTS.iter().zip(&r.costs).map(|(c, s)| show(c, s.mean)));
                    row
                })
                .collect();
            out.push_str(&md_table(&head, &body));
        }
        out.push_str("\n## Every point\n\n");
    }
    let mut head = vec!["rank".to_string()];
    head.extend(header.params.iter().map(|p| md_cell(&key_name(p))));
    head.push(format!("{} [95 % CI]", axis_label(m)));
    head.extend(cost_head());
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![r.rank.to_string()];
            row.extend(header.points[r.point].iter().map(|v| md_cell(v)));
            row.push(with_interval(m, &r.metric));
            row.extend(COSTS.iter().zip(&r.costs).map(|(c, s)| show(c, s.mean)));
            row
        })
        .collect();
    out.push_str(&md_table(&head, &body));
    let mut raw: Vec<(String, String)> = vec![(axis_label(m), m.clone())];
    raw.extend(COSTS.iter().map(|c| (axis_label(c), c.to_string())));
    raw.extend(header.params.iter().map(|p| (key_name(p), p.clone())));
    out.push_str(&format!("\n<sub>{}</sub>\n", raw_keys_note(raw)));
    out
}

/// The fault axes of a sweep: its varied `fault.<i>.kind` keys with more
/// than one value (not among `skip`), and the combinations of their values
/// (the fault scenarios) in grid order.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultAxes {
    /// Indices of the fault-kind keys.
    pub keys: Vec<usize>,
    /// Each scenario's values of those keys.
    pub scenarios: Vec<Vec<String>>,
}

impl FaultAxes {
    /// The fault axes of `header`, if any key besides `skip` varies a
    /// fault's kind.
    pub fn of(header: &Header, skip: &[usize]) -> Option<FaultAxes> {
        let values = |k: usize| -> Vec<&String> {
            let mut v: Vec<&String> = Vec::new();
            for p in &header.points {
                if !v.contains(&&p[k]) {
                    v.push(&p[k]);
                }
            }
            v
        };
        let keys: Vec<usize> = (0..header.params.len())
            .filter(|k| !skip.contains(k))
            .filter(|&k| crate::output::names::is_fault_kind(&header.params[k]))
            .filter(|&k| values(k).len() > 1)
            .collect();
        if keys.is_empty() {
            return None;
        }
        let mut scenarios: Vec<Vec<String>> = Vec::new();
        for p in &header.points {
            let s: Vec<String> = keys.iter().map(|&k| p[k].clone()).collect();
            if !scenarios.contains(&s) {
                scenarios.push(s);
            }
        }
        Some(FaultAxes { keys, scenarios })
    }

    /// A scenario's name: its values joined (`frozen`, `crash + slow`).
    pub fn name(&self, s: usize) -> String {
        self.scenarios[s].join(" + ")
    }
}

/// One configuration (a point with the fault axes left out) ranked by its
/// worst case across the fault scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct WorstRow {
    /// A point of the configuration (for its label).
    pub point: usize,
    /// The point of its worst scenario.
    pub worst_point: usize,
    /// The worst scenario's index in [`FaultAxes::scenarios`].
    pub worst_scenario: usize,
    /// The metric there.
    pub worst: MetricStats,
    /// Each scenario's point and statistics, in scenario order (`None`
    /// where the point was not run).
    pub per_scenario: Vec<Option<(usize, MetricStats)>>,
}

impl WorstRow {
    /// The fault scenario it does worst under, or "all equal" when every
    /// scenario run gives the same mean (a tie names no fault).
    pub fn worst_under(&self, axes: &FaultAxes) -> String {
        let tied = self
            .per_scenario
            .iter()
            .flatten()
            .all(|(_, s)| s.mean == self.worst.mean);
        if tied && self.per_scenario.iter().flatten().count() > 1 {
            "all equal".into()
        } else {
            axes.name(self.worst_scenario)
        }
    }
}

/// Orders two results best first by `higher`: by mean, then by the
/// interval's pessimistic end (the lower end when higher is better), a
/// missing mean last.
pub fn better_first(a: &MetricStats, b: &MetricStats, higher: bool) -> std::cmp::Ordering {
    let by = |x: f64, y: f64| {
        if higher {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        }
    };
    let pess = |s: &MetricStats| if higher { s.low } else { s.high };
    let finite = |x: Option<f64>| x.filter(|v| !v.is_nan());
    match (finite(a.mean), finite(b.mean)) {
        (Some(x), Some(y)) => by(x, y).then_with(|| match (finite(pess(a)), finite(pess(b))) {
            (Some(x), Some(y)) => by(x, y),
            _ => std::cmp::Ordering::Equal,
        }),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Every configuration among `points` by its worst case across `axes`,
/// best first (ties by interval, then by `label`). `stats` gives a point's
/// statistics of the ranking metric.
pub fn worst_case(
    header: &Header,
    axes: &FaultAxes,
    points: &[usize],
    higher: bool,
    stats: impl Fn(usize) -> MetricStats,
    label: impl Fn(usize) -> String,
) -> Vec<WorstRow> {
    let config = |p: usize| -> Vec<String> {
        (0..header.params.len())
            .filter(|k| !axes.keys.contains(k))
            .map(|k| header.points[p][k].clone())
            .collect()
    };
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for &p in points {
        let c = config(p);
        match groups.iter_mut().find(|(g, _)| *g == c) {
            Some((_, ps)) => ps.push(p),
            None => groups.push((c, vec![p])),
        }
    }
    let mut rows: Vec<WorstRow> = groups
        .into_iter()
        .filter_map(|(_, ps)| {
            let per_scenario: Vec<Option<(usize, MetricStats)>> = axes
                .scenarios
                .iter()
                .map(|s| {
                    ps.iter()
                        .copied()
                        .find(|&p| {
                            axes.keys
                                .iter()
                                .zip(s)
                                .all(|(&k, v)| header.points[p][k] == *v)
                        })
                        .map(|p| (p, stats(p)))
                })
                .collect();
            // The worst is the last in best-first order; a scenario with no
            // value makes the configuration's worst case unknown.
            let (worst_scenario, (worst_point, worst)) = per_scenario
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.map(|x| (i, x)))
                .max_by(|a, b| better_first(&a.1.1, &b.1.1, higher).then(b.0.cmp(&a.0)))?;
            Some(WorstRow {
                point: ps[0],
                worst_point,
                worst_scenario,
                worst,
                per_scenario,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        better_first(&a.worst, &b.worst, higher).then_with(|| label(a.point).cmp(&label(b.point)))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::journal::test_header;
    use crate::sweep::output::{point_stats, sort};

    /// The streamed writer keeps only the [`COSTS`] per point, and the
    /// worst-case table reads the [`DB_COSTS`] from them.
    #[test]
    fn database_costs_are_among_the_costs_kept_per_point() {
        for c in DB_COSTS {
            assert!(COSTS.contains(&c), "{c} is not in COSTS");
        }
    }

    /// Two configurations × two fault kinds, three replications each.
    fn sweep() -> (Header, Vec<Record>) {
        let mut h = test_header("x", ["1", "2"], &["windows.fault.success_ratio"]);
        h.params = vec!["variant".into(), "fault.0.kind".into()];
        h.points = [
            ["a", "frozen"],
            ["a", "crash"],
            ["b", "frozen"],
            ["b", "crash"],
        ]
        .iter()
        .map(|p| p.iter().map(|s| s.to_string()).collect())
        .collect();
        h.replications = 3;
        // a: perfect on a crash, half on a frozen node; b: 0.9 and 0.95.
        let means = [0.5, 1.0, 0.9, 0.95];
        let mut records = Vec::new();
        for (p, m) in means.iter().enumerate() {
            for r in 0..3u32 {
                let v = m - 0.01 * f64::from(r) * f64::from(u8::from(*m < 1.0));
                records.push(Record {
                    point: p,
                    replication: r,
                    seed: u64::from(r),
                    values: vec![
                        ("windows.fault.success_ratio".into(), Some(v.to_string())),
                        ("windows.fault.offered".into(), Some("1000".into())),
                    ],
                });
            }
        }
        sort(&mut records);
        (h, records)
    }

    #[test]
    fn configurations_rank_by_their_worst_fault_kind() {
        let (h, records) = sweep();
        let axes = FaultAxes::of(&h, &[]).unwrap();
        assert_eq!(axes.keys, [1]);
        assert_eq!(axes.scenarios, [["frozen"], ["crash"]]);
        let stats = |p| point_metric(&records, p, "windows.fault.success_ratio");
        let rows = worst_case(&h, &axes, &[0, 1, 2, 3], true, stats, |p| {
            h.points[p][0].clone()
        });
        // By mean over every point, a's crash (1.0) would rank first; by its
        // worst case a is last, under the frozen node.
        assert_eq!(rows.len(), 2);
        assert_eq!(h.points[rows[0].point][0], "b");
        assert_eq!((rows[0].worst_point, rows[0].worst_scenario), (2, 0));
        assert_eq!(rows[0].worst_under(&axes), "frozen");
        // A configuration equal under every fault names none.
        let tie = WorstRow {
            per_scenario: vec![Some((2, rows[0].worst)), Some((3, rows[0].worst))],
            ..rows[0].clone()
        };
        assert_eq!(tie.worst_under(&axes), "all equal");
        assert_eq!(h.points[rows[1].point][0], "a");
        assert_eq!(rows[1].worst.mean, stats(0).mean);
        assert_eq!(rows[1].per_scenario[1].map(|x| x.0), Some(1));
        // ranking.md: the worst-case table first, one table per fault kind,
        // labels and percentages in the metric's one format, no interval
        // below zero or above one.
        let ps = point_stats(&h, &records);
        let md = markdown(&h, &rows_of(&h, &ps, &records), &records);
        assert!(md.contains("## Worst case across fault kinds"), "{md}");
        assert!(md.contains("## fault kind: frozen"), "{md}");
        assert!(md.contains("| 1 | b | 89.00 % ["), "{md}");
        assert!(md.contains("logit-t"), "{md}");
        assert!(!md.contains("-0.") && !md.contains("100.01"), "{md}");
        assert!(md.contains("success in the fault window (%) = windows.fault.success_ratio"));
    }

    fn rows_of(h: &Header, ps: &[PointStats], records: &[Record]) -> Vec<Row> {
        rows(h, ps, records)
    }
}

#[cfg(test)]
mod md_tests {
    #[test]
    fn cells_cannot_split_a_row() {
        assert_eq!(super::md_cell("a|b\nc\r\td"), "a\\|b c  d");
        assert_eq!(super::md_cell("client.op_timeout"), "client.op_timeout");
    }
}
