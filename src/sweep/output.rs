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
    let head = replications_head(header, &fields);
    let rows = records.iter().map(|r| replications_row(header, &fields, r));
    csv_bytes(std::iter::once(head).chain(rows))
}

/// The header of `replications.csv`: the run's place, the point's
/// parameters, then `fields`.
fn replications_head<F: AsRef<str>>(header: &Header, fields: &[F]) -> Vec<String> {
    let mut head = vec!["point".into(), "replication".into(), "seed".into()];
    head.extend(header.params.iter().map(|p| format!("param.{p}")));
    head.extend(fields.iter().map(|f| f.as_ref().to_string()));
    head
}

/// One run's row of `replications.csv` under [`replications_head`]; a field
/// the run lacks is empty.
fn replications_row<F: AsRef<str>>(header: &Header, fields: &[F], r: &Record) -> Vec<String> {
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
            .get(f.as_ref())
            .and_then(|v| v.as_deref())
            .unwrap_or_default()
            .to_string()
    }));
    row
}

/// The finished runs of a sweep as they are on disk: the journals they are
/// in (held open, so a journal that is replaced while the final files are
/// written is still read as it was) and where each run is.
pub struct Runs {
    files: Vec<(std::path::PathBuf, std::fs::File)>,
    /// Where each run is (file = index into the journals given).
    pub index: journal::RunIndex,
}

impl Runs {
    /// Opens the journals `paths` (file i of `index` is `paths[i]`).
    pub fn open(
        paths: Vec<std::path::PathBuf>,
        index: journal::RunIndex,
    ) -> Result<Runs, SweepError> {
        let files = paths
            .into_iter()
            .map(|path| match std::fs::File::open(&path) {
                Ok(f) => Ok((path, f)),
                Err(source) => Err(SweepError::Io { path, source }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Runs { files, index })
    }

    /// Hands every run to `f` in (point, replication) order, reading one
    /// record at a time.
    pub fn for_each(
        &self,
        f: &mut dyn FnMut(Record) -> Result<(), SweepError>,
    ) -> Result<(), SweepError> {
        let mut readers = Vec::with_capacity(self.files.len());
        for (path, file) in &self.files {
            let file = file.try_clone().map_err(|source| SweepError::Io {
                path: path.clone(),
                source,
            })?;
            readers.push(std::io::BufReader::with_capacity(64 << 10, file));
        }
        // Where each reader is: runs mostly finish in order, so the next
        // record is often the next line, read without a seek (which would
        // drop the buffer).
        let mut at: Vec<Option<u64>> = vec![None; readers.len()];
        for (p, r, file, offset) in self.index.iter() {
            let path = &self.files[file].0;
            let io = |source| SweepError::Io {
                path: path.clone(),
                source,
            };
            let reader = &mut readers[file];
            if at[file] != Some(offset) {
                std::io::Seek::seek(reader, std::io::SeekFrom::Start(offset)).map_err(io)?;
            }
            let (record, len) = journal::next_record(reader).map_err(io)?;
            at[file] = Some(offset + len);
            if (record.point, record.replication) != (p, r) {
                return Err(SweepError::Internal(format!(
                    "{}: the line at byte {offset} is not point {p} replication {r}: the journal changed while it was read",
                    path.display()
                )));
            }
            f(record)?;
        }
        Ok(())
    }
}

/// The keys a point's statistics read: the metrics, `rank_by`, the
/// ranking's costs, and the request count of each share among them.
fn stat_keys(header: &Header) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let named = header
        .metrics
        .iter()
        .map(String::as_str)
        .chain([header.rank_by.as_str()])
        .chain(super::ranking::COSTS);
    for k in named {
        for k in std::iter::once(k.to_string()).chain(super::stats::count_key(k)) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// What the final files need of every point, gathered while the records
/// stream past in (point, replication) order, holding one point's columns
/// of [`stat_keys`] at a time.
#[derive(Default)]
struct Aggregates {
    stats: Vec<PointStats>,
    /// [`COSTS`](super::ranking::COSTS) of each point of `stats`.
    costs: Vec<Vec<MetricStats>>,
    /// `rank_by` of each point of `stats`.
    rank: Vec<MetricStats>,
    /// The summary fields in first-seen order (the columns of
    /// `replications.csv`).
    fields: Vec<String>,
}

impl Aggregates {
    fn finish_point(
        &mut self,
        header: &Header,
        keys: &[String],
        point: usize,
        n: usize,
        cols: &[Vec<Option<f64>>],
    ) {
        let col = |k: &str| -> &[Option<f64>] {
            let i = keys
                .iter()
                .position(|x| x == k)
                .expect("a key of stat_keys");
            &cols[i]
        };
        let of = |m: &str| {
            let counts = super::stats::count_key(m);
            super::stats::metric_stats_of(m, col(m), counts.as_deref().map(col))
        };
        self.stats.push(PointStats {
            point,
            n,
            metrics: header.metrics.iter().map(|m| of(m)).collect(),
        });
        self.costs
            .push(super::ranking::COSTS.iter().map(|c| of(c)).collect());
        self.rank.push(of(&header.rank_by));
    }

    fn position(&self, point: usize) -> usize {
        self.stats
            .binary_search_by_key(&point, |s| s.point)
            .expect("a point with statistics")
    }
}

/// Reads the runs once, in order, gathering [`Aggregates`].
fn aggregate(header: &Header, runs: &Runs) -> Result<Aggregates, SweepError> {
    let keys = stat_keys(header);
    let mut agg = Aggregates::default();
    let mut known = std::collections::HashSet::new();
    let mut current: Option<(usize, usize)> = None;
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::new(); keys.len()];
    runs.for_each(&mut |r: Record| {
        for (k, _) in &r.values {
            if !known.contains(k.as_str()) {
                known.insert(k.clone());
                agg.fields.push(k.clone());
            }
        }
        match current {
            Some((p, ref mut n)) if p == r.point => *n += 1,
            _ => {
                if let Some((p, n)) = current {
                    agg.finish_point(header, &keys, p, n, &cols);
                    cols.iter_mut().for_each(Vec::clear);
                }
                current = Some((r.point, 1));
            }
        }
        for (col, k) in cols.iter_mut().zip(&keys) {
            col.push(r.number(k));
        }
        Ok(())
    })?;
    if let Some((p, n)) = current {
        agg.finish_point(header, &keys, p, n, &cols);
    }
    Ok(agg)
}

/// Writes the final files of a sweep (or of a shard, or of a merge) into
/// `dir`: every [`SweepDataFile`], the journal rewritten in (point,
/// replication) order, each to a temporary file and renamed. The runs are
/// streamed from the journals twice (once for the statistics and the
/// columns of `replications.csv`, once for its rows and the journal), so
/// memory does not grow with the number of runs beyond [`Runs`]'s index (8
/// bytes a run) and one point's values of the metrics. The bytes are those
/// of [`point_stats`], [`results_csv`], [`replications_csv`] and the
/// ranking over the records sorted. Returns the points' statistics.
pub fn write_final(
    dir: &Path,
    header: &Header,
    runs: &Runs,
    experiment_copy: &str,
) -> Result<Vec<PointStats>, SweepError> {
    use crate::output::AtomicFile;
    use std::io::Write;
    let agg = aggregate(header, runs)?;
    let costs = |p: usize, c: &str| {
        let i = super::ranking::COSTS
            .iter()
            .position(|x| *x == c)
            .expect("one of COSTS");
        agg.costs[agg.position(p)][i]
    };
    let ranked = super::ranking::rows_with(header, &agg.stats, &costs);
    let points: Vec<usize> = agg.stats.iter().map(|s| s.point).collect();
    // The worst-case table reads `rank_by` and the database's costs (a
    // subset of the costs held per point).
    let worst = super::ranking::worst_case_table_with(header, &points, &|p, metric| {
        if metric == header.rank_by {
            agg.rank[agg.position(p)]
        } else {
            costs(p, metric)
        }
    });
    // The two files with a line per run, streamed into their temporaries.
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SweepError::Io { path, source }
    };
    let reps_path = SweepDataFile::Replications.path(dir);
    let journal_path = SweepDataFile::Journal.path(dir);
    let mut reps =
        csv::Writer::from_writer(AtomicFile::create(&reps_path).map_err(io(&reps_path))?);
    let mut jour = AtomicFile::create(&journal_path).map_err(io(&journal_path))?;
    let head = replications_head(header, &agg.fields);
    let csv_err = |e: csv::Error| SweepError::Io {
        path: reps_path.clone(),
        source: e.into(),
    };
    reps.write_record(&head).map_err(csv_err)?;
    jour.write_all(journal::line(header).as_bytes())
        .map_err(io(&journal_path))?;
    runs.for_each(&mut |r: Record| {
        reps.write_record(replications_row(header, &agg.fields, &r))
            .map_err(csv_err)?;
        jour.write_all(journal::line(&r).as_bytes())
            .map_err(io(&journal_path))
    })?;
    let mut reps = Some(reps.into_inner().map_err(|e| SweepError::Io {
        path: reps_path.clone(),
        source: e.into_error(),
    })?);
    let mut jour = Some(jour);
    for &file in SweepDataFile::ALL {
        let path = file.path(dir);
        let bytes = match file {
            SweepDataFile::Experiment => experiment_copy.as_bytes().to_vec(),
            SweepDataFile::Results => results_csv(header, &agg.stats),
            SweepDataFile::RankingCsv => super::ranking::csv(header, &ranked),
            SweepDataFile::RankingMd => {
                super::ranking::markdown_with(header, &ranked, worst.clone()).into_bytes()
            }
            SweepDataFile::Replications => {
                let f = reps.take().expect("written once");
                f.commit().map_err(io(&path))?;
                continue;
            }
            SweepDataFile::Journal => {
                let f = jour.take().expect("written once");
                f.commit().map_err(io(&path))?;
                continue;
            }
        };
        write_atomic(&path, &bytes).map_err(|source| SweepError::Io { path, source })?;
    }
    Ok(agg.stats)
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

    /// The final files streamed from a journal are the bytes the in-memory
    /// functions give for its records sorted: runs in any order, a field
    /// only some runs have (after the fields seen before it), missing
    /// values, shares with their request counts, the ranking's costs.
    #[test]
    fn streamed_final_files_equal_the_in_memory_ones() {
        use crate::sweep::ranking;
        let mut h = header();
        h.replications = 3;
        h.metrics.push("windows.steady.latency_ms.p99".into());
        let mut recs = Vec::new();
        for (i, (p, r)) in [(1, 2), (0, 1), (1, 0), (0, 0), (1, 1), (0, 2)]
            .into_iter()
            .enumerate()
        {
            let x = 0.5 + 0.07 * i as f64;
            let mut values = vec![
                (
                    "windows.fault.offered".to_string(),
                    Some(format!("{}", 100 + 37 * i)),
                ),
                (
                    "windows.fault.success_ratio".to_string(),
                    Some(format!("{x}")),
                ),
                (
                    "over_slo".to_string(),
                    (i != 2).then(|| format!("{}", i * 3)),
                ),
                ("db.peak_in_flight".to_string(), Some(format!("{}", 7 * i))),
            ];
            if p == 1 {
                values.push(("nodes.2.served".into(), Some(format!("{i}"))));
            }
            values.push((
                "windows.steady.latency_ms.p99".into(),
                Some(format!("{}", 1.25 * i as f64)),
            ));
            recs.push(Record {
                point: p,
                replication: r,
                seed: crate::engine::rng::derive(1, u64::from(r)),
                values,
            });
        }
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal::Journal::create(dir.path(), &h).unwrap();
        let mut index = journal::RunIndex::new(&h).unwrap();
        for r in &recs {
            j.append_indexed(std::slice::from_ref(r), &mut index)
                .unwrap();
        }
        drop(j);
        let scanned = journal::scan(dir.path(), &|_, _, _| None, &mut |_, _| {}).unwrap();
        assert_eq!(
            scanned.index.iter().collect::<Vec<_>>(),
            index.iter().collect::<Vec<_>>(),
            "the offsets appended are those read back"
        );
        let runs = Runs::open(vec![dir.path().join(journal::JOURNAL)], index).unwrap();
        let out = tempfile::tempdir().unwrap();
        let stats = write_final(out.path(), &h, &runs, "copy").unwrap();
        sort(&mut recs);
        let want = point_stats(&h, &recs);
        assert_eq!(stats, want);
        let file = |n: &str| std::fs::read(out.path().join(n)).unwrap();
        assert_eq!(file("results.csv"), results_csv(&h, &want));
        let reps = file("replications.csv");
        assert_eq!(reps, replications_csv(&h, &recs));
        let head = String::from_utf8(reps).unwrap();
        assert!(
            head.lines().next().unwrap().ends_with(",nodes.2.served"),
            "a field only later runs have comes last: {head}"
        );
        let ranked = ranking::rows(&h, &want, &recs);
        assert_eq!(file("ranking.csv"), ranking::csv(&h, &ranked));
        assert_eq!(
            file("ranking.md"),
            ranking::markdown(&h, &ranked, &recs).into_bytes()
        );
        assert_eq!(
            file("journal.jsonl"),
            journal::render(&h, &recs).into_bytes()
        );
        assert_eq!(file("experiment.toml"), b"copy");
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
