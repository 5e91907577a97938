//! The output contract: every file a run or a sweep leaves, every column of
//! `timeline.csv`, and every metric of `summary.json` (its label, unit,
//! direction and number format), each declared once here. Writers
//! (`report::run_files`, `sweep::output`, `sweep::journal`), readers
//! (`report::run_plots`, `report::sweep_plots`), the `--force` cleanups, the
//! plots and the tests that check the docs all derive from these tables, so
//! a new file, column, chart or metric is one entry, and a closed set (run
//! files, sweep files, charts, timeline columns) is an enum whose `ALL` list
//! is generated with it: a new variant is covered everywhere or fails to
//! compile.
//!
//! This module is a leaf of the output side: it depends on [`crate::metrics`]
//! (the rows and the summary it describes) and nothing else of the crate;
//! `report` and `sweep` both depend on it, never on each other's writers.
//!
//! - [`files`]: run and sweep file sets, charts, image formats, temporary
//!   names, [`remove_previous_run`] and [`remove_sweep_files`];
//! - [`timeline`]: the columns of `timeline.csv`, its writer's row format
//!   and its reader ([`TimelineTable`]);
//! - [`metric`]: the metric table ([`metric::METRICS`]) and the dotted
//!   keys of the summary's numbers;
//! - [`names`]: human names of the model keys a sweep varies;
//! - [`atomic`]: crash-safe writes ([`write_atomic`], [`AtomicFile`]).

/// Declares a field-less enum and its `ALL` list from one list of variants,
/// so the list cannot miss one.
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident, )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }
    };
}

pub mod atomic;
pub mod files;
pub mod flat;
pub mod lock;
pub mod metric;
pub mod names;
pub mod timeline;
pub mod vmap;

pub use atomic::{AtomicFile, write_atomic};
pub use files::{
    Chart, ImageFormat, NodeEventsColumn, PrepareError, Prepared, RemoveError, RunChart,
    RunDataFile, RunFile, SweepChart, SweepDataFile, SweepFile, prepare_folder,
    remove_previous_run, remove_sweep_files,
};
pub use lock::{FolderLock, LOCK_NAME, LockError};
pub use metric::{Direction, Format, Metric, Unit};
pub use timeline::{NodeColumn, TimelineColumn, TimelineTable};

use std::path::PathBuf;

/// Why a file of a run could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is missing, unreadable or malformed.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file lacks a column a reader needs.
    #[error("{path}: no column `{column}`")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: String,
    },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ReadError::Invalid { path, .. } | ReadError::MissingColumn { path, .. } => path,
        }
    }

    pub(crate) fn invalid(path: &std::path::Path, message: impl ToString) -> ReadError {
        ReadError::Invalid {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's output tables name every file, chart, timeline column
    /// and summary field of the contract, so a new entry without its
    /// documentation fails here.
    #[test]
    fn the_readme_documents_every_entry() {
        let readme = include_str!("../../README.md");
        let documented = |name: &str| readme.contains(&format!("`{name}`"));
        let mut missing: Vec<String> = Vec::new();
        let mut need = |name: String| {
            if !documented(&name) {
                missing.push(name);
            }
        };
        RunDataFile::ALL.iter().for_each(|f| need(f.name().into()));
        SweepDataFile::ALL
            .iter()
            .for_each(|f| need(f.name().into()));
        vmap::VmapDataFile::ALL
            .iter()
            .for_each(|f| need(f.name().into()));
        vmap::VmapChart::ALL
            .iter()
            .for_each(|c| need(c.stem().into()));
        vmap::MapColumn::ALL
            .iter()
            .for_each(|c| need(c.name().into()));
        vmap::StepColumn::ALL
            .iter()
            .for_each(|c| need(c.name().into()));
        Chart::all().for_each(|c| need(c.stem().into()));
        ImageFormat::ALL
            .iter()
            .for_each(|f| need(format!(".{}", f.extension())));
        TimelineColumn::ALL
            .iter()
            .for_each(|c| need(c.name().into()));
        NodeColumn::ALL
            .iter()
            .for_each(|c| need(format!("node<i>_{}", c.suffix())));
        for m in metric::METRICS {
            m.key.split('.').for_each(|part| need(part.into()));
        }
        metric::WINDOWS.iter().for_each(|w| need(w.to_string()));
        assert!(
            missing.is_empty(),
            "README.md does not document {missing:?}"
        );
    }
}
