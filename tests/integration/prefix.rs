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
