//! Each spymemcached mechanism of `shared/reference/spymemcached.md`, pinned
//! by a small model and compared with what the reference measured on the
//! real client.

use cachestorm::sim::RunOutput;

use crate::common::{self, assert_never, event_times, parse, run};
use cachestorm::sim::protocol::NodeEventKind;

/// Two memcached nodes on loopback, Ketama, as in the reference's harness;
/// node 1 is frozen (SIGSTOP) from 10 s on.
const TWO_NODES: &str = r#"
name = "two nodes"
duration = "120s"
drain = "5s"
[workload]
arrival = "constant"
rate = 1000
keys = { count = 10000 }
[[workload.flow]]
name = "read"
steps = [{ op = "get" }, { op = "db_read", on = "miss_or_error" }]
[service]
threads = 100000
[client]
policy = "spymemcached"
[client.spymemcached]
locator = "ketama"
hash = "ketama"
[cluster]
nodes = ["127.0.0.1:11211", "127.0.0.1:11212"]
prefill = true
[database]
connections = 0
[[fault]]
node = 1
kind = "frozen"
start = "10s"
duration = "100s"
"#;

/// Asserts that node 1 never tripped in `out`, by its events and by the
/// typed count, while it does trip in `TWO_NODES` as it is (gets waiting on
/// a node that answers nothing): a check that would fail if the event were
/// renamed or no longer counted.
fn assert_never_trips(out: &RunOutput) {
    let control = run(&parse(TWO_NODES, &[]));
    assert_never(out, 1, NodeEventKind::Trip, &control, 1);
    assert_eq!(out.summary.client.trips, 0);
    assert!(
        control.summary.client.trips > 0,
        "the control run never trips"
    );
}

fn periods(times: &[f64]) -> Vec<f64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// §5: open loop at 500 req/s to the frozen node: 999 timeouts take 2 s after
/// the first ones (at 2.5 s), the node is out for 2 s: a cycle of ~6.5 s
/// [measured].
#[test]
fn open_loop_frozen_cycle_is_six_and_a_half_seconds() {
    // Ketama puts about half the keys on each of the two nodes.
    let out = run(&parse(TWO_NODES, &[]));
    let trips = event_times(&out, 1, NodeEventKind::Trip);
    assert!(trips.len() >= 10, "{trips:?}");
    let first = trips[0] - 10.0;
    assert!(
        (4.0..5.5).contains(&first),
        "first trip {first:.2} s after the freeze"
    );
    for p in periods(&trips) {
        assert!((p - 6.5).abs() < 0.5, "cycle {p:.2} s; trips at {trips:?}");
    }
}

/// §4: Retry: ops issued during the 2 s gap queue and time out after the
/// reconnect, so the counter refills faster: ~4.5 s [measured].
#[test]
fn retry_mode_cycle_is_shorter() {
    let out = run(&parse(
        TWO_NODES,
        &["client.spymemcached.failure_mode=retry"],
    ));
    let trips = event_times(&out, 1, NodeEventKind::Trip);
    let p = periods(&trips);
    let mean = p.iter().sum::<f64>() / p.len() as f64;
    assert!((mean - 4.5).abs() < 0.5, "mean cycle {mean:.2} s: {p:?}");
}

/// §5: blocking callers: each of T threads stuck on the frozen node yields
/// one timeout per 2.5 s, so λ ≈ T / 2.5 s; with 32 threads the first trip
/// came about 78 s after the first timeouts [measured].
#[test]
fn thirty_two_blocking_callers_trip_after_about_78_seconds() {
    let out = run(&parse(
        TWO_NODES,
        &[
            "service.threads=32",
            "service.queue=100",
            "workload.rate=20000",
            "duration=110s",
        ],
    ));
    let trips = event_times(&out, 1, NodeEventKind::Trip);
    assert!(!trips.is_empty(), "no trip");
    let after_first_timeouts = trips[0] - 10.0 - 2.5;
    assert!(
        (after_first_timeouts - 78.0).abs() < 4.0,
        "first trip {after_first_timeouts:.1} s after the first timeouts"
    );
}

/// §3.3: a frozen node accepts the reconnect at TCP level: always exactly
/// 2 s after each drop (back-off exponent reset by the successful connect).
#[test]
fn frozen_node_reconnects_after_exactly_two_seconds() {
    let out = run(&parse(TWO_NODES, &[]));
    let trips = event_times(&out, 1, NodeEventKind::Trip);
    let connected = event_times(&out, 1, NodeEventKind::Connected);
    assert_eq!(trips.len(), connected.len());
    for (t, c) in trips.iter().zip(&connected) {
        assert!((c - t - 2.0).abs() < 1e-3, "trip {t} connected {c}");
    }
}

/// §2.1: `setTimeoutExceptionThreshold(n)` stores n − 2 and trips at n − 1
/// consecutive timeouts. One node, one get every 2 ms: with n = 12 the trip
/// comes with the 11th timeout, 20 ms after the first; with the default
/// 1000, with the 999th, 1.996 s after the first.
#[test]
fn threshold_n_trips_at_n_minus_one_consecutive_timeouts() {
    for (n, after) in [(12, 0.020), (1000, 1.996)] {
        let threshold = format!("client.spymemcached.timeout_exception_threshold={n}");
        let out = run(&parse(
            TWO_NODES,
            &[
                &threshold,
                r#"cluster.nodes=["127.0.0.1:11211"]"#,
                "fault.0.node=0",
                "workload.rate=500",
                "duration=30s",
            ],
        ));
        let trips = event_times(&out, 0, NodeEventKind::Trip);
        // Arrivals at k × 2 ms; the first to time out arrived at 10 s.
        let first = trips[0] - 12.5;
        assert!(
            (first - after).abs() < 1e-6,
            "n = {n}: first trip {first:.6} s after the first timeout"
        );
    }
}

/// §2.3 step 9: fire-and-forget ops never count toward the threshold. With
/// only sets to the frozen node, no trip ever happens.
#[test]
fn fire_and_forget_ops_never_trip() {
    let out = run(&parse(
        TWO_NODES,
        &[r#"workload.flow.0.steps=[{ op = "set", wait = false }]"#],
    ));
    assert_eq!(out.summary.cache_ops.timeout, 0);
    assert_never_trips(&out);
}

/// §5: a partially degraded node (some requests answered) never trips: any
/// answer resets the counter. A duty cycle of 180 ms stopped / 20 ms running
/// answers something every 200 ms.
#[test]
fn a_partly_answering_node_never_trips() {
    let out = run(&parse(
        TWO_NODES,
        &[
            "fault.0.kind=slow",
            "fault.0.slow.stop=180ms",
            "fault.0.slow.run=20ms",
        ],
    ));
    assert_never_trips(&out);
}

/// §3.3: a crashed node (connect refused) is retried at +2, +6, +14, +30,
/// +60, +90 s after the crash (back-off 2, 4, 8, 16, 30 s cap).
#[test]
fn crashed_node_backoff_schedule() {
    let out = run(&parse(TWO_NODES, &["fault.0.kind=crash", "duration=110s"]));
    let refused: Vec<f64> = event_times(&out, 1, NodeEventKind::Refused)
        .iter()
        .map(|t| t - 10.0)
        .collect();
    let expected = [2.0, 6.0, 14.0, 30.0, 60.0, 90.0];
    assert!(refused.len() >= expected.len(), "{refused:?}");
    for (r, e) in refused.iter().zip(expected) {
        assert!((r - e).abs() < 0.01, "{refused:?}");
    }
}

/// §4: Cancel mode: while the primary is inactive, new ops are cancelled at
/// once (no wait); against a frozen node, it behaves like the others while
/// the node is active (2.5 s timeouts).
#[test]
fn cancel_mode_cancels_while_inactive_and_waits_while_active() {
    let out = run(&parse(
        TWO_NODES,
        &["client.spymemcached.failure_mode=cancel"],
    ));
    let s = &out.summary;
    assert!(s.cache_ops.cancelled > 1000, "{:?}", s.cache_ops);
    assert!(s.cache_ops.timeout > 1000, "{:?}", s.cache_ops);
    assert_eq!(s.cache_ops.redirected, 0);
    let out = run(&parse(TWO_NODES, &[]));
    assert!(out.summary.cache_ops.redirected > 1000);
}

/// §3.5: `verifyAliveOnConnect` against a frozen node: the noop is never
/// answered, so `connected()` is never called and the back-off grows (4, 8,
/// 16, 30 s after each failed check); each check freezes the I/O thread for
/// the op timeout, so the healthy node's ops stall and some time out.
#[test]
fn verify_alive_on_connect_grows_the_backoff_and_stalls_healthy_nodes() {
    let out = run(&parse(
        TWO_NODES,
        &[
            "client.spymemcached.verify_alive_on_connect=true",
            "duration=110s",
        ],
    ));
    let failed = event_times(&out, 1, NodeEventKind::VerifyFailed);
    assert!(failed.len() >= 4, "{failed:?}");
    let gaps = periods(&failed);
    // attempt at t, fails at t + 2.5 s; the next attempt 2^n s after that.
    let expected = [4.0 + 2.5, 8.0 + 2.5, 16.0 + 2.5, 30.0 + 2.5];
    for (g, e) in gaps.iter().zip(expected) {
        assert!((g - e).abs() < 0.01, "{gaps:?}");
    }
    // Each check freezes the one I/O thread for 2.5 s: ops queued meanwhile
    // (for either node) are dropped unsent. Without the check, writes never
    // wait, so nothing is ever dropped unsent.
    let without = run(&parse(TWO_NODES, &["duration=110s"]));
    // Without the check the frozen node is reconnected after each trip.
    assert_never(&out, 1, NodeEventKind::Connected, &without, 1);
    assert_eq!(without.summary.cache_ops.unsent_timeout, 0);
    assert!(
        out.summary.cache_ops.unsent_timeout > 100,
        "{:?}",
        out.summary.cache_ops
    );
}

/// The I/O thread logs one WARN line per op discarded at a drop (testbed:
/// 0.06–0.9 s for ~2,000 lines); with a short op timeout the healthy node's
/// ops time out during that stall.
#[test]
fn discard_logging_stalls_every_node_of_the_client() {
    let quiet = run(&parse(
        TWO_NODES,
        &[
            "client.op_timeout=100ms",
            "client.spymemcached.discard_log_line=0s",
            "duration=40s",
        ],
    ));
    let noisy = run(&parse(
        TWO_NODES,
        &[
            "client.op_timeout=100ms",
            "client.spymemcached.discard_log_line=1ms",
            "duration=40s",
        ],
    ));
    let healthy_failures = |s: &cachestorm::metrics::Summary| s.windows.steady.cache_timeout_ratio;
    assert_eq!(healthy_failures(&quiet.summary), 0.0);
    let lost = event_times(&noisy, 1, NodeEventKind::Lost);
    let trips = event_times(&noisy, 1, NodeEventKind::Trip);
    assert!(
        lost[0] - trips[0] > 0.04,
        "the lost event follows the logging stall"
    );
    assert!(
        noisy.summary.cache_ops.timeout + noisy.summary.cache_ops.unsent_timeout
            > quiet.summary.cache_ops.timeout + quiet.summary.cache_ops.unsent_timeout
    );
}

/// §4: a value set on a Redistribute target while the frozen primary was
/// inactive goes stale when the primary returns: reads hit its old version.
#[test]
fn redistribute_makes_stale_reads_when_the_primary_returns() {
    let update = r#"workload.flow.1={ name = "update", weight = 0.2, steps = [{ op = "db_write" }, { op = "set" }] }"#;
    let frozen = run(&parse(TWO_NODES, &[update]));
    let baseline = run(&parse(TWO_NODES, &[update, "fault.0.kind=none"]));
    assert!(
        frozen.summary.client.stale_reads > 20 * baseline.summary.client.stale_reads.max(1),
        "frozen {} vs baseline {}",
        frozen.summary.client.stale_reads,
        baseline.summary.client.stale_reads
    );
}

/// §2.3 step 5: a frozen peer accepts bytes until its receive buffer and the
/// client's send buffer are full; then the backlog builds in the write queue
/// and its ops time out unsent. With the default buffers the testbed's frozen
/// node never blocked writes: 2,000–2,400 ops (~150 KB) per connection were
/// written before each drop.
#[test]
fn socket_buffers_fill_on_a_frozen_node() {
    let tight = run(&parse(
        TWO_NODES,
        &[
            "network.send_buffer=1KiB",
            "network.recv_buffer=1KiB",
            "duration=30s",
        ],
    ));
    assert!(
        tight.summary.cache_ops.unsent_timeout > 0,
        "{:?}",
        tight.summary.cache_ops
    );
    let testbed = run(&common::load("models/testbed/frozen.toml", &[]));
    assert_eq!(
        testbed.summary.cache_ops.unsent_timeout, 0,
        "writes never blocked"
    );
    for e in testbed
        .node_events
        .iter()
        .filter(|e| e.what == NodeEventKind::Lost)
    {
        let n: u64 = e.detail.split_whitespace().next().unwrap().parse().unwrap();
        assert!((1_800..=2_600).contains(&n), "{n} ops discarded at a drop");
    }
}
