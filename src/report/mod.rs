//! Files written from results: a run's CSV and JSON (each written to a
//! temporary file in the same folder and renamed, so an interrupted write
//! leaves the old file or the new one, never half of one), and plots of runs
//! and sweeps. Reports read results, never the world; which files, columns
//! and metrics there are is declared by [`crate::output`].

pub mod html;
pub mod plot;
pub mod run_files;
pub mod run_plots;
pub mod sweep_plots;
pub mod vmap;
