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
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
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
        other => panic!("unknown generator {other:?}"),
    }
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
    cmd.current_dir(corpus()).arg(command).arg(&model);
    cmd.args(&case.args);
    if command == "run" {
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
        } else if name == "README.md" {
            continue;
        } else {
            panic!("{}: name it text-… or sets-…", p.display());
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
