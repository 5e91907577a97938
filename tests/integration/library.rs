//! The library's entry points as a program embedding cachestorm calls them:
//! `run_model` writes what `cachestorm run` writes and returns the same
//! summary; every failure is a `cachestorm::Error` whose kind gives the exit
//! code the command line uses.

use cachestorm::{Error, ErrorKind, PlotArgs, RunArgs, check_model, replot, run_model};

use crate::common::{file_names, root};

fn args(out: &std::path::Path) -> RunArgs {
    RunArgs {
        model: root().join("models/testbed/frozen.toml"),
        seed: None,
        out: Some(out.to_path_buf()),
        sets: vec!["duration=20s".into(), "fault.0.start=5s".into()],
        no_plots: false,
        force: false,
        check_invariants: true,
        max_events: cachestorm::config::estimate::DEFAULT_MAX_EVENTS,
    }
}

#[test]
fn run_model_writes_the_run_files_and_returns_their_summary() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let report = run_model(&args(&dir)).unwrap();
    assert_eq!(report.dir, dir);
    assert_eq!(
        file_names(&dir),
        [
            "node_events.csv",
            "nodes.png",
            "nodes.svg",
            "report.html",
            "summary.json",
            "timeline.csv",
            "timeline.png",
            "timeline.svg"
        ]
    );
    assert_eq!(report.plots.len(), 2);
    let written = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let returned = serde_json::to_string_pretty(&report.output.summary).unwrap();
    assert_eq!(written.trim_end(), returned);
    assert!(report.output.summary.requests.offered > 0);

    // A second run into the same folder is refused (bad input) unless forced.
    let again = run_model(&args(&dir)).unwrap_err();
    assert!(matches!(again, Error::Output(_)), "{again:?}");
    assert_eq!((again.kind(), again.exit_code()), (ErrorKind::BadInput, 2));
    let forced = RunArgs {
        force: true,
        no_plots: true,
        ..args(&dir)
    };
    run_model(&forced).unwrap();
    // --force removed the earlier run's plots, and no-plots drew none.
    assert!(!dir.join("timeline.png").exists());
}

#[test]
fn failures_map_to_the_exit_codes() {
    let t = tempfile::tempdir().unwrap();
    let model = root().join("models/testbed/frozen.toml");
    // Over the event budget: refused before anything runs.
    let over = check_model(&model, &[], 1_000).unwrap_err();
    assert!(matches!(over, Error::Guard(_)), "{over:?}");
    assert_eq!(over.exit_code(), 2);
    let ok = check_model(&model, &[], 0).unwrap();
    assert!(ok.events > 1_000);
    // A bad override is a config error.
    let bad = check_model(&model, &["client.op_timeout=fast".into()], 0).unwrap_err();
    assert!(matches!(bad, Error::Config(_)), "{bad:?}");
    assert_eq!(bad.exit_code(), 2);
    // A folder with neither a run nor a sweep.
    let empty = replot(PlotArgs {
        dir: t.path().to_path_buf(),
        ..PlotArgs::default()
    })
    .unwrap_err();
    assert_eq!(empty.exit_code(), 2);
    assert!(empty.to_string().contains("holds neither a run"), "{empty}");
    // The kinds' codes.
    assert_eq!(ErrorKind::Internal.exit_code(), 1);
    assert_eq!(ErrorKind::Interrupted.exit_code(), 130);
    assert_eq!(Error::Interrupted(t.path().into()).exit_code(), 130);
}
