//! Fault shapes (issue 13): any fault kind on a duty cycle with jitter,
//! added latency on one node's link, a node answering a share of its ops
//! with `SERVER_ERROR` (and spymemcached 2.12.3 dropping the connection on
//! it), faults addressed by the node's address.

use crate::common::{event_times, parse, run};
use cachestorm::sim::protocol::NodeEventKind;

/// Two nodes on loopback, spymemcached, open loop; the fault is appended.
const TWO_NODES: &str = r#"
name = "two nodes"
duration = "60s"
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
nodes = ["10.0.1.3:11211", "10.0.1.4:11211"]
prefill = true
[database]
connections = 0
"#;

fn with_fault(fault: &str) -> String {
    format!("{TWO_NODES}\n[[fault]]\n{fault}")
}

/// "Down 5 s, up 5 s": a crash on a 5 s / 5 s cycle from 10 s for 30 s
/// kills the process at 10, 20 and 30 s (spymemcached loses its connection
/// each time, one network hop later) and at no other time; between them the
/// client reconnects (the reconnect at 16 s finds it up again).
#[test]
fn a_crash_on_a_cycle_kills_the_node_at_each_on_phase() {
    let out = run(&parse(
        &with_fault(
            r#"node = "10.0.1.4:11211"
kind = "crash"
start = "10s"
duration = "30s"
cycle = { on = "5s", off = "5s" }"#,
        ),
        &[],
    ));
    let lost = event_times(&out, 1, NodeEventKind::Lost);
    assert_eq!(lost.len(), 3, "{lost:?}");
    for (t, want) in lost.iter().zip([10.0, 20.0, 30.0]) {
        assert!((t - want).abs() < 0.01, "lost at {lost:?}");
    }
    // Each off phase lets the reconnect in: connected again before the next
    // crash.
    let connected = event_times(&out, 1, NodeEventKind::Connected);
    for w in [(15.0, 20.0), (25.0, 30.0)] {
        assert!(
            connected.iter().any(|t| (w.0..w.1).contains(t)),
            "no reconnect in {w:?}: {connected:?}"
        );
    }
    // The same fault without the cycle crashes once.
    let once = run(&parse(
        &with_fault(
            r#"node = 1
kind = "crash"
start = "10s"
duration = "30s""#,
        ),
        &[],
    ));
    assert_eq!(event_times(&once, 1, NodeEventKind::Lost).len(), 1);
}

/// With jitter each phase is its length ± up to the jitter: the crashes
/// move, stay inside their bounds, and the run stays deterministic.
#[test]
fn cycle_jitter_moves_phases_within_bounds_deterministically() {
    let text = with_fault(
        r#"node = 1
kind = "crash"
start = "10s"
duration = "40s"
cycle = { on = "5s", off = "5s", jitter = "1s" }"#,
    );
    let a = run(&parse(&text, &[]));
    let b = run(&parse(&text, &[]));
    let lost = event_times(&a, 1, NodeEventKind::Lost);
    assert_eq!(lost, event_times(&b, 1, NodeEventKind::Lost));
    assert!(lost.len() >= 3, "{lost:?}");
    assert!((lost[0] - 10.0).abs() < 0.01);
    // A period is two phases: 10 s ± 2 s; some period is not exactly 10 s.
    let periods: Vec<f64> = lost.windows(2).map(|w| w[1] - w[0]).collect();
    for p in &periods {
        assert!((8.0..=12.01).contains(p), "period {p}: {lost:?}");
    }
    assert!(
        periods.iter().any(|p| (p - 10.0).abs() > 0.01),
        "{periods:?}"
    );
}

/// A one-node cluster behind the plain client and 10 000 threads: no
/// queueing anywhere, so every request's latency is the fixed part plus what
/// the fault adds.
const ONE_NODE_PLAIN: &str = r#"
name = "one node"
duration = "20s"
drain = "2s"
[workload]
arrival = "constant"
rate = 200
keys = { count = 1000 }
[[workload.flow]]
name = "read"
steps = [{ op = "get" }]
[service]
threads = 10000
[client]
policy = "plain"
op_timeout = "1s"
[cluster]
nodes = ["10.0.1.4:11211"]
prefill = true
[database]
connections = 0
"#;

/// `latency` adds its delay to every op's round trip (the reply leaves the
/// node later), without slowing the node: it serves as many ops as before.
/// `slow` with a service-time factor, by contrast, is a throughput limit.
#[test]
fn added_latency_delays_every_op_by_its_delay() {
    let base = run(&parse(ONE_NODE_PLAIN, &[]));
    let fault = r#"
[[fault]]
node = "10.0.1.4:11211"
kind = "latency"
start = "0s"
duration = "30s"
latency = { delay = "50ms" }
"#;
    let slow = run(&parse(&format!("{ONE_NODE_PLAIN}{fault}"), &[]));
    let (b, s) = (base.summary.latency_ms, slow.summary.latency_ms);
    for (name, b, s) in [
        ("p50", b.p50, s.p50),
        ("max", b.max, s.max),
        ("mean", b.mean, s.mean),
    ] {
        // HDR histograms keep 3 significant digits.
        assert!(
            ((s - b) - 50.0).abs() <= 0.001 * s + 1e-9,
            "{name}: {b} ms → {s} ms"
        );
    }
    assert_eq!(base.summary.nodes[0].served, slow.summary.nodes[0].served);

    // Jitter: each reply leaves 50 ms ± 20 ms (uniform) later, but stays in
    // order on its connection (TCP), so a reply also waits for the one
    // before it: nothing is added beyond 70 ms, and on average more than
    // 50 ms (head-of-line blocking only adds).
    let jittered = run(&parse(
        &format!("{ONE_NODE_PLAIN}{fault}"),
        &["fault.0.latency.jitter=20ms"],
    ));
    let j = jittered.summary.latency_ms;
    assert!(
        j.max - b.max <= 70.0 * 1.001 && j.max - b.max > 65.0,
        "{j:?}"
    );
    assert!(j.mean - b.mean > 50.0, "{j:?}");
    assert!(j.p50 - b.p50 > 30.0, "{j:?}");
}

/// spymemcached 2.12.3: a `SERVER_ERROR` line completes its op with an
/// error (`BaseOperationImpl.handleError` throws `OperationException`),
/// which `MemcachedConnection.handleIO(SelectionKey)` catches with
/// `lostConnection`: the connection is dropped and the node reconnects 2 s
/// later, as the reference measured for one oversized set ("reconnect after
/// 2.0 s"). With every op failing, the node is lost again at the first op
/// after each reconnect: a 2 s cycle.
#[test]
fn spymemcached_drops_the_connection_at_a_server_error() {
    let out = run(&parse(
        &with_fault(
            r#"node = "10.0.1.4:11211"
kind = "errors"
start = "10s"
duration = "20s"
errors = { fraction = 1.0 }"#,
        ),
        &[],
    ));
    let lost = event_times(&out, 1, NodeEventKind::Lost);
    assert!((lost[0] - 10.0).abs() < 0.01, "{lost:?}");
    let periods: Vec<f64> = lost.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(lost.len() >= 8, "{lost:?}");
    for p in &periods {
        assert!((p - 2.0).abs() < 0.01, "period {p}: {lost:?}");
    }
    assert!(out.summary.cache_ops.error > 0);
    // The other node is untouched.
    assert!(event_times(&out, 0, NodeEventKind::Lost).is_empty());
}

/// A share of errors: each op fails with that probability, drawn from its
/// own stream, and the plain client (no connection state) just sees errors.
#[test]
fn a_share_of_errors_fails_that_share_of_ops() {
    let fault = r#"
[[fault]]
node = 0
kind = "errors"
start = "0s"
duration = "30s"
errors = { fraction = 0.25 }
"#;
    let out = run(&parse(&format!("{ONE_NODE_PLAIN}{fault}"), &[]));
    let c = out.summary.cache_ops;
    let n = (c.hit + c.miss + c.error) as f64;
    let p = c.error as f64 / n;
    // Binomial: 4 standard deviations.
    let sd = (0.25 * 0.75 / n).sqrt();
    assert!((p - 0.25).abs() < 4.0 * sd, "{p} of {n}");
}
