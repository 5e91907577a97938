//! The files a run and a sweep leave in their folder, the charts drawn into
//! it, and the temporary names every file is written under until it is
//! complete.
//!
//! A run's folder: [`RunDataFile::ALL`] (`timeline.csv`, `summary.json`,
//! `node_events.csv`) and every [`RunChart`] in every [`ImageFormat`]. A
//! sweep's folder: [`SweepDataFile::ALL`] and every [`SweepChart`] (a chart
//! the sweep's shape does not allow is not drawn). Data files are written through [`AtomicFile`] (temporary
//! `.<name>.tmp`), images through `.<stem>.tmp.<ext>` (the plotters
//! backends pick the format from the extension).
//!
//! [`AtomicFile`]: super::AtomicFile

use std::io;
use std::path::{Path, PathBuf};

use super::atomic::temporary_name;
use super::lock::{FolderLock, LOCK_NAME, LockError};

closed_enum! {
    /// A chart of a run, drawn from its files.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum RunChart {
        /// Requests per second by outcome, p99, fault windows.
        Timeline,
        /// Queue depth and active share per node.
        Nodes,
    }
}

closed_enum! {
    /// A chart of a sweep, drawn from its journal (one the sweep's shape
    /// does not allow is not drawn).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum SweepChart {
        /// A metric's mean over two varied keys.
        Heatmap,
        /// A metric against a numeric varied key, with its interval.
        Lines,
        /// Every point ranked by a metric.
        Ranking,
    }
}

/// Any chart, drawn as `<stem>.png` and `<stem>.svg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chart {
    /// A run's.
    Run(RunChart),
    /// A sweep's.
    Sweep(SweepChart),
}

impl RunChart {
    /// The file stem (and the chart's name in errors).
    pub const fn stem(self) -> &'static str {
        match self {
            RunChart::Timeline => "timeline",
            RunChart::Nodes => "nodes",
        }
    }
}

impl SweepChart {
    /// The file stem (and the chart's name in errors).
    pub const fn stem(self) -> &'static str {
        match self {
            SweepChart::Heatmap => "heatmap",
            SweepChart::Lines => "lines",
            SweepChart::Ranking => "ranking",
        }
    }
}

impl Chart {
    /// Every chart: the run's, then the sweep's.
    pub fn all() -> impl Iterator<Item = Chart> {
        let run = RunChart::ALL.iter().map(|&c| Chart::Run(c));
        run.chain(SweepChart::ALL.iter().map(|&c| Chart::Sweep(c)))
    }

    /// The file stem (and the chart's name in errors).
    pub const fn stem(self) -> &'static str {
        match self {
            Chart::Run(c) => c.stem(),
            Chart::Sweep(c) => c.stem(),
        }
    }

    /// `<stem>.<ext>`.
    pub fn file(self, format: ImageFormat) -> String {
        format.file(self.stem())
    }

    /// `.<stem>.tmp.<ext>`.
    pub fn temporary(self, format: ImageFormat) -> String {
        format.temporary(self.stem())
    }
}

closed_enum! {
    /// An image format every chart is written in.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum ImageFormat {
        /// A 1600 × 900 bitmap.
        Png,
        /// The same drawing as a vector image.
        Svg,
    }
}

impl ImageFormat {
    /// The file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }

    /// `<stem>.<ext>`.
    pub fn file(self, stem: &str) -> String {
        format!("{stem}.{}", self.extension())
    }

    /// The name the image is drawn under before it is renamed into place:
    /// `.<stem>.tmp.<ext>`.
    pub fn temporary(self, stem: &str) -> String {
        format!(".{stem}.tmp.{}", self.extension())
    }
}

closed_enum! {
    /// The data files of a run.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum RunDataFile {
        /// One row per bucket (see [`TimelineColumn`](super::TimelineColumn)).
        Timeline,
        /// The run summary (see [`metric`](super::metric)).
        Summary,
        /// What each client saw of each node, beside the fault schedule
        /// (see [`NodeEventsColumn`]).
        NodeEvents,
    }
}

impl RunDataFile {
    /// The file name.
    pub const fn name(self) -> &'static str {
        match self {
            RunDataFile::Timeline => "timeline.csv",
            RunDataFile::Summary => "summary.json",
            RunDataFile::NodeEvents => "node_events.csv",
        }
    }

    /// `dir/<name>`.
    pub fn path(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }
}

closed_enum! {
    /// The data files of a sweep, in the order a finished sweep writes
    /// them (the journal, rewritten sorted, last).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum SweepDataFile {
        /// The experiment as run.
        Experiment,
        /// One row per point: means and 95 % intervals of the metrics.
        Results,
        /// One row per run: every numeric summary field.
        Replications,
        /// Every point ranked by `rank_by`, with its costs.
        RankingCsv,
        /// The same ranking as a Markdown table.
        RankingMd,
        /// The sweep's memory: a header, then one line per finished run.
        Journal,
    }
}

impl SweepDataFile {
    /// The file name.
    pub const fn name(self) -> &'static str {
        match self {
            SweepDataFile::Results => "results.csv",
            SweepDataFile::Replications => "replications.csv",
            SweepDataFile::Experiment => "experiment.toml",
            SweepDataFile::Journal => "journal.jsonl",
            SweepDataFile::RankingCsv => "ranking.csv",
            SweepDataFile::RankingMd => "ranking.md",
        }
    }

    /// `dir/<name>`.
    pub fn path(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }
}

/// A closed list a folder's files are made of: its data files (by name) or
/// its charts (by stem).
pub trait Entry: Copy + 'static {
    /// Every entry (the enum's `ALL`).
    const ENTRIES: &'static [Self];
    /// A data file's name, a chart's stem.
    fn text(self) -> &'static str;
}

macro_rules! entries {
    ($($ty:ident by $text:ident),+ $(,)?) => {$(
        impl Entry for $ty {
            const ENTRIES: &'static [Self] = $ty::ALL;
            fn text(self) -> &'static str {
                self.$text()
            }
        }
    )+};
}

entries!(
    RunDataFile by name,
    SweepDataFile by name,
    RunChart by stem,
    SweepChart by stem,
);

/// The page a reviewer opens, beside a run's or a sweep's files and
/// written with the plots: the question, the assumptions, the ranking or the
/// results, every chart inline, links to the data files.
pub const REPORT: &str = "report.html";

/// A file of a folder whose data files are `D` and charts `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FolderFile<D, C> {
    /// A data file.
    Data(D),
    /// A chart in one format.
    Image(C, ImageFormat),
    /// [`REPORT`].
    Report,
}

/// A file of a run's folder.
pub type RunFile = FolderFile<RunDataFile, RunChart>;

/// A file of a sweep's folder.
pub type SweepFile = FolderFile<SweepDataFile, SweepChart>;

impl<D: Entry, C: Entry> FolderFile<D, C> {
    /// Every file of the folder: the data files, then each chart in each
    /// format, then the report.
    pub fn all() -> Vec<Self> {
        let data = D::ENTRIES.iter().map(|&d| FolderFile::Data(d));
        let images = C::ENTRIES.iter().flat_map(|&c| {
            ImageFormat::ALL
                .iter()
                .map(move |&f| FolderFile::Image(c, f))
        });
        data.chain(images)
            .chain(std::iter::once(FolderFile::Report))
            .collect()
    }

    /// The file name.
    pub fn name(self) -> String {
        match self {
            FolderFile::Data(d) => d.text().to_string(),
            FolderFile::Image(c, f) => f.file(c.text()),
            FolderFile::Report => REPORT.to_string(),
        }
    }

    /// The name it is written under until complete.
    pub fn temporary(self) -> String {
        match self {
            FolderFile::Data(d) => temporary_name(d.text()),
            FolderFile::Image(c, f) => f.temporary(c.text()),
            FolderFile::Report => temporary_name(REPORT),
        }
    }
}

closed_enum! {
    /// The columns of `node_events.csv`, in file order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum NodeEventsColumn {
        /// Simulated seconds, 6 decimals.
        Time,
        /// The client, or `-` for a fault schedule row.
        Client,
        /// The node (global index).
        Node,
        /// What happened: a client's view of the node, or
        /// [`FAULT_START`] / [`FAULT_END`].
        Event,
        /// Details (commas replaced by `;`); the fault kind for fault rows.
        Detail,
    }
}

/// The `event` of the row opening a scheduled fault.
pub const FAULT_START: &str = "fault_start";
/// The `event` of the row closing a scheduled fault.
pub const FAULT_END: &str = "fault_end";

impl NodeEventsColumn {
    /// The column's header.
    pub const fn name(self) -> &'static str {
        match self {
            NodeEventsColumn::Time => "t_s",
            NodeEventsColumn::Client => "client",
            NodeEventsColumn::Node => "node",
            NodeEventsColumn::Event => "event",
            NodeEventsColumn::Detail => "detail",
        }
    }

    /// The header line (without the newline).
    pub fn header() -> String {
        let names: Vec<&str> = NodeEventsColumn::ALL.iter().map(|c| c.name()).collect();
        names.join(",")
    }
}

/// A file that could not be removed.
#[derive(Debug, thiserror::Error)]
#[error("cannot remove {path}: {source}")]
pub struct RemoveError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

pub(super) fn remove_all(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
) -> Result<(), RemoveError> {
    for name in names {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(RemoveError { path, source: e });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Why an output folder is not ready.
#[derive(Debug)]
pub enum PrepareError {
    /// It holds files and `force` was not given.
    NotEmpty,
    /// The path exists and is not a folder (a file, a device).
    NotAFolder,
    /// The path is a symbolic link to something that does not exist.
    DanglingLink(PathBuf),
    /// Another writer holds the folder's lock.
    Locked(LockError),
    /// It could not be read or created.
    Io(io::Error),
}

impl PrepareError {
    /// The message for a refused folder (all but [`PrepareError::Io`] and
    /// [`PrepareError::NotEmpty`], whose wording is the caller's), naming
    /// `dir`.
    pub fn refusal(&self, dir: &Path) -> Option<String> {
        match self {
            PrepareError::NotAFolder => Some(format!(
                "{}: the output folder is a file, not a folder; choose another with --out",
                dir.display()
            )),
            PrepareError::DanglingLink(target) => Some(format!(
                "{}: the output folder is a symbolic link to {}, which does not exist; create it or choose another folder with --out",
                dir.display(),
                target.display()
            )),
            PrepareError::Locked(e @ LockError::Busy { .. }) => Some(e.to_string()),
            PrepareError::Locked(LockError::Io { .. })
            | PrepareError::NotEmpty
            | PrepareError::Io(_) => None,
        }
    }
}

/// An output folder made ready, and locked for this writer until dropped.
#[derive(Debug)]
pub struct Prepared {
    /// Whether the folder existed (what `force` then has to clear).
    pub existed: bool,
    /// The folder's lock.
    pub lock: FolderLock,
}

/// Makes `dir` ready for output, for a run, a sweep or a merge: created if
/// missing, then locked ([`FolderLock`]: one writer per folder); an existing
/// folder with files in it (the lock file aside) is refused unless `force`.
/// A path that is a file, or a symbolic link to nothing, is refused.
pub fn prepare_folder(dir: &Path, force: bool) -> Result<Prepared, PrepareError> {
    let existed = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => return Err(PrepareError::NotAFolder),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Ok(target) = std::fs::read_link(dir) {
                return Err(PrepareError::DanglingLink(target));
            }
            std::fs::create_dir_all(dir).map_err(PrepareError::Io)?;
            false
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err(PrepareError::NotAFolder);
        }
        Err(e) => return Err(PrepareError::Io(e)),
    };
    let lock = FolderLock::acquire(dir).map_err(PrepareError::Locked)?;
    if existed {
        let mut entries = std::fs::read_dir(dir).map_err(PrepareError::Io)?;
        let non_empty = entries.any(|e| e.is_ok_and(|e| e.file_name() != LOCK_NAME));
        if non_empty && !force {
            return Err(PrepareError::NotEmpty);
        }
    }
    Ok(Prepared { existed, lock })
}

/// `--force` for a run: removes every file a run writes, and their
/// temporaries, from `dir`, so a run that fails, or one without plots, never
/// leaves an earlier run's numbers beside its own. Other files stay.
pub fn remove_previous_run(dir: &Path) -> Result<(), RemoveError> {
    remove_all(
        dir,
        RunFile::all()
            .into_iter()
            .flat_map(|f| [f.name(), f.temporary()]),
    )
}

/// `--force` for a sweep or a merge: removes every file a sweep writes, and
/// their temporaries, from `dir`. Other files stay.
pub fn remove_sweep_files(dir: &Path) -> Result<(), RemoveError> {
    remove_all(
        dir,
        SweepFile::all()
            .into_iter()
            .flat_map(|f| [f.name(), f.temporary()]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_temporaries_hidden() {
        let mut seen = BTreeSet::new();
        // Both folders have the one report; every other name is unique.
        assert_eq!(
            RunFile::all()
                .iter()
                .filter(|f| **f == RunFile::Report)
                .count(),
            1
        );
        assert_eq!(
            SweepFile::all()
                .iter()
                .filter(|f| **f == SweepFile::Report)
                .count(),
            1
        );
        let run = RunFile::all()
            .into_iter()
            .filter(|f| *f != RunFile::Report)
            .map(|f| (f.name(), f.temporary()));
        let sweep = SweepFile::all()
            .into_iter()
            .map(|f| (f.name(), f.temporary()));
        for (name, tmp) in run.chain(sweep) {
            assert!(!name.starts_with('.'), "{name}");
            assert!(tmp.starts_with('.') && tmp.contains(".tmp"), "{tmp}");
            assert_ne!(name, tmp);
            assert!(seen.insert(name.clone()), "{name} is declared twice");
            assert!(seen.insert(tmp.clone()), "{tmp} is declared twice");
        }
        // Every chart is drawn in every format.
        let images = RunFile::all()
            .into_iter()
            .filter(|f| matches!(f, RunFile::Image(..)))
            .count()
            + SweepFile::all()
                .into_iter()
                .filter(|f| matches!(f, SweepFile::Image(..)))
                .count();
        assert_eq!(images, Chart::all().count() * ImageFormat::ALL.len());
        assert_eq!(
            RunFile::Image(RunChart::Timeline, ImageFormat::Png).temporary(),
            ".timeline.tmp.png"
        );
        assert_eq!(
            RunFile::Data(RunDataFile::Timeline).temporary(),
            ".timeline.csv.tmp"
        );
    }

    #[test]
    fn cleanups_remove_their_files_and_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        let left = || -> Vec<String> {
            std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let run = RunFile::all()
            .into_iter()
            .map(|f| [f.name(), f.temporary()]);
        let sweep = SweepFile::all()
            .into_iter()
            .map(|f| [f.name(), f.temporary()]);
        type Cleanup = fn(&Path) -> Result<(), RemoveError>;
        let cleanups: [(Vec<[String; 2]>, Cleanup); 2] = [
            (run.collect(), remove_previous_run),
            (sweep.collect(), remove_sweep_files),
        ];
        std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
        for (files, cleanup) in cleanups {
            for name in files.iter().flatten() {
                std::fs::write(dir.path().join(name), "x").unwrap();
            }
            cleanup(dir.path()).unwrap();
            assert_eq!(left(), ["keep.txt"]);
            // A second call finds nothing to remove and succeeds.
            cleanup(dir.path()).unwrap();
        }
    }
}
