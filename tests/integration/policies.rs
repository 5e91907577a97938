//! The other client policies (mcrouter, twemproxy, pymemcache, libmemcached)
//! and the application-level resilience layer, each mechanism pinned by a
//! small model against `shared/reference/spymemcached.md` §7 and
//! `service-stack.md` §7 (`docs/policies.md` describes them).

use crate::common::{self, assert_never, event_times, parse, run};
use cachestorm::metrics::TimelineRow;
use cachestorm::sim::protocol::NodeEventKind;
use cachestorm::sim::{self, RunOutput};

/// Four nodes, node 1 frozen from 10 s to 40 s; reads with the read-through
/// fallback; plenty of threads, so callers never queue.
const FOUR_NODES: &str = r#"
name = "four nodes"
duration = "60s"
drain = "5s"
[workload]
arrival = "constant"
rate = 1000
keys = { count = 10000 }
[[workload.flow]]
name = "read"
steps = [
  { op = "get" },
  { op = "db_read", on = "miss_or_error" },
  { op = "set", on = "miss_or_error", wait = false },
]
[service]
threads = 100000
[client]
policy = "mcrouter"
[cluster]
nodes = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"]
prefill = true
[database]
connections = 0
[[fault]]
node = 1
kind = "frozen"
start = "10s"
duration = "30s"
"#;

/// One node and one request every 500 ms (arrivals at 0, 0.5, 1.0 … s), so
/// each op's fate can be followed by hand.
const ONE_SLOW_CALLER: &str = r#"
name = "one caller"
duration = "80s"
drain = "5s"
[workload]
arrival = "constant"
rate = 2
keys = { count = 100 }
[[workload.flow]]
name = "read"
steps = [{ op = "get" }]
[service]
threads = 1000
[client]
policy = "pymemcache"
[cluster]
nodes = ["10.0.0.1:11211"]
prefill = true
[[fault]]
node = 0
kind = "frozen"
start = "9.9s"
duration = "60s"
"#;

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn timeline(model: &cachestorm::config::Model) -> (RunOutput, Vec<TimelineRow>) {
    let mut rows = Vec::new();
    let out = sim::run_checked(model, true, &mut |r: &TimelineRow| rows.push(r.clone()))
        .unwrap_or_else(|v| panic!("{v}"));
    (out, rows)
}

// ---------------------------------------------------------------- mcrouter

/// §7: three consecutive 1 s timeouts mark the frozen node soft TKO (≈ 1 s
/// after the freeze under load); requests to it then fail fast; probes
/// start 10 s later, each delay ×1.5 and stretched by 5–50 %; the first
/// probe after the node recovers clears the TKO.
#[test]
fn mcrouter_marks_a_frozen_node_tko_and_probes_it_back() {
    let out = run(&parse(
        FOUR_NODES,
        &["duration=120s", "fault.0.duration=60s"],
    ));
    let tko = event_times(&out, 1, NodeEventKind::Tko);
    assert_eq!(tko.len(), 1, "{tko:?}");
    assert!(
        (1.0..1.01).contains(&(tko[0] - 10.0)),
        "TKO {:.4} s after the freeze",
        tko[0] - 10.0
    );
    // Probe timer: delays 10, 15, 22.5, 33.75, 50.6, 60 s, each × [1.05, 1.5].
    let probes = event_times(&out, 1, NodeEventKind::Probe);
    let mut last = tko[0];
    let mut delay = 10.0f64;
    for &p in &probes {
        let ratio = (p - last) / delay;
        assert!(
            (1.05 - 1e-6..=1.5 + 1e-6).contains(&ratio),
            "probe gap {:.3} s for a delay of {delay} s",
            p - last
        );
        last = p;
        delay = (delay * 1.5).min(60.0);
    }
    // Recovery at 70 s: the first probe sent after it (or in flight at it)
    // clears the TKO, within one probe interval.
    let clear = event_times(&out, 1, NodeEventKind::TkoClear);
    assert_eq!(clear.len(), 1, "{clear:?}");
    let sent = probes.iter().rev().find(|&&p| p <= clear[0]).unwrap();
    assert!(
        clear[0] >= 70.0 && clear[0] - sent < 1.01,
        "{clear:?} {probes:?}"
    );
    let before = probes.iter().rev().find(|&&p| p < 69.0).unwrap();
    assert!(clear[0] - 70.0 <= sent - before + 1e-6);
    // While TKO: fast errors, not timeouts. About 1 s of the node's share
    // (250 req/s) timed out before the TKO.
    let c = &out.summary.cache_ops;
    assert!((200..=300).contains(&c.timeout), "{c:?}");
    assert!(c.error > 10_000, "{c:?}");
    // No other node was ever TKO.
    assert!(out.node_events.iter().all(|e| e.node == 1));
}

/// A connect error marks a destination hard TKO at once: a crashed node is
/// TKO one connect round trip after the first request reconnects.
#[test]
fn mcrouter_marks_a_crashed_node_hard_tko_at_the_first_refused_connect() {
    let out = run(&parse(FOUR_NODES, &["fault.0.kind=crash"]));
    let tko: Vec<_> = out
        .node_events
        .iter()
        .filter(|e| e.node == 1 && e.what == NodeEventKind::Tko)
        .collect();
    assert_eq!(tko.len(), 1);
    assert_eq!(tko[0].detail, "hard");
    assert!(near(tko[0].time as f64 / 1e9, 10.0, 0.01));
    assert_eq!(out.summary.cache_ops.timeout, 0);
}

/// `FailoverWithExptimeRoute` to a gutter pool: the frozen node's keys are
/// served from the gutter (misses at first, then hits, as the read-through
/// sets fill it), the gutter's sets expire after `failover_exptime` (60 s),
/// and no caller sees a cache error.
#[test]
fn mcrouter_gutter_serves_misses_then_hits_that_expire_after_60_seconds() {
    let text = FOUR_NODES.replace(
        "[cluster]\nnodes = [\"10.0.0.1:11211\", \"10.0.0.2:11211\", \"10.0.0.3:11211\", \"10.0.0.4:11211\"]\nprefill = true",
        r#"[[cluster.pool]]
name = "main"
nodes = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"]
prefill = true
[[cluster.pool]]
name = "gutter"
nodes = ["10.0.1.1:11211"]"#,
    );
    assert_ne!(text, FOUR_NODES);
    let model = parse(
        &text,
        &[
            "duration=120s",
            "fault.0.duration=100s",
            r#"fault.0.pool="main""#,
            r#"client.mcrouter.gutter="gutter""#,
        ],
    );
    let (out, rows) = timeline(&model);
    let c = &out.summary.cache_ops;
    assert_eq!(c.error, 0, "{c:?}");
    assert_eq!(c.timeout, 0, "timeouts fail over: {c:?}");
    assert!(c.redirected > 20_000, "{c:?}");
    let gutter = out
        .summary
        .nodes
        .iter()
        .find(|n| n.pool == "gutter")
        .unwrap();
    assert!(gutter.served > 20_000);
    let misses =
        |from: usize, to: usize| -> u64 { rows[from..to].iter().map(|r| r.cache.miss).sum() };
    // About 2,500 keys on the frozen node, each read every 10 s on average.
    let cold = misses(11, 21);
    let warm = misses(50, 70);
    let expired = misses(72, 82);
    assert!(cold > 1_500, "cold gutter: {cold} misses");
    assert!(warm < cold / 10, "warm gutter: {warm} misses vs {cold}");
    assert!(
        expired > 5 * warm.max(10),
        "after expiry: {expired} vs {warm}"
    );
    // The node is back at 110 s, but stays TKO until a probe answers.
    let clears = event_times(&out, 1, NodeEventKind::TkoClear);
    assert!(
        !clears.is_empty() && clears.iter().all(|&t| t > 110.0),
        "{clears:?}"
    );
}

/// The fail-open guard: with more than half of the pool TKO, requests are
/// sent to TKO destinations anyway (and time out) instead of failing fast.
#[test]
fn mcrouter_fails_open_above_the_tko_threshold() {
    let two_frozen = r#"fault.1={ node = 2, kind = "frozen", start = "10s", duration = "30s" }"#;
    let closed = run(&parse(FOUR_NODES, &[two_frozen]));
    let open = run(&parse(
        FOUR_NODES,
        &[two_frozen, "client.mcrouter.tko_threshold=0.25"],
    ));
    assert!(closed.summary.cache_ops.timeout < 1_000);
    assert!(
        open.summary.cache_ops.timeout > 10 * closed.summary.cache_ops.timeout,
        "{:?} vs {:?}",
        open.summary.cache_ops,
        closed.summary.cache_ops
    );
}

// ---------------------------------------------------------------- twemproxy

/// §7: twemproxy's default has no timeout, so a frozen node is never
/// detected: its requests hang, nothing fails, nothing is ejected (with or
/// without auto-eject).
#[test]
fn twemproxy_without_a_timeout_never_detects_a_frozen_node() {
    for eject in ["false", "true"] {
        let out = run(&parse(
            FOUR_NODES,
            &[
                "client.policy=twemproxy",
                &format!("client.twemproxy.auto_eject_hosts={eject}"),
            ],
        ));
        let c = &out.summary.cache_ops;
        assert_eq!(c.timeout + c.error, 0, "{c:?}");
        assert!(out.node_events.is_empty(), "{:?}", out.node_events);
        // The frozen node's requests wait until it resumes at 40 s.
        assert!(out.summary.latency_ms.max > 29_000.0);
    }
}

/// §7: with `timeout` and `auto_eject_hosts`, each timeout closes the server
/// connection (failing all its requests); two consecutive failures eject the
/// node for `server_retry_timeout` (30 s); back in the ring it fails twice
/// more and is ejected again.
#[test]
fn twemproxy_ejects_after_two_timeouts_and_readds_thirty_seconds_later() {
    let out = run(&parse(
        FOUR_NODES,
        &[
            "client.policy=twemproxy",
            "client.twemproxy.timeout=400ms",
            "client.twemproxy.auto_eject_hosts=true",
            "duration=120s",
            "fault.0.duration=100s",
        ],
    ));
    let closes = event_times(&out, 1, NodeEventKind::TimeoutClose);
    let ejects = event_times(&out, 1, NodeEventKind::Eject);
    let readds = event_times(&out, 1, NodeEventKind::Readd);
    assert!(ejects.len() >= 3, "{ejects:?}");
    // First close 0.4 s after the freeze, second 0.4 s after the reconnect.
    assert!(near(closes[0], 10.4, 0.01), "{closes:?}");
    assert!(near(ejects[0], 10.8, 0.01), "{ejects:?}");
    assert_eq!(ejects[0], closes[1]);
    for (e, r) in ejects.iter().zip(&readds) {
        assert!((30.0..30.01).contains(&(r - e)), "eject {e} readd {r}");
    }
    for (r, e) in readds.iter().zip(&ejects[1..]) {
        assert!(near(e - r, 0.8, 0.01), "readd {r} eject {e}");
    }
    // While ejected, its keys go to the other nodes: no errors then.
    let timeline_errors_while_ejected = out.summary.cache_ops.error;
    assert!(timeline_errors_while_ejected > 0);
    // Without eject the node is never removed: every 0.4 s a timeout.
    let kept = run(&parse(
        FOUR_NODES,
        &["client.policy=twemproxy", "client.twemproxy.timeout=400ms"],
    ));
    assert_never(&kept, 1, NodeEventKind::Eject, &out, 1);
    assert!(event_times(&kept, 1, NodeEventKind::TimeoutClose).len() > 60);
    // summary.json counts the ejections (and no trips: a spymemcached word).
    assert_eq!(out.summary.client.ejections, ejects.len() as u64);
    assert_eq!(out.summary.client.first_ejection_s, Some(ejects[0]));
    assert_eq!(out.summary.client.trips, 0);
    assert_eq!(kept.summary.client.ejections, 0);
}

// ---------------------------------------------------------------- pymemcache

/// §7: with a timeout set, the first failure marks the node failed; calls
/// return the default (a miss) without trying for `retry_timeout` (1 s);
/// then one live try; after 2 failed retries the next call marks it dead and
/// is itself still sent; the dead node is back after `dead_timeout` (60 s).
#[test]
fn pymemcache_fails_fast_with_misses_then_marks_dead_after_two_failed_retries() {
    let out = run(&parse(
        ONE_SLOW_CALLER,
        &["client.pymemcache.timeout=200ms"],
    ));
    let failed = event_times(&out, 0, NodeEventKind::Failed);
    let retries = event_times(&out, 0, NodeEventKind::RetryFailed);
    let dead = event_times(&out, 0, NodeEventKind::Dead);
    // 10.0 sent → fails at 10.2; 10.5, 11.0 not tried; 11.5 retried → 11.7;
    // 12.0, 12.5 not tried; 13.0 retried → 13.2; 13.5 marks it dead and is
    // sent → fails at 13.7.
    assert_eq!(failed.first().copied(), Some(10.2), "{failed:?}");
    assert_eq!(retries, [11.7, 13.2]);
    assert_eq!(dead, [13.5]);
    assert_eq!(failed.get(1).copied(), Some(13.7));
    // Back in the hash at the first call more than 60 s after the death:
    // 74.0 s; the node answers again (resumed at 69.9 s).
    assert_eq!(event_times(&out, 0, NodeEventKind::Readd), [74.0]);
    let c = &out.summary.cache_ops;
    // Four misses not tried (10.5, 11.0, 12.0, 12.5), four timeouts, and the
    // calls while the only node is dead raise "all servers down" (errors).
    assert_eq!(c.miss, 4, "{c:?}");
    assert_eq!(c.timeout, 4, "{c:?}");
    assert_eq!(c.error, (74.0 - 14.0) as u64 * 2, "{c:?}");
    // summary.json counts the dead-marking and the failed markings (a
    // pymemcache run used to report 0 trips and nothing else).
    let client = &out.summary.client;
    assert_eq!(client.trips, 0);
    assert_eq!(client.ejections, dead.len() as u64);
    assert_eq!(client.first_ejection_s, Some(13.5));
    assert_eq!(
        client.marked_failed,
        (failed.len() + retries.len()) as u64,
        "{client:?}"
    );
}

/// `ignore_exc` turns raised failures into the default: the caller sees a
/// miss, the op is still counted as what happened.
#[test]
fn pymemcache_ignore_exc_returns_misses() {
    let strict = run(&parse(
        ONE_SLOW_CALLER,
        &["client.pymemcache.timeout=200ms"],
    ));
    let lax = run(&parse(
        ONE_SLOW_CALLER,
        &[
            "client.pymemcache.timeout=200ms",
            "client.pymemcache.ignore_exc=true",
        ],
    ));
    assert!(strict.summary.windows.fault.cache_timeout_ratio > 0.0);
    assert_eq!(lax.summary.windows.fault.cache_timeout_ratio, 0.0);
    assert_eq!(lax.summary.windows.fault.cache_cancel_ratio, 0.0);
    assert_eq!(
        lax.summary.cache_ops.timeout,
        strict.summary.cache_ops.timeout
    );
}

/// §7: without a timeout (the default) a call to a frozen node blocks until
/// it answers: nothing is marked, the caller waits out the freeze.
#[test]
fn pymemcache_without_a_timeout_blocks() {
    let out = run(&parse(ONE_SLOW_CALLER, &[]));
    assert!(out.node_events.is_empty(), "{:?}", out.node_events);
    assert_eq!(out.summary.cache_ops.timeout, 0);
    assert!(out.summary.latency_ms.max > 59_000.0);
}

/// A killed memcached closes its sockets: pymemcache raises
/// `MemcacheUnexpectedCloseError`, which does not count; the reconnect is
/// refused (`ConnectionRefusedError`, an `OSError`), which does.
#[test]
fn pymemcache_counts_refused_connects_not_server_closes() {
    let out = run(&parse(
        FOUR_NODES,
        &["client.policy=pymemcache", "fault.0.kind=crash"],
    ));
    let failed: Vec<_> = out
        .node_events
        .iter()
        .filter(|e| e.node == 1 && e.what == NodeEventKind::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert_eq!(failed[0].detail, "refused");
    assert!(!event_times(&out, 1, NodeEventKind::Dead).is_empty());
}

// ---------------------------------------------------------------- libmemcached

/// §7: against a frozen node every op waits the 5 s poll timeout, the socket
/// is closed, the next op reconnects fine (the kernel accepts it) and
/// nothing is counted: no ejection even with auto-eject.
#[test]
fn libmemcached_frozen_node_every_op_waits_five_seconds_and_is_never_ejected() {
    let sets = [
        "client.policy=libmemcached",
        "client.libmemcached.auto_eject_hosts=true",
        "fault.0.duration=30s",
        "duration=45s",
    ];
    let out = run(&parse(ONE_SLOW_CALLER, &sets));
    let f = &out.summary.windows.fault;
    // Every get of the window waits 5 s, except those of its last 5 s, which
    // the node answers when it resumes.
    assert!(near(f.latency_ms.p50, 5_000.0, 5.0), "{:?}", f.latency_ms);
    assert!(near(f.latency_ms.max, 5_000.0, 5.0), "{:?}", f.latency_ms);
    assert!(
        near(f.cache_timeout_ratio, 25.0 / 30.0, 0.02),
        "{}",
        f.cache_timeout_ratio
    );
    assert_eq!(out.summary.cache_ops.error, 0);
    // A crashed node is put in timeout and ejected.
    let crashed = run(&parse(
        FOUR_NODES,
        &[
            "client.policy=libmemcached",
            "client.libmemcached.auto_eject_hosts=true",
            "fault.0.kind=crash",
        ],
    ));
    for what in [NodeEventKind::InTimeout, NodeEventKind::Eject] {
        assert_never(&out, 0, what, &crashed, 1);
    }
    // One op at a time (one every 6.67 s): each timeout closes the socket and
    // the next op reconnects.
    let mut sets = sets.to_vec();
    sets.push("workload.rate=0.15");
    let out = run(&parse(ONE_SLOW_CALLER, &sets));
    let timeouts = out.summary.cache_ops.timeout;
    assert!(timeouts >= 4);
    assert_eq!(
        event_times(&out, 0, NodeEventKind::Connected).len() as u64,
        timeouts
    );
    assert_never(&out, 0, NodeEventKind::Eject, &crashed, 1);
}

/// §7: a crashed node: each refused connect counts and puts it "in timeout"
/// for 2 s (ops fail fast); without auto-eject this repeats forever; with
/// it the 5th failure ejects it and its keys remap (no more errors); with
/// `dead_timeout` 0 it is never tried again.
#[test]
fn libmemcached_crash_counts_connect_failures_and_ejects_at_five() {
    let crash = ["client.policy=libmemcached", "fault.0.kind=crash"];
    let kept = run(&parse(FOUR_NODES, &crash));
    let t = event_times(&kept, 1, NodeEventKind::InTimeout);
    assert!(t.len() > 10, "{t:?}");
    for w in t.windows(2) {
        assert!((2.0..2.01).contains(&(w[1] - w[0])), "{t:?}");
    }
    let mut sets = crash.to_vec();
    sets.push("client.libmemcached.auto_eject_hosts=true");
    let out = run(&parse(FOUR_NODES, &sets));
    assert_never(&kept, 1, NodeEventKind::Eject, &out, 1);
    let t = event_times(&out, 1, NodeEventKind::InTimeout);
    let e = event_times(&out, 1, NodeEventKind::Eject);
    assert_eq!(t.len(), 4, "{t:?}");
    assert_eq!(e.len(), 1);
    assert!((2.0..2.01).contains(&(e[0] - t[3])));
    // Never reconnected, even after the restart at 40 s (without the
    // ejection it is).
    assert_never(&out, 1, NodeEventKind::Connected, &kept, 1);
    assert!(event_times(&out, 1, NodeEventKind::Refused).len() == 5);
}

// ---------------------------------------------------------------- resilience

/// Plain client, one node crashed from 10 s to 40 s: every cache call is
/// answered by a reset (an error) within a round trip.
const CRASHED: &str = r#"
name = "crashed"
duration = "60s"
drain = "5s"
[workload]
arrival = "constant"
rate = 100
keys = { count = 1000 }
[[workload.flow]]
name = "read"
steps = [{ op = "get" }, { op = "db_read", on = "miss_or_error" }]
[service]
threads = 100000
[client]
policy = "plain"
[cluster]
nodes = ["10.0.0.1:11211"]
prefill = true
[database]
connections = 0
[[fault]]
node = 0
kind = "crash"
start = "10s"
duration = "30s"
"#;

/// resilience4j CircuitBreaker defaults: it opens when 50 % of the last 100
/// calls failed, refuses calls for 60 s, then lets 10 trial calls through
/// (lazily, at the first call after the wait); failing trials open it again,
/// successful ones close it.
#[test]
fn breaker_opens_at_the_threshold_and_half_opens_after_sixty_seconds() {
    let out = run(&parse(
        CRASHED,
        &[
            "service.resilience.breaker.enabled=true",
            "duration=200s",
            "fault.0.duration=70s",
        ],
    ));
    let scope = cachestorm::sim::resilience::CLIENT_SCOPE;
    let open = event_times(&out, scope, NodeEventKind::BreakerOpen);
    let half = event_times(&out, scope, NodeEventKind::BreakerHalfOpen);
    let closed = event_times(&out, scope, NodeEventKind::BreakerClosed);
    // 100 calls a second, all failing from 10 s: the 50th failure makes 50 %
    // of the last 100 calls.
    assert!(near(open[0], 10.49, 0.002), "{open:?}");
    assert!(near(half[0] - open[0], 60.0, 0.011), "{half:?}");
    // The node is back at 80 s: the trials at 70.5 s fail, those at 130.6 s
    // succeed.
    assert!(near(open[1], half[0] + 0.09, 0.002), "{open:?}");
    assert!(near(half[1] - open[1], 60.0, 0.011), "{half:?}");
    assert!(near(closed[0], half[1] + 0.09, 0.002), "{closed:?}");
    // Refused calls are cache errors with no wait: no call reached the node
    // while open, so the node served only 10 + 10 trial calls between.
    let c = &out.summary.cache_ops;
    assert!(c.error > 10_000, "{c:?}");
}

/// A per-node breaker opens for the failing node only.
#[test]
fn node_breakers_open_for_the_failing_node_only() {
    let out = run(&parse(
        FOUR_NODES,
        &[
            "client.policy=plain",
            "fault.0.kind=crash",
            "service.resilience.breaker.enabled=true",
            "service.resilience.breaker.scope=node",
        ],
    ));
    let opened: Vec<u16> = out
        .node_events
        .iter()
        .filter(|e| e.what == NodeEventKind::BreakerOpen)
        .map(|e| e.node)
        .collect();
    assert_eq!(opened, [1]);
}

/// resilience4j Retry defaults (3 attempts, a fixed 500 ms sleep on the
/// caller's thread): a call that keeps failing returns after 2 × 500 ms;
/// with full jitter each sleep is uniform in [0, 500 × 2^(n−1)] ms, so the
/// two sleeps take at most 1.5 s and 0.75 s on average.
#[test]
fn retries_sleep_within_their_bounds() {
    let fixed = run(&parse(CRASHED, &["service.resilience.retry.enabled=true"]));
    let f = &fixed.summary.windows.fault;
    assert!(near(f.latency_ms.p50, 1_005.0, 2.0), "{:?}", f.latency_ms);
    assert!(near(f.latency_ms.max, 1_005.0, 2.0), "{:?}", f.latency_ms);
    // Each failing call was tried three times (but for the last second's,
    // whose retries meet the restarted node).
    let calls = f.offered as f64;
    assert!(fixed.summary.cache_ops.error as f64 >= 2.9 * calls);
    let jitter = run(&parse(
        CRASHED,
        &[
            "service.resilience.retry.enabled=true",
            "service.resilience.retry.backoff=exponential",
            "service.resilience.retry.jitter=full",
        ],
    ));
    let j = &jitter.summary.windows.fault;
    assert!(j.latency_ms.max <= 1_505.0, "{:?}", j.latency_ms);
    assert!(near(j.latency_ms.mean, 755.0, 30.0), "{:?}", j.latency_ms);
    // The same seed gives the same sleeps.
    let again = run(&parse(
        CRASHED,
        &[
            "service.resilience.retry.enabled=true",
            "service.resilience.retry.backoff=exponential",
            "service.resilience.retry.jitter=full",
        ],
    ));
    assert_eq!(
        again.summary.latency_ms.mean,
        jitter.summary.latency_ms.mean
    );
}

/// The retry budget lets through about 20 % of calls as retries on top of
/// 10 retries per second.
#[test]
fn the_retry_budget_caps_retries() {
    let sets = [
        "service.resilience.retry.enabled=true",
        "service.resilience.retry.wait=10ms",
        "service.resilience.budget.enabled=true",
    ];
    let out = run(&parse(CRASHED, &sets));
    let calls = out.summary.windows.fault.offered as f64;
    let attempts = out.summary.cache_ops.error as f64;
    let retries = attempts - calls;
    // Over 30 s of failures: at most 0.2 × calls + 10/s × (30 s + 10 s of
    // reserve carried in), at least the ratio's share.
    assert!(retries <= 0.2 * calls + 10.0 * 40.0, "{retries} of {calls}");
    assert!(retries >= 0.2 * calls, "{retries} of {calls}");
}

// ---------------------------------------------------------------- invariants

/// Every policy (with its options on) under every fault kind, with bulk
/// gets, sets, deletes and the resilience layer: the invariants hold.
#[test]
fn every_policy_under_every_fault_keeps_the_invariants() {
    let base = r#"
name = "matrix"
duration = "40s"
drain = "10s"
[workload]
rate = 800
keys = { count = 2000, popularity = { dist = "zipf", exponent = 0.9 } }
[[workload.flow]]
name = "read"
weight = 6
steps = [
  { op = "get" },
  { op = "db_read", on = "miss_or_error" },
  { op = "set", on = "miss_or_error", wait = false },
]
[[workload.flow]]
name = "bulk"
weight = 2
steps = [{ op = "multi_get", count = 5 }, { op = "db_read", on = "miss_or_error" }]
[[workload.flow]]
name = "write"
weight = 1
steps = [{ op = "db_write" }, { op = "set" }, { op = "delete", key = "new", wait = false }]
[service]
threads = 50
queue = 200
[cluster]
worker_threads = 2
[[cluster.pool]]
name = "main"
nodes = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]
prefill = true
[[cluster.pool]]
name = "gutter"
nodes = ["10.0.1.1:11211"]
[database]
connections = 20
[[fault]]
pool = "main"
node = 1
kind = "none"
start = "10s"
duration = "20s"
"#;
    let policies: &[&[&str]] = &[
        &["client.policy=plain"],
        &["client.policy=spymemcached"],
        &[
            "client.policy=mcrouter",
            r#"client.mcrouter.gutter="gutter""#,
        ],
        &[
            "client.policy=mcrouter",
            "client.mcrouter.tko_threshold=0.3",
        ],
        &[
            "client.policy=twemproxy",
            "client.twemproxy.timeout=300ms",
            "client.twemproxy.auto_eject_hosts=true",
            "client.twemproxy.server_retry_timeout=5s",
        ],
        &["client.policy=twemproxy"],
        &[
            "client.policy=pymemcache",
            "client.pymemcache.timeout=300ms",
        ],
        &[
            "client.policy=pymemcache",
            "client.pymemcache.timeout=300ms",
            "client.pymemcache.ignore_exc=true",
            "client.pymemcache.dead_timeout=5s",
        ],
        &[
            "client.policy=libmemcached",
            "client.libmemcached.auto_eject_hosts=true",
            "client.libmemcached.dead_timeout=5s",
            "client.libmemcached.poll_timeout=500ms",
        ],
        &[
            "client.policy=mcrouter",
            "service.resilience.retry.enabled=true",
            "service.resilience.retry.backoff=exponential",
            "service.resilience.retry.jitter=decorrelated",
            "service.resilience.retry.wait=50ms",
            "service.resilience.budget.enabled=true",
            "service.resilience.breaker.enabled=true",
            "service.resilience.breaker.scope=both",
            "service.resilience.breaker.sliding_window_size=20",
            "service.resilience.breaker.wait_duration_in_open_state=3s",
        ],
        &[
            "client.policy=libmemcached",
            "service.bulkhead.enabled=true",
            "service.resilience.retry.enabled=true",
            "service.resilience.breaker.enabled=true",
        ],
    ];
    let faults: &[&[&str]] = &[
        &["fault.0.kind=none"],
        &["fault.0.kind=crash"],
        &["fault.0.kind=frozen"],
        &[
            "fault.0.kind=frozen",
            "fault.0.frozen.end=reboot",
            "fault.0.frozen.reboot_down=5s",
        ],
        &["fault.0.kind=slow", "fault.0.slow.factor=1000"],
        &[
            "fault.0.kind=slow",
            "fault.0.slow.stop=180ms",
            "fault.0.slow.run=20ms",
        ],
        &["fault.0.kind=lossy", "fault.0.lossy.loss=0.3"],
        &[
            "fault.0.kind=flapping",
            "fault.0.flapping.frozen=2s",
            "fault.0.flapping.healthy=1s",
        ],
        &["fault.0.kind=partition"],
        &["fault.0.kind=latency", "fault.0.latency.jitter=20ms"],
        &["fault.0.kind=errors", "fault.0.errors.fraction=0.5"],
        &[
            "fault.0.kind=crash",
            "fault.0.cycle.on=2s",
            "fault.0.cycle.off=1s",
            "fault.0.cycle.jitter=500ms",
        ],
        &[
            "fault.0.kind=db_outage",
            "database.deadline=300ms",
            "database.on_deadline=kill",
            "database.retry.enabled=true",
            "database.retry.wait=10ms",
        ],
        &[
            "fault.0.kind=db_slow",
            "database.deadline=300ms",
            "database.max_connections=4",
            "database.queue_limit=20",
        ],
        &[
            "fault.0.kind=db_failover",
            "fault.0.failover.cold_factor=3",
            "fault.0.failover.cold_for=2s",
            "database.pool_scope=instance",
        ],
        &[
            "fault.0.kind=db_blip",
            "database.deadline=300ms",
            "database.overload.slowdown=[[50, 4]]",
        ],
        &["fault.0.kind=retries_off", "database.retry.enabled=true"],
        &["fault.0.kind=shed_load"],
        &[
            "fault.0.kind=flush",
            "cluster.items=300",
            "cluster.ttl=3s",
            "cluster.lease=1s",
        ],
        &[
            "fault.0.kind=delete_hot",
            "fault.0.delete_hot.keys=100",
            "cluster.memory=40KiB",
            "cluster.lease=1s",
            "cluster.lease_miss=stale",
        ],
        &[
            "fault.0.kind=spike",
            "fault.0.spike.factor=2",
            "workload.flow.0.steps.1.fill=read_through",
            "database.deadline=20ms",
        ],
    ];
    let (mut seen_policies, mut seen_faults) = (Vec::new(), Vec::new());
    for p in policies {
        for f in faults {
            let sets: Vec<&str> = p.iter().chain(f.iter()).copied().collect();
            let model = parse(base, &sets);
            seen_policies.push(model.client.policy.kind());
            seen_faults.push(model.faults[0].kind.kind());
            sim::run_checked(&model, true, &mut |_| {}).unwrap_or_else(|v| panic!("{sets:?}: {v}"));
        }
    }
    // The matrix covers every policy and fault kind the model file accepts.
    for kind in cachestorm::config::PolicyKind::ALL {
        assert!(seen_policies.contains(&kind), "no {kind:?} in the matrix");
    }
    for kind in cachestorm::config::FaultKind::ALL {
        assert!(seen_faults.contains(&kind), "no {kind:?} in the matrix");
    }
}

/// The example models of `models/policies/` load and run with the
/// invariants checked.
#[test]
fn the_example_models_run() {
    let dir = common::root().join("models/policies");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let rel = path.strip_prefix(common::root()).unwrap();
            let model = common::load(rel.to_str().unwrap(), &[]);
            sim::run_checked(&model, true, &mut |_| {})
                .unwrap_or_else(|v| panic!("{}: {v}", rel.display()));
            n += 1;
        }
    }
    assert!(n >= 6);
}
