//! The data files of one run ([`RunDataFile`]): `timeline.csv` (its columns
//! declared by [`crate::output::timeline`]), `summary.json`,
//! `node_events.csv` (its columns by [`NodeEventsColumn`]).

use std::io;
use std::path::Path;

use crate::engine::time::secs;
use crate::metrics::{Summary, TimelineRow};
use crate::output::files::{FAULT_END, FAULT_START};
use crate::output::{
    AtomicFile, FolderLock, LockError, NodeEventsColumn, PrepareError, RunDataFile, prepare_folder,
    timeline, write_atomic,
};
use crate::sim::client::NodeEvent;

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
            out: AtomicFile::create(&RunDataFile::Timeline.path(dir))?,
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
            timeline::write_header(&mut self.out, r.nodes.len())?;
            self.header_written = true;
        }
        timeline::write_row(&mut self.out, r)
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
    write_atomic(&RunDataFile::Summary.path(dir), json.as_bytes())
}

/// One line of `node_events.csv`.
struct EventLine {
    t: f64,
    client: String,
    node: String,
    event: String,
    detail: String,
}

impl EventLine {
    /// The line's cells, in the order of [`NodeEventsColumn::ALL`].
    fn cells(&self) -> Vec<String> {
        NodeEventsColumn::ALL
            .iter()
            .map(|c| match c {
                NodeEventsColumn::Time => format!("{:.6}", self.t),
                NodeEventsColumn::Client => self.client.clone(),
                NodeEventsColumn::Node => self.node.clone(),
                NodeEventsColumn::Event => self.event.clone(),
                NodeEventsColumn::Detail => self.detail.clone(),
            })
            .collect()
    }
}

/// Writes `node_events.csv`: what each client saw of each node, beside the
/// fault schedule (`fault_start` / `fault_end` rows with client `-`), in
/// time order.
pub fn write_node_events(
    dir: &Path,
    events: &[NodeEvent],
    faults: &[(f64, f64, String, String)],
) -> io::Result<()> {
    let mut lines: Vec<EventLine> = Vec::new();
    for (start, end, node, kind) in faults {
        for (t, event) in [(*start, FAULT_START), (*end, FAULT_END)] {
            lines.push(EventLine {
                t,
                client: "-".into(),
                node: node.clone(),
                event: event.into(),
                detail: kind.clone(),
            });
        }
    }
    lines.extend(events.iter().map(|e| EventLine {
        t: secs(e.time),
        client: e.client.to_string(),
        node: e.node.to_string(),
        event: e.what.as_str().to_string(),
        detail: e.detail.to_string(),
    }));
    lines.sort_by(|a, b| a.t.total_cmp(&b.t));
    // The csv writer quotes a cell holding a comma, a quote or a line
    // break, so a detail reads back as written.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(NodeEventsColumn::ALL.iter().map(|c| c.name()))?;
    for l in &lines {
        w.write_record(l.cells())?;
    }
    let out = w.into_inner().map_err(|e| e.into_error())?;
    write_atomic(&RunDataFile::NodeEvents.path(dir), &out)
}

/// Why an output folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The folder exists and holds files.
    #[error(
        "{0} already exists and is not empty; pass --force to overwrite it, or --out to choose another folder"
    )]
    Exists(std::path::PathBuf),
    /// The folder cannot be used: a file, a dangling link, another writer's.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// Makes `dir` ready for output: created if missing, locked for this
/// writer (held until the returned lock is dropped); an existing folder with
/// files in it is refused unless `force`.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<FolderLock, OutputError> {
    match prepare_folder(dir, force) {
        Ok(p) => Ok(p.lock),
        Err(PrepareError::NotEmpty) => Err(OutputError::Exists(dir.to_path_buf())),
        Err(PrepareError::Io(source)) | Err(PrepareError::Locked(LockError::Io { source, .. })) => {
            Err(OutputError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
        Err(
            e @ (PrepareError::NotAFolder
            | PrepareError::DanglingLink(_)
            | PrepareError::Locked(LockError::Busy { .. })),
        ) => Err(OutputError::Refused(
            e.refusal(dir).unwrap_or_else(|| dir.display().to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A detail holding a comma or a quote is quoted, not altered: it reads
    /// back as written, and the columns stay in place.
    #[test]
    fn node_event_details_are_quoted_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let odd = "slow, then \"dead\"";
        let faults = [
            (1.5, 2.5, "0".to_string(), odd.to_string()),
            (3.0, 4.0, "1".to_string(), "crash".to_string()),
        ];
        write_node_events(dir.path(), &[], &faults).unwrap();
        let path = RunDataFile::NodeEvents.path(dir.path());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"slow, then \"\"dead\"\"\""), "{text}");
        assert!(
            text.contains("\n3.000000,-,1,fault_start,crash\n"),
            "{text}"
        );
        let mut r = csv::Reader::from_path(&path).unwrap();
        let details: Vec<String> = r
            .records()
            .map(|rec| rec.unwrap()[NodeEventsColumn::ALL.len() - 1].to_string())
            .collect();
        assert_eq!(details, [odd, odd, "crash", "crash"]);
    }
}
