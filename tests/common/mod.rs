//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cachestorm::config::{self, Model};
use cachestorm::sim::protocol::NodeEventKind;
use cachestorm::sim::{self, RunOutput};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads a model file of the repository with overrides.
pub fn load(rel: &str, sets: &[&str]) -> Model {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    config::load_model(&root().join(rel), &sets).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses a model from text with overrides.
pub fn parse(text: &str, sets: &[&str]) -> Model {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    config::model_from_str(Path::new("inline.toml"), text, &sets).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a model without keeping its timeline.
pub fn run(model: &Model) -> RunOutput {
    sim::run(model, &mut |_| {})
}

/// `cachestorm run <model> --quiet --no-plots --force --out <out>`, run in
/// folder `dir`.
pub fn forced_run(dir: &Path, model: &str, out: &Path) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("cachestorm")
        .unwrap()
        .current_dir(dir)
        .args(["run", model, "--quiet", "--no-plots", "--force", "--out"])
        .arg(out)
        .assert()
}

/// Times (s) at which client `client` saw `what` on node `node`.
pub fn event_times(out: &RunOutput, node: u16, what: NodeEventKind) -> Vec<f64> {
    out.node_events
        .iter()
        .filter(|e| e.node == node && e.what == what)
        .map(|e| e.time as f64 / 1e9)
        .collect()
}

/// The names of the files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Reads a CSV file into rows of (header → value).
pub fn read_csv(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Asserts that node `node` never saw `what` in `out`, and that node
/// `control_node` did see it in `control`, a run where it must happen: an
/// absence alone would also pass if the event were renamed or no longer
/// recorded.
pub fn assert_never(
    out: &RunOutput,
    node: u16,
    what: NodeEventKind,
    control: &RunOutput,
    control_node: u16,
) {
    let seen = event_times(out, node, what);
    assert!(seen.is_empty(), "node {node} saw {what} at {seen:?}");
    assert!(
        !event_times(control, control_node, what).is_empty(),
        "the control run never saw {what} on node {control_node}, so its absence proves nothing"
    );
}
