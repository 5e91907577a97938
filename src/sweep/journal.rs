//! `journal.jsonl`: the sweep's memory. The first line is a header naming
//! the experiment (with its fingerprint), then one line per finished run,
//! appended, flushed and synced as the run completes, so a crash, a kill -9
//! or a power cut loses at most the runs still in progress. `--resume` reads
//! it back and `merge` joins the journals of shards. When a sweep completes,
//! the journal is rewritten in (point, replication) order (by
//! [`write_final`](super::output::write_final)), so the finished
//! folder does not depend on the order runs completed in.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::SweepError;
use super::options::Shard;
use super::record::Record;
use crate::output::{SweepDataFile, write_atomic};

/// The journal's file name.
pub const JOURNAL: &str = SweepDataFile::Journal.name();
/// The value of the header's `format`.
pub const FORMAT: &str = "cachestorm-sweep-journal";
/// The header's `version`.
pub const VERSION: u32 = 1;

/// The first line of a journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Version and build of cachestorm that wrote it
    /// ([`crate::VERSION_BUILD`], `0.1.0+<build>`).
    pub cachestorm: String,
    /// MD5 (hex) of the experiment text, the model text, the resolved points,
    /// the seed mode and seed, and the cachestorm version and build: two journals with
    /// the same fingerprint hold runs of the same sweep.
    pub fingerprint: String,
    /// Experiment name.
    pub experiment: String,
    /// The experiment seed in force (after `--seed`).
    pub seed: u64,
    /// `common` or `independent`.
    pub seed_mode: String,
    /// Replications per point (the most, with sequential stopping).
    pub replications: u32,
    /// Sequential stopping, when the experiment asks for it (absent from
    /// the journals of fixed replications, so they read as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<crate::config::experiment::Sequential>,
    /// The varied keys.
    pub params: Vec<String>,
    /// Every point's values (display spelling), by point index.
    pub points: Vec<Vec<String>>,
    /// The reported metrics.
    pub metrics: Vec<String>,
    /// The metric points are ranked by.
    pub rank_by: String,
    /// The shard this journal belongs to (`"2/3"`), or none for a whole sweep.
    pub shard: Option<Shard>,
}

impl Header {
    /// True when `point` is run by this journal's sweep (its shard, if any).
    pub fn owns(&self, point: usize) -> bool {
        self.shard.is_none_or(|s| s.contains(point))
    }

    /// Number of runs this journal is complete with.
    pub fn runs_expected(&self) -> usize {
        (0..self.points.len()).filter(|&p| self.owns(p)).count() * self.replications as usize
    }
}

/// A journal read back.
#[derive(Clone, Debug)]
pub struct Contents {
    /// The header.
    pub header: Header,
    /// The finished runs, in file order.
    pub records: Vec<Record>,
    /// Length in bytes of the complete lines (a run interrupted while its line
    /// was being written leaves a partial last line, which is dropped).
    pub valid_len: u64,
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One line of JSON for a header or a record.
fn line<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string(value).expect("journal lines serialize");
    s.push('\n');
    s
}

/// The whole text of a journal: header, then records in the given order.
pub fn render(header: &Header, records: &[Record]) -> String {
    let mut out = line(header);
    for r in records {
        out.push_str(&line(r));
    }
    out
}

/// Reads `dir/journal.jsonl`, checking every record against the header:
/// a point and replication in range and owned by the shard, no run twice.
pub fn read(dir: &Path) -> Result<Contents, SweepError> {
    let path = dir.join(JOURNAL);
    if !path.exists() {
        return Err(SweepError::Refused(format!(
            "{} has no {JOURNAL}: it is not a sweep folder (or the sweep never started)",
            dir.display()
        )));
    }
    let bytes = std::fs::read(&path).map_err(io_err(&path))?;
    let bad = |line: usize, what: String| {
        SweepError::Refused(format!("{}:{line}: {what}", path.display()))
    };
    // Only lines ending in '\n' are complete.
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let text = std::str::from_utf8(&bytes[..complete])
        .map_err(|e| bad(0, format!("not UTF-8 text: {e}")))?;
    let mut lines = text.lines().enumerate();
    let Some((_, first)) = lines.next() else {
        return Err(bad(1, "the journal has no header line".into()));
    };
    let header: Header = serde_json::from_str(first)
        .map_err(|e| bad(1, format!("not a cachestorm sweep journal header ({e})")))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(bad(
            1,
            format!(
                "a journal of format {} version {}; this cachestorm reads {FORMAT} version {VERSION}",
                header.format, header.version
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut records = Vec::new();
    for (i, l) in lines {
        let n = i + 1;
        let r: Record =
            serde_json::from_str(l).map_err(|e| bad(n, format!("not a run record ({e})")))?;
        if r.point >= header.points.len() || r.replication >= header.replications {
            return Err(bad(
                n,
                format!(
                    "point {} replication {} is outside the sweep ({} points × {} replications)",
                    r.point,
                    r.replication,
                    header.points.len(),
                    header.replications
                ),
            ));
        }
        if !header.owns(r.point) {
            return Err(bad(
                n,
                format!("point {} does not belong to this shard", r.point),
            ));
        }
        if !seen.insert((r.point, r.replication)) {
            return Err(bad(
                n,
                format!(
                    "point {} replication {} is recorded twice",
                    r.point, r.replication
                ),
            ));
        }
        records.push(r);
    }
    Ok(Contents {
        header,
        records,
        valid_len: complete as u64,
    })
}

/// A journal open for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Starts a new journal in `dir` with its header (replacing any).
    pub fn create(dir: &Path, header: &Header) -> Result<Journal, SweepError> {
        let path = dir.join(JOURNAL);
        write_atomic(&path, line(header).as_bytes()).map_err(io_err(&path))?;
        sync_dir(dir);
        Journal::append_to(dir, None)
    }

    /// Opens `dir`'s journal for appending, first cutting it to `valid_len`
    /// bytes when given (dropping a partial last line).
    pub fn append_to(dir: &Path, valid_len: Option<u64>) -> Result<Journal, SweepError> {
        let path = dir.join(JOURNAL);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        if let Some(len) = valid_len
            && file.metadata().map_err(io_err(&path))?.len() != len
        {
            file.set_len(len).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
        }
        Ok(Journal { path, file })
    }

    /// Appends one finished run and syncs it to disk.
    pub fn append(&mut self, record: &Record) -> Result<(), SweepError> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Appends finished runs with one write and one sync.
    pub fn append_all(&mut self, records: &[Record]) -> Result<(), SweepError> {
        let text: String = records.iter().map(line).collect();
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(io_err(&self.path))
    }
}

/// Makes a new directory entry durable (best effort: not every platform can
/// open a folder for syncing).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A test sweep's header: two replications of one parameter `param` at two
/// points, measuring `metrics` and ranked by the first.
#[cfg(test)]
pub(crate) fn test_header(param: &str, points: [&str; 2], metrics: &[&str]) -> Header {
    Header {
        format: FORMAT.into(),
        version: VERSION,
        cachestorm: "test".into(),
        fingerprint: "f".into(),
        experiment: "e".into(),
        seed: 1,
        seed_mode: "common".into(),
        replications: 2,
        sequential: None,
        params: vec![param.into()],
        points: points.iter().map(|p| vec![p.to_string()]).collect(),
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        rank_by: metrics[0].into(),
        shard: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        test_header("a", ["1", "2"], &["over_slo"])
    }

    fn rec(point: usize, replication: u32) -> Record {
        Record {
            point,
            replication,
            seed: 7,
            values: vec![("over_slo".into(), Some("3".into())), ("x".into(), None)],
        }
    }

    #[test]
    fn appends_and_reads_back_dropping_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), &header()).unwrap();
        j.append(&rec(1, 0)).unwrap();
        j.append(&rec(0, 1)).unwrap();
        drop(j);
        let full = std::fs::read(dir.path().join(JOURNAL)).unwrap();
        let mut torn = full.clone();
        torn.extend_from_slice(b"{\"point\":0,\"repl");
        std::fs::write(dir.path().join(JOURNAL), &torn).unwrap();
        let c = read(dir.path()).unwrap();
        assert_eq!(c.header, header());
        assert_eq!(c.records, vec![rec(1, 0), rec(0, 1)]);
        assert_eq!(c.valid_len, full.len() as u64);
        let mut j = Journal::append_to(dir.path(), Some(c.valid_len)).unwrap();
        j.append(&rec(0, 0)).unwrap();
        let c = read(dir.path()).unwrap();
        assert_eq!(c.records.len(), 3);
    }

    #[test]
    fn refuses_duplicates_and_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let h = header();
        std::fs::write(
            dir.path().join(JOURNAL),
            render(&h, &[rec(0, 0), rec(0, 0)]),
        )
        .unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("recorded twice"), "{e}");
        std::fs::write(dir.path().join(JOURNAL), render(&h, &[rec(5, 0)])).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("outside the sweep"), "{e}");
        std::fs::write(dir.path().join(JOURNAL), "hello\n").unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a cachestorm sweep journal"), "{e}");
    }
}
