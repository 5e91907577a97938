//! The `cachestorm` binary: all logic is in the library; see `cli.rs`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
