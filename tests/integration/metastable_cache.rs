//! The HotOS'21 look-aside example (Bronson, Aghayev, Charapko, Zhu,
//! "Metastable Failures in Distributed Systems", HotOS 2021, §2.2) as
//! `models/metastable/hotos-lookaside.toml`: a database ten times slower above
//! 300 queries per second behind a look-aside cache that serves 3,000
//! requests per second at about a 90 % hit ratio. Published behaviour: losing
//! the cache multiplies the database's queries by 1 / (1 − hit ratio) (×10 at
//! 90 %); above the knee the cache never refills, because look-aside fills
//! follow only successful reads; a read-through cache (or a permissive
//! deadline) recovers. Every expected number is computed from the model (its
//! capacity, key count, rate and knee), not typed in.

use cachestorm::config::{Capacity, Model};
use cachestorm::metrics::summary::{Summary, VerdictState};

use crate::common;

const MODEL: &str = "models/metastable/hotos-lookaside.toml";

fn summary(m: &Model) -> Summary {
    cachestorm::sim::run_checked(m, true, &mut |_| {})
        .unwrap_or_else(|v| panic!("{v}"))
        .summary
}

/// The hit ratio of an LRU node under uniform popularity: capacity / keys.
fn lru_uniform_hit(m: &Model) -> f64 {
    let Some(Capacity::Items(c)) = m.pools[0].memory.capacity else {
        panic!("the model bounds its node in items");
    };
    f64::from(c) / f64::from(m.workload.keys.count)
}

/// The run's arrival rate and the database's knee.
fn rate_and_knee(m: &Model) -> (f64, f64) {
    let knee = m.database.overload.as_ref().unwrap().steps[0].qps;
    (m.workload.rates[0].1, knee)
}

#[test]
fn without_the_flush_the_cache_keeps_the_database_under_its_knee() {
    let m = common::load(MODEL, &["fault.0.kind=none", "fault.0.node=0"]);
    let s = summary(&m);
    let hit = lru_uniform_hit(&m);
    let (rate, knee) = rate_and_knee(&m);
    let gets = (s.cache_ops.hit + s.cache_ops.miss) as f64;
    let tol = 4.0 * (hit * (1.0 - hit) / gets).sqrt() + 0.002;
    assert!(
        (s.memory.hit_ratio - hit).abs() < tol,
        "hit ratio {} vs C/N = {hit}",
        s.memory.hit_ratio
    );
    let db_rate = s.db.queries as f64 / (m.duration as f64 / 1e9);
    assert!((db_rate - rate * (1.0 - hit)).abs() < 0.05 * rate * (1.0 - hit));
    assert!(db_rate < knee);
    assert_eq!(s.requests.succeeded, s.requests.offered);
}

#[test]
fn a_flush_multiplies_the_database_load_and_look_aside_never_refills() {
    let m = common::load(MODEL, &[]);
    let s = summary(&m);
    let (rate, knee) = rate_and_knee(&m);
    let hit = lru_uniform_hit(&m);
    let v = &s.verdict;
    assert_eq!(v.state, VerdictState::Stuck);
    // Every request misses and reads the database: 1 / (1 − hit) times the
    // steady load, ten times the knee and more.
    let steady_db = rate * (1.0 - hit);
    let amplification = v.tail.db_calls_per_sec / steady_db;
    let expected = 1.0 / (1.0 - hit);
    assert!(
        (amplification - expected).abs() < 0.05 * expected,
        "database load × {amplification}, expected × {expected}"
    );
    assert!(v.tail.db_calls_per_sec > 9.0 * knee);
    // The cache stays empty and goodput stays near zero long after the flush.
    assert!(v.tail.cache_hit_ratio < 0.05, "{}", v.tail.cache_hit_ratio);
    assert!(v.tail.success_ratio < 0.05, "{}", v.tail.success_ratio);
    // Look-aside: a read that timed out fills nothing. Every fill is a read
    // answered in time; the timed-out reads ran to their end (`wasted`).
    assert!(s.db.wasted > 0);
    assert_eq!(s.memory.fills, s.db.queries - s.db.wasted);
}

#[test]
fn read_through_refills_from_the_reads_whose_callers_left_and_recovers() {
    let m = common::load(MODEL, &["workload.flow.0.steps.1.fill=read_through"]);
    let s = summary(&m);
    let v = &s.verdict;
    assert_eq!(v.state, VerdictState::Recovered);
    let (rate, knee) = rate_and_knee(&m);
    let hit = lru_uniform_hit(&m);
    assert!(v.tail.db_calls_per_sec < knee);
    assert!((v.tail.cache_hit_ratio - hit).abs() < 0.02);
    // Every request of the tail succeeds, at the offered rate.
    assert_eq!(v.tail.success_ratio, 1.0);
    assert_eq!(v.tail.offered_per_sec, rate);
    // Every query that ended filled (read-through), and the reads answered in
    // time filled again through the flow's own set (look-aside).
    assert!(s.db.wasted > 0);
    assert_eq!(s.memory.fills, 2 * s.db.queries - s.db.wasted);
}

#[test]
fn a_permissive_deadline_lets_look_aside_refill() {
    // A deadline longer than the slowed-down query (10 × 50 ms): every read
    // is answered and fills.
    let m = common::load(MODEL, &["database.deadline=1s"]);
    let s = summary(&m);
    assert_eq!(s.verdict.state, VerdictState::Recovered);
    assert_eq!(s.db.wasted, 0);
    assert_eq!(s.memory.fills, s.db.queries);
}
