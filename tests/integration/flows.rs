//! Flows with a per-key fallback (issue 13): "get k1, then get k2, then for
//! each key that missed or failed: database read, then a fire-and-forget
//! set of that key", the application code around spymemcached's gets.

use crate::common::{parse, run};

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
