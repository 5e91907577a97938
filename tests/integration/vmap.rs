//! Vulnerability maps (`[map]`): the bisection finds the published shape of
//! the HotOS'21 examples (Bronson et al., "Metastable Failures in
//! Distributed Systems", HotOS 2021) from the native mechanisms, on small
//! configurations, and its files do not depend on the thread count.
//!
//! - Retry example (§2.1): below half the database's knee (150 requests per
//!   second: a request and its retry stay under 300 queries per second) no
//!   outage sticks; above it a long enough outage does, and the shortest
//!   one that does is never longer at a higher load.
//! - Look-aside example (§2.2): the cache can stay stuck only where the
//!   misses after the trigger, rate × (1 − items/keys + k/keys), exceed the
//!   knee, so the smallest stuck deletion is at or above that line, and it
//!   falls as the load rises.

use std::path::Path;

use cachestorm::config::Capacity;
use cachestorm::sweep::SweepArgs;
use cachestorm::sweep::vmap::{MapReport, run_map};
use std::sync::atomic::AtomicBool;

use crate::common;

fn run(dir: &Path, experiment: &str, threads: usize) -> MapReport {
    let e = dir.join("e.toml");
    std::fs::write(&e, experiment).unwrap();
    let args = SweepArgs {
        experiment: e,
        out: Some(dir.join(format!("out-{threads}"))),
        threads: Some(threads),
        ..SweepArgs::default()
    };
    let r = run_map(&args, &AtomicBool::new(false), &mut |_, _| {}).unwrap();
    assert!(!r.interrupted);
    r
}

fn model_path(rel: &str) -> String {
    common::root().join(rel).display().to_string()
}

#[test]
fn the_retry_map_is_stable_below_half_the_knee_and_stuck_above_for_long_outages() {
    let m = common::load("models/metastable/hotos-retry.toml", &[]);
    let knee = m.database.overload.as_ref().unwrap().steps[0].qps;
    let attempts = f64::from(m.database.retry.as_ref().unwrap().max_attempts);
    let half = knee / attempts;
    let deadline_s = m.database.deadline.unwrap() as f64 / 1e9;
    let loads = [0.6 * half, 0.9 * half, 1.2 * half, 1.6 * half, 0.95 * knee];
    let dir = tempfile::tempdir().unwrap();
    let exp = format!(
        "model = {:?}\nreplications = 1\nseed = 3\n[map]\nload = {{ key = \"workload.rate\", values = [{}] }}\ntrigger = {{ key = \"fault.0.duration\", low = \"200ms\", high = \"20s\", tolerance = \"200ms\" }}\n[set]\nduration = \"60s\"\n",
        model_path("models/metastable/hotos-retry.toml"),
        loads.map(|l| format!("{}", l.round())).join(", ")
    );
    let one = run(dir.path(), &exp, 1);
    let two = run(dir.path(), &exp, 2);
    for f in ["vmap.csv", "vmap-steps.csv"] {
        assert_eq!(
            std::fs::read(dir.path().join("out-1").join(f)).unwrap(),
            std::fs::read(dir.path().join("out-2").join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let mut last_min = f64::INFINITY;
    for (l, &load) in one.loads.iter().zip(&loads) {
        let min = l.min_trigger.as_ref().map(|s| s.size / 1e9);
        if load < half {
            assert_eq!(
                l.state.name(),
                "stable",
                "load {load}: stable for every outage up to 20 s"
            );
            continue;
        }
        let min = min.unwrap_or_else(|| panic!("load {load}: a 20 s outage sticks"));
        // An outage shorter than the deadline makes no request retry.
        if l.state.name() == "metastable" {
            assert!(
                min >= deadline_s,
                "load {load}: stuck after {min} s, shorter than the {deadline_s} s deadline"
            );
        }
        assert!(
            min <= last_min,
            "load {load}: the smallest stuck outage {min} s grew with the load (was {last_min})"
        );
        last_min = min;
    }
    assert_eq!(two.runs, one.runs);
    // `cachestorm plot` draws the map and its page from the files.
    let out = dir.path().join("out-2");
    assert_cmd::Command::cargo_bin("cachestorm")
        .unwrap()
        .arg("plot")
        .arg(&out)
        .assert()
        .success();
    for f in ["vmap.png", "vmap.svg", "report.html"] {
        assert!(out.join(f).exists(), "{f} not drawn");
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("<svg") && page.contains("metastable"),
        "{page}"
    );
}

#[test]
fn the_look_aside_map_sits_above_the_miss_line_and_falls_with_load() {
    let m = common::load("models/metastable/hotos-lookaside.toml", &[]);
    let knee = m.database.overload.as_ref().unwrap().steps[0].qps;
    let keys = f64::from(m.workload.keys.count);
    let Some(Capacity::Items(items)) = m.pools[0].memory.capacity else {
        panic!("the model bounds its node in items");
    };
    let items = f64::from(items);
    let loads = [1000.0, 2000.0, 3000.0];
    let dir = tempfile::tempdir().unwrap();
    let exp = format!(
        "model = {:?}\nreplications = 1\nseed = 7\n[map]\nload = {{ key = \"workload.rate\", values = [1000, 2000, 3000] }}\ntrigger = {{ key = \"fault.0.delete_hot.keys\", low = 10, high = {keys}, tolerance = 200 }}\n[set]\n\"fault.0.kind\" = \"delete_hot\"\nduration = \"45s\"\n",
        model_path("models/metastable/hotos-lookaside.toml"),
    );
    let r = run(dir.path(), &exp, 2);
    let mut last = f64::INFINITY;
    for (l, &rate) in r.loads.iter().zip(&loads) {
        let min = l
            .min_trigger
            .as_ref()
            .unwrap_or_else(|| panic!("rate {rate}: losing the whole cache sticks"))
            .size;
        // The misses rate × (1 − items/keys + k/keys) must exceed the knee.
        let line = keys * (knee / rate - (1.0 - items / keys));
        assert!(
            min >= line,
            "rate {rate}: stuck after deleting {min} keys, below the miss line {line}"
        );
        assert!(min < last, "rate {rate}: {min} is not below {last}");
        last = min;
    }
}
