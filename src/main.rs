//! The `cachestorm` binary: all logic is in the library; `cli.rs` holds the
//! arguments and the dispatch, `console.rs` what is printed. Exit codes: 0
//! success, 2 bad input (a malformed model or experiment, a refused output
//! folder, shards that do not merge), 1 an internal error, 130 / 143 a sweep
//! stopped by Ctrl-C / SIGTERM (its finished runs are kept; `--resume` continues it):
//! see [`cachestorm::ErrorKind`].

mod cli;
mod console;

use std::process::ExitCode;

use clap::Parser;

use cachestorm::ErrorKind;

fn main() -> ExitCode {
    console::end_on_broken_pipe();
    let Err(e) = cli::dispatch(cli::Cli::parse()) else {
        return ExitCode::SUCCESS;
    };
    let kind = e.kind();
    match kind {
        // One line: the message and the causes it does not already quote.
        ErrorKind::BadInput | ErrorKind::Internal => eprintln!("error: {}", e.line()),
        // The console has said how to resume; 128 + the signal's number
        // (130 for Ctrl-C, 143 for SIGTERM).
        ErrorKind::Interrupted => return ExitCode::from(console::interrupted_exit_code()),
    }
    ExitCode::from(kind.exit_code())
}
