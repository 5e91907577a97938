//! The database's dynamics: the caller's deadline (keep running or kill),
//! the server's bound and queue, pools per instance, the load knee, and the
//! database faults. Each model is small and deterministic (constant
//! arrivals and service times), so the expected values follow from the
//! mechanism by arithmetic.

use cachestorm::config::Model;
use cachestorm::engine::time::SEC;
use cachestorm::metrics::TimelineRow;
use cachestorm::sim::{self, RunOutput};

use crate::common;

/// 100 requests per second, evenly spaced, each one database read of 20 ms,
/// no pool limit and no server bound.
const BASE: &str = r#"
duration = "20s"
drain = "5s"
[workload]
arrival = "constant"
rate = 100
[[workload.flow]]
name = "read"
steps = [{ op = "db_read" }]
[service]
threads = 1000
[cluster]
nodes = ["10.0.0.1:11211"]
[database]
connections = 0
service_time = { dist = "constant", value = "20ms" }
"#;

fn run_rows(m: &Model) -> (RunOutput, Vec<TimelineRow>) {
    let mut rows = Vec::new();
    let out =
        sim::run_checked(m, true, &mut |r| rows.push(r.clone())).unwrap_or_else(|v| panic!("{v}"));
    (out, rows)
}

/// Rows that start at or after `from` and end at or before `to` (seconds).
fn between(rows: &[TimelineRow], from: f64, to: f64) -> Vec<&TimelineRow> {
    rows.iter()
        .filter(|r| r.start as f64 >= from * SEC as f64 && r.end as f64 <= to * SEC as f64)
        .collect()
}

#[test]
fn a_deadline_answers_every_caller_in_time_and_kill_stops_the_wasted_work() {
    // One query at a time, 50 per second: twice overloaded.
    let sets = ["database.max_connections=1", "database.deadline=100ms"];
    let kill = common::parse(BASE, &[sets[0], sets[1], "database.on_deadline=kill"]);
    let keep = common::parse(
        BASE,
        &[sets[0], sets[1], "database.on_deadline=keep_running"],
    );
    let (k, _) = run_rows(&kill);
    let (w, _) = run_rows(&keep);
    for (name, out) in [("kill", &k), ("keep_running", &w)] {
        let s = &out.summary;
        // Nobody waits past the deadline.
        assert!(s.latency_ms.max <= 100.0, "{name}: {}", s.latency_ms.max);
        // Every call ends in a result or a deadline error.
        assert_eq!(
            s.requests.succeeded + s.db.deadline_exceeded,
            s.db.calls,
            "{name}"
        );
        assert_eq!(s.requests.failed, s.db.deadline_exceeded, "{name}");
        assert!(s.db.deadline_exceeded > 0, "{name}");
    }
    // Kill: every abandoned query is stopped, none runs to its end.
    assert_eq!(k.summary.db.killed, k.summary.db.deadline_exceeded);
    assert_eq!(k.summary.db.wasted, 0);
    // Keep running: nothing is stopped; the server spends its time on
    // queries whose callers have left.
    assert_eq!(w.summary.db.killed, 0);
    assert!(w.summary.db.wasted > 0);
    // Every query it ran ended in a result or in waste (but the one still
    // running when the run ended).
    let s = &w.summary;
    assert!(
        s.db.queries - s.requests.succeeded - s.db.wasted <= 1,
        "{:?}",
        s.db
    );
}

#[test]
fn a_server_without_a_queue_refuses_what_it_cannot_run() {
    // One query at a time, 20 ms each, arrivals every 10 ms, no queue
    // (PostgreSQL's refusal beyond max_connections): every other arrival
    // finds the server busy and is refused at once.
    let m = common::parse(
        BASE,
        &["database.max_connections=1", "database.queue_limit=0"],
    );
    let (out, _) = run_rows(&m);
    let s = &out.summary;
    assert_eq!(s.db.refused, s.requests.failed);
    assert!(
        s.requests.succeeded.abs_diff(s.requests.failed) <= 1,
        "{:?}",
        s.requests
    );
    // Nothing waits: every answer takes exactly one query's time.
    assert_eq!(s.latency_ms.max, 20.0);
}

#[test]
fn pools_per_instance_multiply_the_connections() {
    // Four instances, one connection each, 50 ms to wait for one. Shared,
    // the one connection serves 50 queries per second against 100 offered;
    // per instance, each connection sees a query every 40 ms.
    let sets = [
        "service.instances=4",
        "database.connections=1",
        "database.connection_timeout=50ms",
    ];
    let shared = common::parse(
        BASE,
        &[sets[0], sets[1], sets[2], "database.pool_scope=shared"],
    );
    let per = common::parse(
        BASE,
        &[sets[0], sets[1], sets[2], "database.pool_scope=instance"],
    );
    let (a, _) = run_rows(&shared);
    let (b, _) = run_rows(&per);
    assert!(a.summary.db.wait_timeouts > 0);
    assert!(a.summary.db.peak_in_flight >= 2);
    assert_eq!(b.summary.db.wait_timeouts, 0);
    assert_eq!(b.summary.db.peak_waiting, 0);
    // Arrivals every 10 ms, queries of 20 ms: two at once.
    assert_eq!(b.summary.db.peak_in_flight, 2);
    assert_eq!(b.summary.requests.failed, 0);
}

#[test]
fn the_knee_multiplies_service_time_above_its_rate() {
    // 100 per second for 10 s, then 200; the knee is at 150.
    let m = common::parse(
        BASE,
        &[
            "database.overload.slowdown=[[150, 10]]",
            r#"workload.schedule=[{ at = "10s", rate = 200 }]"#,
        ],
    );
    let (_, rows) = run_rows(&m);
    let factor = m.database.knee_factor(200.0);
    assert_eq!(factor, 10.0);
    for r in between(&rows, 1.0, 10.0) {
        assert_eq!(r.db_latency_ms, 20.0, "below the knee at {}", r.start);
    }
    for r in between(&rows, 12.0, 20.0) {
        assert_eq!(
            r.db_latency_ms,
            20.0 * factor,
            "above the knee at {}",
            r.start
        );
    }
}

#[test]
fn database_faults_do_what_they_say() {
    let fault = |kind: &str, extra: &[&str]| {
        let mut sets = vec![
            format!("fault.0.kind={kind}"),
            "fault.0.start=5s".to_string(),
            "fault.0.duration=2s".to_string(),
        ];
        sets.extend(extra.iter().map(|s| s.to_string()));
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let text = format!(
            "{BASE}\n[[fault]]\nkind = \"none\"\nnode = 0\nstart = \"1s\"\nduration = \"1s\"\n"
        );
        run_rows(&common::parse(&text, &sets))
    };
    // An outage holds everything, then answers it: nothing fails, the
    // longest wait is the outage.
    let (o, _) = fault("db_outage", &[]);
    assert_eq!(o.summary.requests.failed, 0);
    assert!(
        o.summary.latency_ms.max >= 2_000.0 && o.summary.latency_ms.max <= 2_021.0,
        "{}",
        o.summary.latency_ms.max
    );
    // A blip holds what crosses the link: the same, from the caller's side.
    let (b, _) = fault("db_blip", &[]);
    assert_eq!(b.summary.requests.failed, 0);
    assert!(
        b.summary.latency_ms.max >= 2_000.0 && b.summary.latency_ms.max <= 2_021.0,
        "{}",
        b.summary.latency_ms.max
    );
    // A slow-down multiplies the query time while it lasts.
    let (_, rows) = fault("db_slow", &["fault.0.slow.factor=4"]);
    assert!(
        between(&rows, 5.5, 7.0)
            .iter()
            .all(|r| r.db_latency_ms == 80.0)
    );
    assert!(
        between(&rows, 8.0, 20.0)
            .iter()
            .all(|r| r.db_latency_ms == 20.0)
    );
    // A failover refuses everything while the server is away, then serves
    // with a cold cache (× 3 for 3 s), then as before.
    let (f, rows) = fault(
        "db_failover",
        &[
            "fault.0.failover.cold_factor=3",
            "fault.0.failover.cold_for=3s",
        ],
    );
    // Every arrival of the 2 s is refused, and the queries running at the
    // start (20 ms of arrivals) fail with it (at 5 s, before the bucket
    // that ends then closes).
    let failed_in_fault: u64 = between(&rows, 4.0, 7.0).iter().map(|r| r.failed).sum();
    let (rate, query_s) = (f.summary.requests.offered as f64 / 20.0, 0.020);
    assert_eq!(failed_in_fault as f64, rate * 2.0 + rate * query_s);
    assert_eq!(f.summary.db.refused as f64, rate * 2.0);
    assert_eq!(failed_in_fault, f.summary.requests.failed);
    assert!(
        between(&rows, 7.1, 10.0)
            .iter()
            .all(|r| r.db_latency_ms == 60.0)
    );
    assert!(
        between(&rows, 10.5, 20.0)
            .iter()
            .all(|r| r.db_latency_ms == 20.0)
    );
}

#[test]
fn k_tries_at_each_of_l_layers_make_k_to_the_l_calls_at_the_bottom() {
    // The database refuses everything (a failover for the whole run); the
    // query is retried 3 times in all, and each of 4 upstream layers sends
    // the whole request 3 times: 3^5 = 243 calls per request.
    let (k, upstream_layers) = (3u32, 4usize);
    let layer = format!(r#"{{ max_attempts = {k}, wait = "0s" }}"#);
    let layers = vec![layer; upstream_layers].join(", ");
    let sets = [
        "duration=3s".to_string(),
        "workload.rate=1".to_string(),
        format!("service.resilience.upstream=[{layers}]"),
        "database.retry.enabled=true".to_string(),
        format!("database.retry.max_attempts={k}"),
        "database.retry.wait=0s".to_string(),
    ];
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let text =
        format!("{BASE}\n[[fault]]\nkind = \"db_failover\"\nstart = \"0s\"\nduration = \"30s\"\n");
    let m = common::parse(&text, &sets);
    let (out, _) = run_rows(&m);
    let s = &out.summary;
    let bottom = u64::from(k).pow(upstream_layers as u32 + 1);
    assert_eq!(bottom, 243);
    assert!(s.requests.offered > 0);
    assert_eq!(s.db.calls, s.requests.offered * bottom);
    assert_eq!(s.requests.failed, s.requests.offered);
    // The event estimate sees the worst case.
    let one = common::parse(&text, &["duration=3s", "workload.rate=1"]);
    let (e, e1) = (
        cachestorm::config::estimate::events(&m),
        cachestorm::config::estimate::events(&one),
    );
    assert!(
        e.per_request >= (bottom as f64) * (e1.per_request - 1.0),
        "{e:?} vs {e1:?}"
    );
}

/// Every key of the tables issue 12 added (the database's, the cache
/// memory keys of `[cluster]`, the faults' and their sub-tables) and every
/// fault kind is named in the README's model-file reference. The keys are
/// not typed in here: they are read from the parser's own "allowed" list,
/// so a key added to the parser without a README row fails this test.
#[test]
fn the_readme_names_every_key_of_the_backend_tables() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let model = common::root().join("models/metastable/hotos-lookaside.toml");
    let allowed = |set: &str| -> Vec<String> {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cachestorm"))
            .arg("check")
            .arg(&model)
            .args(["--set", set])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        let list = err
            .rsplit_once("(allowed: ")
            .unwrap_or_else(|| panic!("{set}: no allowed list in {err}"))
            .1
            .trim_end()
            .trim_end_matches(')');
        list.split(", ").map(|k| k.trim().to_string()).collect()
    };
    let mut missing = Vec::new();
    for (table, prefix) in [
        ("database", ""),
        ("database.overload", "overload."),
        ("database.contention", "contention."),
        ("cluster", ""),
        ("fault.0", ""),
        ("fault.0.failover", "failover."),
        ("fault.0.slow", "slow."),
        ("fault.0.shed", "shed."),
        ("fault.0.delete_hot", "delete_hot."),
        ("fault.0.spike", "spike."),
    ] {
        let keys = allowed(&format!("{table}.zzz=1"));
        assert!(!keys.is_empty(), "{table}: {keys:?}");
        for k in keys {
            let named = [format!("`{prefix}{k}`"), format!("`{prefix}{k}.")];
            if !named.iter().any(|n| readme.contains(n.as_str())) {
                missing.push(format!("{table}.{k}"));
            }
        }
    }
    let kinds = allowed("fault.0.kind=\"zzz\"");
    for kind in [
        "db_outage",
        "db_slow",
        "db_failover",
        "db_blip",
        "flush",
        "delete_hot",
        "spike",
        "retries_off",
        "shed_load",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} is not a fault kind: {kinds:?}"
        );
    }
    for kind in kinds {
        if !readme.contains(&format!("`{kind}`")) {
            missing.push(format!("fault kind {kind}"));
        }
    }
    assert!(missing.is_empty(), "not in the README: {missing:?}");
}

/// `shed_load` admits each arrival with probability `shed.admit` while it
/// lasts and rejects the rest; before and after it nothing is rejected. At
/// 100 constant arrivals a second for 10 s with admit 0.25 the rejections
/// are Binomial(1000, 0.75): within four standard deviations of 750.
#[test]
fn shed_load_admits_its_share_while_it_lasts() {
    let text = format!(
        "{BASE}\n[[fault]]\nkind = \"shed_load\"\nstart = \"5s\"\nduration = \"10s\"\nshed = {{ admit = 0.25 }}\n"
    );
    let (out, _) = run_rows(&common::parse(&text, &[]));
    let n: f64 = 1000.0;
    let (admit, rejected): (f64, f64) = (0.25, out.summary.requests.rejected as f64);
    let sd = (n * admit * (1.0 - admit)).sqrt();
    assert!(
        (rejected - n * (1.0 - admit)).abs() <= 4.0 * sd,
        "rejected {rejected}, expected {} ± {}",
        n * (1.0 - admit),
        4.0 * sd
    );
    // Arrivals outside the window (2,000 − 1,000) are all served.
    assert_eq!(
        out.summary.requests.succeeded as f64 + rejected,
        out.summary.requests.offered as f64,
        "only the window's arrivals are shed"
    );
}
