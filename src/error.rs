//! The library's one error type, [`Error`], and what the command line makes
//! of it: [`Error::kind`] says whose fault a failure is, and
//! [`ErrorKind::exit_code`] maps that to the process's exit status.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::report::run_files::OutputError;
use crate::report::run_plots::RunPlotError;
use crate::report::sweep_plots::SweepPlotError;
use crate::sim::{LimitExceeded, RunError, Violation};
use crate::sweep::SweepError;

/// Why a run, a sweep, a merge, a check or a plot could not be done.
///
/// Each variant keeps its source's message unchanged (`transparent`), so the
/// command line prints what the module that failed wrote.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model or experiment file is malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request cannot be honoured as given: a run over the event budget,
    /// an output folder that is a file, a malformed `--fix`, a folder that
    /// holds neither a run nor a sweep.
    #[error("{0}")]
    Refused(String),
    /// A run's output folder could not be prepared or written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The files of an earlier run could not be removed (`--force`).
    #[error(transparent)]
    Cleanup(crate::output::RemoveError),
    /// A sweep or merge failed.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The plots of a run folder (`cachestorm plot DIR`) could not be drawn.
    #[error(transparent)]
    RunPlot(#[from] RunPlotError),
    /// The plots of a run just written could not be drawn: its files are the
    /// simulator's own, so any failure is a bug.
    #[error(transparent)]
    FreshRunPlot(RunPlotError),
    /// The plots of a sweep folder could not be drawn.
    #[error(transparent)]
    SweepPlot(#[from] SweepPlotError),
    /// The runaway guard refused a model before it ran.
    #[error(transparent)]
    Guard(#[from] Box<crate::guard::Refused>),
    /// A run exceeded its run-time limits (event budget, state bound) and
    /// stopped itself: the model ran away or is overloaded.
    #[error("{}: {source}", .model.display())]
    Stopped {
        /// The model file.
        model: PathBuf,
        /// The limit.
        source: LimitExceeded,
    },
    /// A run exceeded its limits (no model file known yet: see
    /// [`Error::for_model`]).
    #[error(transparent)]
    Limit(LimitExceeded),
    /// The simulator broke one of its invariants (a bug).
    #[error(transparent)]
    Invariant(#[from] Violation),
    /// `cachestorm import` could not read a configuration or write the model.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// Standard output could not be written (`completions`, `man`).
    #[error("cannot write to standard output: {0}")]
    Print(#[source] std::io::Error),
    /// Ctrl-C stopped a sweep; its finished runs are kept in its journal.
    #[error("interrupted: the finished runs are kept in {}", .0.display())]
    Interrupted(PathBuf),
}

/// Whose fault a failure is, which decides the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input: a malformed model or experiment, a refused output
    /// folder, shards that do not merge.
    BadInput,
    /// A bug or the machine: an invariant broken, a file that could not be
    /// written.
    Internal,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl ErrorKind {
    /// The exit status: 2 bad input, 1 internal, 130 interrupted (0 is
    /// success).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::BadInput => 2,
            ErrorKind::Internal => 1,
            ErrorKind::Interrupted => 130,
        }
    }
}

impl Error {
    /// Whose fault this failure is.
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind::{BadInput, Internal, Interrupted};
        match self {
            Error::Config(_)
            | Error::Refused(_)
            | Error::Guard(_)
            | Error::Stopped { .. }
            | Error::Limit(_) => BadInput,
            Error::Output(e) => match e {
                OutputError::Exists(_) | OutputError::Refused(_) => BadInput,
                OutputError::Io { .. } => Internal,
            },
            Error::Sweep(e) => {
                if e.is_bad_input() {
                    BadInput
                } else {
                    Internal
                }
            }
            Error::RunPlot(e) => match e {
                RunPlotError::Input { .. } => BadInput,
                RunPlotError::Plot(_) | RunPlotError::Report(_) => Internal,
            },
            Error::SweepPlot(e) => match e {
                SweepPlotError::Input(_) | SweepPlotError::NotNumeric(_) => BadInput,
                SweepPlotError::Plot(_) | SweepPlotError::Report(_) => Internal,
            },
            Error::Import(e) => {
                if e.is_bad_input() {
                    BadInput
                } else {
                    Internal
                }
            }
            Error::Cleanup(_) | Error::FreshRunPlot(_) | Error::Invariant(_) | Error::Print(_) => {
                Internal
            }
            Error::Interrupted(_) => Interrupted,
        }
    }

    /// Names `model` in a run-time limit's message.
    pub fn for_model(self, model: &std::path::Path) -> Error {
        match self {
            Error::Limit(source) => Error::Stopped {
                model: model.to_path_buf(),
                source,
            },
            other => other,
        }
    }

    /// The failure as the one line the command line prints: the message and
    /// each cause it does not already quote, without line breaks, with any
    /// run of more than [`MAX_WORD`] characters (a 10⁶-character key, a value
    /// read back from a file) shortened to its ends and its length.
    pub fn line(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let more = s.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            source = s.source();
        }
        one_line(&text)
    }

    /// The process's exit status for this failure: see [`ErrorKind`].
    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Error {
        match e {
            RunError::Invariant(v) => Error::Invariant(v),
            RunError::Limit(l) => Error::Limit(l),
        }
    }
}

/// Longest run of non-space characters an error line shows whole.
pub const MAX_WORD: usize = 200;

/// `text` on one line (line breaks and tabs as spaces), each run of more than
/// [`MAX_WORD`] non-space characters cut to its first 120 and last 40 with
/// the number of characters left out between them.
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(flat.len().min(4096));
    for (i, word) in flat.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let n = word.chars().count();
        if n <= MAX_WORD {
            out.push_str(word);
        } else {
            let head: String = word.chars().take(120).collect();
            let tail: String = word.chars().skip(n - 40).collect();
            out.push_str(&format!("{head}…[{} more characters]…{tail}", n - 160));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_cuts_long_words_and_breaks() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let key = "k".repeat(1_000_000);
        let line = one_line(&format!("m.toml:1:1: key `{key}`: unknown key"));
        assert!(line.len() < 400, "{}", line.len());
        assert!(
            line.contains(&format!("…[{} more characters]…", 1_000_003 - 160)),
            "{line}"
        );
        assert!(line.starts_with("m.toml:1:1: key `kkk") && line.ends_with("`: unknown key"));
    }
}
