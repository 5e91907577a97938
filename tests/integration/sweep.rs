//! `cachestorm sweep` and `cachestorm merge` end to end: determinism across
//! thread counts, independence of points, kill -9 and Ctrl-C with resume,
//! shards and merge, refused inputs, and the coverage of the confidence
//! intervals against the analytic M/M/1 mean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const FILES: &[&str] = &[
    "results.csv",
    "replications.csv",
    "experiment.toml",
    "journal.jsonl",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cachestorm")
}

fn model(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Writes an experiment over `model_rel` (a path in the repository).
fn experiment(dir: &Path, name: &str, model_rel: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("model = \"{}\"\n{body}", model(model_rel))).unwrap();
    p
}

/// A fast experiment: M/M/1 at three rates, 20 s runs of ~5 ms each.
fn mm1_body(replications: u32, rates: &str) -> String {
    format!(
        "replications = {replications}\nseed = 7\nmetrics = [\"latency_ms.mean\", \"windows.steady.latency_ms.mean\", \"requests.offered\"]\n[vary]\nworkload.rate = {rates}\n[set]\nduration = \"20s\"\nwarmup = \"2s\"\ndrain = \"1s\"\n"
    )
}

fn sweep(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("sweep")
        .args(args)
        .output()
        .expect("runs the binary")
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
}

fn assert_same_files(a: &Path, b: &Path) {
    for f in FILES {
        let (x, y) = (read(a, f), read(b, f));
        assert!(
            x == y,
            "{f} differs between {} and {}:\n{}\n---\n{}",
            a.display(),
            b.display(),
            String::from_utf8_lossy(&x[..x.len().min(2000)]),
            String::from_utf8_lossy(&y[..y.len().min(2000)])
        );
    }
}

fn journal_lines(dir: &Path) -> usize {
    std::fs::read(dir.join("journal.jsonl"))
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Parses a CSV into a header and rows.
fn csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = ::csv::Reader::from_reader(bytes);
    let head = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (head, rows)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "e.toml",
        "models/testbed/frozen.toml",
        "replications = 2\nseed = 3\n[vary]\nclient.op_timeout = [\"100ms\", \"2500ms\"]\nclient.spymemcached.failure_mode = [\"redistribute\", \"cancel\"]\n[set]\ndrain = \"5s\"\n",
    );
    let (a, b) = (t.path().join("t1"), t.path().join("t2"));
    ok(sweep(&[s(&e), "--out", s(&a), "--threads", "1", "--quiet"]));
    ok(sweep(&[s(&e), "--out", s(&b), "--threads", "2", "--quiet"]));
    assert_same_files(&a, &b);
    let (head, rows) = csv(&read(&a, "results.csv"));
    assert_eq!(rows.len(), 4);
    assert_eq!(
        &head[..3],
        [
            "point",
            "param.client.op_timeout",
            "param.client.spymemcached.failure_mode"
        ]
    );
    assert_eq!(head.last().unwrap(), "n");
    assert!(head.contains(&"windows.fault.success_ratio.ci95_low".to_string()));
    let (rhead, rrows) = csv(&read(&a, "replications.csv"));
    assert_eq!(&rhead[..3], ["point", "replication", "seed"]);
    assert_eq!(rrows.len(), 8);
    // Common random numbers: replication r has one seed at every point.
    for r in &rrows {
        let same = rrows.iter().find(|x| x[1] == r[1]).unwrap();
        assert_eq!(r[2], same[2]);
    }
}

/// The metric cells of each point, by its parameter values.
fn rows_by_params(dir: &Path, params: usize) -> Vec<(Vec<String>, Vec<String>)> {
    let (_, rows) = csv(&read(dir, "results.csv"));
    rows.into_iter()
        .map(|r| (r[1..=params].to_vec(), r[params + 1..].to_vec()))
        .collect()
}

#[test]
fn adding_or_reordering_points_changes_no_other_point() {
    let t = tempfile::tempdir().unwrap();
    for independent in [false, true] {
        let mut dirs = Vec::new();
        for (i, rates) in ["[500, 700]", "[700, 600, 500]"].iter().enumerate() {
            let e = experiment(
                t.path(),
                &format!("e{i}.toml"),
                "models/checks/mm1.toml",
                &mm1_body(2, rates),
            );
            let d = t.path().join(format!("o{i}-{independent}"));
            let mut args = vec![s(&e), "--out", s(&d), "--quiet"];
            if independent {
                args.push("--independent-seeds");
            }
            ok(sweep(&args));
            dirs.push(d);
        }
        let small = rows_by_params(&dirs[0], 1);
        let big = rows_by_params(&dirs[1], 1);
        assert_eq!(big.len(), 3);
        for (params, cells) in &small {
            let other = big
                .iter()
                .find(|(p, _)| p == params)
                .expect("point present");
            assert_eq!(&other.1, cells, "point {params:?} changed ({independent})");
        }
    }
}

#[test]
fn kill_9_then_resume_gives_the_same_files() {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "e.toml",
        "models/checks/mm1.toml",
        &mm1_body(60, "[300, 500, 700, 800, 850]"),
    );
    let (killed, whole) = (t.path().join("killed"), t.path().join("whole"));
    let mut child = Command::new(bin())
        .args([
            "sweep",
            s(&e),
            "--out",
            s(&killed),
            "--threads",
            "1",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_lines(&killed) < 6 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sweep never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = journal_lines(&killed);
    assert!(
        kept < 301,
        "the sweep finished before it was killed ({kept} lines)"
    );
    assert!(!killed.join("results.csv").exists());
    // A run whose line was being written when the process died.
    let mut j = read(&killed, "journal.jsonl");
    j.extend_from_slice(b"{\"point\":4,\"replica");
    std::fs::write(killed.join("journal.jsonl"), j).unwrap();
    // Not without --resume or --force.
    let refused = sweep(&[s(&e), "--out", s(&killed), "--quiet"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    ok(sweep(&[
        s(&e),
        "--resume",
        s(&killed),
        "--threads",
        "2",
        "--quiet",
    ]));
    ok(sweep(&[
        s(&e),
        "--out",
        s(&whole),
        "--threads",
        "2",
        "--quiet",
    ]));
    assert_same_files(&killed, &whole);
    // Resuming a finished sweep changes nothing.
    ok(sweep(&[s(&e), "--resume", s(&killed), "--quiet"]));
    assert_same_files(&killed, &whole);
}

/// A signal stops the sweep cleanly: the runs under way finish and are
/// journaled, it exits with 128 + the signal's number and says how to
/// resume, and resuming gives the files of an uninterrupted sweep.
#[cfg(unix)]
fn signal_keeps_finished_runs_and_says_how_to_resume(signal: &str, code: i32) {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "e.toml",
        "models/checks/mm1.toml",
        &mm1_body(60, "[300, 500, 700, 800, 850]"),
    );
    let (stopped, whole) = (t.path().join("stopped"), t.path().join("whole"));
    let child = Command::new(bin())
        .args([
            "sweep",
            s(&e),
            "--out",
            s(&stopped),
            "--threads",
            "2",
            "--seed",
            "11",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_lines(&stopped) < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sweep never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{signal}: {err}");
    assert!(
        err.contains("--resume") && err.contains("--seed 11"),
        "{err}"
    );
    assert!(journal_lines(&stopped) < 301, "it stopped early");
    ok(sweep(&[
        s(&e),
        "--resume",
        s(&stopped),
        "--seed",
        "11",
        "--quiet",
    ]));
    ok(sweep(&[
        s(&e),
        "--out",
        s(&whole),
        "--seed",
        "11",
        "--quiet",
    ]));
    assert_same_files(&stopped, &whole);
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_finished_runs_and_says_how_to_resume() {
    signal_keeps_finished_runs_and_says_how_to_resume("INT", 130);
}

/// Batch systems stop jobs with SIGTERM (Slurm at the time limit,
/// Kubernetes when a pod is deleted): handled as Ctrl-C, exit 143.
#[cfg(unix)]
#[test]
fn sigterm_keeps_finished_runs_and_says_how_to_resume() {
    signal_keeps_finished_runs_and_says_how_to_resume("TERM", 143);
}

fn merge(dirs: &[&Path], out: &Path) -> Output {
    let mut c = Command::new(bin());
    c.arg("merge");
    for d in dirs {
        c.arg(d);
    }
    c.args(["--out", s(out), "--quiet"]).output().unwrap()
}

#[test]
fn three_shards_merge_into_the_single_machine_files_and_bad_sets_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "e.toml",
        "models/checks/mm1.toml",
        &mm1_body(2, "{ from = 300, to = 900, step = 100 }"),
    );
    let whole = t.path().join("whole");
    ok(sweep(&[s(&e), "--out", s(&whole), "--quiet"]));
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let d = t.path().join(format!("shard{i}"));
            ok(sweep(&[
                s(&e),
                "--shard",
                &format!("{i}/3"),
                "--out",
                s(&d),
                "--quiet",
            ]));
            d
        })
        .collect();
    // Shard 1 of 3 has points 0, 3 and 6.
    let (_, rows) = csv(&read(&shards[0], "results.csv"));
    let points: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(points, ["0", "3", "6"]);
    let merged = t.path().join("merged");
    ok(merge(&[&shards[2], &shards[0], &shards[1]], &merged));
    assert_same_files(&merged, &whole);

    let refused = |dirs: &[&Path], what: &str| {
        let out = merge(dirs, &t.path().join(format!("m-{what}")));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        err
    };
    let err = refused(&[&shards[0], &shards[1], &shards[1], &shards[2]], "dup");
    assert!(err.contains("is in both"), "{err}");
    let err = refused(&[&shards[0], &shards[1]], "gap");
    assert!(err.contains("missing"), "{err}");
    let foreign = t.path().join("foreign");
    ok(sweep(&[
        s(&e),
        "--shard",
        "3/3",
        "--seed",
        "8",
        "--out",
        s(&foreign),
        "--quiet",
    ]));
    let err = refused(&[&shards[0], &shards[1], &foreign], "foreign");
    assert!(err.contains("another sweep"), "{err}");
    // A merge does not overwrite a folder either.
    let again = merge(&[&shards[0], &shards[1], &shards[2]], &merged);
    assert_eq!(again.status.code(), Some(2));
}

/// Rewrites the `cachestorm` (version and build) of a journal's header, as
/// another build of cachestorm would have written it.
fn as_if_from_another_build(dir: &Path) {
    let j = String::from_utf8(read(dir, "journal.jsonl")).unwrap();
    let (head, rest) = j.split_once('\n').unwrap();
    let mine = format!("\"cachestorm\":\"{}\"", cachestorm::VERSION_BUILD);
    assert!(head.contains(&mine), "{head}");
    let theirs = head.replace(&mine, "\"cachestorm\":\"0.1.0+0123456789abcdef\"");
    std::fs::write(dir.join("journal.jsonl"), format!("{theirs}\n{rest}")).unwrap();
}

#[test]
fn shards_and_journals_of_another_build_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "e.toml",
        "models/checks/mm1.toml",
        &mm1_body(2, "[300, 500]"),
    );
    let shard = |i: u32| {
        let d = t.path().join(format!("shard{i}"));
        ok(sweep(&[
            s(&e),
            "--shard",
            &format!("{i}/2"),
            "--out",
            s(&d),
            "--quiet",
        ]));
        d
    };
    let (one, two) = (shard(1), shard(2));
    // The same build merges.
    ok(merge(&[&one, &two], &t.path().join("merged")));
    as_if_from_another_build(&two);
    let out = merge(&[&one, &two], &t.path().join("refused"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("another build of cachestorm (0.1.0+0123456789abcdef")
            && err.contains(cachestorm::VERSION_BUILD),
        "{err}"
    );
    // --resume refuses it too.
    let out = sweep(&[s(&e), "--shard", "2/2", "--resume", s(&two), "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("another build of cachestorm"), "{err}");
}

#[test]
fn bad_experiments_exit_2_naming_file_line_and_column() {
    let t = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown-key",
            "replications = 2\n[vary]\nclient.op_timout = [\"100ms\"]\n",
            ":4:21: key `client.op_timout`: unknown key `op_timout`; did you mean `op_timeout`?",
        ),
        (
            "bad-value",
            "replications = 2\n[vary]\nclient.op_timeout = [\"100ms\", \"fast\"]\n",
            ":4:31: key `client.op_timeout`:",
        ),
        (
            "bad-variant",
            "replications = 2\n[vary]\n\"fault.0.kind\" = [\"frozen\", \"crsh\"]\n",
            ":4:29: key `fault.0.kind`: unknown value `crsh`; did you mean `crash`?",
        ),
        (
            "bad-set",
            "replications = 2\n[set]\nservice.threads = -3\n",
            ":4:19: key `service.threads`",
        ),
        (
            "excluded-all",
            "replications = 2\n[vary]\nclient.op_timeout = [\"100ms\"]\n[[exclude]]\nclient.op_timeout = \"100ms\"\n",
            ":5:1: key `exclude`: the [[exclude]] entries remove all 1 point(s)",
        ),
        (
            "bad-metric",
            "replications = 2\nmetrics = [\"latency_ms.p99\", \"latency.p50\"]\n",
            ":3:30: key `metrics`: `latency.p50` is not a field of the run summary",
        ),
        (
            "no-replications",
            "replications = 0\n",
            ":2:16: key `replications`: must be at least 1",
        ),
    ];
    for (name, body, expected) in cases {
        let e = experiment(
            t.path(),
            &format!("{name}.toml"),
            "models/testbed/frozen.toml",
            body,
        );
        let out = sweep(&[s(&e), "--out", s(&t.path().join(name)), "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.toml{expected}")),
            "{name}: expected `{expected}` in:\n{err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!t.path().join(name).exists(), "{name}: nothing is written");
    }
    let p = t.path().join("missing-model.toml");
    std::fs::write(&p, "replications = 2\nmodel = \"../nowhere/m.toml\"\n").unwrap();
    let out = sweep(&[s(&p), "--out", s(&t.path().join("mm")), "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("missing-model.toml:2:9: key `model`"), "{err}");
}

/// The 95 % intervals of the mean M/M/1 latency cover the analytic truth
/// W = 1 / (mu − lambda) at about the nominal rate.
///
/// 16 arrival rates (300 to 900 per second against mu = 1000 per second)
/// with 10 replications each and independent seeds, so the 16 coverage
/// events are independent (with common random numbers one unlucky seed
/// would sink every point at once). With correct intervals each covers with
/// probability 0.95, and at least 13 of 16 do with probability 0.99; with
/// intervals 3× too narrow each would cover with probability about 0.53
/// (P(|t₉| < 2.262 / 3)), and 13 of 16 would happen with probability under
/// 1 %. The test also checks that power on the data: the same intervals
/// shrunk 3× must fail the bar.
#[test]
fn confidence_intervals_cover_the_analytic_mm1_mean() {
    let t = tempfile::tempdir().unwrap();
    let e = experiment(
        t.path(),
        "coverage.toml",
        "models/checks/mm1.toml",
        "replications = 10\nseed = 2024\nmetrics = [\"windows.steady.latency_ms.mean\"]\n[vary]\nworkload.rate = { from = 300, to = 900, step = 40 }\n[set]\nduration = \"60s\"\nwarmup = \"5s\"\ndrain = \"2s\"\n",
    );
    let out = t.path().join("out");
    ok(sweep(&[
        s(&e),
        "--out",
        s(&out),
        "--independent-seeds",
        "--quiet",
    ]));
    let (head, rows) = csv(&read(&out, "results.csv"));
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (rate, mean, low, high) = (
        col("param.workload.rate"),
        col("windows.steady.latency_ms.mean.mean"),
        col("windows.steady.latency_ms.mean.ci95_low"),
        col("windows.steady.latency_ms.mean.ci95_high"),
    );
    assert_eq!(rows.len(), 16);
    let mut covered = 0;
    let mut covered_narrow = 0;
    let mut report = String::new();
    for r in &rows {
        let lambda: f64 = r[rate].parse().unwrap();
        let truth = 1000.0 / (1000.0 - lambda); // ms
        let (m, l, h): (f64, f64, f64) = (
            r[mean].parse().unwrap(),
            r[low].parse().unwrap(),
            r[high].parse().unwrap(),
        );
        assert!(l < m && m < h, "a real interval: {r:?}");
        let half = (h - l) / 2.0;
        let hit = (l..=h).contains(&truth);
        covered += usize::from(hit);
        covered_narrow += usize::from((m - half / 3.0..=m + half / 3.0).contains(&truth));
        report.push_str(&format!(
            "rate {lambda}: truth {truth:.3} ms, mean {m:.3} [{l:.3}, {h:.3}] {}\n",
            if hit { "covers" } else { "MISSES" }
        ));
    }
    eprintln!("{report}{covered} of 16 cover; shrunk 3x: {covered_narrow} of 16");
    assert!(
        covered >= 13,
        "{covered} of 16 intervals cover the truth:\n{report}"
    );
    assert!(
        covered_narrow < 13,
        "intervals 3× too narrow would pass too ({covered_narrow} of 16), so the test has no power:\n{report}"
    );
}

#[test]
fn shipped_experiments_are_valid() {
    use cachestorm::config::experiment::Experiment;
    use cachestorm::sweep::{Plan, PlanOptions};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let e = Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
            if e.map.is_some() {
                // A vulnerability map is checked by its own planner.
                let args = cachestorm::sweep::SweepArgs {
                    experiment: path.clone(),
                    ..Default::default()
                };
                cachestorm::sweep::vmap::check(&args).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
                continue;
            }
            let points = e.points.len();
            let plan = Plan::new(e, PlanOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                plan.runs().len(),
                points * plan.header.replications as usize
            );
            n += 1;
        }
    }
    assert!(n >= 2, "the shipped experiments are found");
}

/// Sequential stopping: points stop at different replication counts, within
/// [min, max]; the files are the same at 1 and 2 threads and after a resume
/// from a journal cut short.
#[test]
fn sequential_stopping_is_deterministic_and_resumable() {
    let t = tempfile::tempdir().unwrap();
    let body = mm1_body(1, "[200, 850]").replace(
        "replications = 1",
        "replications = { min = 3, max = 12, until = \"±20 pp\" }\nrank_by = \"latency_ms.mean\"",
    );
    let e = experiment(t.path(), "e.toml", "models/checks/mm1.toml", &body);
    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    ok(sweep(&[s(&e), "--out", s(&a), "--threads", "1", "--quiet"]));
    ok(sweep(&[s(&e), "--out", s(&b), "--threads", "2", "--quiet"]));
    assert_same_files(&a, &b);
    let (head, rows) = csv(&read(&a, "results.csv"));
    let n = head.iter().position(|h| h == "n").unwrap();
    let counts: Vec<u32> = rows.iter().map(|r| r[n].parse().unwrap()).collect();
    assert_eq!(counts.len(), 2);
    assert!(counts.iter().all(|&k| (3..=12).contains(&k)), "{counts:?}");
    assert!(
        counts[0] < counts[1],
        "the busier queue needs more replications: {counts:?}"
    );
    // Resume from a journal holding the header and the first 4 runs.
    std::fs::create_dir_all(&c).unwrap();
    std::fs::copy(a.join("experiment.toml"), c.join("experiment.toml")).unwrap();
    let journal = String::from_utf8(read(&a, "journal.jsonl")).unwrap();
    let cut: String = journal.lines().take(5).map(|l| format!("{l}\n")).collect();
    std::fs::write(c.join("journal.jsonl"), cut).unwrap();
    ok(sweep(&[
        s(&e),
        "--resume",
        s(&c),
        "--threads",
        "2",
        "--quiet",
    ]));
    assert_same_files(&a, &c);
    let md = String::from_utf8(read(&a, "ranking.md")).unwrap();
    assert!(md.contains("3 to 12 replications per point"), "{md}");
    // Every chart's subtitle says the same, not "12 replications per point".
    let mut charts = 0;
    for e in std::fs::read_dir(&a).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            let svg = std::fs::read_to_string(&p).unwrap();
            assert!(
                svg.contains(
                    "3 to 12 replications per point (each point stopped once its interval"
                ),
                "{}",
                p.display()
            );
            charts += 1;
        }
    }
    assert!(charts > 0, "the sequential sweep drew no chart");
    let html = String::from_utf8(read(&a, "report.html")).unwrap();
    assert!(html.contains("3 to 12 replications per point"), "{html}");
    let dry = sweep(&[s(&e), "--dry-run"]);
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains("× 3 to 12 replication(s) = up to 24 runs"),
        "{text}"
    );
}
