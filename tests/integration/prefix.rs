//! The shared warm-up prefix of sweeps (`sim::world::prefix`): a point
//! continued from a prefix simulated once for points that differ only in
//! their faults gives, byte for byte, the files of its own whole run.

use cachestorm::config::{FaultKind, Model};
use cachestorm::engine::Nanos;
use cachestorm::metrics::TimelineRow;
use cachestorm::output::timeline::write_row;
use cachestorm::sim::{self, Prefix, RunOutput};

use crate::common::load;

/// The incident model shortened: 40 s of arrivals, node 4 frozen from 15 s
/// to 30 s and rebooted (down for its last 5 s).
const SHORT_INCIDENT: &[&str] = &[
    "duration=40s",
    "drain=5s",
    "warmup=5s",
    "fault.0.start=15s",
    "fault.0.duration=15s",
    "fault.0.frozen.reboot_down=5s",
];

fn short_incident(extra: &[&str]) -> Model {
    let sets: Vec<&str> = SHORT_INCIDENT.iter().chain(extra).copied().collect();
    load("models/incident.toml", &sets)
}

/// A run's files: `summary.json`, the `timeline.csv` rows, the node events.
type Files = (String, Vec<u8>, String);

fn files(out: RunOutput, rows: Vec<u8>) -> Files {
    (
        serde_json::to_string_pretty(&out.summary).unwrap(),
        rows,
        format!("{:?}", out.node_events),
    )
}

fn whole(m: &Model) -> Files {
    let mut rows = Vec::new();
    let out = sim::run(m, &mut |r: &TimelineRow| write_row(&mut rows, r).unwrap());
    files(out, rows)
}

fn continued(prefix: &Prefix, m: &Model) -> Files {
    let mut rows = Vec::new();
    let out = prefix
        .continue_as(m, None, &mut |r: &TimelineRow| {
            write_row(&mut rows, r).unwrap()
        })
        .unwrap();
    files(out, rows)
}

/// The fault variants of the test: every kind, and parameters of the main
/// job's kinds (frozen, crash, slow): how a frozen node ends, its reboot,
/// the duration, a duty cycle, the node, a later start.
fn variants() -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = FaultKind::ALL
        .iter()
        .map(|k| vec![format!("fault.0.kind={}", k.name())])
        .collect();
    let more: &[&[&str]] = &[
        &["fault.0.frozen.end=resume"],
        &["fault.0.frozen.reboot_down=2s"],
        &["fault.0.duration=8s"],
        &["fault.0.duration=22s", "fault.0.kind=crash"],
        &[
            "fault.0.kind=slow",
            "fault.0.slow.stop=180ms",
            "fault.0.slow.run=20ms",
        ],
        &["fault.0.kind=slow", "fault.0.slow.factor=30"],
        &[
            "fault.0.kind=crash",
            "fault.0.cycle.on=2s",
            "fault.0.cycle.off=3s",
            "fault.0.cycle.jitter=500ms",
        ],
        &["fault.0.kind=lossy", "fault.0.lossy.loss=0.3"],
        &["fault.0.node=0"],
        &["fault.0.start=21s", "fault.0.kind=crash"],
    ];
    v.extend(
        more.iter()
            .map(|s| s.iter().map(|x| x.to_string()).collect()),
    );
    v
}

#[test]
fn points_differing_in_their_faults_continue_from_one_prefix() {
    let base = short_incident(&[]);
    let prefix = Prefix::run(&base, Nanos::MAX, false, None).unwrap();
    assert_eq!(
        prefix.until(),
        15_000_000_000,
        "the prefix stops at the fault"
    );
    assert!(
        prefix.events() > 100_000,
        "the prefix simulated the warm-up"
    );
    let mut served = 0;
    for v in variants() {
        let sets: Vec<&str> = v.iter().map(String::as_str).collect();
        let m = short_incident(&sets);
        // A spike changes the arrivals; a policy change alone has no fault
        // window (the verdict's reference differs): both are run whole.
        let kind = m.faults[0].kind.kind();
        let shares = !matches!(
            kind,
            FaultKind::Spike | FaultKind::RetriesOff | FaultKind::ShedLoad
        );
        assert_eq!(prefix.serves(&m), shares, "{v:?}");
        served += shares as usize;
        assert!(
            continued(&prefix, &m) == whole(&m),
            "{v:?}: continued ≠ whole run"
        );
    }
    assert!(served >= 20, "most variants continue from the prefix");
}

/// A point whose fault comes before the prefix's end, or that differs in
/// anything but its faults, is run whole, and still gets its own files.
#[test]
fn points_that_do_not_share_are_run_whole() {
    let base = short_incident(&["fault.0.kind=crash"]);
    let prefix = Prefix::run(&base, Nanos::MAX, false, None).unwrap();
    for sets in [
        &["fault.0.start=10s"][..],
        &["client.op_timeout=500ms"],
        &["seed=2"],
        &["fault.0.kind=spike"],
    ] {
        let m = short_incident(sets);
        assert!(!prefix.serves(&m), "{sets:?}");
        assert!(continued(&prefix, &m) == whole(&m), "{sets:?}");
    }
}

// --- the sweep runner --------------------------------------------------------

const SWEEP_FILES: &[&str] = &[
    "results.csv",
    "replications.csv",
    "experiment.toml",
    "journal.jsonl",
];

/// The shortened incident model under three fault kinds and two fault
/// durations, as deployed and with a shorter op timeout: 12 points × 2
/// replications, units of 6 runs that differ only in their faults.
fn small_experiment(dir: &std::path::Path) -> std::path::PathBuf {
    let model = crate::common::root().join("models/incident.toml");
    let sets: String = SHORT_INCIDENT
        .iter()
        .filter(|s| !s.starts_with("fault.0.duration"))
        .map(|s| {
            let (k, v) = s.split_once('=').unwrap();
            format!("\"{k}\" = \"{v}\"\n")
        })
        .collect();
    let text = format!(
        r#"model = "{}"
replications = 2
seed = 11
metrics = ["windows.fault.success_ratio", "over_slo", "db.peak_in_flight"]
rank_by = "windows.fault.success_ratio"
[set]
{sets}"fault.0.slow.stop" = "180ms"
"fault.0.slow.run" = "20ms"
[vary]
"fault.0.kind" = ["frozen", "crash", "slow"]
"fault.0.duration" = ["8s", "15s"]
[[variant]]
name = "as deployed"
[[variant]]
name = "op timeout 500 ms"
"client.op_timeout" = "500ms"
"#,
        model.to_string_lossy().replace('\\', "/")
    );
    let path = dir.join("faults.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sweep(args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cachestorm"))
        .arg("sweep")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn same_files(a: &std::path::Path, b: &std::path::Path) {
    for f in SWEEP_FILES {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The runner groups the runs that may share a prefix, and its files are
/// byte-identical with and without sharing, at one and two threads, and
/// after a resume that finds some of a unit's runs already journaled.
#[test]
fn a_sweep_gives_the_same_files_with_and_without_shared_prefixes() {
    use cachestorm::config::experiment::Experiment;
    use cachestorm::sweep::{Plan, PlanOptions, runner};

    let t = tempfile::tempdir().unwrap();
    let e = small_experiment(t.path());
    // Sharing is engaged: 4 units of 6 runs (2 variants × 2 replications),
    // each one class that shares a prefix up to the fault's start.
    let plan = Plan::new(Experiment::load(&e).unwrap(), PlanOptions::default()).unwrap();
    let units = runner::units(&plan, &plan.runs(), true);
    assert_eq!(units.iter().map(Vec::len).collect::<Vec<_>>(), [6; 4]);
    for unit in &units {
        let models: Vec<Model> = unit
            .iter()
            .map(|&(p, r)| {
                let mut m = plan.model(p).unwrap();
                m.seed = plan.run_seed(p, r);
                m
            })
            .collect();
        for m in &models {
            assert_eq!(sim::shared_prefix(&models[0], m), Some(15_000_000_000));
        }
    }
    assert_eq!(runner::units(&plan, &plan.runs(), false).len(), 24);

    let dir = |name: &str| t.path().join(name);
    for (name, threads, flag) in [
        ("whole-1", "1", Some("--no-shared-prefix")),
        ("shared-1", "1", None),
        ("shared-2", "2", None),
        ("whole-2", "2", Some("--no-shared-prefix")),
    ] {
        let d = dir(name);
        let mut args = vec![e.to_str().unwrap(), "--out", d.to_str().unwrap()];
        args.extend(["--threads", threads, "--quiet", "--no-plots"]);
        args.extend(flag);
        sweep(&args);
    }
    for other in ["shared-1", "shared-2", "whole-2"] {
        same_files(&dir("whole-1"), &dir(other));
    }
    // A journal cut after 7 runs (units partly done): the resume runs the
    // rest, simulating their prefixes again, and ends with the same files.
    let cut = dir("cut");
    std::fs::create_dir(&cut).unwrap();
    let copy = "experiment.toml";
    std::fs::copy(dir("shared-2").join(copy), cut.join(copy)).unwrap();
    let journal = std::fs::read_to_string(dir("shared-2").join("journal.jsonl")).unwrap();
    let kept: String = journal.split_inclusive('\n').take(1 + 7).collect();
    std::fs::write(cut.join("journal.jsonl"), kept).unwrap();
    sweep(&[
        e.to_str().unwrap(),
        "--resume",
        cut.to_str().unwrap(),
        "--threads",
        "2",
        "--quiet",
        "--no-plots",
    ]);
    same_files(&dir("whole-1"), &cut);
}
