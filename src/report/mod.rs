//! Files and plots written from simulation results.

pub mod plot;
