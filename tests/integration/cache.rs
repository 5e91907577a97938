//! Cache memory against analytic truth: an LRU node's hit ratio under the
//! independent reference model against Che's approximation (Che, Tung and
//! Wang 2002; its accuracy for Zipf popularity: Fricker, Robert and Roberts
//! 2012), a TTL node's hit ratio for Poisson requests per key
//! (λT / (1 + λT) when the TTL is set on a miss), the refill after a flush
//! against the popularity curve, leases against the herd they prevent, and
//! look-aside against read-through fills.
//!
//! Every model is one memcached node behind the plain client with a tiny
//! constant network latency, so the fill of a miss lands a few microseconds
//! after it: the textbook caches fill at once, and the difference (a request
//! for the same key inside that gap) is below one in a thousand here.

use crate::common::{parse, run};
use cachestorm::metrics::TimelineRow;
use cachestorm::sim;

/// Standard deviations allowed per comparison (two-sided 6.3e-5 each).
const Z: f64 = 4.0;

/// A one-node model: `rate` requests/s for `duration` of `keys` keys with
/// `popularity`, each a get and a set after a miss, the node's memory as
/// `memory` (TOML lines of `[cluster]`), and `extra` appended.
fn model(
    rate: f64,
    duration: &str,
    keys: u32,
    popularity: &str,
    memory: &str,
    extra: &str,
) -> String {
    format!(
        r#"
duration = "{duration}"
drain = "1s"
slo = "1h"
seed = 7

[workload]
rate = {rate}
keys = {{ count = {keys}, popularity = {popularity} }}

[[workload.flow]]
name = "look-aside"
steps = [
  {{ op = "get" }},
  {{ op = "set", on = "miss", wait = false }},
]

[service]
threads = 100000

[client]
policy = "plain"
op_timeout = "1h"

[network]
latency = {{ dist = "constant", value = "1us" }}

[cluster]
nodes = ["10.0.0.1:11211"]
service_time = {{ dist = "constant", value = "1us" }}
{memory}
{extra}
"#
    )
}

/// Zipf popularity of `n` keys with exponent `s`: p_i ∝ (i + 1)^-s.
fn zipf(n: u32, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|i| f64::from(i).powf(-s)).collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Che's approximation of an LRU cache of `c` items under the independent
/// reference model: the characteristic time t solves Σ (1 − e^(−p_i t)) = c,
/// and the hit ratio is Σ p_i (1 − e^(−p_i t)).
fn che(p: &[f64], c: f64) -> f64 {
    let filled = |t: f64| p.iter().map(|&q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    p.iter().map(|&q| q * (1.0 - (-q * t).exp())).sum()
}

#[test]
fn lru_hit_ratio_matches_ches_approximation() {
    // 1,000 keys, Zipf 0.8, room for 100 and 300 items; counted in items and
    // in bytes (every "key:<i>" item with a 100-byte value takes a 192-byte
    // slab chunk). Che's approximation is within about 1 % (absolute) of
    // exact LRU at these sizes (Fricker, Robert and Roberts 2012, Fig. 1);
    // the run adds its binomial spread.
    let p = zipf(1000, 0.8);
    for (c, memory) in [
        (100.0, "items = 100".to_string()),
        (300.0, "items = 300".to_string()),
        (100.0, format!("memory = {}", 100 * 192)),
    ] {
        let text = model(
            4000.0,
            "60s",
            1000,
            r#"{ dist = "zipf", exponent = 0.8 }"#,
            &format!("prefill = true\n{memory}"),
            "",
        );
        let out = run(&parse(&text, &[]));
        let m = out.summary.memory;
        let gets = (out.summary.cache_ops.hit + out.summary.cache_ops.miss) as f64;
        let truth = che(&p, c);
        let sd = (truth * (1.0 - truth) / gets).sqrt();
        let tol = Z * sd + 0.01;
        assert!(
            (m.hit_ratio - truth).abs() < tol,
            "{memory}: hit ratio {:.4}, Che {truth:.4} ± {tol:.4}",
            m.hit_ratio
        );
        assert!(m.evictions > 0, "{memory}: a bounded node evicts");
        assert!(m.items <= c as u64, "{memory}: {} items", m.items);
    }
}

#[test]
fn ttl_hit_ratio_is_lambda_t_over_one_plus_lambda_t() {
    // 100 keys, uniform: each key sees Poisson requests at λ = rate / 100.
    // A TTL set on a miss gives a renewal cycle of one miss and, on average,
    // λT hits: hit ratio λT / (1 + λT).
    for (rate, ttl_ms) in [(1000.0, 50.0), (1000.0, 200.0), (2000.0, 500.0)] {
        let text = model(
            rate,
            "60s",
            100,
            r#"{ dist = "uniform" }"#,
            &format!("ttl = \"{ttl_ms}ms\""),
            "",
        );
        let out = run(&parse(&text, &[]));
        let lt = rate / 100.0 * ttl_ms / 1000.0;
        let truth = lt / (1.0 + lt);
        let gets = (out.summary.cache_ops.hit + out.summary.cache_ops.miss) as f64;
        // Hits and misses alternate in renewal cycles: the count of cycles
        // (misses) has variance below the binomial's; the binomial bound is
        // conservative.
        let tol = Z * (truth * (1.0 - truth) / gets).sqrt() + 0.002;
        let m = out.summary.memory;
        assert!(
            (m.hit_ratio - truth).abs() < tol,
            "λT = {lt}: hit ratio {:.4}, truth {truth:.4} ± {tol:.4}",
            m.hit_ratio
        );
        assert!(m.expired > 0);
    }
}

#[test]
fn every_request_ends_once_with_memory_leases_and_triggers() {
    let text = model(
        3000.0,
        "20s",
        500,
        r#"{ dist = "zipf", exponent = 1.0 }"#,
        "items = 50\nttl = \"2s\"\nlease = \"1s\"",
        r#"
[[fault]]
kind = "flush"
start = "5s"
duration = "1s"

[[fault]]
kind = "delete_hot"
start = "8s"
duration = "1s"
delete_hot = { keys = 20 }

[[fault]]
kind = "spike"
start = "12s"
duration = "3s"
spike = { factor = 3 }
"#,
    );
    let model = parse(&text, &[]);
    let out = sim::run_checked(&model, true, &mut |_| {}).unwrap_or_else(|v| panic!("{v}"));
    let s = &out.summary;
    let ended: u64 = s.requests.outcomes().iter().sum();
    assert_eq!(ended, s.requests.offered);
    // The spike tripled the rate for 3 s of 20: 26 s of base load.
    let expected: f64 = 3000.0 * 26.0;
    let sd = expected.sqrt();
    assert!(((s.requests.offered as f64) - expected).abs() < Z * sd);
    let m = s.memory;
    assert!(m.flushed > 0 && m.evictions > 0 && m.expired > 0 && m.lease_waits > 0);
    assert!(m.items <= 50);
}

/// Per-bucket hit ratios (hits / (hits + misses)) of a run.
fn hit_ratios(model: &cachestorm::config::Model) -> Vec<(f64, f64, u64)> {
    let mut rows = Vec::new();
    sim::run(model, &mut |r: &TimelineRow| {
        let gets = r.cache.hit + r.cache.miss;
        let h = if gets == 0 {
            0.0
        } else {
            r.cache.hit as f64 / gets as f64
        };
        rows.push((r.start as f64 / 1e9, h, gets));
    });
    rows
}

#[test]
fn a_flush_drops_the_hit_ratio_to_zero_and_the_refill_follows_popularity() {
    // Unbounded node, 5,000 keys, Zipf 0.9, 2,000 gets/s, prefilled, flushed
    // at 10 s. With look-aside fills a key is back as soon as it was asked
    // for once since the flush: at t seconds after it the hit ratio is
    // Σ p_i (1 − e^(−Λ p_i t)) minus the first request of each key, i.e. the
    // chance that the key of a request at t was requested in (0, t).
    let rate = 2000.0;
    let text = model(
        rate,
        "40s",
        5000,
        r#"{ dist = "zipf", exponent = 0.9 }"#,
        "prefill = true",
        r#"
[[fault]]
kind = "flush"
start = "10s"
duration = "1s"
"#,
    );
    let rows = hit_ratios(&parse(&text, &[]));
    let p = zipf(5000, 0.9);
    // The mean over a bucket [a, b) seconds after the flush.
    let curve = |a: f64, b: f64| {
        let steps = 50;
        (0..steps)
            .map(|i| {
                let t = a + (b - a) * (i as f64 + 0.5) / steps as f64;
                p.iter()
                    .map(|&q| q * (1.0 - (-rate * q * t).exp()))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / steps as f64
    };
    for &(t, h, gets) in &rows {
        if !(1.0..40.0).contains(&t) {
            continue;
        }
        let truth = if t < 10.0 {
            1.0
        } else {
            curve(t - 10.0, t - 9.0)
        };
        let tol = Z * (truth * (1.0 - truth) / gets as f64).sqrt() + 0.01;
        assert!(
            (h - truth).abs() < tol,
            "bucket at {t} s: hit ratio {h:.4}, truth {truth:.4} ± {tol:.4}"
        );
    }
    // The second after the flush lost what the curve says (the popular keys
    // come back within milliseconds, the tail over tens of seconds).
    let at = |t: f64| rows.iter().find(|r| r.0 == t).unwrap().1;
    assert_eq!(at(9.0), 1.0);
    assert!(at(10.0) < 0.9 && at(20.0) > at(11.0) && at(11.0) > at(10.0));
}

/// One hot key deleted under load: gets that miss, and the database reads
/// they cause, with and without leases.
fn herd(lease: &str) -> cachestorm::metrics::Summary {
    let text = format!(
        r#"
duration = "3s"
drain = "2s"
slo = "1h"
seed = 3

[workload]
rate = 2000
keys = {{ count = 1 }}

[[workload.flow]]
name = "look-aside"
steps = [
  {{ op = "get" }},
  {{ op = "db_read", on = "miss" }},
  {{ op = "set", on = "miss", wait = false }},
]

[service]
threads = 100000

[client]
policy = "plain"
op_timeout = "1h"

[network]
latency = {{ dist = "constant", value = "1us" }}

[cluster]
nodes = ["10.0.0.1:11211"]
service_time = {{ dist = "constant", value = "1us" }}
prefill = true
{lease}

[database]
connections = 0
service_time = {{ dist = "constant", value = "50ms" }}

[[fault]]
kind = "delete_hot"
start = "1s"
duration = "1s"
"#
    );
    run(&parse(&text, &[])).summary
}

#[test]
fn a_lease_lets_one_reader_fill_while_the_others_wait() {
    // Without leases every get between the delete and the fill misses and
    // reads the database: about rate × 50 ms = 100 reads (Poisson).
    let open = herd("");
    let expected: f64 = 2000.0 * 0.05;
    assert!(
        (open.db.queries as f64 - expected).abs() < Z * expected.sqrt() + 2.0,
        "{} reads without leases, about {expected} expected",
        open.db.queries
    );
    // With a 10 s lease (Facebook's), one reader fills and the others wait
    // for its set: one read.
    let leased = herd("lease = \"10s\"");
    assert_eq!(leased.db.queries, 1);
    assert!(leased.memory.lease_waits as f64 > expected - Z * expected.sqrt());
    let ended: u64 = leased.requests.outcomes().iter().sum();
    assert_eq!(ended, leased.requests.offered);
    assert_eq!(leased.requests.succeeded, leased.requests.offered);
}
