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

/// The text of `ranking.md`: a Markdown table for a review document.
pub fn markdown(header: &Header, rows: &[Row]) -> String {
    let mut out = format!(
        "# {}: ranked by {}\n\n{} replications per point, seed {} ({} seeds); 95 % confidence intervals (Student t).\n\n",
        md_cell(&header.experiment),
        header.rank_by,
        header.replications,
        header.seed,
        header.seed_mode
    );
    let mut head = vec!["rank".to_string()];
    head.extend(header.params.iter().map(|p| md_cell(p)));
    head.push(format!("{} [95 % CI]", header.rank_by));
    head.extend(COSTS.iter().map(|c| c.to_string()));
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
    for r in rows {
        let mut row = vec![r.rank.to_string()];
        row.extend(header.points[r.point].iter().map(|v| md_cell(v)));
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

#[cfg(test)]
mod md_tests {
    #[test]
    fn cells_cannot_split_a_row() {
        assert_eq!(super::md_cell("a|b\nc\r\td"), "a\\|b c  d");
        assert_eq!(super::md_cell("client.op_timeout"), "client.op_timeout");
    }
}
