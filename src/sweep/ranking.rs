//! The ranked table of a sweep (`ranking.csv`, `ranking.md`): every point by
//! the experiment's `rank_by` metric, best first, with its 95 % interval,
//! beside what the configuration costs: the database's peak in flight (a miss
//! storm's price) and the steady-state p99 (what the change costs when
//! nothing is broken). Feeds the ranking plot.

use super::journal::Header;
use super::output::{PointStats, ranked};
use super::record::Record;
use super::stats::{MetricStats, summarize};
use crate::output::Metric;
use crate::output::flat::fmt_f64;

/// The costs shown beside the ranking metric.
pub const COSTS: [&str; 2] = ["db.peak_in_flight", "windows.steady.latency_ms.p99"];

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
            costs: COSTS
                .iter()
                .map(|c| {
                    let v: Vec<f64> = records
                        .iter()
                        .filter(|r| r.point == s.point)
                        .filter_map(|r| r.number(c))
                        .collect();
                    summarize(&v)
                })
                .collect(),
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
        row.extend(header.points[r.point].iter().cloned());
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

/// The text of `ranking.md`: a Markdown table for a review document.
pub fn markdown(header: &Header, rows: &[Row]) -> String {
    let mut out = format!(
        "# {}: ranked by {}\n\n{} replications per point, seed {} ({} seeds); 95 % confidence intervals (Student t).\n\n",
        header.experiment, header.rank_by, header.replications, header.seed, header.seed_mode
    );
    let mut head = vec!["rank".to_string()];
    head.extend(header.params.iter().cloned());
    head.push(format!("{} [95 % CI]", header.rank_by));
    head.extend(COSTS.iter().map(|c| c.to_string()));
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
    for r in rows {
        let mut row = vec![r.rank.to_string()];
        row.extend(header.points[r.point].iter().cloned());
        row.push(format!(
            "{} [{}, {}]",
            show(&header.rank_by, r.metric.mean),
            show(&header.rank_by, r.metric.low),
            show(&header.rank_by, r.metric.high)
        ));
        row.extend(COSTS.iter().zip(&r.costs).map(|(c, s)| show(c, s.mean)));
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
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
