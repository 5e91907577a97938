//! The columns of `timeline.csv`: [`TimelineColumn::ALL`] in file order,
//! then [`NodeColumn::ALL`] for each node (`node<i>_queue`, …). Each column
//! declares its name, its unit and the value it takes from a
//! [`TimelineRow`] (which fixes how it is written); [`write_header`] and
//! [`write_row`] write the file from that, and [`TimelineTable`] reads it
//! back, refusing a file without a column a reader asks for.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::ReadError;
use super::files::RunDataFile;
use super::metric::Unit;
use crate::engine::time::secs;
use crate::metrics::{NodeGauge, TimelineRow};

/// A value as written in a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    /// An integer.
    Int(u64),
    /// A float in its shortest round-trip spelling (`{}`).
    Exact(f64),
    /// A float with three decimals (`{:.3}`).
    Fixed3(f64),
}

impl Cell {
    /// The number a reader gets back from the cell's text.
    pub fn read_back(self) -> f64 {
        self.to_string().parse().expect("a cell is a number")
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Exact(v) => write!(f, "{v}"),
            Cell::Fixed3(v) => write!(f, "{v:.3}"),
        }
    }
}

closed_enum! {
    /// The fixed columns of `timeline.csv`, in file order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum TimelineColumn {
        /// Bucket start.
        Start,
        /// Bucket end.
        End,
        /// Requests that arrived (by arrival time).
        Offered,
        /// Requests that succeeded (cache + database).
        Succeeded,
        /// Succeeded without touching the database.
        SucceededCache,
        /// Succeeded through the database.
        SucceededDb,
        /// Done after the SLO.
        Late,
        /// Rejected.
        Rejected,
        /// Answered by a front-end timeout.
        TimedOut,
        /// Failed.
        Failed,
        /// In flight at the end of the run (last bucket only).
        Unfinished,
        /// Answered after the SLO.
        OverSlo,
        /// Mean latency of the requests the service answered.
        MeanMs,
        /// Median latency.
        P50Ms,
        /// 90th percentile latency.
        P90Ms,
        /// 99th percentile latency.
        P99Ms,
        /// 99.9th percentile latency.
        P999Ms,
        /// Maximum latency.
        MaxMs,
        /// Cache gets that found the key.
        CacheHit,
        /// Cache gets that did not.
        CacheMiss,
        /// Sets, touches and deletes acknowledged.
        CacheStored,
        /// Cache ops timed out after being written.
        CacheTimeout,
        /// Cache ops timed out before being written.
        CacheUnsentTimeout,
        /// Cache ops cancelled.
        CacheCancelled,
        /// Cache ops sent to a node other than the key's primary.
        CacheRedirected,
        /// Cache ops refused by a full queue.
        CacheQueueFull,
        /// Other cache errors.
        CacheError,
        /// Busy executor threads, all instances (gauge).
        BusyThreads,
        /// Requests waiting in executor queues (gauge).
        ExecQueue,
        /// Requests waiting in the front end's queue (gauge).
        FrontendQueue,
        /// Database queries running or waiting for a connection (gauge).
        DbInFlight,
        /// Mean database latency (wait + query) of queries that ended.
        DbLatencyMs,
        /// Client connection drops after the continuous-timeout threshold.
        Trips,
    }
}

impl TimelineColumn {
    /// The column's header.
    pub const fn name(self) -> &'static str {
        use TimelineColumn as C;
        match self {
            C::Start => "t_s",
            C::End => "end_s",
            C::Offered => "offered",
            C::Succeeded => "succeeded",
            C::SucceededCache => "succeeded_cache",
            C::SucceededDb => "succeeded_db",
            C::Late => "late",
            C::Rejected => "rejected",
            C::TimedOut => "timed_out",
            C::Failed => "failed",
            C::Unfinished => "unfinished",
            C::OverSlo => "over_slo",
            C::MeanMs => "mean_ms",
            C::P50Ms => "p50_ms",
            C::P90Ms => "p90_ms",
            C::P99Ms => "p99_ms",
            C::P999Ms => "p999_ms",
            C::MaxMs => "max_ms",
            C::CacheHit => "cache_hit",
            C::CacheMiss => "cache_miss",
            C::CacheStored => "cache_stored",
            C::CacheTimeout => "cache_timeout",
            C::CacheUnsentTimeout => "cache_unsent_timeout",
            C::CacheCancelled => "cache_cancelled",
            C::CacheRedirected => "cache_redirected",
            C::CacheQueueFull => "cache_queue_full",
            C::CacheError => "cache_error",
            C::BusyThreads => "busy_threads",
            C::ExecQueue => "exec_queue",
            C::FrontendQueue => "frontend_queue",
            C::DbInFlight => "db_in_flight",
            C::DbLatencyMs => "db_latency_ms",
            C::Trips => "trips",
        }
    }

    /// The column's unit.
    pub const fn unit(self) -> Unit {
        use TimelineColumn as C;
        match self {
            C::Start | C::End => Unit::Seconds,
            C::MeanMs | C::P50Ms | C::P90Ms | C::P99Ms | C::P999Ms | C::MaxMs | C::DbLatencyMs => {
                Unit::Milliseconds
            }
            C::Offered
            | C::Succeeded
            | C::SucceededCache
            | C::SucceededDb
            | C::Late
            | C::Rejected
            | C::TimedOut
            | C::Failed
            | C::Unfinished
            | C::OverSlo
            | C::CacheHit
            | C::CacheMiss
            | C::CacheStored
            | C::CacheTimeout
            | C::CacheUnsentTimeout
            | C::CacheCancelled
            | C::CacheRedirected
            | C::CacheQueueFull
            | C::CacheError
            | C::BusyThreads
            | C::ExecQueue
            | C::FrontendQueue
            | C::DbInFlight
            | C::Trips => Unit::Count,
        }
    }

    /// The cell this column takes from `r`.
    pub fn value(self, r: &TimelineRow) -> Cell {
        use TimelineColumn as C;
        let (c, l) = (&r.cache, &r.latency);
        match self {
            C::Start => Cell::Exact(secs(r.start)),
            C::End => Cell::Exact(secs(r.end)),
            C::Offered => Cell::Int(r.offered),
            C::Succeeded => Cell::Int(r.succeeded()),
            C::SucceededCache => Cell::Int(r.succeeded_cache),
            C::SucceededDb => Cell::Int(r.succeeded_db),
            C::Late => Cell::Int(r.late),
            C::Rejected => Cell::Int(r.rejected),
            C::TimedOut => Cell::Int(r.timed_out),
            C::Failed => Cell::Int(r.failed),
            C::Unfinished => Cell::Int(r.unfinished),
            C::OverSlo => Cell::Int(r.over_slo),
            C::MeanMs => Cell::Fixed3(l.mean),
            C::P50Ms => Cell::Fixed3(l.p50),
            C::P90Ms => Cell::Fixed3(l.p90),
            C::P99Ms => Cell::Fixed3(l.p99),
            C::P999Ms => Cell::Fixed3(l.p999),
            C::MaxMs => Cell::Fixed3(l.max),
            C::CacheHit => Cell::Int(c.hit),
            C::CacheMiss => Cell::Int(c.miss),
            C::CacheStored => Cell::Int(c.stored),
            C::CacheTimeout => Cell::Int(c.timeout),
            C::CacheUnsentTimeout => Cell::Int(c.unsent_timeout),
            C::CacheCancelled => Cell::Int(c.cancelled),
            C::CacheRedirected => Cell::Int(c.redirected),
            C::CacheQueueFull => Cell::Int(c.queue_full),
            C::CacheError => Cell::Int(c.error),
            C::BusyThreads => Cell::Int(r.busy_threads),
            C::ExecQueue => Cell::Int(r.exec_queue),
            C::FrontendQueue => Cell::Int(r.frontend_queue),
            C::DbInFlight => Cell::Int(r.db_in_flight),
            C::DbLatencyMs => Cell::Fixed3(r.db_latency_ms),
            C::Trips => Cell::Int(r.trips),
        }
    }
}

closed_enum! {
    /// The columns written for each node `i`, after the fixed ones.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum NodeColumn {
        /// `node<i>_queue`: requests at the node, queued or in service.
        Queue,
        /// `node<i>_backlog`: requests held for it in clients.
        Backlog,
        /// `node<i>_state`: 0 up, 1 frozen, 2 down, 3 host down, 4 slow,
        /// 5 partitioned, 6 lossy, 7 delayed, 8 erroring.
        State,
        /// `node<i>_active`: share of clients that see it active.
        Active,
    }
}

impl NodeColumn {
    /// The part after `node<i>_`.
    pub const fn suffix(self) -> &'static str {
        match self {
            NodeColumn::Queue => "queue",
            NodeColumn::Backlog => "backlog",
            NodeColumn::State => "state",
            NodeColumn::Active => "active",
        }
    }

    /// The column's header for node `node`.
    pub fn name(self, node: usize) -> String {
        format!("node{node}_{}", self.suffix())
    }

    /// The column's unit.
    pub const fn unit(self) -> Unit {
        match self {
            NodeColumn::Queue | NodeColumn::Backlog => Unit::Count,
            NodeColumn::State => Unit::Code,
            NodeColumn::Active => Unit::Share,
        }
    }

    /// The cell this column takes from a node's gauge.
    pub fn value(self, n: &NodeGauge) -> Cell {
        match self {
            NodeColumn::Queue => Cell::Int(n.queue),
            NodeColumn::Backlog => Cell::Int(n.client_backlog),
            NodeColumn::State => Cell::Int(n.state.into()),
            NodeColumn::Active => Cell::Fixed3(n.active_share),
        }
    }
}

/// The header line of a timeline with `nodes` nodes (no newline).
pub fn header(nodes: usize) -> String {
    let mut names: Vec<String> = TimelineColumn::ALL
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    for i in 0..nodes {
        names.extend(NodeColumn::ALL.iter().map(|c| c.name(i)));
    }
    names.join(",")
}

/// Writes the header line.
pub fn write_header(out: &mut impl Write, nodes: usize) -> io::Result<()> {
    writeln!(out, "{}", header(nodes))
}

/// Writes one row.
pub fn write_row(out: &mut impl Write, r: &TimelineRow) -> io::Result<()> {
    for (i, c) in TimelineColumn::ALL.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{}", c.value(r))?;
    }
    for n in &r.nodes {
        for c in NodeColumn::ALL {
            write!(out, ",{}", c.value(n))?;
        }
    }
    writeln!(out)
}

/// Largest `timeline.csv` [`TimelineTable::read`] accepts (1 GiB: about
/// three million buckets of a 100-node cluster).
pub const MAX_BYTES: u64 = 1 << 30;

/// A timeline read back from `timeline.csv`: column name → values.
pub struct TimelineTable {
    path: PathBuf,
    columns: BTreeMap<String, Vec<f64>>,
    rows: usize,
}

impl TimelineTable {
    /// Reads `dir/timeline.csv`: a regular file of at most [`MAX_BYTES`],
    /// every cell a finite number, the bucket starts (`t_s`) in increasing
    /// order. A problem is named with its line and column.
    pub fn read(dir: &Path) -> Result<Self, ReadError> {
        let path = RunDataFile::Timeline.path(dir);
        let input = |e: &dyn ToString| ReadError::invalid(&path, e.to_string());
        let meta = std::fs::metadata(&path).map_err(|e| input(&e))?;
        if !meta.is_file() {
            return Err(input(&"not a regular file (a device, a pipe or a folder)"));
        }
        if meta.len() > MAX_BYTES {
            return Err(input(&format!(
                "{} bytes, over the {MAX_BYTES} a timeline may have",
                meta.len()
            )));
        }
        let mut r = csv::Reader::from_path(&path).map_err(|e| input(&e))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| input(&e))?
            .iter()
            .map(String::from)
            .collect();
        let mut columns: BTreeMap<String, Vec<f64>> =
            headers.iter().map(|h| (h.clone(), Vec::new())).collect();
        let mut rows = 0;
        let mut last_start = f64::NEG_INFINITY;
        for rec in r.records() {
            let rec = rec.map_err(|e| input(&e))?;
            let line = rec.position().map_or(0, |p| p.line());
            for (h, v) in headers.iter().zip(rec.iter()) {
                let shown: String = v.chars().take(40).collect();
                let x = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        input(&format!(
                            "line {line}, column {h}: `{shown}` is not a finite number"
                        ))
                    })?;
                if h == TimelineColumn::Start.name() {
                    if x <= last_start {
                        return Err(input(&format!(
                            "line {line}, column {h}: the bucket starts at {x} s, not after the previous one ({last_start} s)"
                        )));
                    }
                    last_start = x;
                }
                columns.get_mut(h).expect("header").push(x);
            }
            rows += 1;
        }
        Ok(TimelineTable {
            path,
            columns,
            rows,
        })
    }

    /// Number of rows (buckets).
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn named(&self, name: &str) -> Result<&[f64], ReadError> {
        self.columns
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| ReadError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
            })
    }

    /// A fixed column, or an error naming the file and the column when the
    /// file has none of that name.
    pub fn col(&self, column: TimelineColumn) -> Result<&[f64], ReadError> {
        self.named(column.name())
    }

    /// Node `node`'s column, or an error naming the file and the column.
    pub fn node_col(&self, node: usize, column: NodeColumn) -> Result<&[f64], ReadError> {
        self.named(&column.name(node))
    }

    /// Number of nodes (from the `node<i>_queue` columns).
    pub fn nodes(&self) -> usize {
        (0..)
            .take_while(|&i| self.columns.contains_key(&NodeColumn::Queue.name(i)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::NodeGauge;

    /// A row whose every column holds a different value, so a column read
    /// from the wrong place cannot pass.
    fn distinct_row() -> TimelineRow {
        let mut r = TimelineRow {
            start: 2_000_000_000,
            end: 3_500_000_000,
            offered: 101,
            succeeded_cache: 102,
            succeeded_db: 103,
            late: 104,
            rejected: 105,
            timed_out: 106,
            failed: 107,
            unfinished: 108,
            over_slo: 109,
            busy_threads: 110,
            exec_queue: 111,
            frontend_queue: 112,
            db_in_flight: 113,
            db_latency_ms: 114.125,
            trips: 115,
            ..Default::default()
        };
        r.latency.mean = 1.5;
        r.latency.p50 = 2.25;
        r.latency.p90 = 3.125;
        r.latency.p99 = 4.0625;
        r.latency.p999 = 5.5;
        r.latency.max = 6.75;
        let c = &mut r.cache;
        (c.hit, c.miss, c.stored, c.timeout, c.unsent_timeout) = (401, 402, 403, 404, 405);
        (c.cancelled, c.redirected, c.queue_full, c.error) = (406, 407, 408, 409);
        r.nodes = (0..3)
            .map(|i| NodeGauge {
                queue: 300 + i,
                client_backlog: 310 + i,
                state: i as u8 + 1,
                active_share: 0.25 * i as f64,
            })
            .collect();
        r
    }

    #[test]
    fn every_column_round_trips_from_writer_to_reader() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [distinct_row(), TimelineRow::default()];
        let mut text = Vec::new();
        write_header(&mut text, 3).unwrap();
        let mut second = rows[1].clone();
        second.nodes = rows[0].nodes.clone();
        // Buckets follow each other: the reader refuses them out of order.
        second.start = rows[0].start * 2 + 1;
        for r in [&rows[0], &second] {
            write_row(&mut text, r).unwrap();
        }
        std::fs::write(RunDataFile::Timeline.path(dir.path()), &text).unwrap();
        let t = TimelineTable::read(dir.path()).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.nodes(), 3);
        let mut values = std::collections::BTreeSet::new();
        for &c in TimelineColumn::ALL {
            let col = t.col(c).unwrap();
            assert_eq!(col[0], c.value(&rows[0]).read_back(), "{}", c.name());
            assert_eq!(col[1], c.value(&second).read_back(), "{}", c.name());
            values.insert(col[0].to_bits());
        }
        // The row really is distinct: no two columns share a value.
        assert_eq!(values.len(), TimelineColumn::ALL.len());
        for (i, n) in rows[0].nodes.iter().enumerate() {
            for &c in NodeColumn::ALL {
                let col = t.node_col(i, c).unwrap();
                assert_eq!(col[0], c.value(n).read_back(), "{}", c.name(i));
            }
        }
        // Each column has a unit, and the header lists every column once.
        let head = header(3);
        let names: Vec<&str> = head.split(',').collect();
        assert_eq!(
            names.len(),
            TimelineColumn::ALL.len() + 3 * NodeColumn::ALL.len()
        );
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn a_missing_column_is_an_error_naming_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            RunDataFile::Timeline.path(dir.path()),
            "t_s,end_s,offered\n0,1,5\n",
        )
        .unwrap();
        let t = TimelineTable::read(dir.path()).unwrap();
        assert_eq!(t.col(TimelineColumn::Offered).unwrap(), [5.0]);
        let e = t.col(TimelineColumn::P99Ms).unwrap_err().to_string();
        assert!(e.contains("timeline.csv") && e.contains("`p99_ms`"), "{e}");
        let e = t.node_col(0, NodeColumn::Active).unwrap_err().to_string();
        assert!(
            e.contains("timeline.csv") && e.contains("`node0_active`"),
            "{e}"
        );
        assert_eq!(t.nodes(), 0);
    }
}
