//! The proxy tier (`[proxy]`): a twemproxy process between the application's
//! client and the nodes, checked against nutcracker 0.5.0's own behaviour.
//!
//! Measured on the real thing (Debian's nutcracker 0.5.0 and memcached
//! 1.6.18 on 127.0.0.1, the configuration of `models/testbed/twemproxy.toml`:
//! `timeout: 400`, `auto_eject_hosts: true`, `server_failure_limit: 2`,
//! `server_retry_timeout: 30000`, `server_connections: 1`; one pipelined
//! client connection sending gets at 500/s, one node stopped with SIGSTOP
//! from 3 s to 43 s): the first request to the stopped node was answered
//! `SERVER_ERROR Connection timed out` 0.400 s after it was sent, together
//! with every request to that node sent after it (their reply at the same
//! instant: the timeout closed the server connection); replies of requests
//! to the other nodes sent meanwhile came back only after it, in order; the
//! next request to the node (after a reconnect) failed 0.40 s later and the
//! node left the ring (its keys then missed on the other nodes); 30.1 s
//! later a request went to it again, timed out, so did the next one, and it
//! left the ring again (errors at 5.009, 5.472, 36.019 and 36.446 s).

use cachestorm::sim::protocol::NodeEventKind;

use crate::common::{event_times, parse, run};

/// Four nodes behind a twemproxy with the testbed's settings; node 1 frozen
/// from 10 s for `frozen` s. `client` is the application's `[client]` table.
fn model(client: &str, frozen: &str) -> String {
    format!(
        r#"
name = "proxy tier"
duration = "60s"
drain = "5s"
[workload]
arrival = "constant"
rate = 500
keys = {{ count = 10000, format = "key:{{}}" }}
[[workload.flow]]
name = "read"
steps = [{{ op = "get" }}, {{ op = "db_read", on = "miss_or_error" }}]
[service]
threads = 100000
{client}
[proxy]
kind = "twemproxy"
address = "127.0.0.1:22121"
[proxy.twemproxy]
timeout = "400ms"
auto_eject_hosts = true
server_failure_limit = 2
server_retry_timeout = "30000ms"
hash = "fnv1a_64"
[cluster]
nodes = ["127.0.0.1:24211", "127.0.0.1:24212", "127.0.0.1:24213", "127.0.0.1:24214"]
prefill = true
[database]
connections = 0
[[fault]]
node = "127.0.0.1:24212"
kind = "frozen"
start = "10s"
duration = "{frozen}"
"#
    )
}

/// The proxy's ejection timeline, as nutcracker's above: at 500 requests/s a
/// request reaches the frozen node within milliseconds, times out 0.4 s
/// later (the server connection closes: failure 1), the next one reconnects
/// and times out 0.4 s after that (failure 2 = `server_failure_limit`: out of
/// the ring); 30 s later (`server_retry_timeout`) it is back at the next
/// request and the same two timeouts eject it again. The client in front
/// (plain) never closes its connection, as the measuring client did not.
#[test]
fn twemproxy_ejects_after_two_timeouts_and_retries_after_the_retry_timeout() {
    let out = run(&parse(
        &model(
            "[client]\npolicy = \"plain\"\nop_timeout = \"2500ms\"",
            "45s",
        ),
        &[],
    ));
    let closes = event_times(&out, 1, NodeEventKind::TimeoutClose);
    let ejects = event_times(&out, 1, NodeEventKind::Eject);
    let readds = event_times(&out, 1, NodeEventKind::Readd);
    // A request every 2 ms reaches each node about every 8 ms.
    let near = |t: f64, want: f64, slack: f64| (t - want).abs() < slack;
    assert!(near(closes[0], 10.4, 0.03), "{closes:?}");
    assert!(near(closes[1] - closes[0], 0.4, 0.03), "{closes:?}");
    assert_eq!(ejects[0], closes[1], "{ejects:?} {closes:?}");
    assert!(near(readds[0] - ejects[0], 30.0, 0.03), "{readds:?}");
    assert!(near(closes[2] - readds[0], 0.4, 0.03), "{closes:?}");
    assert_eq!(ejects[1], closes[3], "{ejects:?} {closes:?}");
    // Nothing else: two ejections in the 45 s freeze (the third retry comes
    // after the node resumed at 55 s: a request then is answered).
    assert_eq!(ejects.len(), 2, "{ejects:?}");
    assert_eq!(closes.len(), 4, "{closes:?}");
    // The other nodes' keys never failed: only requests to node 1 in the
    // four 0.4 s windows got SERVER_ERROR (about 1/4 of 500/s × 1.6 s).
    let errors = out.summary.cache_ops.error + out.summary.cache_ops.timeout;
    assert!(errors > 100 && errors < 400, "{errors}");
}

/// spymemcached 2.12.3 behind the proxy: the proxy's 400 ms timeout answers
/// `SERVER_ERROR`, which makes spymemcached close its one connection (to the
/// proxy) and cancel everything in flight on it, the requests for healthy
/// nodes included; it reconnects 2 s later. So the client loses its
/// connection at 10.4 s, long before its own 2.5 s op timeout. A request
/// for the frozen node that reached the proxy before the drop reconnects the
/// proxy's server connection and times out 0.4 s later: the second failure
/// ejects the node while the client is still away, so after its reconnect
/// the proxy answers every key from the other nodes and the client stays
/// connected.
#[test]
fn a_proxy_timeout_makes_spymemcached_drop_its_only_connection() {
    let out = run(&parse(
        &model(
            "[client]\npolicy = \"spymemcached\"\nop_timeout = \"2500ms\"\n\
             [client.spymemcached]\nlocator = \"array_mod\"",
            "20s",
        ),
        &[],
    ));
    // The proxy's node is the last one (4); the app is client 0.
    let app = |what: NodeEventKind| -> Vec<f64> {
        out.node_events
            .iter()
            .filter(|e| e.client == 0 && e.node == 4 && e.what == what)
            .map(|e| e.time as f64 / 1e9)
            .collect()
    };
    let (lost, connected) = (app(NodeEventKind::Lost), app(NodeEventKind::Connected));
    let closes = event_times(&out, 1, NodeEventKind::TimeoutClose);
    let ejects = event_times(&out, 1, NodeEventKind::Eject);
    assert!((closes[0] - 10.4).abs() < 0.03, "{closes:?}");
    // The drop follows the proxy's timeout by the reply's trip and the
    // client's discard logging, before any op of the client could time out.
    assert!(
        lost[0] > closes[0] && lost[0] - closes[0] < 0.01,
        "{lost:?} {closes:?}"
    );
    assert!((connected[0] - lost[0] - 2.0).abs() < 0.01, "{connected:?}");
    assert!((closes[1] - closes[0] - 0.4).abs() < 0.01, "{closes:?}");
    assert_eq!(ejects, [closes[1]], "{ejects:?}");
    assert_eq!(lost.len(), 1, "{lost:?}");
    // Cancelled ops: the read queue at the drop, most for healthy nodes.
    assert!(out.summary.cache_ops.cancelled > 0);
    assert_eq!(out.summary.client.trips, 0, "no 999-timeout trip");
    // After the reconnect the proxy answers (misses for the ejected node's
    // keys on the other nodes, then fills).
    assert!(out.summary.cache_ops.miss > 0);
}

/// With no fault, the proxy adds to each get two network hops (client →
/// proxy, proxy → client) and two turns of its thread (the request, the
/// reply): at 500/s on a 10 µs thread and four idle nodes, the median
/// latency grows by 2 × 50 µs + 2 × 10 µs.
#[test]
fn a_proxy_adds_two_hops_and_two_thread_turns() {
    let text = model(
        "[client]\npolicy = \"plain\"\nop_timeout = \"2500ms\"",
        "1s",
    );
    let with = run(&parse(&text, &["fault.0.kind=none"]));
    let free = run(&parse(
        &text,
        &["fault.0.kind=none", "proxy.service_time=0s"],
    ));
    // The same model without the [proxy] tables.
    let (a, b) = (
        text.find("[proxy]").unwrap(),
        text.find("[cluster]").unwrap(),
    );
    let direct = run(&parse(
        &format!("{}{}", &text[..a], &text[b..]),
        &["fault.0.kind=none"],
    ));
    let p50 = |o: &cachestorm::sim::RunOutput| o.summary.latency_ms.p50;
    // Two turns of 10 µs; two hops of 50 µs (HDR: 3 significant digits).
    let turns = p50(&with) - p50(&free);
    assert!((turns - 0.020).abs() < 0.002, "{turns}");
    let hops = p50(&free) - p50(&direct);
    assert!((hops - 0.100).abs() < 0.002, "{hops}");
}
