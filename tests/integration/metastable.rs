//! Metastable failures from the native mechanisms, and the verdict that
//! tells them apart.
//!
//! The HotOS'21 retry example (Bronson, Aghayev, Charapko, Zhu, "Metastable
//! Failures in Distributed Systems", HotOS 2021, §2.1) as
//! `models/metastable/hotos-retry.toml`: a database ten times slower above
//! 300 queries per second, one retry after 1 s without an answer. Published
//! behaviour: at 280 requests per second a 10 s outage locks the system at
//! about 560 queries per second offered with zero goodput; without the
//! outage it is stable; below 150 it is stable; once locked it recovers
//! only when the load drops below 150 or the retries stop. Every expected
//! number below is computed from the model (its knee, its attempts, its
//! rate), not typed in.

use cachestorm::config::Model;
use cachestorm::metrics::summary::{Summary, VerdictState};

use crate::common;

const MODEL: &str = "models/metastable/hotos-retry.toml";

fn summary(m: &Model) -> Summary {
    cachestorm::sim::run_checked(m, true, &mut |_| {})
        .unwrap_or_else(|v| panic!("{v}"))
        .summary
}

/// The model with `extra` appended to its text (a second `[[fault]]`).
fn with_text(extra: &str, sets: &[&str]) -> Model {
    let text = std::fs::read_to_string(common::root().join(MODEL)).unwrap();
    common::parse(&format!("{text}\n{extra}"), sets)
}

/// The rate below which the retried load stays under the knee.
fn half_knee(m: &Model) -> f64 {
    let knee = m.database.overload.as_ref().unwrap().steps[0].qps;
    knee / f64::from(m.database.retry.as_ref().unwrap().max_attempts)
}

#[test]
fn an_outage_at_280_locks_the_system_at_twice_the_load_with_zero_goodput() {
    let m = common::load(MODEL, &[]);
    let rate = m.workload.rates[0].1;
    let attempts = f64::from(m.database.retry.as_ref().unwrap().max_attempts);
    assert!(
        rate > half_knee(&m),
        "the example is in the vulnerable band"
    );
    let s = summary(&m);
    let v = &s.verdict;
    assert_eq!(v.state, VerdictState::Stuck);
    assert_eq!(v.recovered_s, None);
    assert_eq!(s.recovery_s, None);
    assert_eq!(v.tail.goodput_per_sec, 0.0);
    assert_eq!(v.tail.offered_per_sec, rate);
    // Every request makes all its attempts: the database sees 2 × 280.
    assert!(
        (v.tail.db_calls_per_sec - attempts * rate).abs() <= 0.01 * rate,
        "{}",
        v.tail.db_calls_per_sec
    );
    assert_eq!(v.tail.db_amplification, attempts);
}

#[test]
fn without_the_outage_the_same_load_is_stable() {
    let m = common::load(MODEL, &["fault.0.kind=none", "fault.0.node=0"]);
    let rate = m.workload.rates[0].1;
    let s = summary(&m);
    assert_eq!(s.verdict.state, VerdictState::Recovered);
    assert_eq!(s.verdict.recovered_s, Some(0.0));
    assert_eq!(s.verdict.tail.goodput_per_sec, rate);
    assert_eq!(s.verdict.tail.db_amplification, 1.0);
    assert_eq!(s.requests.failed, 0);
}

#[test]
fn below_half_the_knee_the_outage_leaves_no_trace_and_above_it_locks() {
    let m = common::load(MODEL, &[]);
    let edge = half_knee(&m);
    for (rate, state) in [
        (edge - 10.0, VerdictState::Recovered),
        (edge + 10.0, VerdictState::Stuck),
    ] {
        let set = format!("workload.rate={rate}");
        let s = summary(&common::load(MODEL, &[&set]));
        assert_eq!(s.verdict.state, state, "at {rate} requests per second");
        if state == VerdictState::Recovered {
            assert_eq!(s.verdict.tail.goodput_per_sec, rate);
        }
    }
}

#[test]
fn once_locked_it_recovers_only_when_the_load_drops_below_half_the_knee() {
    let m = common::load(MODEL, &[]);
    let edge = half_knee(&m);
    let fault_end = cachestorm::engine::time::secs(m.fault_window().unwrap().1);
    for (rate, state) in [
        (edge + 50.0, VerdictState::Stuck),
        (edge - 10.0, VerdictState::Recovered),
    ] {
        let set = format!(r#"workload.schedule=[{{ at = "60s", rate = {rate} }}]"#);
        let s = summary(&common::load(MODEL, &[&set]));
        assert_eq!(s.verdict.state, state, "dropping to {rate}");
        if let Some(t) = s.verdict.recovered_s {
            // Late: not before the load dropped, and within the hold time.
            assert!(t >= 60.0 - fault_end && t < 60.0 - fault_end + 5.0, "{t}");
        }
    }
}

#[test]
fn once_locked_it_recovers_when_the_retries_are_turned_off() {
    let policy = "[[fault]]\nkind = \"retries_off\"\nstart = \"60s\"\nduration = \"30s\"\n";
    let s = summary(&with_text(policy, &[]));
    assert_eq!(s.verdict.state, VerdictState::Recovered);
    let t = s.verdict.recovered_s.unwrap();
    // The policy change is not a trigger: the time counts from the outage.
    assert!((20.0..25.0).contains(&t), "{t}");
    assert_eq!(s.verdict.tail.db_amplification, 1.0);
}

#[test]
fn a_long_drain_does_not_turn_a_locked_run_into_a_recovery() {
    // Before the fix, buckets of the drain in which nothing ended counted as
    // good, so a locked run "recovered" during the drain.
    let s = summary(&common::load(MODEL, &["drain=30s"]));
    assert_eq!(s.recovery_s, None);
    assert_eq!(s.verdict.state, VerdictState::Stuck);
}

#[test]
fn a_run_without_a_trigger_has_no_fault_verdict() {
    let text = std::fs::read_to_string(common::root().join(MODEL)).unwrap();
    let cut = text.find("[[fault]]").unwrap();
    let s = summary(&common::parse(&text[..cut], &[]));
    assert_eq!(s.verdict.state, VerdictState::NoFault);
    assert_eq!(s.verdict.stuck, 0.0);
    assert_eq!(s.recovery_s, None);
}
