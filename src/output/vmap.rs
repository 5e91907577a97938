//! The files of a vulnerability map's folder (`cachestorm sweep` on an
//! experiment with `[map]`): the experiment as run, one row per load value
//! (`vmap.csv`), one row per trigger size tried (`vmap-steps.csv`), the
//! chart and the report. Columns are declared here once; the writer
//! (`sweep::vmap`) and the reader (`report::vmap`) use them.

use std::path::{Path, PathBuf};

use super::files::{Entry, FolderFile, RemoveError};

closed_enum! {
    /// The data files of a map's folder.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum VmapDataFile {
        /// The experiment as run.
        Experiment,
        /// One row per load value: the smallest stuck trigger found.
        Map,
        /// One row per trigger size tried, in the order tried.
        Steps,
        /// The map's memory: one line per finished step (a load's trigger
        /// size with its replications' verdicts), for `--resume`.
        Journal,
    }
}

impl VmapDataFile {
    /// The file name.
    pub const fn name(self) -> &'static str {
        match self {
            VmapDataFile::Experiment => "experiment.toml",
            VmapDataFile::Map => "vmap.csv",
            VmapDataFile::Steps => "vmap-steps.csv",
            VmapDataFile::Journal => "journal.jsonl",
        }
    }

    /// `dir/<name>`.
    pub fn path(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }
}

closed_enum! {
    /// The charts of a map's folder.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum VmapChart {
        /// Load across, trigger size up, stable and metastable regions.
        Map,
    }
}

impl VmapChart {
    /// The file stem.
    pub const fn stem(self) -> &'static str {
        match self {
            VmapChart::Map => "vmap",
        }
    }
}

impl Entry for VmapDataFile {
    const ENTRIES: &'static [Self] = VmapDataFile::ALL;
    fn text(self) -> &'static str {
        self.name()
    }
}

impl Entry for VmapChart {
    const ENTRIES: &'static [Self] = VmapChart::ALL;
    fn text(self) -> &'static str {
        self.stem()
    }
}

/// A file of a map's folder.
pub type VmapFile = FolderFile<VmapDataFile, VmapChart>;

/// Removes every file a map writes (and their temporaries) from `dir`, for
/// `--force`.
pub fn remove_vmap_files(dir: &Path) -> Result<(), RemoveError> {
    super::files::remove_all(
        dir,
        VmapFile::all()
            .into_iter()
            .flat_map(|f| [f.name(), f.temporary()]),
    )
}

closed_enum! {
    /// The columns of `vmap.csv`, in file order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum MapColumn {
        /// The load key (dotted model key), the same on every row.
        LoadKey,
        /// The load value.
        Load,
        /// The trigger key, the same on every row.
        TriggerKey,
        /// The trigger's unit: `s`, `count` or `value`.
        TriggerUnit,
        /// `stable` (not stuck even at `high`), `metastable` (a boundary was
        /// found) or `stuck` (stuck already at `low`).
        State,
        /// The largest size found not stuck (empty when stuck at `low`).
        StableUpTo,
        /// The smallest size found stuck (empty when stable at `high`).
        MinTrigger,
        /// The share of runs stuck at `min_trigger`.
        PStuck,
        /// The trigger sizes tried at this load.
        Steps,
        /// The runs made at this load.
        Runs,
    }
}

impl MapColumn {
    /// The header name.
    pub const fn name(self) -> &'static str {
        match self {
            MapColumn::LoadKey => "load_key",
            MapColumn::Load => "load",
            MapColumn::TriggerKey => "trigger_key",
            MapColumn::TriggerUnit => "trigger_unit",
            MapColumn::State => "state",
            MapColumn::StableUpTo => "stable_up_to",
            MapColumn::MinTrigger => "min_trigger",
            MapColumn::PStuck => "p_stuck",
            MapColumn::Steps => "steps",
            MapColumn::Runs => "runs",
        }
    }
}

closed_enum! {
    /// The columns of `vmap-steps.csv`, in file order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum StepColumn {
        /// The load value.
        Load,
        /// The step at this load (0: `high`, 1: `low`, then the bisection).
        Step,
        /// The trigger size, in the map's trigger unit.
        Trigger,
        /// Runs made at this size.
        Runs,
        /// Runs whose verdict was `stuck`.
        StuckRuns,
        /// `stuck_runs / runs`.
        PStuck,
        /// `true` when `p_stuck` reached the map's `stuck_probability`.
        Stuck,
    }
}

impl StepColumn {
    /// The header name.
    pub const fn name(self) -> &'static str {
        match self {
            StepColumn::Load => "load",
            StepColumn::Step => "step",
            StepColumn::Trigger => "trigger",
            StepColumn::Runs => "runs",
            StepColumn::StuckRuns => "stuck_runs",
            StepColumn::PStuck => "p_stuck",
            StepColumn::Stuck => "stuck",
        }
    }
}

/// The states of `vmap.csv`'s `state` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapState {
    /// Not stuck at the largest trigger tried.
    Stable,
    /// Not stuck at `low`, stuck at `high`: a boundary in between.
    Metastable,
    /// Stuck already at the smallest trigger tried.
    Stuck,
}

impl MapState {
    /// Every state.
    pub const ALL: &'static [MapState] = &[MapState::Stable, MapState::Metastable, MapState::Stuck];

    /// The spelling in `vmap.csv`.
    pub const fn name(self) -> &'static str {
        match self {
            MapState::Stable => "stable",
            MapState::Metastable => "metastable",
            MapState::Stuck => "stuck",
        }
    }

    /// Reads a spelling back.
    pub fn parse(s: &str) -> Option<MapState> {
        MapState::ALL.iter().copied().find(|m| m.name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_states_read_back() {
        let mut seen = std::collections::BTreeSet::new();
        for f in VmapFile::all() {
            assert!(seen.insert(f.name()), "{}", f.name());
            assert!(f.temporary().starts_with('.'));
        }
        for s in MapState::ALL {
            assert_eq!(MapState::parse(s.name()), Some(*s));
        }
        let cols: std::collections::BTreeSet<_> = MapColumn::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(cols.len(), MapColumn::ALL.len());
    }
}
