//! Textbook queueing checks: the models in `models/checks/` reduce the
//! simulator to queues whose exact answers are in
//! `tests/data/queueing-truth.csv` (a copy of
//! `shared/validation/queueing-truth.csv`), and every check below compares
//! the average over a few seeds with that truth.
//!
//! Tolerance of one comparison: `Z · sd_run / √k + slack`, where `sd_run` is
//! the standard deviation of the quantity over independent runs of this
//! size, `k` the number of seeds averaged, `Z = 4` and `slack` a bound on any
//! deterministic measurement error (only the HDR percentiles have one).
//! `sd_run` is the spread of one run of 1,000,000 customers (`sd1m` in each
//! table below, in the quantity's own unit) scaled by √(1,000,000 / n) for a
//! run of n customers. Two of those spreads come from
//! `shared/validation/README.md` (independent simulators: 2.15 % of the mean
//! wait in queue of M/M/1 at rho 0.9, 1.43 % for M/M/4 at rho 0.8); the
//! others were measured the same way by the ignored test `spread` at the
//! bottom of this file (which also reproduces the two README figures): the
//! larger of two measurements over 100 independent seeds each, rounded up. `docs/validation.md` explains
//! the choice of Z and lists the deliberate mis-modelings these tolerances
//! catch.
//!
//! Time unit: the truth file's rates have mu = 1; the models serve in a mean
//! of 1 ms, so its times are milliseconds and its rates are per millisecond.

use std::path::PathBuf;

use cachestorm::config::{Model, load_model};
use cachestorm::metrics::Summary;
use rayon::prelude::*;

/// Standard deviations allowed per comparison. 118 comparisons run; at 4 sd
/// each (two-sided 6.3e-5), the chance that an unbiased simulator fails any
/// of them (for example after a change that shifts random streams) is at
/// most 118 × 6.3e-5 ≈ 0.75 %.
const Z: f64 = 4.0;

/// Customers in the spreads `SD1M` is quoted for.
const MILLION: f64 = 1e6;

// ------------------------------------------------------------------ truth

struct Truth(Vec<(String, String, String, f64)>);

impl Truth {
    fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/queueing-truth.csv");
        let mut reader = csv::Reader::from_path(&path).expect("queueing-truth.csv");
        assert_eq!(
            reader.headers().expect("header"),
            vec!["model", "params", "metric", "value"]
        );
        let rows = reader
            .records()
            .map(|r| {
                let r = r.expect("csv row");
                (
                    r[0].to_string(),
                    r[1].to_string(),
                    r[2].to_string(),
                    r[3].parse().expect("value"),
                )
            })
            .collect();
        Truth(rows)
    }

    /// The value of `metric` for `model` with `params`, as the file spells them.
    fn get(&self, model: &str, params: &str, metric: &str) -> f64 {
        self.0
            .iter()
            .find(|r| r.0 == model && r.1 == params && r.2 == metric)
            .unwrap_or_else(|| panic!("no truth for {model} {params} {metric}"))
            .3
    }
}

/// q such that P(X > q) = 1 - p for a decreasing tail function `tail`.
fn quantile(p: f64, tail: impl Fn(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while tail(hi) > 1.0 - p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The M/M/1 sojourn tail from the truth file: P(T > t) = exp(-t / W), after
/// checking that the file's P(sojourn > t) rows say exactly that.
fn mm1_sojourn_tail(truth: &Truth, params: &str) -> impl Fn(f64) -> f64 + use<> {
    let w = truth.get("M/M/1", params, "W");
    for t in [1.0, 5.0, 10.0, 20.0] {
        let p = truth.get("M/M/1", params, &format!("P(sojourn>{t})"));
        assert!(
            (p - (-t / w).exp()).abs() <= 1e-12 + 1e-9 * p,
            "truth file: M/M/1 {params} P(sojourn>{t}) = {p} is not exp(-t/W)"
        );
    }
    move |t: f64| (-t / w).exp()
}

/// The M/M/c sojourn tail (mu = 1) from the truth file: an arrival waits with
/// probability C (Erlang C), then an Exp(a) time, a = c·mu - lambda, read off
/// P(wait > 1) = C·exp(-a) and checked against P(wait > 5); its service is
/// Exp(1) and independent of the wait. So
/// P(T > t) = (1 - C)·e^-t + C·(a·e^-t - e^-at) / (a - 1).
fn mmc_sojourn_tail(truth: &Truth, params: &str) -> impl Fn(f64) -> f64 + use<> {
    let c = truth.get("M/M/c", params, "P(wait>0) [Erlang C]");
    let a = (c / truth.get("M/M/c", params, "P(wait>1)")).ln();
    let p5 = truth.get("M/M/c", params, "P(wait>5)");
    assert!(
        (p5 - c * (-5.0 * a).exp()).abs() <= 1e-9 * p5,
        "truth file: M/M/c {params} P(wait>5) is not C·exp(-5a)"
    );
    assert!((a - 1.0).abs() > 1e-6, "a = mu needs the limit form");
    move |t: f64| (1.0 - c) * (-t).exp() + c * (a * (-t).exp() - (-a * t).exp()) / (a - 1.0)
}

// ------------------------------------------------------------------ checks

/// A quantity read from one run.
#[derive(Clone, Copy, Debug)]
enum Q {
    /// Mean latency of the steady window's answered requests, ms.
    W,
    /// A latency percentile of the steady window (50, 90, 99 or 999), ms.
    Pct(u32),
    /// rejected / offered in the steady window.
    Rejected,
    /// timed_out / offered in the steady window.
    TimedOut,
    /// Succeeded requests of the steady window per ms of it.
    Throughput,
    /// Node 0's mean wait before service (all served requests), ms.
    NodeWq,
    /// Node 0's busy time per ms of arrivals: utilization · end / duration.
    NodeRho,
    /// Node 0's skipped (expired) requests / (served + expired).
    NodeAbandon,
    /// Node 0's served requests per ms of arrivals.
    NodeThroughput,
    /// E[min(wait, theta)] over all requests reaching node 0, ms: served ones
    /// waited their wait, expired ones theta.
    NodeMinWait(f64),
    /// Share of the steady window's requests whose cache call timed out at
    /// the caller (op_timeout after issue, whether or not the node served it).
    CacheTimeout,
}

impl Q {
    fn read(self, s: &Summary, m: &Model) -> f64 {
        let w = &s.windows.steady;
        let arrivals_ms = m.duration as f64 / 1e6;
        let n = s.nodes.first();
        let node = || n.expect("a node");
        match self {
            Q::W => w.latency_ms.mean,
            Q::Pct(50) => w.latency_ms.p50,
            Q::Pct(90) => w.latency_ms.p90,
            Q::Pct(99) => w.latency_ms.p99,
            Q::Pct(999) => w.latency_ms.p999,
            Q::Pct(p) => panic!("no p{p} in the summary"),
            Q::Rejected => w.rejected_ratio,
            Q::TimedOut => w.timed_out_ratio,
            Q::Throughput => w.requests.succeeded as f64 / ((w.end_s - w.start_s) * 1e3),
            Q::NodeWq => node().mean_wait_ms,
            Q::NodeRho => node().utilization * m.end() as f64 / m.duration as f64,
            Q::NodeAbandon => {
                let (sv, ex) = (node().served as f64, node().expired as f64);
                ex / (sv + ex)
            }
            Q::NodeThroughput => node().served as f64 / arrivals_ms,
            Q::NodeMinWait(theta) => {
                let (sv, ex) = (node().served as f64, node().expired as f64);
                (node().mean_wait_ms * sv + theta * ex) / (sv + ex)
            }
            Q::CacheTimeout => w.cache_timeout_ratio,
        }
    }
}

/// One comparison.
struct Metric {
    q: Q,
    /// The analytic value.
    truth: f64,
    /// Standard deviation of one run of 1,000,000 customers, in the
    /// quantity's unit (see the module comment).
    sd1m: f64,
    /// Bound on deterministic measurement error.
    slack: f64,
}

/// One model with the quantities compared.
struct Check {
    name: String,
    file: &'static str,
    sets: Vec<String>,
    /// Customers arriving in the steady window of one run (expected).
    customers: f64,
    metrics: Vec<Metric>,
}

/// Customers in the steady window of one run of every check: 1 M, the size
/// the README quotes spreads for (about 0.13 s of CPU per run).
const CUSTOMERS: f64 = 1e6;

/// Seeds averaged per check: with Z = 4 the tolerance is 2 sd of one run.
const SEEDS: u64 = 4;

/// Warm-up of every check, so the empty start does not show: the slowest
/// queue here, M/M/1 at rho 0.9, relaxes in about 1 / (mu (1 - √rho)²) =
/// 0.38 s (M/M/16 at rho 0.95: 1.6 s / 16); 20 s is over 50 of those.
const WARMUP_S: f64 = 20.0;

impl Check {
    fn new(name: impl Into<String>, file: &'static str, rate_per_ms: f64) -> Self {
        let customers = CUSTOMERS;
        // Whole milliseconds and requests per second, as model files write them.
        let steady_ms = (customers / rate_per_ms).round() as u64;
        let warmup_ms = (WARMUP_S * 1e3) as u64;
        let sets = vec![
            format!("workload.rate={}", (rate_per_ms * 1e3).round() as u64),
            format!("warmup=\"{warmup_ms}ms\""),
            format!("duration=\"{}ms\"", warmup_ms + steady_ms),
            "drain=\"10s\"".to_string(),
            // One timeline row per run: the checks read only the summary.
            format!("bucket=\"{}ms\"", warmup_ms + steady_ms + 10_000),
        ];
        Check {
            name: name.into(),
            file,
            sets,
            customers,
            metrics: Vec::new(),
        }
    }

    fn set(mut self, s: impl Into<String>) -> Self {
        self.sets.push(s.into());
        self
    }

    fn metric(mut self, q: Q, truth: f64, sd1m: f64) -> Self {
        // Floating-point rounding of exact values (theta = 0 has some).
        let slack = 1e-9
            + match q {
                // HDR: latencies rounded to the microsecond, 3 significant
                // digits (a bucket is at most 1 µs wide below 2.048 ms, at
                // most 1/1024 of the value above), and the reported value is
                // the bucket's top.
                Q::Pct(_) => 0.0015 + truth / 1024.0,
                _ => 0.0,
            };
        self.metrics.push(Metric {
            q,
            truth,
            sd1m,
            slack,
        });
        self
    }

    /// Adds `s` to the slack of every metric so far.
    fn slack(mut self, s: f64) -> Self {
        self.metrics.iter_mut().for_each(|m| m.slack += s);
        self
    }

    fn model(&self) -> Model {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("models/checks")
            .join(self.file);
        load_model(&path, &self.sets).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// The seed of run `r` (1 to 999) of a check: the checks do not share seeds,
/// so each comparison is independent evidence (with seeds 1..k everywhere,
/// common random numbers would move every check's average together). The
/// tests use runs 1 to `SEEDS`, the `spread` measurement runs from 101 on.
fn seed(check: &Check, r: u64) -> u64 {
    // FNV-1a of the check's name: stable across platforms and releases.
    let h = check.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (h >> 32) * 1_000 + r
}

/// Runs every check's runs `runs` (see [`seed`]), all in parallel; returns
/// per check the values of its metrics, one row per run.
fn run_all(checks: &[Check], runs: std::ops::RangeInclusive<u64>) -> Vec<Vec<Vec<f64>>> {
    assert!(*runs.start() >= 1 && *runs.end() <= 999);
    let models: Vec<Model> = checks.iter().map(Check::model).collect();
    let jobs: Vec<(usize, u64)> = checks
        .iter()
        .enumerate()
        .flat_map(|(i, c)| runs.clone().map(move |r| (i, seed(c, r))))
        .collect();
    let rows: Vec<(usize, Vec<f64>)> = jobs
        .par_iter()
        .map(|&(i, seed)| {
            let mut m = models[i].clone();
            m.seed = seed;
            let s = cachestorm::sim::run(&m, &mut |_| {}).summary;
            let v = checks[i].metrics.iter().map(|x| x.q.read(&s, &m)).collect();
            (i, v)
        })
        .collect();
    let mut out = vec![Vec::new(); checks.len()];
    for (i, v) in rows {
        out[i].push(v);
    }
    out
}

fn mean(v: impl Iterator<Item = f64>) -> (f64, usize) {
    let (s, n) = v.fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    (s / n as f64, n)
}

/// Runs the checks and fails with a table of every comparison if any is out
/// of tolerance.
fn verify(checks: Vec<Check>) {
    let results = run_all(&checks, 1..=SEEDS);
    let mut report = String::new();
    let mut failed = 0;
    for (c, rows) in checks.iter().zip(&results) {
        for (j, m) in c.metrics.iter().enumerate() {
            let (avg, k) = mean(rows.iter().map(|r| r[j]));
            let sd_run = m.sd1m * (MILLION / c.customers).sqrt();
            let tol = Z * sd_run / (k as f64).sqrt() + m.slack;
            let ok = (avg - m.truth).abs() <= tol;
            failed += !ok as usize;
            report += &format!(
                "{} {:<42} {:<16} sim {:>10.5} truth {:>10.5} diff {:>+9.5} tol {:>8.5} ({})\n",
                if ok { "  ok " } else { "FAIL " },
                c.name,
                format!("{:?}", m.q),
                avg,
                m.truth,
                avg - m.truth,
                tol,
                if sd_run > 0.0 {
                    format!("{:+.1} sd", (avg - m.truth) / (sd_run / (k as f64).sqrt()))
                } else {
                    "exact".to_string()
                },
            );
        }
    }
    // Shown for a failing test (libtest prints its captured output) or with
    // `--nocapture`.
    println!("{report}");
    assert_eq!(
        failed, 0,
        "comparisons out of tolerance (see the table above)"
    );
}

// ------------------------------------------------------------------ models

/// "0.9" as the truth file writes parameters (`{:?}` keeps the ".0").
fn p(x: f64) -> String {
    format!("{x:?}")
}

/// `models/checks/mm1.toml`: the cache path as M/M/1 (mu = 1/ms). Mean time
/// in system, the node's mean wait and utilisation, and the sojourn-time
/// percentiles against the exponential sojourn law of the truth file.
fn mm1(t: &Truth) -> Vec<Check> {
    // (lam, sd1m of: W, Wq, rho, p50, p90, p99, p99.9).
    // rho 0.9, W and Wq: the README's 2.15 % of Wq = 9 (its "mean wait" is
    // the wait in queue: that is what its M/M/4 figure fits, see
    // docs/validation.md); W's spread is the same (measured 0.2024 vs 0.2029).
    let rows: [(f64, [f64; 7]); 2] = [
        (0.5, [0.0071, 0.0063, 0.0008, 0.0045, 0.019, 0.062, 0.2]),
        (0.9, [0.1935, 0.1935, 0.0015, 0.13, 0.51, 1.9, 7.1]),
    ];
    rows.iter()
        .map(|&(lam, sd)| {
            let params = format!("lam={};mu=1.0", p(lam));
            let g = |m: &str| t.get("M/M/1", &params, m);
            let tail = mm1_sojourn_tail(t, &params);
            let mut c = Check::new(format!("M/M/1 {params}"), "mm1.toml", lam)
                .metric(Q::W, g("W"), sd[0])
                .metric(Q::NodeWq, g("Wq"), sd[1])
                .metric(Q::NodeRho, g("rho"), sd[2]);
            for (i, pc) in [50, 90, 99, 999].into_iter().enumerate() {
                let q = if pc == 999 { 0.999 } else { pc as f64 / 100.0 };
                c = c.metric(Q::Pct(pc), quantile(q, &tail), sd[3 + i]);
            }
            c
        })
        .collect()
}

/// `models/checks/md1.toml`: the cache path as M/D/1 (D = 1 ms).
fn md1(t: &Truth) -> Vec<Check> {
    // (lam, sd1m of: W, Wq)
    let rows: [(f64, [f64; 2]); 2] = [(0.5, [0.002, 0.002]), (0.9, [0.076, 0.076])];
    rows.iter()
        .map(|&(lam, sd)| {
            let params = format!("lam={};D=1.0", p(lam));
            let g = |m: &str| t.get("M/D/1", &params, m);
            Check::new(format!("M/D/1 {params}"), "md1.toml", lam)
                .metric(Q::W, g("W"), sd[0])
                .metric(Q::NodeWq, g("Wq"), sd[1])
        })
        .collect()
}

/// `models/checks/mmc.toml`: the executor as M/M/c (Erlang C): mean time in
/// system and sojourn percentiles.
fn mmc(t: &Truth) -> Vec<Check> {
    // (c, rho, sd1m of: W, p50, p90, p99). c = 4, rho 0.8,
    // W: the README's 1.43 % of Wq = 0.7455.
    let rows: [(u32, f64, [f64; 4]); 6] = [
        (4, 0.8, [0.01066, 0.0077, 0.026, 0.087]),
        (2, 0.9, [0.105, 0.059, 0.26, 1.1]),
        (4, 0.5, [0.0018, 0.0017, 0.0046, 0.013]),
        (8, 0.9, [0.025, 0.016, 0.056, 0.21]),
        (16, 0.95, [0.054, 0.037, 0.13, 0.4]),
        (20, 0.125, [0.0011, 0.0012, 0.0033, 0.012]),
    ];
    rows.iter()
        .map(|&(c, rho, sd)| {
            let lam = c as f64 * rho;
            let params = format!("c={c};rho={};lam={};mu=1.0", p(rho), p(lam));
            let tail = mmc_sojourn_tail(t, &params);
            Check::new(format!("M/M/c {params}"), "mmc.toml", lam)
                .set(format!("service.threads={c}"))
                .metric(Q::W, t.get("M/M/c", &params, "W"), sd[0])
                .metric(Q::Pct(50), quantile(0.5, &tail), sd[1])
                .metric(Q::Pct(90), quantile(0.9, &tail), sd[2])
                .metric(Q::Pct(99), quantile(0.99, &tail), sd[3])
        })
        .collect()
}

/// `models/checks/mmck.toml`: the bounded executor as M/M/1/K, Erlang B and
/// M/M/c/K: blocking probability, mean time in system of admitted requests
/// and throughput.
fn mmck(t: &Truth) -> Vec<Check> {
    // (truth model, c, K, lam, sd1m of: P(block), W, throughput)
    let rows: [(&str, u32, u32, f64, [f64; 3]); 12] = [
        ("M/M/1/K", 1, 1, 0.9, [0.00055, 0.0014, 0.0005]),
        ("M/M/1/K", 1, 1, 0.5, [0.00051, 0.0013, 0.00033]),
        ("M/M/1/K", 1, 5, 0.9, [0.00069, 0.0058, 0.00072]),
        ("M/M/1/K", 1, 10, 0.9, [0.00063, 0.018, 0.00078]),
        ("M/M/1/K", 1, 10, 1.0, [0.00084, 0.019, 0.00077]),
        ("M/M/1/K", 1, 10, 1.5, [0.0011, 0.018, 0.0012]),
        ("M/M/1/K", 1, 50, 0.9, [0.000097, 0.17, 0.001]),
        ("M/M/c/c (Erlang B)", 4, 4, 3.2, [0.00068, 0.0012, 0.0021]),
        ("M/M/c/c (Erlang B)", 10, 10, 7.0, [0.00051, 0.0011, 0.0061]),
        ("M/M/c/c (Erlang B)", 20, 20, 15.0, [0.00048, 0.0011, 0.013]),
        ("M/M/c/K", 4, 8, 3.2, [0.00052, 0.0022, 0.0026]),
        ("M/M/c/K", 4, 8, 4.8, [0.00096, 0.0028, 0.0034]),
    ];
    rows.iter()
        .map(|&(model, c, k, lam, sd)| {
            let params = format!("c={c};K={k};lam={};mu=1.0", p(lam));
            let g = |m: &str| t.get(model, &params, m);
            Check::new(format!("{model} {params}"), "mmck.toml", lam)
                .set(format!("service.threads={c}"))
                .set(format!("service.queue={}", k - c))
                .metric(Q::Rejected, g("P(block)"), sd[0])
                .metric(Q::W, g("W (admitted)"), sd[1])
                .metric(Q::Throughput, g("throughput"), sd[2])
        })
        .collect()
}

/// (lam, theta) rows of M/M/1+D in the truth file.
const PATIENCE: [(f64, f64); 5] = [(0.9, 0.0), (0.9, 1.0), (0.9, 5.0), (0.9, 10.0), (1.2, 2.0)];

/// A patience of theta ms as a model duration. A timeout of 0 is not valid,
/// so theta = 0 runs with 1 ns: an arrival finding the server idle starts
/// at once (its wait, 0, does not reach the patience) and every other one
/// leaves, which is the textbook's theta = 0 (abandon when the wait exceeds
/// theta), i.e. M/M/1/1. Probabilities then differ from theta = 0 by about
/// mu · 1 ns = 1e-6 (a service shorter than 1 ns, say), so the comparisons
/// get that much more slack.
fn patience(theta: f64) -> String {
    format!("\"{}ns\"", ((theta * 1e6).round() as u64).max(1))
}

/// Extra slack of the theta = 0 stand-in (see [`patience`]).
fn patience_slack(theta: f64) -> f64 {
    if theta == 0.0 { 1e-5 } else { 0.0 }
}

/// `models/checks/mm1-patience.toml`: M/M/1 with deterministic patience
/// through the cache path (the plain client's propagated deadline): the
/// node's skipped share = P(abandon), its mean wait = Wq of served customers,
/// its served rate = throughput.
///
/// The caller's own timeout is a different quantity: it fires when the
/// *sojourn* exceeds theta, so it also hits requests that started service in
/// time and finished late (the node serves those; the textbook customer
/// stays). Its probability follows from the truth file's P(abandon) and
/// P(wait = 0) = p0: the virtual wait V at an arrival has the atom p0 at 0
/// and density lam·p0·exp(-(mu - lam) v) on (0, theta) (level crossing), so
/// P(sojourn > theta) = P(V ≥ theta) + p0·e^(-mu theta) + ∫_0^theta
/// lam·p0·e^(-(mu - lam) v)·e^(-mu (theta - v)) dv, which is
/// P(abandon) + p0·exp(-(mu - lam)·theta).
fn patience_cache(t: &Truth) -> Vec<Check> {
    // sd1m of: P(abandon), Wq (served), throughput, E[min(wait, theta)],
    // P(caller timeout)
    let sds: [[f64; 5]; 5] = [
        // theta = 0: no served request waits and every caller times out.
        [0.00055, 0.0, 0.00052, 0.0, 0.0],
        [0.0007, 0.00049, 0.00073, 0.00077, 0.0007],
        [0.00072, 0.0052, 0.00088, 0.0063, 0.0012],
        [0.00066, 0.016, 0.00091, 0.019, 0.0012],
        [0.00088, 0.0016, 0.0011, 0.002, 0.00097],
    ];
    PATIENCE
        .iter()
        .zip(sds)
        .map(|(&(lam, theta), sd)| {
            let params = format!("lam={};mu=1.0;theta={}", p(lam), p(theta));
            let g = |m: &str| t.get("M/M/1+D", &params, m);
            Check::new(format!("M/M/1+D cache {params}"), "mm1-patience.toml", lam)
                .set(format!("client.op_timeout={}", patience(theta)))
                .metric(Q::NodeAbandon, g("P(abandon)"), sd[0])
                .metric(Q::NodeWq, g("Wq (served customers)"), sd[1])
                .metric(Q::NodeThroughput, g("throughput"), sd[2])
                .metric(
                    Q::NodeMinWait(theta),
                    g("E[min(wait theta)] (all customers incl. abandoners)"),
                    sd[3],
                )
                .metric(
                    Q::CacheTimeout,
                    g("P(abandon)") + g("P(wait=0)") * (-(1.0 - lam) * theta).exp(),
                    sd[4],
                )
                .slack(patience_slack(theta))
        })
        .collect()
}

/// `models/checks/mm1-patience-frontend.toml`: M/M/1 with deterministic
/// patience as HAProxy's `timeout queue` in front of one server with
/// `maxconn = 1`: 503 share = P(abandon), mean latency of answered requests =
/// Wq (served) + 1 ms, their rate = throughput.
fn patience_frontend(t: &Truth) -> Vec<Check> {
    // sd1m of: P(abandon), W (served), throughput
    let sds: [[f64; 3]; 5] = [
        [0.00053, 0.0016, 0.00047],
        [0.00062, 0.0014, 0.00063],
        [0.00073, 0.0056, 0.00079],
        [0.00068, 0.017, 0.00081],
        [0.0008, 0.0022, 0.00093],
    ];
    PATIENCE
        .iter()
        .zip(sds)
        .map(|(&(lam, theta), sd)| {
            let params = format!("lam={};mu=1.0;theta={}", p(lam), p(theta));
            let g = |m: &str| t.get("M/M/1+D", &params, m);
            Check::new(
                format!("M/M/1+D frontend {params}"),
                "mm1-patience-frontend.toml",
                lam,
            )
            .set(format!("frontend.timeout_queue={}", patience(theta)))
            .metric(Q::TimedOut, g("P(abandon)"), sd[0])
            .metric(Q::W, g("Wq (served customers)") + 1.0, sd[1])
            .metric(Q::Throughput, g("throughput"), sd[2])
            .slack(patience_slack(theta))
        })
        .collect()
}

fn all_checks(t: &Truth) -> Vec<Check> {
    let mut v = mm1(t);
    v.extend(md1(t));
    v.extend(mmc(t));
    v.extend(mmck(t));
    v.extend(patience_cache(t));
    v.extend(patience_frontend(t));
    v
}

// ------------------------------------------------------------------ tests

#[test]
fn mm1_through_the_cache_path() {
    verify(mm1(&Truth::load()));
}

#[test]
fn md1_through_the_cache_path() {
    verify(md1(&Truth::load()));
}

#[test]
fn mmc_through_the_executor() {
    verify(mmc(&Truth::load()));
}

#[test]
fn mmck_through_the_bounded_executor() {
    verify(mmck(&Truth::load()));
}

#[test]
fn mm1_patience_through_the_cache_path() {
    verify(patience_cache(&Truth::load()));
}

#[test]
fn mm1_patience_through_the_frontend() {
    verify(patience_frontend(&Truth::load()));
}

/// Measures the spread of every quantity over independent seeds (default
/// 100, or `QUEUEING_SEEDS`), at the sizes the checks use, and prints it as
/// the spread of one 1,000,000-customer run (`sd1m`) next to the value in
/// the check table, with the bias of the many-seed mean in its own standard
/// errors. `QUEUEING_FILTER` keeps the checks whose name contains it. Not
/// part of the suite (minutes of CPU):
/// `cargo test --release --test integration -- --ignored --nocapture spread`.
#[test]
#[ignore]
fn spread() {
    let seeds: u64 = std::env::var("QUEUEING_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let filter = std::env::var("QUEUEING_FILTER").unwrap_or_default();
    let mut checks = all_checks(&Truth::load());
    checks.retain(|c| c.name.contains(&filter));
    let results = run_all(&checks, 101..=100 + seeds);
    for (c, rows) in checks.iter().zip(&results) {
        for (j, m) in c.metrics.iter().enumerate() {
            let (avg, k) = mean(rows.iter().map(|r| r[j]));
            let (var, _) = mean(rows.iter().map(|r| (r[j] - avg).powi(2)));
            let sd_run = (var * k as f64 / (k as f64 - 1.0)).sqrt();
            let sd1m = sd_run * (c.customers / MILLION).sqrt();
            println!(
                "{:<42} {:<16} mean {:>10.5} truth {:>10.5} bias {:>+6.2} se  sd1m {:>9.6} ({:>6.3} %)  table {:>9.6}",
                c.name,
                format!("{:?}", m.q),
                avg,
                m.truth,
                (avg - m.truth) / (sd_run / (k as f64).sqrt()),
                sd1m,
                100.0 * sd1m / m.truth.abs().max(1e-300),
                m.sd1m,
            );
        }
    }
}
