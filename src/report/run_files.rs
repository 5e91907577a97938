//! The files of one run: `timeline.csv`, `summary.json`, `node_events.csv`.

use std::io::{self, Write};
use std::path::Path;

use super::atomic::{AtomicFile, write_atomic};
use crate::engine::time::secs;
use crate::metrics::{Summary, TimelineRow};
use crate::sim::client::NodeEvent;

/// The fixed columns of `timeline.csv`; then four per node `node<i>_queue`,
/// `node<i>_backlog`, `node<i>_state`, `node<i>_active`.
pub const TIMELINE_COLUMNS: &[&str] = &[
    "t_s",
    "end_s",
    "offered",
    "succeeded",
    "succeeded_cache",
    "succeeded_db",
    "late",
    "rejected",
    "timed_out",
    "failed",
    "unfinished",
    "over_slo",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "cache_hit",
    "cache_miss",
    "cache_stored",
    "cache_timeout",
    "cache_unsent_timeout",
    "cache_cancelled",
    "cache_redirected",
    "cache_queue_full",
    "cache_error",
    "busy_threads",
    "exec_queue",
    "frontend_queue",
    "db_in_flight",
    "db_latency_ms",
    "trips",
];

/// Streams timeline rows into `timeline.csv`.
pub struct TimelineWriter {
    out: AtomicFile,
    header_written: bool,
    error: Option<io::Error>,
}

impl TimelineWriter {
    /// Starts `dir/timeline.csv`.
    pub fn create(dir: &Path) -> io::Result<Self> {
        Ok(TimelineWriter {
            out: AtomicFile::create(&dir.join("timeline.csv"))?,
            header_written: false,
            error: None,
        })
    }

    /// Appends one row (errors are kept and reported by [`finish`]).
    ///
    /// [`finish`]: TimelineWriter::finish
    pub fn row(&mut self, row: &TimelineRow) {
        if self.error.is_none()
            && let Err(e) = self.write_row(row)
        {
            self.error = Some(e);
        }
    }

    fn write_row(&mut self, r: &TimelineRow) -> io::Result<()> {
        if !self.header_written {
            let mut header: Vec<String> = TIMELINE_COLUMNS.iter().map(|s| s.to_string()).collect();
            for i in 0..r.nodes.len() {
                for what in ["queue", "backlog", "state", "active"] {
                    header.push(format!("node{i}_{what}"));
                }
            }
            writeln!(self.out, "{}", header.join(","))?;
            self.header_written = true;
        }
        let c = &r.cache;
        let l = &r.latency;
        write!(
            self.out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{}",
            secs(r.start),
            secs(r.end),
            r.offered,
            r.succeeded(),
            r.succeeded_cache,
            r.succeeded_db,
            r.late,
            r.rejected,
            r.timed_out,
            r.failed,
            r.unfinished,
            r.over_slo,
            l.mean,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
            c.hit,
            c.miss,
            c.stored,
            c.timeout,
            c.unsent_timeout,
            c.cancelled,
            c.redirected,
            c.queue_full,
            c.error,
            r.busy_threads,
            r.exec_queue,
            r.frontend_queue,
            r.db_in_flight,
            r.db_latency_ms,
            r.trips,
        )?;
        for n in &r.nodes {
            write!(
                self.out,
                ",{},{},{},{:.3}",
                n.queue, n.client_backlog, n.state, n.active_share
            )?;
        }
        writeln!(self.out)
    }

    /// Commits the file.
    pub fn finish(self) -> io::Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.commit()
    }
}

/// Writes `summary.json`.
pub fn write_summary(dir: &Path, summary: &Summary) -> io::Result<()> {
    let mut json = serde_json::to_string_pretty(summary).map_err(io::Error::other)?;
    json.push('\n');
    write_atomic(&dir.join("summary.json"), json.as_bytes())
}

/// Writes `node_events.csv`: what each client saw of each node, beside the
/// fault schedule (`fault_start` / `fault_end` rows with client `-`).
pub fn write_node_events(
    dir: &Path,
    events: &[NodeEvent],
    faults: &[(f64, f64, String, String)],
) -> io::Result<()> {
    let mut rows: Vec<(f64, String)> = Vec::new();
    for (start, end, node, kind) in faults {
        rows.push((*start, format!("{start:.6},-,{node},fault_start,{kind}")));
        rows.push((*end, format!("{end:.6},-,{node},fault_end,{kind}")));
    }
    for e in events {
        let t = secs(e.time);
        rows.push((
            t,
            format!(
                "{t:.6},{},{},{},{}",
                e.client,
                e.node,
                e.what,
                e.detail.replace(',', ";")
            ),
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = String::from("t_s,client,node,event,detail\n");
    for (_, line) in rows {
        out.push_str(&line);
        out.push('\n');
    }
    write_atomic(&dir.join("node_events.csv"), out.as_bytes())
}

/// Why an output folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The folder exists and holds files.
    #[error(
        "{0} already exists and is not empty; pass --force to overwrite it, or --out to choose another folder"
    )]
    Exists(std::path::PathBuf),
    /// The simulator broke one of its invariants (a bug).
    #[error(transparent)]
    Invariant(#[from] crate::sim::Violation),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// Makes `dir` ready for output: created if missing; an existing folder with
/// files in it is refused unless `force`.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    let io_err = |source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(io_err)?.next().is_some();
        if non_empty && !force {
            return Err(OutputError::Exists(dir.to_path_buf()));
        }
    }
    std::fs::create_dir_all(dir).map_err(io_err)
}
