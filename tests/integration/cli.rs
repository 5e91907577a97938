//! The command line end to end: outputs, determinism, conservation,
//! overrides and bad input.

use std::path::Path;

use crate::common::{read_csv, root};
use assert_cmd::Command;
use serde_json::Value;

fn cachestorm() -> Command {
    let mut c = Command::cargo_bin("cachestorm").unwrap();
    c.current_dir(root());
    c
}

fn run_model(model: &str, out: &Path, extra: &[&str]) {
    cachestorm()
        .args(["run", model, "--quiet", "--no-plots", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .filter(|(n, _)| n.ends_with(".csv") || n.ends_with(".json"))
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_gives_identical_files_another_seed_other_numbers() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    run_model("models/testbed/frozen.toml", &a, &[]);
    run_model("models/testbed/frozen.toml", &b, &[]);
    run_model("models/testbed/frozen.toml", &c, &["--seed", "2"]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), 3, "timeline.csv, summary.json, node_events.csv");
    assert_eq!(fa, fb);
    assert_ne!(summary(&a)["latency_ms"], summary(&c)["latency_ms"]);
    assert_eq!(summary(&c)["seed"], 2);
}

/// Every request ends exactly once: offered is the sum of the six outcomes in
/// total and in every window; the timeline's columns add up to the summary.
#[test]
fn every_request_ends_exactly_once() {
    let t = tempfile::tempdir().unwrap();
    for (i, model) in ["models/testbed/frozen.toml", "models/incident.toml"]
        .iter()
        .enumerate()
    {
        let dir = t.path().join(i.to_string());
        run_model(model, &dir, &[]);
        let s = summary(&dir);
        let outcomes = [
            "succeeded",
            "late",
            "rejected",
            "timed_out",
            "failed",
            "unfinished",
        ];
        let total = |v: &Value| outcomes.iter().map(|k| v[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!(
            total(&s["requests"]),
            s["requests"]["offered"].as_u64().unwrap()
        );
        for w in ["steady", "fault", "recovery"] {
            let win = &s["windows"][w];
            assert_eq!(
                total(&win["requests"]),
                win["offered"].as_u64().unwrap(),
                "{model} {w}"
            );
        }
        let rows = read_csv(&dir.join("timeline.csv"));
        let col = |k: &str| {
            rows.iter()
                .map(|r| r[k].parse::<u64>().unwrap())
                .sum::<u64>()
        };
        assert_eq!(
            col("offered"),
            s["requests"]["offered"].as_u64().unwrap(),
            "{model}"
        );
        for k in outcomes {
            assert_eq!(col(k), s["requests"][k].as_u64().unwrap(), "{model}: {k}");
        }
        assert_eq!(col("over_slo"), s["over_slo"].as_u64().unwrap());
        for k in [
            "hit",
            "miss",
            "timeout",
            "unsent_timeout",
            "cancelled",
            "redirected",
            "error",
        ] {
            assert_eq!(
                col(&format!("cache_{k}")),
                s["cache_ops"][k].as_u64().unwrap(),
                "{model}: cache {k}"
            );
        }
    }
}

#[test]
fn set_overrides_change_the_run_and_may_add_keys() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    run_model("models/testbed/frozen.toml", &a, &[]);
    // A shorter op timeout, another failure mode, and a key the file leaves
    // out (the subtable [client.spymemcached] gets a new key).
    run_model(
        "models/testbed/frozen.toml",
        &b,
        &[
            "--set",
            "client.op_timeout=100ms",
            "--set",
            "fault.0.kind=crash",
            "--set",
            "client.spymemcached.max_reconnect_delay=5s",
        ],
    );
    let (sa, sb) = (summary(&a), summary(&b));
    assert!(sa["windows"]["fault"]["success_ratio"].as_f64().unwrap() < 0.5);
    assert!(sb["windows"]["fault"]["success_ratio"].as_f64().unwrap() > 0.99);
    let events = std::fs::read_to_string(b.join("node_events.csv")).unwrap();
    assert!(events.contains("fault_start,crash"));
    // max_reconnect_delay = 5s: refused attempts at +2, +6, +11, +16 … s.
    assert!(events.contains("41.000"), "{events}");
}

#[test]
fn a_bad_file_gives_one_line_with_position_and_exit_2_and_no_files() {
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("bad.toml");
    let text = std::fs::read_to_string(root().join("models/testbed/frozen.toml"))
        .unwrap()
        .replace("op_timeout = \"2500ms\"", "op_timeout = 2500");
    std::fs::write(&model, text).unwrap();
    let out = t.path().join("out");
    let assert = cachestorm()
        .arg("run")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.toml:36:14"), "{stderr}");
    assert!(stderr.contains("client.op_timeout"), "{stderr}");
    assert!(stderr.contains("ms"), "names the allowed units: {stderr}");
    assert!(!out.exists(), "no output folder is created");
}

#[test]
fn a_bad_override_names_the_argument() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let assert = cachestorm()
        .args([
            "run",
            "models/testbed/frozen.toml",
            "--set",
            "client.spymemcached.failure_mode=redistrib",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--set client.spymemcached.failure_mode=redistrib"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `redistribute`"), "{stderr}");
    assert!(stderr.contains("redistribute, retry, cancel"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn an_existing_output_folder_is_not_overwritten_without_force() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let assert = cachestorm()
        .args(["run", "models/testbed/none.toml", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    crate::common::forced_run(&root(), "models/testbed/none.toml", &out).success();
    assert!(out.join("summary.json").exists());
}

#[test]
fn check_validates_every_shipped_model() {
    let mut models = Vec::new();
    for dir in ["models", "models/testbed", "models/checks"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                models.push(p);
            }
        }
    }
    assert!(models.len() >= 5);
    cachestorm().arg("check").args(&models).assert().success();
}

/// A golden summary: any change to the numbers of the testbed's frozen run
/// must be deliberate (review the diff, then `cargo insta accept`).
#[test]
fn golden_summary_of_the_frozen_testbed() {
    let t = tempfile::tempdir().unwrap();
    run_model("models/testbed/frozen.toml", t.path(), &[]);
    let text = std::fs::read_to_string(t.path().join("summary.json")).unwrap();
    insta::assert_snapshot!("frozen_testbed_summary", text);
}

/// Every shipped model, and each with every fault kind and failure mode, keeps
/// the simulator's invariants (conservation, capacities, time order, counts).
#[test]
fn shipped_models_keep_the_invariants() {
    // Every kind the model language has: a new one is covered here by itself.
    let kinds = cachestorm::config::FaultKind::ALL.map(|k| k.name());
    for model in ["models/testbed/frozen.toml", "models/incident.toml"] {
        for (i, kind) in kinds.iter().enumerate() {
            let mode = ["redistribute", "retry", "cancel"][i % 3];
            let sets = [
                format!("fault.0.kind={kind}"),
                format!("client.spymemcached.failure_mode={mode}"),
                "duration=150s".to_string(),
            ];
            let m = cachestorm::config::load_model(&root().join(model), &sets).unwrap();
            if let Err(v) = cachestorm::sim::run_checked(&m, true, &mut |_| {}) {
                panic!("{model} with {sets:?}: {v}");
            }
        }
    }
}

/// `--version` names the commit and the build that the sweep fingerprint
/// carries.
#[test]
fn version_names_the_commit_and_build() {
    let out = cachestorm().arg("--version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert_eq!(
        text.trim(),
        format!(
            "cachestorm {} (commit {}, build {})",
            env!("CARGO_PKG_VERSION"),
            cachestorm::COMMIT,
            cachestorm::BUILD
        )
    );
    assert_eq!(cachestorm::BUILD.len(), 16);
    assert!(cachestorm::BUILD.chars().all(|c| c.is_ascii_hexdigit()));
}

/// Completion scripts and the manual page come from the clap definitions:
/// every subcommand is in them.
#[test]
fn completions_and_man_page_name_every_subcommand() {
    let subcommands = [
        "run",
        "plot",
        "sweep",
        "merge",
        "check",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = cachestorm().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in subcommands {
            assert!(text.contains(sub), "{shell} completions lack `{sub}`");
        }
    }
    let out = cachestorm().arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH cachestorm"),
        "{text}"
    );
    for sub in subcommands {
        assert!(
            text.contains(&format!("cachestorm\\-{sub}")),
            "man page lacks `{sub}`"
        );
    }
    let bad = cachestorm().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
