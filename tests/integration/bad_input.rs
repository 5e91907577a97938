//! The bad-input corpus (`tests/bad_input/`): every case must be refused by
//! both `cachestorm run` and `cachestorm check` with exit code 2, exactly one
//! line on stderr that contains each expected piece (the file:line:col or the
//! `--set` argument, the key, what was found, what is allowed, a "did you
//! mean"), no panic, nothing on stdout, and no output folder.
//!
//! A case is `NAME.expect`, read line by line:
//!
//! - `# …`: a comment (what the case is);
//! - `model: PATH`: the model file, relative to `tests/bad_input/` or
//!   absolute (default `NAME.toml`);
//! - `generate: KIND`: instead, a file the test writes into a temporary
//!   folder as `NAME.toml` (for inputs too big to keep: `huge-file`,
//!   `nested-arrays`, `nested-inline-tables`, `unclosed-arrays`,
//!   `deep-header`, `long-line`);
//! - `set: KEY=VALUE`: a `--set` override; `arg: X`: any other argument;
//! - `expect: TEXT`: a piece the error line must contain.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::fuzz_harness;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input")
}

/// One case of the corpus.
#[derive(Debug, Default)]
struct Case {
    name: String,
    model: Option<String>,
    generate: Option<String>,
    args: Vec<String>,
    expect: Vec<String>,
}

fn parse_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let mut case = Case {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        ..Case::default()
    };
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{}: bad line {line:?}", path.display()));
        match tag {
            "model" => case.model = Some(value.to_string()),
            "generate" => case.generate = Some(value.to_string()),
            "set" => case.args.extend(["--set".to_string(), value.to_string()]),
            "arg" => case.args.push(value.to_string()),
            "expect" => case.expect.push(value.to_string()),
            other => panic!("{}: unknown tag {other:?}", path.display()),
        }
    }
    assert!(
        !case.expect.is_empty(),
        "{}: a case must expect something",
        path.display()
    );
    case
}

fn cases() -> Vec<Case> {
    cases_in(&corpus())
}

fn cases_in(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "expect"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_case(p)).collect()
}

/// The text of a generated input.
fn generate(kind: &str) -> Vec<u8> {
    let n = 100_000;
    match kind {
        "huge-file" => "# padding\n".repeat((17 << 20) / 10).into_bytes(),
        "nested-arrays" => format!("a = {}{}\n", "[".repeat(n), "]".repeat(n)).into_bytes(),
        "nested-inline-tables" => {
            format!("a = {}1{}\n", "{ b = ".repeat(n / 2), " }".repeat(n / 2)).into_bytes()
        }
        "unclosed-arrays" => format!("a = {}", "[".repeat(n)).into_bytes(),
        "deep-header" => format!("[{}b]\nx = 1\n", "a.".repeat(n)).into_bytes(),
        "long-line" => {
            format!("duration = \"10s\"\nname = {}\n", "9".repeat(10_000_000)).into_bytes()
        }
        "nodes-400k" => {
            let nodes: Vec<String> = (0..400_000).map(|i| format!("\"n{i}:11211\"")).collect();
            format!(
                "duration = \"10s\"\n[workload]\nrate = 100\n[[workload.flow]]\nname = \"r\"\nsteps = [{{ op = \"get\" }}]\n[cluster]\nnodes = [{}]\n",
                nodes.join(", ")
            )
            .into_bytes()
        }
        other => generate_experiment(other),
    }
}

/// The text of a generated experiment (on `sweep/model.toml`).
fn generate_experiment(kind: &str) -> Vec<u8> {
    let model = corpus().join("sweep/model.toml");
    let head = format!(
        "model = {:?}\nreplications = 1\n",
        model.display().to_string()
    );
    let list = |n: usize| {
        (1..=n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let body = match kind {
        "values-1.4m" => format!("[vary]\nworkload.rate = [{}]\n", list(1_400_000)),
        "excludes-200k" => {
            let mut s = format!("[vary]\nworkload.rate = [{}]\n", list(200_000));
            for i in 1..=200_000 {
                s.push_str(&format!("[[exclude]]\nworkload.rate = {i}\n"));
            }
            s
        }
        "metrics-500k" => {
            let mut names: Vec<String> = (0..500_000).map(|i| format!("\"m{i}\"")).collect();
            names.push("\"m499999\"".into());
            format!("metrics = [{}]\n", names.join(", "))
        }
        "grid-1m" => format!(
            "[vary]\nworkload.rate = [{}]\nservice.threads = [{}]\n",
            list(1000),
            list(1000)
        ),
        other => panic!("unknown generator {other:?}"),
    };
    (head + &body).into_bytes()
}

/// Runs one case through one subcommand; returns what is wrong, if anything.
fn check_case(case: &Case, command: &str, scratch: &Path) -> Option<String> {
    let model = match (&case.generate, &case.model) {
        (Some(kind), _) => {
            let p = scratch.join(format!("{}.toml", case.name));
            std::fs::write(&p, generate(kind)).unwrap();
            p
        }
        (None, Some(m)) if Path::new(m).is_absolute() => PathBuf::from(m),
        (None, Some(m)) => PathBuf::from(m),
        (None, None) => PathBuf::from(format!("{}.toml", case.name)),
    };
    let out = scratch.join(format!("out-{}-{command}", case.name));
    let mut cmd = Command::cargo_bin("cachestorm").unwrap();
    // Relative paths are run from the corpus folder, so messages name the
    // file as the case spells it.
    let folder = if command == "sweep" {
        corpus().join("sweep")
    } else {
        corpus()
    };
    cmd.current_dir(folder).arg(command).arg(&model);
    cmd.args(&case.args);
    if command == "run" || command == "sweep" {
        cmd.args(["--quiet", "--no-plots", "--out"]).arg(&out);
    }
    cmd.timeout(Duration::from_secs(60));
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if output.status.code() != Some(2) {
        problems.push(format!("exit status {:?}, not 2", output.status.code()));
    }
    if stderr.lines().count() != 1 || !stderr.ends_with('\n') {
        problems.push(format!("{} lines on stderr", stderr.lines().count()));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("a panic".into());
    }
    if !stderr.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".into());
    }
    if !output.stdout.is_empty() {
        problems.push(format!(
            "stdout: {:?}",
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    for piece in &case.expect {
        if !stderr.contains(piece.as_str()) {
            problems.push(format!("missing {piece:?}"));
        }
    }
    if out.exists() {
        problems.push(format!("{} was created", out.display()));
    }
    let shown: String = stderr.chars().take(600).collect();
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({command}): {}\n    stderr: {}",
            case.name,
            problems.join("; "),
            shown.trim_end()
        )
    })
}

#[test]
fn every_bad_input_is_refused_with_one_clear_line() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let scratch = tempfile::tempdir().unwrap();
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|c| ["run", "check"].map(|cmd| check_case(c, cmd, scratch.path())))
        .flatten()
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} case runs failed:\n{}",
        failures.len(),
        2 * cases.len(),
        failures.join("\n")
    );
}

/// The experiment corpus (`tests/bad_input/sweep/`, cases as above on
/// experiment files, on the valid `sweep/model.toml`): every case must be
/// refused by `cachestorm sweep` before its first run, with exit code 2, one
/// line, and no output folder.
#[test]
fn every_bad_experiment_is_refused_with_one_clear_line() {
    let cases = cases_in(&corpus().join("sweep"));
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    let scratch = tempfile::tempdir().unwrap();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_case(c, "sweep", scratch.path()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every model file of the corpus has its expectations (a file without
/// them would silently test nothing), except the valid base of the `--set`
/// cases, which must stay valid.
#[test]
fn every_corpus_file_has_an_expectation() {
    let dir = corpus();
    let (mut checked, mut base_seen) = (0, false);
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        if stem == "set_base" {
            let m = cachestorm::config::load_model(&p, &[]);
            assert!(m.is_ok(), "set_base.toml must be valid: {:?}", m.err());
            base_seen = true;
            continue;
        }
        assert!(
            dir.join(format!("{stem}.expect")).exists(),
            "{} has no {stem}.expect",
            p.display()
        );
        checked += 1;
    }
    // An empty or moved corpus would otherwise pass.
    assert!(base_seen, "no set_base.toml in {}", dir.display());
    assert!(
        checked >= 40,
        "only {checked} corpus files in {}",
        dir.display()
    );
}

/// Every input the fuzzers crashed on (`tests/bad_input/fuzz/`, named
/// `text-…` for the `model_text` target and `sets-…` for `model_sets`) goes
/// through the targets' code again: parse, validate, bounded run. None may
/// panic.
#[test]
fn fuzz_findings_stay_fixed() {
    let dir = corpus().join("fuzz");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&p).unwrap();
        if name.starts_with("text-") {
            fuzz_harness::model_text(&data);
        } else if name.starts_with("sets-") {
            fuzz_harness::model_sets(&data);
        } else if name.starts_with("exp-") {
            fuzz_harness::experiment_text(&data);
        } else if name.starts_with("journal-") {
            fuzz_harness::journal(&data);
        } else if name == "README.md" {
            continue;
        } else {
            panic!(
                "{}: name it text-…, sets-…, exp-… or journal-…",
                p.display()
            );
        }
        n += 1;
    }
    assert!(n > 0, "no fuzz findings in {}", dir.display());
}

// ------------------------------------------------------------------ outputs

/// `--out` naming a file is bad input, and the file is left alone.
#[test]
fn an_output_path_that_is_a_file_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("results");
    std::fs::write(&out, "mine").unwrap();
    let a = crate::common::forced_run(&corpus(), "set_base.toml", &out).code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("the output folder is a file"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
}

/// With `--force`, an earlier run's files are removed before the run, so a
/// run without plots (or one that fails) never sits beside older numbers;
/// files that are not a run's stay.
#[test]
fn force_leaves_no_file_of_an_earlier_run() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for f in [
        "summary.json",
        "timeline.png",
        "nodes.svg",
        ".timeline.csv.tmp",
    ] {
        std::fs::write(out.join(f), "stale").unwrap();
    }
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    crate::common::forced_run(&corpus(), "set_base.toml", &out).success();
    assert_eq!(
        crate::common::file_names(&out),
        [
            "node_events.csv",
            "notes.txt",
            "summary.json",
            "timeline.csv"
        ]
    );
    assert_ne!(
        std::fs::read_to_string(out.join("summary.json")).unwrap(),
        "stale"
    );
}

/// A run killed in the middle leaves no half file under a real name: the
/// timeline is streamed into a hidden temporary that is renamed only when
/// complete, and the summary is written after it.
#[test]
fn a_killed_run_leaves_no_half_file() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("cachestorm");
    let mut child = std::process::Command::new(bin)
        .current_dir(corpus())
        .args([
            "run",
            "set_base.toml",
            "--quiet",
            "--no-plots",
            "--set",
            "duration=20000s",
            "--set",
            "workload.rate=2000",
            "--out",
        ])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run is under way (its folder exists), then kill it.
    let started = std::time::Instant::now();
    while !out.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let finished = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!finished, "the run ended before it could be killed");
    for name in ["timeline.csv", "summary.json", "node_events.csv"] {
        assert!(!out.join(name).exists(), "{name} exists after a kill");
    }
}

// ------------------------------------------------------------- run-time guards

/// Runs the binary in the corpus folder; returns (exit code, stderr).
fn cachestorm(args: &[&str], folder: &Path) -> (Option<i32>, String) {
    let out = Command::cargo_bin("cachestorm")
        .unwrap()
        .current_dir(folder)
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stderr)
}

fn assert_refused(got: (Option<i32>, String), pieces: &[&str]) {
    let (code, stderr) = got;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for p in pieces {
        assert!(stderr.contains(p), "missing {p:?} in {stderr}");
    }
}

/// An overloaded model with an unbounded executor queue (100,000/s on one
/// thread) used to grow until an allocation failed; it stops at the bound
/// on requests in flight, naming the queue that grows, in `run` and in
/// every sweep point.
#[test]
fn an_overloaded_model_stops_at_its_memory_bound() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let overload = [
        "--set",
        "workload.rate=100000",
        "--set",
        "duration=100s",
        "--set",
        "service.threads=1",
    ];
    let mut args = vec!["run", "set_base.toml", "--quiet", "--no-plots", "--out"];
    args.push(out.to_str().unwrap());
    args.extend(overload);
    assert_refused(
        cachestorm(&args, &corpus()),
        &[
            "set_base.toml: the run stopped at",
            "requests in flight, over the limit of 2000000",
            "the largest is the executor queue (service.queue, service.threads)",
        ],
    );
    // The same through a sweep: the second point is the overloaded one.
    let exp = t.path().join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "model = {:?}\nreplications = 1\n[set]\nduration = \"100s\"\n\"service.threads\" = 1\n[vary]\nworkload.rate = [10, 100000]\n",
            corpus().join("set_base.toml").display().to_string()
        ),
    )
    .unwrap();
    let sweep_out = t.path().join("sweep");
    assert_refused(
        cachestorm(
            &[
                "sweep",
                exp.to_str().unwrap(),
                "--quiet",
                "--no-plots",
                "--threads",
                "1",
                "--out",
                sweep_out.to_str().unwrap(),
            ],
            &corpus(),
        ),
        &[
            "sweep point 1 (workload.rate=100000) replication 0",
            "requests in flight, over the limit of 2000000",
        ],
    );
}

/// Whatever the estimate said, a run past its event budget stops itself and
/// says which events ran away: mcrouter probing a crashed node every 1 ns
/// (a delay of 1 ns capped at 1 ns), held to the budget of the 720,108 events the
/// estimate used to give it (the guard now counts the probes and refuses
/// the model up front: `mcrouter_probe_storm`).
#[test]
fn a_run_past_its_event_budget_stops_itself() {
    use cachestorm::sim::{LimitExceeded, RunError, RunLimits, limits};
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/policies/frozen-mcrouter.toml");
    let sets = [
        "fault.0.kind=crash".to_string(),
        "client.mcrouter.probe_delay_initial=1ns".to_string(),
        "client.mcrouter.probe_delay_max=1ns".to_string(),
    ];
    let m = cachestorm::config::load_model(&model, &sets).unwrap();
    let estimate = 720_108;
    let limits = RunLimits {
        max_events: Some(limits::budget(estimate)),
        estimate,
        ..RunLimits::state_only()
    };
    let e = cachestorm::sim::run_limited(&m, false, limits, &mut |_| {}).err();
    let Some(RunError::Limit(LimitExceeded::Events {
        events,
        budget,
        kinds,
        ..
    })) = e
    else {
        panic!("not stopped by its budget: {e:?}");
    };
    assert!(events > budget && budget == limits::budget(estimate));
    assert!(kinds.contains("Client/Reconnect ("), "{kinds}");
    // The same model with a normal probe delay finishes within its budget.
    let m = cachestorm::config::load_model(&model, &sets[..1]).unwrap();
    let admitted = cachestorm::guard::admit("m", &m, 2_000_000_000).unwrap();
    assert!(cachestorm::sim::run_limited(&m, false, admitted.limits, &mut |_| {}).is_ok());
}

// ------------------------------------------------------------- one writer per folder

/// While another cachestorm holds a folder's lock (here this test, through
/// the library's `FolderLock`), every writer is refused with exit 2 and a
/// line naming the holder: `run --force`, a new `sweep --force`, `sweep
/// --resume`, `merge` and `plot`. Two `--resume` at once used to write duplicate
/// runs; a second `sweep --force` silently kept the first sweep's results.
#[test]
fn a_busy_folder_is_refused_naming_its_holder() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("busy");
    std::fs::create_dir(&dir).unwrap();
    let exp = corpus().join("sweep/max_events_flag.toml");
    let d = dir.to_str().unwrap();
    // A finished sweep to resume and merge.
    let (code, stderr) = cachestorm(
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--quiet",
            "--no-plots",
            "--out",
            d,
        ],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let lock = cachestorm::output::FolderLock::acquire(&dir).unwrap();
    let holder = format!(
        "is in use by another cachestorm (pid {}",
        std::process::id()
    );
    let merged = t.path().join("merged");
    std::fs::create_dir(&merged).unwrap();
    let other = cachestorm::output::FolderLock::acquire(&merged).unwrap();
    let m = merged.to_str().unwrap();
    for args in [
        vec![
            "run",
            "set_base.toml",
            "--quiet",
            "--no-plots",
            "--force",
            "--out",
            d,
        ],
        vec![
            "sweep",
            exp.to_str().unwrap(),
            "--quiet",
            "--no-plots",
            "--force",
            "--out",
            d,
        ],
        vec![
            "sweep",
            exp.to_str().unwrap(),
            "--quiet",
            "--no-plots",
            "--resume",
            d,
        ],
        vec!["merge", d, "--quiet", "--out", m],
    ] {
        assert_refused(
            cachestorm(&args, &corpus()),
            &[&holder, "wait for it to finish"],
        );
    }
    drop(other);
    drop(lock);
    // Released: the resume goes ahead (nothing left to run) and leaves no lock file.
    let (code, stderr) = cachestorm(
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--quiet",
            "--no-plots",
            "--resume",
            d,
        ],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!dir.join(cachestorm::output::LOCK_NAME).exists());
}

/// `--out` naming a file, or a symbolic link to nothing, is bad input for
/// every writer, with the path named (it was exit 1 and `Not a directory
/// (os error 20): Not a directory (os error 20)`, or `File exists`).
#[test]
fn an_output_path_that_is_not_a_folder_is_refused_by_every_writer() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    let dangling = t.path().join("dangling");
    std::os::unix::fs::symlink(t.path().join("nowhere"), &dangling).unwrap();
    let exp = corpus().join("sweep/max_events_flag.toml");
    let e = exp.to_str().unwrap();
    let shard = t.path().join("shard");
    let s = shard.to_str().unwrap();
    let (code, stderr) = cachestorm(
        &["sweep", e, "--quiet", "--no-plots", "--out", s],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    for (out, piece) in [
        (&file, "the output folder is a file"),
        (&dangling, "is a symbolic link to"),
    ] {
        let o = out.to_str().unwrap();
        for args in [
            vec!["run", "set_base.toml", "--quiet", "--no-plots", "--out", o],
            vec!["sweep", e, "--quiet", "--no-plots", "--out", o],
            vec!["merge", s, "--quiet", "--out", o],
        ] {
            assert_refused(cachestorm(&args, &corpus()), &[o, piece]);
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert!(!t.path().join("nowhere").exists());
}

// ------------------------------------------------------------- files read back

/// What `plot`, `merge` and `--resume` read back is checked: a NaN or a time
/// out of order in `timeline.csv` is bad input naming the file, line and
/// column (it was exit 1 with neither), and a journal or timeline that is
/// `/dev/zero` is refused at once instead of read until memory runs out.
#[test]
fn files_read_back_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let run = t.path().join("run");
    let r = run.to_str().unwrap();
    let (code, stderr) = cachestorm(
        &["run", "set_base.toml", "--quiet", "--no-plots", "--out", r],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let timeline = run.join("timeline.csv");
    let good = std::fs::read_to_string(&timeline).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    // NaN in line 3 (the second bucket), then line 3 before line 2.
    let nan = {
        let mut cells: Vec<String> = lines[2].split(',').map(String::from).collect();
        cells[2] = "NaN".into();
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[2] = cells.join(",");
        l.join("\n") + "\n"
    };
    std::fs::write(&timeline, nan).unwrap();
    assert_refused(
        cachestorm(&["plot", r], &corpus()),
        &[
            "timeline.csv",
            "line 3, column offered: `NaN` is not a finite number",
        ],
    );
    let mut swapped: Vec<&str> = lines.clone();
    swapped.swap(1, 2);
    std::fs::write(&timeline, swapped.join("\n") + "\n").unwrap();
    assert_refused(
        cachestorm(&["plot", r], &corpus()),
        &[
            "timeline.csv",
            "line 3, column t_s: the bucket starts at",
            "not after the previous one",
        ],
    );
    std::fs::remove_file(&timeline).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &timeline).unwrap();
    assert_refused(
        cachestorm(&["plot", r], &corpus()),
        &["timeline.csv", "not a regular file"],
    );
    // A journal that is /dev/zero, for merge and for --resume.
    let sweep = t.path().join("sweep");
    std::fs::create_dir(&sweep).unwrap();
    std::os::unix::fs::symlink("/dev/zero", sweep.join("journal.jsonl")).unwrap();
    let s = sweep.to_str().unwrap();
    let merged = t.path().join("merged");
    assert_refused(
        cachestorm(
            &["merge", s, "--quiet", "--out", merged.to_str().unwrap()],
            &corpus(),
        ),
        &["journal.jsonl: not a regular file"],
    );
    let exp = corpus().join("sweep/max_events_flag.toml");
    assert_refused(
        cachestorm(
            &[
                "sweep",
                exp.to_str().unwrap(),
                "--quiet",
                "--no-plots",
                "--resume",
                s,
            ],
            &corpus(),
        ),
        &["journal.jsonl: not a regular file"],
    );
}

/// A value edited to `"abc"` or `"NaN"`, or a changed seed, in a journal
/// was copied into `replications.csv` by `merge` and `--resume` with exit 0;
/// every record is now checked against the sweep (the seed against the one
/// the plan gives the run), naming the journal's line.
#[test]
fn journal_records_are_checked_against_the_sweep() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("sweep");
    let d = dir.to_str().unwrap();
    let exp = corpus().join("sweep/max_events_flag.toml");
    let e = exp.to_str().unwrap();
    let (code, stderr) = cachestorm(
        &["sweep", e, "--quiet", "--no-plots", "--out", d],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let journal = dir.join("journal.jsonl");
    let good = std::fs::read_to_string(&journal).unwrap();
    let merged = t.path().join("merged");
    let m = merged.to_str().unwrap();
    type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String, &'a str);
    let edits: [Edit; 3] = [
        (
            "abc",
            &|l: &str| l.replacen("\"over_slo\",\"", "\"over_slo\",\"abc", 1),
            "not a finite number",
        ),
        (
            "NaN",
            &|l: &str| {
                let i = l.find("\"over_slo\",\"").unwrap() + 12;
                let j = i + l[i..].find('"').unwrap();
                format!("{}NaN{}", &l[..i], &l[j..])
            },
            "is \"NaN\", not a finite number",
        ),
        (
            "seed",
            &|l: &str| l.replacen("\"seed\":", "\"seed\":1", 1),
            "but the sweep runs it with seed",
        ),
    ];
    for (what, edit, piece) in edits {
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        lines[2] = edit(&lines[2]);
        std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
        for args in [
            vec!["merge", d, "--quiet", "--force", "--out", m],
            vec!["sweep", e, "--quiet", "--no-plots", "--resume", d],
        ] {
            let got = cachestorm(&args, &corpus());
            assert_eq!(got.0, Some(2), "{what} {args:?}: {}", got.1);
            assert!(got.1.contains("journal.jsonl:3: "), "{what}: {}", got.1);
            assert!(got.1.contains(piece), "{what}: {}", got.1);
        }
    }
}

// ------------------------------------------------------------- output text

/// A `|` or a line break in a variant's name used to split its row of
/// `ranking.md`; every row now has as many cells as the header.
#[test]
fn names_cannot_break_the_ranking_table() {
    let t = tempfile::tempdir().unwrap();
    let exp = t.path().join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "model = {:?}\nreplications = 2\n[[variant]]\nname = \"a|b\"\n\"client.op_timeout\" = \"1s\"\n[[variant]]\nname = \"c\\nd | e\"\n\"client.op_timeout\" = \"2s\"\n",
            corpus().join("sweep/model.toml").display().to_string()
        ),
    )
    .unwrap();
    let out = t.path().join("out");
    let (code, stderr) = cachestorm(
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--quiet",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ],
        &corpus(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let md = std::fs::read_to_string(out.join("ranking.md")).unwrap();
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 4, "{md}");
    for r in &rows {
        assert_eq!(cells(r), cells(rows[0]), "{r}\n{md}");
    }
    assert!(
        md.contains("| a\\|b |") && md.contains("| c d \\| e |"),
        "{md}"
    );
}

/// A 10⁶-character key gave a 2 MB error line; the line is now short and
/// still says what is wrong.
#[test]
fn a_huge_key_gives_a_short_error_line() {
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("m.toml");
    let base = std::fs::read_to_string(corpus().join("set_base.toml")).unwrap();
    std::fs::write(&model, format!("{} = 1\n{base}", "k".repeat(1_000_000))).unwrap();
    let (code, stderr) = cachestorm(&["check", model.to_str().unwrap()], &corpus());
    assert_eq!(code, Some(2), "{}", stderr.len());
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.len() < 2_000, "{} bytes", stderr.len());
    assert!(stderr.contains("more characters]"), "{stderr}");
    assert!(stderr.contains("unknown key"), "{stderr}");
}

// ------------------------------------------------------------- finished runs streamed

/// A sweep's finished runs are streamed from its journal, never all held in
/// memory: `merge` of a journal of 1,000 runs with 3,000 summary fields each
/// (about 90 MB of JSON, about 300 MB as records in memory) writes the
/// single-machine files under a 160 MB limit on the process's data
/// (`ulimit -d`, RLIMIT_DATA). Before, every record was held until the
/// final files were written, so a sweep's memory grew with its runs (a
/// 10,000-run sweep of a 100-node model peaked at 1.1 GB; now 26 MB) and
/// this merge died on a failed allocation.
#[test]
fn finished_runs_are_streamed_not_held() {
    use cachestorm::sweep::journal::{FORMAT, Header, VERSION};
    use cachestorm::sweep::record::Record;
    use std::io::Write;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("shard");
    std::fs::create_dir(&dir).unwrap();
    let (points, replications, fields) = (10usize, 100u32, 3000usize);
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        cachestorm: "test".into(),
        fingerprint: "f".into(),
        experiment: "big".into(),
        seed: 7,
        seed_mode: "common".into(),
        replications,
        sequential: None,
        params: vec!["workload.rate".into()],
        points: (0..points).map(|p| vec![format!("{}", 100 + p)]).collect(),
        metrics: vec!["windows.fault.success_ratio".into()],
        rank_by: "windows.fault.success_ratio".into(),
        shard: None,
    };
    let mut j = std::io::BufWriter::new(std::fs::File::create(dir.join("journal.jsonl")).unwrap());
    writeln!(j, "{}", serde_json::to_string(&header).unwrap()).unwrap();
    // Runs in the order they might finish: points interleaved.
    for r in 0..replications {
        for p in 0..points {
            let mut values = vec![
                (
                    "windows.fault.offered".to_string(),
                    Some("1000".to_string()),
                ),
                (
                    "windows.fault.success_ratio".to_string(),
                    Some(format!("0.{}", 5 + (p + r as usize) % 4)),
                ),
            ];
            values.extend(
                (0..fields).map(|i| (format!("nodes.{i}.served"), Some(format!("{}", i + p)))),
            );
            let rec = Record {
                point: p,
                replication: r,
                seed: cachestorm::engine::rng::derive(7, u64::from(r)),
                values,
            };
            writeln!(j, "{}", serde_json::to_string(&rec).unwrap()).unwrap();
        }
    }
    drop(j);
    std::fs::write(dir.join("experiment.toml"), "model = \"m.toml\"\n").unwrap();
    let out = t.path().join("merged");
    let bin = assert_cmd::cargo::cargo_bin("cachestorm");
    let script = format!(
        "ulimit -d 163840 && exec {:?} merge {:?} --out {:?} --quiet --no-plots",
        bin, dir, out
    );
    let o = Command::new("sh")
        .args(["-c", &script])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?}: {stderr}", o.status);
    let reps = std::fs::read_to_string(out.join("replications.csv")).unwrap();
    assert_eq!(reps.lines().count(), 1 + points * replications as usize);
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(results.lines().count(), 1 + points);
}

// ------------------------------------------------------------- output text

/// The command printed after Ctrl-C, pasted into a shell as it is, resumes
/// the sweep, whatever the paths hold: a space, a quote and a non-ASCII
/// character in the experiment's folder and name and in the output folder.
/// Before, the hint was not shell-quoted, and pasting it failed.
#[cfg(unix)]
#[test]
fn the_resume_hint_works_when_pasted_into_a_shell() {
    let t = tempfile::tempdir().unwrap();
    let folder = t.path().join("exp ☃ files");
    std::fs::create_dir(&folder).unwrap();
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/checks/mm1.toml");
    let exp = folder.join("it's an experiment.toml");
    std::fs::write(
        &exp,
        format!(
            "model = {:?}\nreplications = 100\n[set]\nduration = \"100s\"\nwarmup = \"10s\"\n[vary]\nworkload.rate = [300, 500, 700]\n",
            model.display().to_string()
        ),
    )
    .unwrap();
    let out = t.path().join("out dir ☃");
    let journal = out.join("journal.jsonl");
    let lines = || {
        std::fs::read_to_string(&journal)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let bin = assert_cmd::cargo::cargo_bin("cachestorm");
    let mut child = std::process::Command::new(&bin)
        .current_dir(t.path())
        .arg("sweep")
        .arg(&exp)
        .arg("--out")
        .arg(&out)
        .args(["--threads", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while lines() < 4 {
        assert!(start.elapsed() < Duration::from_secs(60), "never started");
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("the sweep ended before it was interrupted ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let hint = err
        .lines()
        .skip_while(|l| !l.contains("resume with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no resume hint: {err}"))
        .trim()
        .to_string();
    let resumed = Command::new("sh")
        .current_dir(t.path())
        .args(["-c", &format!("{hint} --quiet --no-plots")])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "`{hint}` failed: {}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(lines(), 301, "every run is in the journal");
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(results.lines().count(), 4);
}

// ------------------------------------------------------------- plot validates first

/// `plot` checks every flag before it writes: a valid `--metric` followed by
/// a `--fix` of a key the sweep does not vary (or a value it never took) is
/// refused with exit 2 and one line, and every file of the folder keeps its
/// bytes. Before, the heatmap was redrawn for the new metric and then the
/// bad `--fix` was refused.
#[test]
fn plot_refuses_a_bad_flag_before_writing_anything() {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus().join("sweep/model.toml"),
        t.path().join("model.toml"),
    )
    .unwrap();
    std::fs::write(
        t.path().join("e.toml"),
        "model = \"model.toml\"\nreplications = 2\nmetrics = [\"windows.steady.success_ratio\", \"requests.offered\"]\n[vary]\n\"workload.rate\" = [50, 100]\nduration = [\"1s\", \"2s\"]\n",
    )
    .unwrap();
    let (code, err) = cachestorm(&["sweep", "e.toml", "--out", "s", "--quiet"], t.path());
    assert_eq!(code, Some(0), "{err}");
    let dir = t.path().join("s");
    let snapshot = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap() != ".cachestorm.lock")
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot();
    assert!(before.iter().any(|(n, _)| n == "heatmap.png"));
    for bad in ["nokey=1", "workload.rate=75"] {
        assert_refused(
            cachestorm(
                &["plot", "s", "--metric", "requests.offered", "--fix", bad],
                t.path(),
            ),
            &[bad.split('=').next().unwrap()],
        );
        let after = snapshot();
        assert!(
            before == after,
            "plot --fix {bad} changed {:?}",
            after
                .iter()
                .filter(|f| !before.contains(f))
                .map(|f| &f.0)
                .collect::<Vec<_>>()
        );
    }
}
