//! Why a sweep or a merge could not be done.

use std::path::PathBuf;

use crate::config::ConfigError;

/// Why a sweep or a merge could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The experiment or a model is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request cannot be honoured as given: an output folder that would
    /// be overwritten, a journal of another experiment, shards that do not
    /// add up.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The runaway guard refused a point before the first run.
    #[error(transparent)]
    Guard(#[from] Box<crate::guard::Refused>),
    /// A run failed (a bug in the simulator); the runs before it are kept.
    #[error("{0}")]
    Internal(String),
}

impl SweepError {
    /// True when the user's input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SweepError::Config(_) | SweepError::Refused(_) | SweepError::Guard(_)
        )
    }
}
