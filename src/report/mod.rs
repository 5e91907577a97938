//! Files written from results: CSV and JSON (each written to a temporary
//! file in the same folder and renamed, so an interrupted write leaves the old
//! file or the new one, never half of one), and plots. Reports read results,
//! never the world.

pub mod atomic;
pub mod plot;
pub mod run_files;
pub mod run_plots;
pub mod sweep_plots;

pub use atomic::{AtomicFile, write_atomic};
