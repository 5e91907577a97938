//! The command line a newcomer meets: `plot --out/--chart/--title`, flags
//! checked before anything is written and refused where they do not apply,
//! `merge` drawing the plots, `check` on an experiment, `sweep --dry-run`,
//! progress lines in a log, and subtitles that state the active policy's
//! own settings.

use std::path::Path;

use crate::common::root;
use assert_cmd::Command;

fn cachestorm() -> Command {
    let mut c = Command::cargo_bin("cachestorm").unwrap();
    c.current_dir(root());
    c
}

/// The M/M/1 check swept over rate × op timeout (fast: 20 s simulated).
fn experiment(dir: &Path) -> std::path::PathBuf {
    let model = root().join("models/checks/mm1.toml");
    let exp = dir.join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "# How does the mean latency grow with the load?\nmodel = {model:?}\nreplications = 2\nseed = 3\n\
             metrics = [\"windows.steady.latency_ms.mean\", \"windows.steady.success_ratio\"]\n\
             [set]\nduration = \"20s\"\nwarmup = \"2s\"\nslo = \"20ms\"\n\
             [vary]\nclient.op_timeout = [\"1h\", \"30ms\"]\nworkload.rate = [300, 600]\n"
        ),
    )
    .unwrap();
    exp
}

fn listing(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
        })
        .unwrap_or_default()
}

#[test]
fn plot_writes_where_asked_and_checks_every_flag_first() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let sweep = dir.path().join("sweep");
    // Stderr is a pipe here: progress comes as lines, ending with the total.
    let out = cachestorm()
        .args(["sweep", "--threads", "2", "--out"])
        .arg(&sweep)
        .arg(&exp)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("progress: 8/8 runs"), "{err}");
    let before = listing(&sweep);
    assert!(before.contains_key("report.html") && before.contains_key("lines.svg"));

    // --out: a new folder with only the charts asked for (and the report);
    // the sweep's own plots are untouched.
    let other = dir.path().join("other");
    cachestorm()
        .args([
            "plot",
            "--chart",
            "ranking",
            "--title",
            "Latency by load",
            "--out",
        ])
        .arg(&other)
        .arg(&sweep)
        .args(["--metric", "windows.steady.latency_ms.mean"])
        .assert()
        .success();
    let drawn: Vec<String> = listing(&other).into_keys().collect();
    assert_eq!(drawn, ["ranking.png", "ranking.svg", "report.html"]);
    let svg = std::fs::read_to_string(other.join("ranking.svg")).unwrap();
    assert!(svg.contains("Latency by load"), "--title is the title");
    assert_eq!(listing(&sweep), before);

    // A bad flag anywhere is refused before a file is written: an unknown
    // chart, a --fix value the sweep does not have, a lines chart along a
    // key that is not numeric.
    let fresh = dir.path().join("fresh");
    for bad in [
        vec!["--chart", "pie"],
        vec!["--fix", "client.op_timeout=5ms"],
        vec![
            "--chart",
            "lines",
            "--x",
            "client.op_timeout",
            "--series",
            "workload.rate",
            "--fix",
            "nope=1",
        ],
    ] {
        let a = cachestorm()
            .arg("plot")
            .arg(&sweep)
            .arg("--out")
            .arg(&fresh)
            .args(&bad)
            .assert()
            .code(2);
        assert!(!fresh.exists(), "{bad:?} wrote files");
        let e = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(e.lines().count() == 1, "{bad:?}: {e}");
    }

    // A run folder refuses the sweep-only flags, writing nothing.
    let run = dir.path().join("run");
    cachestorm()
        .args([
            "run",
            "models/checks/mm1.toml",
            "--quiet",
            "--set",
            "duration=5s",
            "--set",
            "warmup=1s",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    let before = listing(&run);
    let a = cachestorm()
        .arg("plot")
        .arg(&run)
        .args(["--metric", "latency_ms.p99"])
        .assert()
        .code(2);
    let e = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(e.contains("--metric") && e.contains("sweep folder"), "{e}");
    assert_eq!(listing(&run), before);
    // … and draws one chart with --chart.
    let one = dir.path().join("one");
    cachestorm()
        .arg("plot")
        .arg(&run)
        .args(["--chart", "nodes", "--out"])
        .arg(&one)
        .assert()
        .success();
    let drawn: Vec<String> = listing(&one).into_keys().collect();
    assert_eq!(drawn, ["nodes.png", "nodes.svg", "report.html"]);
}

#[test]
fn merge_draws_the_plots_check_reads_experiments_and_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    // check: an experiment is checked as one, with its runs.
    let a = cachestorm().arg("check").arg(&exp).assert().success();
    let o = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        o.contains("ok (experiment") && o.contains("= 8 runs"),
        "{o}"
    );
    // --dry-run: the points, the runs, an estimated time; no folder.
    let out = dir.path().join("dry");
    let a = cachestorm()
        .args(["sweep", "--dry-run", "--out"])
        .arg(&out)
        .arg(&exp)
        .assert()
        .success();
    let o = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(o.contains("4 point(s) × 2 replication(s) = 8 runs"), "{o}");
    assert_eq!(o.matches("  point ").count(), 4, "{o}");
    assert!(o.contains("estimated time: about"), "{o}");
    assert!(!out.exists());
    // merge: the plots and the report, as one machine's sweep has them.
    let shards: Vec<_> = (1..=2)
        .map(|i| {
            let d = dir.path().join(format!("s{i}"));
            cachestorm()
                .args([
                    "sweep",
                    "--quiet",
                    "--no-plots",
                    "--shard",
                    &format!("{i}/2"),
                    "--out",
                ])
                .arg(&d)
                .arg(&exp)
                .assert()
                .success();
            d
        })
        .collect();
    let merged = dir.path().join("merged");
    cachestorm()
        .args(["merge", "--quiet", "--out"])
        .arg(&merged)
        .args(&shards)
        .assert()
        .success();
    let files = listing(&merged);
    for f in ["heatmap.svg", "lines.png", "ranking.svg", "report.html"] {
        assert!(files.contains_key(f), "merge did not draw {f}");
    }
}

#[test]
fn a_subtitle_states_the_settings_of_the_policy_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pm");
    cachestorm()
        .args([
            "run",
            "models/policies/frozen-pymemcache-timeout.toml",
            "--quiet",
            "--set",
            "client.pymemcache.timeout=25ms",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let svg = std::fs::read_to_string(out.join("timeline.svg")).unwrap();
    assert!(
        svg.contains("timeout 25ms"),
        "the policy's own timeout is stated"
    );
    assert!(
        !svg.contains("op timeout"),
        "pymemcache does not use client.op_timeout: the subtitle must not state it"
    );
}

#[test]
fn resume_adds_replications_and_gives_the_files_of_a_fresh_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let grown = dir.path().join("sweep");
    cachestorm()
        .args(["sweep", "--quiet", "--no-plots", "--threads", "2", "--out"])
        .arg(&grown)
        .arg(&exp)
        .assert()
        .success();
    let text = std::fs::read_to_string(&exp).unwrap();
    std::fs::write(&exp, text.replace("replications = 2", "replications = 3")).unwrap();
    let a = cachestorm()
        .args(["sweep", "--no-plots", "--threads", "2", "--resume"])
        .arg(&grown)
        .arg(&exp)
        .assert()
        .success();
    let o = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(o.contains("= 12 runs (4 now, 8 from the journal)"), "{o}");
    let fresh = dir.path().join("fresh");
    cachestorm()
        .args(["sweep", "--quiet", "--no-plots", "--threads", "2", "--out"])
        .arg(&fresh)
        .arg(&exp)
        .assert()
        .success();
    assert_eq!(
        listing(&grown),
        listing(&fresh),
        "byte-identical to a fresh sweep"
    );
    // Fewer replications, or any other change, is still refused.
    std::fs::write(&exp, text.replace("replications = 2", "replications = 1")).unwrap();
    cachestorm()
        .args(["sweep", "--quiet", "--no-plots", "--resume"])
        .arg(&grown)
        .arg(&exp)
        .assert()
        .code(2);
}

/// `"none"` is a value of the optional limits (a deadline, a timeout): the
/// same model as the key left out, so a sweep can put "no limit" beside
/// durations, and `--set` can take a limit away.
#[test]
fn none_unsets_an_optional_limit_in_a_model_and_in_a_sweep() {
    let model = "models/testbed/frozen.toml";
    let with_none = crate::common::load(model, &["database.deadline=none"]);
    let without = crate::common::load(model, &[]);
    let with_limit = crate::common::load(model, &["database.deadline=1s"]);
    assert_eq!(format!("{with_none:?}"), format!("{without:?}"));
    assert_ne!(format!("{with_limit:?}"), format!("{without:?}"));
    // A bad value names "none" among the allowed ones.
    let out = cachestorm()
        .args(["check", model, "--set", "database.deadline=soon"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("\"none\" for no limit"), "{err}");
    // A sweep lists "none" beside durations: two points.
    let t = tempfile::tempdir().unwrap();
    let exp = t.path().join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "model = {:?}\nreplications = 2\n[vary]\ndatabase.deadline = [\"none\", \"1s\"]\n",
            root().join(model)
        ),
    )
    .unwrap();
    let out = cachestorm()
        .args(["sweep", exp.to_str().unwrap(), "--dry-run"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("2 point(s) × 2 replication(s) = 4 runs"),
        "{text}"
    );
    assert!(text.contains("point 0: database.deadline=none"), "{text}");
    assert!(text.contains("point 1: database.deadline=1s"), "{text}");
}

/// `cachestorm sweep … --dry-run | head` ends quietly, as any Unix tool
/// does, instead of panicking on the closed pipe (Rust ignores SIGPIPE, so
/// `println!` to a closed pipe panics unless the default action is back).
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_process_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // the reader is gone before the first line is printed
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("cachestorm"))
        .current_dir(root())
        .args([
            "sweep",
            "experiments/incident-mitigations.toml",
            "--dry-run",
        ])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "{:?}: {stderr}", out.status);
}
