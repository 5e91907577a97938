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

/// A small retry map (three loads, eight steps at each unstable one) that
/// takes about a second on one thread.
fn small_map(dir: &Path, seed: u64) -> std::path::PathBuf {
    let e = dir.join(format!("map-{seed}.toml"));
    std::fs::write(
        &e,
        format!(
            "model = {:?}\nreplications = 8\nseed = {seed}\n[map]\nload = {{ key = \"workload.rate\", values = [100, 200, 280] }}\ntrigger = {{ key = \"fault.0.duration\", low = \"200ms\", high = \"10s\", tolerance = \"200ms\" }}\n[set]\nduration = \"50s\"\n",
            model_path("models/metastable/hotos-retry.toml")
        ),
    )
    .unwrap();
    e
}

const MAP_FILES: &[&str] = &[
    "vmap.csv",
    "vmap-steps.csv",
    "experiment.toml",
    "journal.jsonl",
];

fn assert_same_map(a: &Path, b: &Path) {
    for f in MAP_FILES {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display())),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn map_args(e: &Path, out: &Path, threads: usize) -> SweepArgs {
    SweepArgs {
        experiment: e.to_path_buf(),
        out: Some(out.to_path_buf()),
        threads: Some(threads),
        ..SweepArgs::default()
    }
}

fn resume_args(e: &Path, dir: &Path, threads: usize) -> SweepArgs {
    SweepArgs {
        experiment: e.to_path_buf(),
        resume: Some(dir.to_path_buf()),
        threads: Some(threads),
        ..SweepArgs::default()
    }
}

fn journal_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Stopped after its first wave (as Ctrl-C stops it: the wave under way is
/// dropped, the finished ones are journaled), a map resumes to the files of
/// an uninterrupted map, at another thread count; so does a journal cut
/// anywhere, as a kill -9 leaves it (in the middle of a load's steps, even
/// between the `high` and `low` of its first wave, with a half-written
/// line); and resuming a finished map rewrites the same files.
#[test]
fn an_interrupted_map_resumes_to_the_files_of_an_uninterrupted_one() {
    let t = tempfile::tempdir().unwrap();
    let e = small_map(t.path(), 3);
    let whole = t.path().join("whole");
    let r = run_map(
        &map_args(&e, &whole, 1),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    assert!(!r.interrupted && r.runs_resumed == 0);
    let steps = journal_lines(&whole).len() - 1;
    assert!(
        steps > 10,
        "the map is too small to interrupt ({steps} steps)"
    );

    // Ctrl-C after the first wave.
    let stopped = t.path().join("stopped");
    let cancel = AtomicBool::new(false);
    let r = run_map(&map_args(&e, &stopped, 2), &cancel, &mut |done, _| {
        if done > 0 {
            cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .unwrap();
    assert!(r.interrupted);
    assert!(!stopped.join("vmap.csv").exists());
    let kept = journal_lines(&stopped).len() - 1;
    assert_eq!(kept, 2 * 3, "the first wave (high and low at three loads)");
    let r = run_map(
        &resume_args(&e, &stopped, 2),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(
        r.runs_resumed,
        kept * 8,
        "the first wave's runs are not run again"
    );
    assert_same_map(&stopped, &whole);
    // A finished map resumed: nothing to run, the same files.
    let r = run_map(
        &resume_args(&e, &stopped, 1),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(r.runs_resumed, r.runs);
    assert_same_map(&stopped, &whole);

    // kill -9: the journal cut after any number of steps, a torn line last.
    let lines = journal_lines(&whole);
    for cut in [1, 2, 5, steps - 1] {
        let killed = t.path().join(format!("killed-{cut}"));
        std::fs::create_dir(&killed).unwrap();
        std::fs::copy(
            whole.join("experiment.toml"),
            killed.join("experiment.toml"),
        )
        .unwrap();
        let mut text: String = lines[..=cut].iter().map(|l| format!("{l}\n")).collect();
        text.push_str("{\"point\":2,\"replicat");
        std::fs::write(killed.join("journal.jsonl"), text).unwrap();
        let r = run_map(
            &resume_args(&e, &killed, 2),
            &AtomicBool::new(false),
            &mut |_, _| {},
        )
        .unwrap();
        assert!(
            r.runs_resumed > 0 || cut == 1,
            "cut {cut}: nothing replayed"
        );
        assert_same_map(&killed, &whole);
    }
}

/// The binary: kill -9 mid-map, then `--resume`, gives the same files as an
/// uninterrupted map (as `sweep::kill_9_then_resume_gives_the_same_files`
/// does for a grid).
#[test]
fn kill_9_mid_map_then_resume_gives_the_same_files() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let bin = env!("CARGO_BIN_EXE_cachestorm");
    let t = tempfile::tempdir().unwrap();
    let e = small_map(t.path(), 5);
    let (killed, whole) = (t.path().join("killed"), t.path().join("whole"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let mut child = Command::new(bin)
        .args([
            "sweep",
            &s(&e),
            "--out",
            &s(&killed),
            "--threads",
            "1",
            "--quiet",
            "--no-plots",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_lines(&killed).len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the map never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("vmap.csv").exists(),
        "the map finished before it was killed"
    );
    // Not without --resume or --force, and the refusal says so.
    let refused = Command::new(bin)
        .args(["sweep", &s(&e), "--out", &s(&killed), "--quiet"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    let ok = |args: &[&str]| {
        let out = Command::new(bin).arg("sweep").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        &s(&e),
        "--resume",
        &s(&killed),
        "--threads",
        "2",
        "--quiet",
        "--no-plots",
    ]);
    ok(&[
        &s(&e),
        "--out",
        &s(&whole),
        "--threads",
        "2",
        "--quiet",
        "--no-plots",
    ]);
    assert_same_map(&killed, &whole);
}

/// `--resume` refuses, with exit 2 and one line saying why, the journal of
/// another map (another seed), of a grid sweep, of another build, and a
/// journal whose steps are not the ones the search tries.
#[test]
fn resume_refuses_a_journal_of_another_experiment_or_build() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_cachestorm");
    let t = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let e3 = small_map(t.path(), 3);
    let e4 = small_map(t.path(), 4);
    let dir = t.path().join("m3");
    run_map(
        &map_args(&e3, &dir, 2),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    let refused = |e: &Path, dir: &Path| {
        let out = Command::new(bin)
            .args(["sweep", &s(e), "--resume", &s(dir), "--quiet", "--no-plots"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        err
    };
    let err = refused(&e4, &dir);
    assert!(
        err.contains("holds another vulnerability map") && err.contains("fingerprint"),
        "{err}"
    );
    // A grid sweep's folder.
    let grid = t.path().join("grid.toml");
    std::fs::write(
        &grid,
        format!(
            "model = {:?}\nreplications = 2\n[vary]\nworkload.rate = [100, 200]\n[set]\nduration = \"35s\"\n",
            model_path("models/metastable/hotos-retry.toml")
        ),
    )
    .unwrap();
    let gdir = t.path().join("g");
    let out = Command::new(bin)
        .args([
            "sweep",
            &s(&grid),
            "--out",
            &s(&gdir),
            "--quiet",
            "--no-plots",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = refused(&e3, &gdir);
    assert!(err.contains("a grid sweep"), "{err}");
    // And `merge` refuses a map's folder.
    let out = Command::new(bin)
        .args([
            "merge",
            &s(&dir),
            "--out",
            &s(&t.path().join("merged")),
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("holds a vulnerability map"), "{err}");
    // Another build.
    let j = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let build = cachestorm::VERSION_BUILD;
    std::fs::write(
        dir.join("journal.jsonl"),
        j.replacen(build, "0.1.0+0000000000000000", 1),
    )
    .unwrap();
    let err = refused(&e3, &dir);
    assert!(err.contains("another build of cachestorm"), "{err}");
    // A step the search never tries (an edited journal).
    let mut lines: Vec<String> = j.lines().map(str::to_string).collect();
    lines[2] = lines[2].replace(
        "[\"map.size\",\"200000000\"]",
        "[\"map.size\",\"300000000\"]",
    );
    assert_ne!(
        lines[2],
        j.lines().nth(2).unwrap(),
        "line 3 is load 0's `low`"
    );
    std::fs::write(dir.join("journal.jsonl"), lines.join("\n") + "\n").unwrap();
    let err = refused(&e3, &dir);
    assert!(err.contains("but the search tries 200ms there"), "{err}");
}
