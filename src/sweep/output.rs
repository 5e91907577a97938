//! The files a sweep leaves, built from the journal's header and records
//! only (so a sweep, a resumed sweep and a merge of shards write the same
//! bytes), and the table printed at the end.
//!
//! `results.csv`, one row per point:
//! `point`, `param.<key>` per varied key, then per metric
//! `<metric>.mean`, `<metric>.ci95_low`, `<metric>.ci95_high`, then `n`.
//!
//! `replications.csv`, one row per run: `point`, `replication`, `seed`,
//! `param.<key>` per varied key, then every numeric summary field by dotted
//! path (`simulated_s`, `events`, `requests.offered`, …, `nodes.3.utilization`).
//!
//! Floats are written in their shortest round-trip spelling ([`fmt_f64`]);
//! a missing value is an empty cell.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::SweepError;
use super::journal::{self, Header};
use super::record::Record;
use super::stats::{MetricStats, metric_stats};
use crate::output::flat::fmt_f64;
use crate::output::{Metric, SweepDataFile, write_atomic};

/// One point's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct PointStats {
    /// Point index.
    pub point: usize,
    /// Replications recorded.
    pub n: usize,
    /// One per metric of the header, in its order.
    pub metrics: Vec<MetricStats>,
}

/// Sorts records by (point, replication).
pub fn sort(records: &mut [Record]) {
    records.sort_by_key(|r| (r.point, r.replication));
}

/// Statistics of every point that has records (records sorted).
pub fn point_stats(header: &Header, records: &[Record]) -> Vec<PointStats> {
    let mut by_point: BTreeMap<usize, Vec<&Record>> = BTreeMap::new();
    for r in records {
        by_point.entry(r.point).or_default().push(r);
    }
    by_point
        .into_iter()
        .map(|(point, runs)| PointStats {
            point,
            n: runs.len(),
            metrics: header
                .metrics
                .iter()
                .map(|m| metric_stats(m, runs.iter().copied()))
                .collect(),
        })
        .collect()
}

fn cell(x: Option<f64>) -> String {
    x.and_then(fmt_f64).unwrap_or_default()
}

fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// The text of `results.csv`.
pub fn results_csv(header: &Header, stats: &[PointStats]) -> Vec<u8> {
    let mut head = vec!["point".to_string()];
    head.extend(header.params.iter().map(|p| format!("param.{p}")));
    for m in &header.metrics {
        for s in ["mean", "ci95_low", "ci95_high"] {
            head.push(format!("{m}.{s}"));
        }
    }
    head.push("n".into());
    let rows = stats.iter().map(|s| {
        let mut row = vec![s.point.to_string()];
        row.extend(header.points[s.point].iter().cloned());
        for m in &s.metrics {
            row.extend([cell(m.mean), cell(m.low), cell(m.high)]);
        }
        row.push(s.n.to_string());
        row
    });
    csv_bytes(std::iter::once(head).chain(rows))
}

/// The text of `replications.csv` (records sorted). Its summary columns are
/// the fields in summary order; a field only some runs have (a model with
/// more nodes at some points) comes after the fields seen before it.
pub fn replications_csv(header: &Header, records: &[Record]) -> Vec<u8> {
    let mut fields: Vec<&str> = Vec::new();
    let mut known = std::collections::HashSet::new();
    for r in records {
        for (k, _) in &r.values {
            if known.insert(k.as_str()) {
                fields.push(k);
            }
        }
    }
    let mut head = vec!["point".into(), "replication".into(), "seed".into()];
    head.extend(header.params.iter().map(|p| format!("param.{p}")));
    head.extend(fields.iter().map(|f| f.to_string()));
    let rows = records.iter().map(|r| {
        let mut row = vec![
            r.point.to_string(),
            r.replication.to_string(),
            r.seed.to_string(),
        ];
        row.extend(header.points[r.point].iter().cloned());
        let values: BTreeMap<&str, &Option<String>> =
            r.values.iter().map(|(k, v)| (k.as_str(), v)).collect();
        row.extend(fields.iter().map(|f| {
            values
                .get(f)
                .and_then(|v| v.as_deref())
                .unwrap_or_default()
                .to_string()
        }));
        row
    });
    csv_bytes(std::iter::once(head).chain(rows))
}

/// Writes the final files of a sweep (or of a shard, or of a merge) into
/// `dir`: every [`SweepDataFile`], the journal rewritten in (point,
/// replication) order. Each is written to a temporary file and renamed.
/// Returns the points' statistics.
pub fn write_final(
    dir: &Path,
    header: &Header,
    records: &mut [Record],
    experiment_copy: &str,
) -> Result<Vec<PointStats>, SweepError> {
    sort(records);
    let stats = point_stats(header, records);
    let ranked = super::ranking::rows(header, &stats, records);
    for &file in SweepDataFile::ALL {
        let bytes = match file {
            SweepDataFile::Experiment => experiment_copy.as_bytes().to_vec(),
            SweepDataFile::Results => results_csv(header, &stats),
            SweepDataFile::Replications => replications_csv(header, records),
            SweepDataFile::RankingCsv => super::ranking::csv(header, &ranked),
            SweepDataFile::RankingMd => {
                super::ranking::markdown(header, &ranked, records).into_bytes()
            }
            SweepDataFile::Journal => journal::render(header, records).into_bytes(),
        };
        let path = file.path(dir);
        write_atomic(&path, &bytes).map_err(|source| SweepError::Io { path, source })?;
    }
    Ok(stats)
}

/// Points in rank order by metric `m` (index into the header's metrics):
/// best first, missing values last; equal means by their interval (the
/// better pessimistic end first), then by the point's values as text.
pub fn ranked<'s>(header: &Header, stats: &'s [PointStats], m: usize) -> Vec<&'s PointStats> {
    let higher = Metric::of(&header.metrics[m]).direction.higher_is_better();
    let mut v: Vec<&PointStats> = stats.iter().collect();
    v.sort_by(|a, b| {
        super::ranking::better_first(&a.metrics[m], &b.metrics[m], higher)
            .then_with(|| header.points[a.point].cmp(&header.points[b.point]))
            .then(a.point.cmp(&b.point))
    });
    v
}

/// Short column names for the varied keys: the last part of each key
/// (`op_timeout`), with the part before it when the last part says little
/// alone (`bulkhead.enabled`, `slow.factor`, `fault.kind`) or two keys end
/// alike; array indices are skipped.
fn short_names(params: &[String]) -> Vec<String> {
    const VAGUE: &[&str] = &[
        "enabled", "kind", "factor", "mean", "value", "count", "size", "dist", "start", "duration",
        "node", "loss", "queue", "threads", "deadline",
    ];
    let words = |k: &str| -> Vec<String> {
        k.split('.')
            .filter(|s| s.parse::<usize>().is_err())
            .map(str::to_string)
            .collect()
    };
    let last = |k: &str| words(k).last().cloned().unwrap_or_else(|| k.to_string());
    let two = |k: &str| {
        let w = words(k);
        match w.len() {
            0 => k.to_string(),
            1 => w[0].clone(),
            n => format!("{}.{}", w[n - 2], w[n - 1]),
        }
    };
    params
        .iter()
        .map(|k| {
            let l = last(k);
            let clash = params.iter().filter(|o| last(o) == l).count() > 1;
            if clash || VAGUE.contains(&l.as_str()) {
                let t = two(k);
                if params.iter().filter(|o| two(o) == t).count() > 1 {
                    k.clone()
                } else {
                    t
                }
            } else {
                l
            }
        })
        .collect()
}

/// The table printed after a sweep: the best and worst points (all of them
/// when there are at most `2 × show`) by the ranking metric, with its 95 %
/// interval, and the means of the other metrics.
pub fn table(header: &Header, stats: &[PointStats], show: usize) -> String {
    let Some(m) = header.metrics.iter().position(|x| *x == header.rank_by) else {
        return String::new();
    };
    let order = ranked(header, stats, m);
    let mut head: Vec<String> = vec!["rank".into(), "point".into()];
    head.extend(short_names(&header.params));
    head.push(format!("{} [95% CI]", header.rank_by));
    let others: Vec<usize> = (0..header.metrics.len()).filter(|&i| i != m).collect();
    head.extend(others.iter().map(|&i| header.metrics[i].clone()));
    let fmt = |i: usize, x: f64| Metric::of(&header.metrics[i]).format.text(x);
    let row = |rank: usize, s: &PointStats| -> Vec<String> {
        let mut r = vec![(rank + 1).to_string(), s.point.to_string()];
        r.extend(header.points[s.point].iter().cloned());
        r.push(super::ranking::with_interval(
            &header.rank_by,
            &s.metrics[m],
        ));
        r.extend(
            others
                .iter()
                .map(|&i| s.metrics[i].mean.map_or("n/a".into(), |x| fmt(i, x))),
        );
        r
    };
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let dir = Metric::of(&header.rank_by).direction.describe();
    if order.len() <= 2 * show {
        sections.push((
            format!(
                "{} point(s) ranked by {} ({dir}), mean over replications:",
                order.len(),
                header.rank_by
            ),
            order.iter().enumerate().map(|(i, s)| row(i, s)).collect(),
        ));
    } else {
        sections.push((
            format!(
                "best {show} of {} points by {} ({dir}), mean over replications:",
                order.len(),
                header.rank_by
            ),
            order[..show]
                .iter()
                .enumerate()
                .map(|(i, s)| row(i, s))
                .collect(),
        ));
        let from = order.len() - show;
        sections.push((
            format!("worst {show}:"),
            order[from..]
                .iter()
                .enumerate()
                .map(|(i, s)| row(from + i, s))
                .collect(),
        ));
    }
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for (_, rows) in &sections {
        for r in rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let fmt_row = |r: &[String]| -> String {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < 2 {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        format!("  {}", cells.join("  ").trim_end())
    };
    let mut out = worst_case_lines(header, stats, m, show);
    for (title, rows) in &sections {
        out.push_str(title);
        out.push('\n');
        out.push_str(&fmt_row(&head));
        out.push('\n');
        for r in rows {
            out.push_str(&fmt_row(r));
            out.push('\n');
        }
    }
    out
}

/// When the sweep varies a fault's kind: every configuration's worst case
/// across the fault kinds (the best and worst `show` when there are more
/// than `2 × show`), one per line.
fn worst_case_lines(header: &Header, stats: &[PointStats], m: usize, show: usize) -> String {
    use super::ranking::{FaultAxes, with_interval, worst_case};
    let Some(axes) = FaultAxes::of(header, &[]) else {
        return String::new();
    };
    let metric = &header.metrics[m];
    let higher = Metric::of(metric).direction.higher_is_better();
    let label = |p: usize| {
        crate::output::names::config_label(&header.params, &header.points[p], |k| {
            !axes.keys.contains(&k)
        })
    };
    let points: Vec<usize> = stats.iter().map(|s| s.point).collect();
    let of = |p: usize| {
        stats
            .iter()
            .find(|s| s.point == p)
            .map(|s| s.metrics[m])
            .expect("a point with statistics")
    };
    let rows = worst_case(header, &axes, &points, higher, of, label);
    let kinds: Vec<String> = (0..axes.scenarios.len()).map(|s| axes.name(s)).collect();
    let mut out = format!(
        "{} configuration(s) by their worst case across {} ({}):\n",
        rows.len(),
        kinds.join(", "),
        Metric::of(metric).direction.describe()
    );
    let width = rows
        .iter()
        .map(|r| label(r.point).chars().count())
        .max()
        .unwrap_or(0);
    let line = |i: usize, r: &super::ranking::WorstRow| {
        format!(
            "  {:>3}  {:<width$}  {}  (under {})\n",
            i + 1,
            label(r.point),
            with_interval(metric, &r.worst),
            r.worst_under(&axes)
        )
    };
    if rows.len() <= 2 * show {
        for (i, r) in rows.iter().enumerate() {
            out.push_str(&line(i, r));
        }
    } else {
        for (i, r) in rows[..show].iter().enumerate() {
            out.push_str(&line(i, r));
        }
        out.push_str(&format!("  … {} more …\n", rows.len() - 2 * show));
        let from = rows.len() - show;
        for (i, r) in rows[from..].iter().enumerate() {
            out.push_str(&line(from + i, r));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::journal::test_header;

    fn header() -> Header {
        test_header(
            "client.op_timeout",
            ["100ms", "2,5s"],
            &["windows.fault.success_ratio", "over_slo"],
        )
    }

    fn rec(point: usize, replication: u32, ratio: &str, over: Option<&str>) -> Record {
        Record {
            point,
            replication,
            seed: 10 + replication as u64,
            values: vec![
                ("windows.fault.success_ratio".into(), Some(ratio.into())),
                ("over_slo".into(), over.map(str::to_string)),
            ],
        }
    }

    #[test]
    fn csv_columns_and_cells() {
        let h = header();
        let mut recs = vec![
            rec(1, 1, "0.5", Some("3")),
            rec(0, 0, "1", Some("0")),
            rec(1, 0, "0.25", None),
            rec(0, 1, "1", Some("0")),
        ];
        sort(&mut recs);
        let stats = point_stats(&h, &recs);
        let res = String::from_utf8(results_csv(&h, &stats)).unwrap();
        let mut lines = res.lines();
        assert_eq!(
            lines.next().unwrap(),
            "point,param.client.op_timeout,windows.fault.success_ratio.mean,windows.fault.success_ratio.ci95_low,windows.fault.success_ratio.ci95_high,over_slo.mean,over_slo.ci95_low,over_slo.ci95_high,n"
        );
        assert_eq!(lines.next().unwrap(), "0,100ms,1,1,1,0,0,0,2");
        let l1 = lines.next().unwrap();
        assert!(l1.starts_with("1,\"2,5s\",0.375,"), "{l1}");
        assert!(
            l1.ends_with(",3,3,3,2"),
            "one value: the interval is the value: {l1}"
        );
        let reps = String::from_utf8(replications_csv(&h, &recs)).unwrap();
        assert_eq!(
            reps.lines().next().unwrap(),
            "point,replication,seed,param.client.op_timeout,windows.fault.success_ratio,over_slo"
        );
        assert_eq!(reps.lines().nth(3).unwrap(), "1,0,10,\"2,5s\",0.25,");
        let t = table(&h, &stats, 5);
        assert!(t.contains("higher is better"), "{t}");
        let first = t.lines().nth(2).unwrap();
        assert!(first.contains("100ms"), "best first: {t}");
    }

    #[test]
    fn short_column_names() {
        let p = |v: &[&str]| short_names(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            p(&[
                "client.op_timeout",
                "service.bulkhead.enabled",
                "fault.0.slow.factor"
            ]),
            ["op_timeout", "bulkhead.enabled", "slow.factor"]
        );
        assert_eq!(
            p(&["fault.0.kind", "fault.1.kind"]),
            ["fault.0.kind", "fault.1.kind"]
        );
        assert_eq!(p(&["a.rate", "b.rate"]), ["a.rate", "b.rate"]);
    }
}
