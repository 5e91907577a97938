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
    let replications = match &header.sequential {
        None => format!("{} replications per point", header.replications),
        Some(s) => format!(
            "{} to {} replications per point (each point stopped once the interval of {} was within {})",
            s.min, header.replications, header.rank_by, s.until
        ),
    };
    let mut out = format!(
        "# {}: ranked by {}\n\n{replications}, seed {} ({} seeds); 95 % confidence intervals (Student t).\n\n",
        header.experiment, header.rank_by, header.seed, header.seed_mode
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
