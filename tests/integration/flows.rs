//! Flows with a per-key fallback (issue 13): "get k1, then get k2, then for
//! each key that missed or failed: database read, then a fire-and-forget
//! set of that key", the application code around spymemcached's gets.

use crate::common::{parse, run};
use cachestorm::sim::protocol::NodeEventKind;

/// Two gets of distinct keys, then the per-key fallback; a cold cache of 50
/// keys, a slow trickle of requests (no two requests overlap on a key).
const GET2: &str = r#"
name = "get2"
duration = "120s"
drain = "2s"
[workload]
arrival = "constant"
rate = 10
keys = { count = 50 }
[[workload.flow]]
name = "read2"
steps = [
  { op = "get", key = "new" },
  { op = "get", key = "new" },
  { op = "db_read", each = "missed" },
  { op = "set", wait = false, each = "missed" },
]
[service]
threads = 100
[client]
policy = "plain"
op_timeout = "1s"
[cluster]
nodes = ["10.0.1.3:11211", "10.0.1.4:11211"]
[database]
connections = 0
"#;

/// Each get that misses gets exactly one database read and one set, and the
/// set writes the key that missed: once every key has missed (its first
/// gets; twice when a request draws the same key for both gets), the cache
/// is warm and nothing misses again, so a run twice as long has the same
/// misses. A set of any other key would leave keys that keep missing.
#[test]
fn each_missed_key_is_read_from_the_database_and_set() {
    let out = run(&parse(GET2, &[]));
    let s = &out.summary;
    let c = s.cache_ops;
    assert!(c.miss >= 50, "{c:?}");
    assert_eq!(s.db.queries, c.miss);
    assert_eq!(c.stored, c.miss);
    assert_eq!(c.hit + c.miss, 2 * s.requests.offered);
    let longer = run(&parse(GET2, &["duration=240s"]));
    assert_eq!(longer.summary.cache_ops.miss, c.miss);
    assert!(longer.summary.cache_ops.hit > c.hit);
}

/// With the old shape (a fallback after the last get only, judged on it)
/// a first key that missed gets no database read and no set: misses
/// outnumber database reads, and keys miss more than once.
#[test]
fn a_fallback_after_the_last_get_leaves_first_keys_unfilled() {
    let old_shape = GET2.replace(
        r#"  { op = "db_read", each = "missed" },
  { op = "set", wait = false, each = "missed" },"#,
        r#"  { op = "db_read", on = "miss_or_error" },
  { op = "set", wait = false, on = "miss_or_error" },"#,
    );
    assert_ne!(old_shape, GET2);
    let out = run(&parse(&old_shape, &[]));
    let s = &out.summary;
    assert!(
        s.db.queries < s.cache_ops.miss,
        "{:?} {:?}",
        s.db,
        s.cache_ops
    );
    assert!(s.cache_ops.miss > 50, "{:?}", s.cache_ops);
}

/// One bulk get of 5 distinct keys per request, then the per-key fallback
/// (spymemcached's `getBulk` as an application calls it); a cold cache of 50
/// keys, a slow trickle of requests (no two requests overlap on a key).
const BULK5: &str = r#"
name = "bulk5"
duration = "120s"
drain = "2s"
[workload]
arrival = "constant"
rate = 10
keys = { count = 50 }
[[workload.flow]]
name = "bulk5"
steps = [
  { op = "multi_get", count = 5, distinct = true },
  { op = "db_read", each = "missed" },
  { op = "set", wait = false, each = "missed" },
]
[service]
threads = 100
[client]
policy = "spymemcached"
op_timeout = "1s"
[cluster]
nodes = ["10.0.1.3:11211", "10.0.1.4:11211", "10.0.1.5:11211"]
[database]
connections = 0
"#;

/// Each key of a bulk get that missed gets exactly one database read and
/// one set, of that key: every one of the 50 keys misses once (its first
/// bulk get) and is then filled, so the database sees exactly 50 reads and
/// the cache 50 sets, and a run twice as long adds none. A fallback for the
/// wrong keys (or for every key of a bulk get with any miss) would read
/// more.
#[test]
fn each_missed_key_of_a_bulk_get_is_read_and_set_once() {
    for policy in ["spymemcached", "plain"] {
        let out = run(&parse(BULK5, &[&format!("client.policy={policy}")]));
        let s = &out.summary;
        assert_eq!(s.db.queries, 50, "{policy}: {:?}", s.db);
        assert_eq!(s.cache_ops.stored, 50, "{policy}: {:?}", s.cache_ops);
        // One outcome per bulk get (the call's worst), every call answered.
        assert_eq!(
            s.cache_ops.hit + s.cache_ops.miss,
            s.requests.offered,
            "{policy}: {:?}",
            s.cache_ops
        );
        let longer = run(&parse(
            BULK5,
            &[&format!("client.policy={policy}"), "duration=240s"],
        ));
        assert_eq!(longer.summary.db.queries, 50, "{policy}");
        assert!(longer.summary.cache_ops.hit > s.cache_ops.hit, "{policy}");
    }
}

/// Without `distinct` the 5 keys are drawn on their own and may repeat; the
/// loop then visits a repeated key twice: reads can exceed the keys, and a
/// run with distinct keys never does (the previous test).
#[test]
fn distinct_keys_are_distinct() {
    let out = run(&parse(
        BULK5,
        &[
            "workload.flow.0.steps.0.distinct=false",
            "workload.keys.count=5",
        ],
    ));
    let distinct = run(&parse(BULK5, &["workload.keys.count=5"]));
    // 5 keys, 5 distinct per call: the first call misses all 5, none after.
    assert_eq!(distinct.summary.db.queries, 5);
    assert_eq!(distinct.summary.cache_ops.miss, 1);
    // Drawn on their own, the first calls cover the 5 keys only by chance.
    assert!(
        out.summary.cache_ops.miss > 1,
        "{:?}",
        out.summary.cache_ops
    );
}

/// A warm cache, one of three nodes frozen for the whole fault and a
/// continuous-timeout threshold never reached (the node stays active, no
/// trip): a bulk get whose keys touch the frozen node waits its op timeout
/// and throws, losing every key's result, including those the live nodes
/// answered: each late call costs exactly 5 database reads, and no call
/// misses a key.
#[test]
fn one_late_part_loses_every_keys_result() {
    let out = run(&parse(
        &with_fault("frozen"),
        &[
            "workload.keys.count=10000",
            "workload.rate=200",
            "cluster.prefill=true",
            "client.spymemcached.timeout_exception_threshold=1000000",
        ],
    ));
    let s = &out.summary;
    let c = s.cache_ops;
    assert!(c.timeout > 1000, "{c:?}");
    assert_eq!(s.client.trips, 0);
    assert_eq!(c.miss, 0, "{c:?}");
    assert_eq!(
        s.db.queries,
        5 * (c.timeout + c.cancelled),
        "{:?} {c:?}",
        s.db
    );
    // The calls that avoid the frozen node find all their keys.
    assert!(c.hit > 0, "{c:?}");
}

/// BULK5 with node 1 under fault `kind` from 10.05 s (between two
/// arrivals, so no call is in flight at its start) to 110.05 s.
fn with_fault(kind: &str) -> String {
    format!(
        "{BULK5}\n[[fault]]\nnode = 1\nkind = \"{kind}\"\nstart = \"10050ms\"\nduration = \"100s\"\n"
    )
}

/// spymemcached's `asyncGetBulk` routes every key Redistribute-style
/// whatever the failure mode: in Cancel mode, with node 1 crashed (its
/// connection lost, so inactive), the keys whose primary is node 1 go to
/// the next active node of their Ketama sequence (redirected) and no bulk
/// call is cancelled, while a single get in the same mode is cancelled at
/// once and never redirected.
#[test]
fn bulk_keys_of_an_inactive_node_go_to_the_next_active_node_in_any_mode() {
    let bulk = run(&parse(
        &with_fault("crash"),
        &["client.spymemcached.failure_mode=cancel"],
    ));
    let c = bulk.summary.cache_ops;
    assert!(c.redirected > 0, "{c:?}");
    // Every bulk call answered hit or miss: none failed.
    assert_eq!(c.hit + c.miss, bulk.summary.requests.offered, "{c:?}");
    let single = with_fault("crash").replace(
        r#"  { op = "multi_get", count = 5, distinct = true },"#,
        r#"  { op = "get" },"#,
    );
    let single = run(&parse(
        &single,
        &["client.spymemcached.failure_mode=cancel"],
    ));
    let c = single.summary.cache_ops;
    assert_eq!(c.redirected, 0, "{c:?}");
    assert!(c.cancelled > 0, "{c:?}");
}

/// spymemcached sends a bulk get as one multi-key `get` per node
/// (`MemcachedClient.asyncGetBulk`: one `opFact.get(keys, cb)` per node), so
/// a dropped connection discards, and logs a WARN line for, each such op,
/// not each key (`TCPMemcachedNodeImpl.setupResend`: one "Discarding
/// partially completed op" per op of the read queue). One node holds every
/// key: each call is one op of 5 keys. The node's host hangs from 10.005 s
/// and comes back rebooted at 10.505 s (its connections reset): the calls
/// of those 0.5 s are written and unanswered, the reset discards them, one
/// 1 ms log line each, and each is cancelled.
#[test]
fn a_dropped_connection_discards_one_op_per_bulk_get_part() {
    let one_node = BULK5.replace(
        r#"nodes = ["10.0.1.3:11211", "10.0.1.4:11211", "10.0.1.5:11211"]"#,
        r#"nodes = ["10.0.1.3:11211"]"#,
    ) + r#"
[[fault]]
node = 0
kind = "frozen"
start = "10005ms"
duration = "500ms"
frozen = { end = "reboot", reboot_down = "100ms" }
"#;
    let (rate, frozen_s, line_s) = (100.0, 0.5, 0.001);
    let out = run(&parse(
        &one_node,
        &[
            "workload.rate=100",
            "workload.keys.count=10000",
            "cluster.prefill=true",
            "client.op_timeout=5s",
            "client.spymemcached.discard_log_line=1ms",
            "duration=20s",
        ],
    ));
    let calls = (rate * frozen_s) as u64;
    let lost: Vec<_> = out
        .node_events
        .iter()
        .filter(|e| e.node == 0 && e.what == NodeEventKind::Lost)
        .collect();
    assert!(!lost.is_empty(), "{:?}", out.node_events);
    let discarded: u64 = lost[0]
        .detail
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{:?}", lost[0]));
    // One op per call, not one per key (5 × calls).
    assert_eq!(discarded, calls, "{:?}", lost[0]);
    assert_eq!(out.summary.cache_ops.cancelled, calls);
    // The lost event follows the logging: one line per discarded op.
    let crash_s = 10.505;
    let stall = lost[0].time as f64 / 1e9 - crash_s;
    let expected = discarded as f64 * line_s;
    assert!(
        stall >= expected && stall < expected + 0.001,
        "{stall} s for {discarded} ops"
    );
}
