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
use std::io::{self, BufRead, Read, Write};
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
    /// `common` or `independent`; `map` for a vulnerability map's journal
    /// (`sweep::vmap`: a record is a step, its `replication` the step's
    /// number at its load).
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

    /// Replications per point as printed: "5", or "3 to 5" for a sweep
    /// that stops each point once its interval is tight enough (whose
    /// `replications` is the most a point may run).
    pub fn replications_range(&self) -> String {
        match &self.sequential {
            None => self.replications.to_string(),
            Some(s) => format!("{} to {}", s.min, self.replications),
        }
    }

    /// "up to " before a run count that is a sequential sweep's most.
    pub fn at_most(&self) -> &'static str {
        if self.sequential.is_some() {
            "up to "
        } else {
            ""
        }
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
pub(crate) fn line<T: Serialize>(value: &T) -> String {
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

/// Longest line a journal may have: a record of a run on the largest
/// cluster (65,535 nodes, a dozen fields each) stays well below it.
pub const MAX_LINE: usize = 64 << 20;

/// Reads `dir/journal.jsonl`, checking every record against the header (see
/// [`read_checked`]); the seed of each run is checked when the header says
/// it (common random numbers: replication r runs with `derive(seed, r)`).
pub fn read(dir: &Path) -> Result<Contents, SweepError> {
    read_checked(dir, &common_seed)
}

/// The seed of replication `r` when the header says common random numbers
/// (with independent seeds only the plan knows them): the check of
/// [`read`], `merge` and `plot`.
pub fn common_seed(h: &Header, _point: usize, r: u32) -> Option<u64> {
    (h.seed_mode == "common").then(|| crate::engine::rng::derive(h.seed, u64::from(r)))
}

/// The one journal reader, for `--resume` (which knows every run's seed from
/// its plan), `merge` and `plot`, holding every record in memory (see
/// [`scan`], which `--resume` and `merge` use, for the checks; this one
/// keeps the records it accepts, in file order).
pub fn read_checked(
    dir: &Path,
    seed: &dyn Fn(&Header, usize, u32) -> Option<u64>,
) -> Result<Contents, SweepError> {
    let mut records = Vec::new();
    let s = scan(dir, seed, &mut |_, r| records.push(r))?;
    Ok(Contents {
        header: s.header,
        records,
        valid_len: s.valid_len,
    })
}

/// The most runs a journal's header may describe (points × replications):
/// the limit an experiment is held to, so a journal's [`RunIndex`] stays
/// within 8 MB.
pub const MAX_RUNS: u64 = crate::config::experiment::MAX_RUNS;

/// Where each run of a sweep is on disk: one slot per (point, replication),
/// 8 bytes each (the file and the byte offset of the run's journal line), so
/// a sweep finishes by streaming its records from the journals in (point,
/// replication) order without holding them (about 27 KB a run) in memory.
#[derive(Clone, Debug)]
pub struct RunIndex {
    replications: u32,
    slots: Vec<u64>,
    runs: usize,
}

/// An empty slot.
const NO_RUN: u64 = u64::MAX;
/// Bits of a slot that hold the offset; the rest hold the file.
const OFFSET_BITS: u32 = 48;

impl RunIndex {
    /// An empty index for the sweep of `header`; refused (as not a journal
    /// this cachestorm writes) when the header describes more than
    /// [`MAX_RUNS`] runs.
    pub fn new(header: &Header) -> Result<RunIndex, String> {
        let total = (header.points.len() as u64).saturating_mul(u64::from(header.replications));
        if total > MAX_RUNS {
            return Err(format!(
                "the header describes {} points × {} replications, over the limit of {MAX_RUNS} runs per experiment: not a journal this cachestorm writes",
                header.points.len(),
                header.replications
            ));
        }
        Ok(RunIndex {
            replications: header.replications,
            slots: vec![NO_RUN; total as usize],
            runs: 0,
        })
    }

    fn slot(&self, point: usize, replication: u32) -> usize {
        point * self.replications as usize + replication as usize
    }

    /// Where run (`point`, `replication`) is: its file and byte offset.
    pub fn get(&self, point: usize, replication: u32) -> Option<(usize, u64)> {
        let v = *self.slots.get(self.slot(point, replication))?;
        (v != NO_RUN).then_some(((v >> OFFSET_BITS) as usize, v & ((1 << OFFSET_BITS) - 1)))
    }

    /// True when the run is indexed.
    pub fn contains(&self, point: usize, replication: u32) -> bool {
        self.get(point, replication).is_some()
    }

    /// Records that run (`point`, `replication`) is in file `file` at byte
    /// `offset` (both in range: at most 65,535 files of at most 256 TB).
    pub fn insert(&mut self, point: usize, replication: u32, file: usize, offset: u64) {
        let s = self.slot(point, replication);
        if self.slots[s] == NO_RUN {
            self.runs += 1;
        }
        self.slots[s] = ((file as u64) << OFFSET_BITS) | offset;
    }

    /// Forgets run (`point`, `replication`).
    pub fn remove(&mut self, point: usize, replication: u32) {
        let s = self.slot(point, replication);
        if let Some(v) = self.slots.get_mut(s)
            && *v != NO_RUN
        {
            *v = NO_RUN;
            self.runs -= 1;
        }
    }

    /// Number of runs indexed.
    pub fn len(&self) -> usize {
        self.runs
    }

    /// True when no run is indexed.
    pub fn is_empty(&self) -> bool {
        self.runs == 0
    }

    /// Every indexed run in (point, replication) order: point, replication,
    /// file, offset.
    pub fn iter(&self) -> impl Iterator<Item = (usize, u32, usize, u64)> + '_ {
        let reps = self.replications.max(1) as usize;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != NO_RUN)
            .map(move |(i, &v)| {
                (
                    i / reps,
                    (i % reps) as u32,
                    (v >> OFFSET_BITS) as usize,
                    v & ((1 << OFFSET_BITS) - 1),
                )
            })
    }
}

/// A journal scanned by [`scan`].
#[derive(Clone, Debug)]
pub struct Scanned {
    /// The header.
    pub header: Header,
    /// Where every run it holds is (file 0: this journal).
    pub index: RunIndex,
    /// Length in bytes of the complete lines (a run interrupted while its
    /// line was being written leaves a partial last line, which is dropped).
    pub valid_len: u64,
}

/// Reads the record on the line at `offset` of an open journal.
pub fn record_at(reader: &mut io::BufReader<File>, offset: u64) -> io::Result<Record> {
    use io::Seek;
    reader.seek(io::SeekFrom::Start(offset))?;
    next_record(reader).map(|(r, _)| r)
}

/// Reads the record on the line where `reader` is, and the line's length.
pub fn next_record(reader: &mut io::BufReader<File>) -> io::Result<(Record, u64)> {
    let mut buf = Vec::new();
    io::Read::by_ref(reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    let r =
        serde_json::from_slice(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((r, buf.len() as u64))
}

/// Reads `dir/journal.jsonl` line by line, holding no record beyond the one
/// it reads: the file must be a regular file (not a device or a pipe) with
/// lines of at most [`MAX_LINE`] bytes and a header describing at most
/// [`MAX_RUNS`] runs; every record must have a point and replication in
/// range and owned by the shard, the seed `seed(header, point,
/// replication)` gives (when it gives one), a value for every reported
/// metric, and only finite numbers or nulls as values. A run recorded twice
/// with the same values (two writers before folders were locked) is kept
/// once; with different values it is refused, saying so. Each record kept
/// is handed to `visit` with the header, in file order.
pub fn scan(
    dir: &Path,
    seed: &dyn Fn(&Header, usize, u32) -> Option<u64>,
    visit: &mut dyn FnMut(&Header, Record),
) -> Result<Scanned, SweepError> {
    let path = dir.join(JOURNAL);
    if !path.exists() {
        return Err(SweepError::Refused(format!(
            "{} has no {JOURNAL}: it is not a sweep folder (or the sweep never started)",
            dir.display()
        )));
    }
    let bad = |line: usize, what: String| {
        SweepError::Refused(format!("{}:{line}: {what}", path.display()))
    };
    let meta = std::fs::metadata(&path).map_err(io_err(&path))?;
    if !meta.is_file() {
        return Err(SweepError::Refused(format!(
            "{}: not a regular file (a device, a pipe or a folder): not a sweep journal",
            path.display()
        )));
    }
    let file = File::open(&path).map_err(io_err(&path))?;
    let mut reader = io::BufReader::new(file);
    let mut header: Option<(Header, RunIndex)> = None;
    let mut valid_len = 0u64;
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        let got = io::Read::by_ref(&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io_err(&path))?;
        if got == 0 {
            break;
        }
        n += 1;
        if buf.last() != Some(&b'\n') {
            if buf.len() > MAX_LINE {
                return Err(bad(
                    n,
                    format!("a line longer than {MAX_LINE} bytes: not a sweep journal"),
                ));
            }
            // A partial last line: a run interrupted while its line was written.
            break;
        }
        let offset = valid_len;
        valid_len += buf.len() as u64;
        let text = std::str::from_utf8(&buf[..buf.len() - 1])
            .map_err(|e| bad(n, format!("not UTF-8 text: {e}")))?;
        let Some((h, index)) = &mut header else {
            let h: Header = serde_json::from_str(text).map_err(|e| {
                bad(
                    1,
                    format!(
                        "not a cachestorm sweep journal header ({})",
                        clip(&e.to_string())
                    ),
                )
            })?;
            if h.format != FORMAT || h.version != VERSION {
                return Err(bad(
                    1,
                    format!(
                        "a journal of format {} version {}; this cachestorm reads {FORMAT} version {VERSION}",
                        clip(&h.format),
                        h.version
                    ),
                ));
            }
            let index = RunIndex::new(&h).map_err(|what| bad(1, what))?;
            header = Some((h, index));
            continue;
        };
        let r: Record = serde_json::from_str(text)
            .map_err(|e| bad(n, format!("not a run record ({})", clip(&e.to_string()))))?;
        check_record(h, &r, seed).map_err(|what| bad(n, what))?;
        if let Some((_, first_at)) = index.get(r.point, r.replication) {
            // Rare (two writers before folders were locked, or an edit):
            // the first record is read back to compare.
            let mut again = io::BufReader::new(File::open(&path).map_err(io_err(&path))?);
            let first = record_at(&mut again, first_at).map_err(io_err(&path))?;
            if first == r {
                continue;
            }
            let line = line_number(&path, first_at).map_err(io_err(&path))?;
            return Err(bad(
                n,
                format!(
                    "point {} replication {} is recorded twice with different values (first on line {line}): two writers shared this folder, or the file was edited; delete one of the two lines, or start the sweep over with --force",
                    r.point, r.replication
                ),
            ));
        }
        index.insert(r.point, r.replication, 0, offset);
        visit(h, r);
    }
    let Some((header, index)) = header else {
        return Err(bad(1, "the journal has no header line".into()));
    };
    Ok(Scanned {
        header,
        index,
        valid_len,
    })
}

/// The 1-based number of the line starting at byte `offset` of `path`.
fn line_number(path: &Path, offset: u64) -> io::Result<usize> {
    let mut reader = io::BufReader::new(File::open(path)?).take(offset);
    let mut lines = 1;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(lines);
        }
        lines += buf.iter().filter(|&&b| b == b'\n').count();
        let len = buf.len();
        reader.consume(len);
    }
}

/// Shortens text read back (a serde message quoting a huge value) for a
/// one-line error.
fn clip(s: &str) -> String {
    if s.chars().count() <= 200 {
        s.replace('\n', " ")
    } else {
        let head: String = s.chars().take(200).collect();
        format!("{}…", head.replace('\n', " "))
    }
}

/// What is wrong with a record of the sweep of `h`, if anything.
fn check_record(
    h: &Header,
    r: &Record,
    seed: &dyn Fn(&Header, usize, u32) -> Option<u64>,
) -> Result<(), String> {
    if r.point >= h.points.len() || r.replication >= h.replications {
        return Err(format!(
            "point {} replication {} is outside the sweep ({} points × {} replications)",
            r.point,
            r.replication,
            h.points.len(),
            h.replications
        ));
    }
    if !h.owns(r.point) {
        return Err(format!("point {} does not belong to this shard", r.point));
    }
    if let Some(s) = seed(h, r.point, r.replication)
        && s != r.seed
    {
        return Err(format!(
            "point {} replication {} has seed {}, but the sweep runs it with seed {s}",
            r.point, r.replication, r.seed
        ));
    }
    for (k, v) in &r.values {
        if let Some(v) = v
            && !v.parse::<f64>().is_ok_and(f64::is_finite)
        {
            return Err(format!(
                "the value of `{}` is {:?}, not a finite number (allowed: a number or null)",
                clip(k),
                clip(v)
            ));
        }
    }
    let keys: BTreeSet<&str> = r.values.iter().map(|(k, _)| k.as_str()).collect();
    if let Some(m) = h.metrics.iter().find(|m| !keys.contains(m.as_str())) {
        return Err(format!(
            "point {} replication {} has no value for the metric `{}`",
            r.point,
            r.replication,
            clip(m)
        ));
    }
    Ok(())
}

/// A journal open for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// The file's length: where the next line starts.
    len: u64,
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
        let mut len = file.metadata().map_err(io_err(&path))?.len();
        if let Some(valid) = valid_len
            && len != valid
        {
            file.set_len(valid).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            len = valid;
        }
        Ok(Journal { path, file, len })
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
            .map_err(io_err(&self.path))?;
        self.len += text.len() as u64;
        Ok(())
    }

    /// Appends finished runs as [`append_all`](Journal::append_all) does
    /// and records in `index` where each is (file 0), so the sweep keeps 8
    /// bytes a run instead of the record.
    pub fn append_indexed(
        &mut self,
        records: &[Record],
        index: &mut RunIndex,
    ) -> Result<(), SweepError> {
        let mut at = self.len;
        self.append_all(records)?;
        for r in records {
            index.insert(r.point, r.replication, 0, at);
            at += line(r).len() as u64;
        }
        Ok(())
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
            seed: crate::engine::rng::derive(1, u64::from(replication)),
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
        // The same run twice with the same values is kept once (repaired).
        assert_eq!(read(dir.path()).unwrap().records, vec![rec(0, 0)]);
        let mut other = rec(0, 0);
        other.values[0].1 = Some("4".into());
        std::fs::write(dir.path().join(JOURNAL), render(&h, &[rec(0, 0), other])).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("recorded twice with different values (first on line 2)"),
            "{e}"
        );
        std::fs::write(dir.path().join(JOURNAL), render(&h, &[rec(5, 0)])).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("outside the sweep"), "{e}");
        std::fs::write(dir.path().join(JOURNAL), "hello\n").unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a cachestorm sweep journal"), "{e}");
    }

    #[test]
    fn refuses_values_and_seeds_the_sweep_never_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let h = header();
        let write = |r: Record| {
            std::fs::write(dir.path().join(JOURNAL), render(&h, &[rec(0, 0), r])).unwrap();
            read(dir.path()).unwrap_err().to_string()
        };
        for bad in ["abc", "NaN", "inf", ""] {
            let mut r = rec(1, 1);
            r.values[0].1 = Some(bad.into());
            let e = write(r);
            assert!(e.contains(":3: the value of `over_slo`"), "{e}");
            assert!(e.contains("not a finite number"), "{e}");
        }
        let mut r = rec(1, 1);
        r.seed += 1;
        assert!(write(r).contains("but the sweep runs it with seed"));
        let mut r = rec(1, 1);
        r.values.remove(0);
        assert!(write(r).contains("has no value for the metric `over_slo`"));
        // Independent seeds: only the plan knows them (`read_checked`).
        let mut r = rec(1, 1);
        r.seed = 99;
        std::fs::write(dir.path().join(JOURNAL), render(&h, &[r])).unwrap();
        let e = read_checked(dir.path(), &|_, _, _| Some(5))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has seed 99, but the sweep runs it with seed 5"),
            "{e}"
        );
    }

    #[test]
    fn refuses_what_is_not_a_journal_file() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(JOURNAL)).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_file(dir.path().join(JOURNAL)).unwrap();
        let long = "x".repeat(MAX_LINE + 10);
        std::fs::write(dir.path().join(JOURNAL), long).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains(":1: a line longer than"), "{e}");
    }
}
