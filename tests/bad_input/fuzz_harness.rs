//! What the fuzz targets (`fuzz/fuzz_targets/`) do with one input, shared
//! with `tests/integration/bad_input.rs`, which replays every input the fuzzers ever
//! crashed on (`tests/bad_input/fuzz/`). Any panic here is a bug.
//!
//! - [`model_text`]: the bytes are a model file: parse, validate, and when
//!   valid, run a bounded copy with the invariant checks on.
//! - [`model_sets`]: the first byte picks a shipped model, each further line
//!   is a `--set` override; then the same.
//!
//! A valid model is cut down before it runs (arrivals for at most 3 s at
//! most 500/s, a drain of at most 2 s, at most 100000 keys, buckets of at
//! least 10 ms) and skipped when the runaway estimate is still above 300000
//! events, so every run takes milliseconds.

#![allow(dead_code)]

use std::path::Path;

use cachestorm::config::{self, Model, estimate};

const SEC: u64 = 1_000_000_000;
const MAX_EVENTS: u64 = 300_000;

/// The models `model_sets` starts from.
pub const BASES: &[(&str, &str)] = &[
    ("set_base.toml", include_str!("set_base.toml")),
    (
        "frozen.toml",
        include_str!("../../models/testbed/frozen.toml"),
    ),
    (
        "crash.toml",
        include_str!("../../models/testbed/crash.toml"),
    ),
    ("incident.toml", include_str!("../../models/incident.toml")),
    ("mm1.toml", include_str!("../../models/checks/mm1.toml")),
];

/// One input of the `model_text` target.
pub fn model_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_message(config::model_from_str(Path::new("fuzz.toml"), &text, &[]));
}

/// One input of the `model_sets` target.
pub fn model_sets(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (name, base) = BASES[pick as usize % BASES.len()];
    let sets: Vec<String> = String::from_utf8_lossy(rest)
        .lines()
        .take(16)
        .map(str::to_string)
        .collect();
    check_message(config::model_from_str(Path::new(name), base, &sets));
}

/// A refusal must be one line; a valid model must run within its bounds.
fn check_message(result: Result<Model, config::ConfigError>) {
    match result {
        Err(e) => {
            let line = e.to_string();
            assert!(!line.contains('\n'), "a multi-line error: {line:?}");
            assert!(!line.is_empty());
        }
        Ok(model) => run_bounded(model),
    }
}

/// Cuts a valid model down to a tiny run and runs it with every check on.
pub fn run_bounded(mut m: Model) {
    let est = estimate::events(&m).total();
    m.duration = m.duration.min(3 * SEC);
    m.drain = m.drain.min(2 * SEC);
    m.warmup = m.warmup.min(m.duration - 1);
    m.bucket = m.bucket.max(10_000_000);
    let duration = m.duration;
    m.workload.rates.retain(|&(at, _)| at < duration);
    for r in &mut m.workload.rates {
        r.1 = r.1.min(500.0);
    }
    m.workload.keys.count = m.workload.keys.count.min(100_000);
    m.faults.retain(|f| f.start < duration);
    let cut = estimate::events(&m).total();
    assert!(
        cut <= est.max(1).saturating_mul(2).saturating_add(10_000),
        "cutting raised {est} to {cut}"
    );
    if cut > MAX_EVENTS {
        return;
    }
    let end = m.end();
    let mut bad_row = None;
    let out = cachestorm::sim::run_checked(&m, true, &mut |row| {
        if bad_row.is_none() {
            bad_row = row_problem(row, end);
        }
    })
    .unwrap_or_else(|v| panic!("invariant broken: {v}\n{m:#?}"));
    if let Some(problem) = bad_row {
        panic!("a timeline row is wrong: {problem}\n{m:#?}");
    }
    let actual = out.summary.events;
    assert!(
        actual <= 100 * cut + 50_000,
        "the runaway estimate {cut} is far below the {actual} events of the run\n{m:#?}"
    );
}

/// What is impossible in a timeline row of a run that ends at `end` (ns):
/// times outside the run, latencies (of requests or of the database) longer
/// than the run or negative, unordered percentiles, shares outside [0, 1].
pub fn row_problem(row: &cachestorm::metrics::TimelineRow, end: u64) -> Option<String> {
    let run_ms = end as f64 / 1e6;
    // HDR histograms round up by at most 0.1 % (3 significant digits).
    let longest = run_ms * 1.01 + 1.0;
    if row.start >= row.end || row.end > end {
        return Some(format!(
            "bucket {}..{} in a run of {end} ns",
            row.start, row.end
        ));
    }
    let l = &row.latency;
    // Percentiles come from the histogram (µs, 3 significant digits), the
    // mean and the max are exact: allow the histogram's rounding between them.
    let rounded = |x: f64| x * 1.001 + 0.002;
    let quantiles = [l.p50, l.p90, l.p99, l.p999];
    if quantiles
        .iter()
        .chain([&l.mean, &l.max])
        .any(|x| !x.is_finite() || *x < 0.0 || *x > longest)
        || quantiles.windows(2).any(|w| w[0] > w[1])
        || quantiles
            .iter()
            .chain([&l.mean])
            .any(|&x| x > rounded(l.max))
    {
        return Some(format!("latency {l:?} in a run of {run_ms} ms"));
    }
    if !row.db_latency_ms.is_finite() || row.db_latency_ms < 0.0 || row.db_latency_ms > longest {
        return Some(format!(
            "db_latency_ms {} in a run of {run_ms} ms",
            row.db_latency_ms
        ));
    }
    for (i, n) in row.nodes.iter().enumerate() {
        if !(0.0..=1.0).contains(&n.active_share) || n.state > 8 {
            return Some(format!("node {i}: {n:?}"));
        }
    }
    None
}

/// The model the `experiment_text` target's experiments start from.
const EXPERIMENT_MODEL: &str = include_str!("sweep/model.toml");

/// One input of the `experiment_text` target: the bytes are an experiment
/// file on a small valid model (`sweep/model.toml`). It is parsed and
/// checked, and its plan made with a low `--max-events` (every point
/// validated and guarded); nothing runs. A refusal must be one line once
/// the command line has made it one (`Error::line`), and short.
pub fn experiment_text(data: &[u8]) {
    use cachestorm::config::experiment::Experiment;
    use cachestorm::sweep::{Plan, PlanOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("model.toml"), EXPERIMENT_MODEL).expect("write");
    let path = dir.path().join("e.toml");
    let text = String::from_utf8_lossy(data).into_owned();
    let refused = |e: cachestorm::Error| {
        let line = e.line();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.len() < 20_000, "an error line of {} bytes", line.len());
    };
    match Experiment::from_text(&path, text) {
        Err(e) => refused(e.into()),
        Ok(e) => {
            // Big grids are valid but slow to plan: skip them.
            if e.points.len() > 200 {
                return;
            }
            let options = PlanOptions {
                max_events: MAX_EVENTS,
                ..PlanOptions::default()
            };
            if let Err(e) = Plan::new(e, options) {
                refused(e.into());
            }
        }
    }
}

/// One input of the `journal` target: the bytes are a sweep's
/// `journal.jsonl`. It is read back as `merge` and `--resume` read it;
/// every record accepted must hold only finite numbers, and the final files
/// (`results.csv`, the ranking, …) are then written from it, streamed from
/// the journal as `merge` does, into a scratch folder: they must be the
/// bytes the in-memory functions give for the same records. Nothing may
/// panic.
pub fn journal(data: &[u8]) {
    use cachestorm::sweep::{journal, output};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(journal::JOURNAL), data).expect("write");
    let Ok(mut c) = journal::read(dir.path()) else {
        return;
    };
    for r in &c.records {
        for (_, v) in &r.values {
            if let Some(v) = v {
                assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "{v:?} accepted");
            }
        }
    }
    let scanned = journal::scan(dir.path(), &journal::common_seed, &mut |_, _| {})
        .expect("scan accepts what read accepts");
    assert_eq!(scanned.index.len(), c.records.len());
    let out = tempfile::tempdir().expect("tempdir");
    let runs =
        output::Runs::open(vec![dir.path().join(journal::JOURNAL)], scanned.index).expect("open");
    if output::write_final(out.path(), &c.header, &runs, "").is_err() {
        return;
    }
    output::sort(&mut c.records);
    let stats = output::point_stats(&c.header, &c.records);
    let file = |n: &str| std::fs::read(out.path().join(n)).expect("written");
    assert_eq!(file("results.csv"), output::results_csv(&c.header, &stats));
    assert_eq!(
        file("replications.csv"),
        output::replications_csv(&c.header, &c.records)
    );
    let ranked = cachestorm::sweep::ranking::rows(&c.header, &stats, &c.records);
    assert_eq!(
        file("ranking.csv"),
        cachestorm::sweep::ranking::csv(&c.header, &ranked)
    );
    assert_eq!(
        file("ranking.md"),
        cachestorm::sweep::ranking::markdown(&c.header, &ranked, &c.records).into_bytes()
    );
    assert_eq!(
        file("journal.jsonl"),
        journal::render(&c.header, &c.records).into_bytes()
    );
}
