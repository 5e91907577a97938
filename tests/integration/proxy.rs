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

/// `model` with its fault on the proxy (by its address) instead of node 1,
/// as kind `kind` with the extra fault lines `extra`.
fn proxy_fault(client: &str, kind: &str, duration: &str, extra: &str) -> String {
    model(client, duration)
        .replace(
            "node = \"127.0.0.1:24212\"\nkind = \"frozen\"",
            &format!("node = \"127.0.0.1:22121\"\nkind = \"{kind}\""),
        )
        .replace(
            &format!("duration = \"{duration}\"\n"),
            &format!("duration = \"{duration}\"\n{extra}"),
        )
}

const SPY: &str = "[client]\npolicy = \"spymemcached\"\nop_timeout = \"2500ms\"\n\
                   [client.spymemcached]\nlocator = \"array_mod\"";

/// The application's events on the proxy's node (4).
fn app_events(out: &cachestorm::sim::RunOutput, what: NodeEventKind) -> Vec<f64> {
    out.node_events
        .iter()
        .filter(|e| e.client == 0 && e.node == 4 && e.what == what)
        .map(|e| e.time as f64 / 1e9)
        .collect()
}

/// A frozen proxy (SIGSTOP on nutcracker) answers nothing and reads
/// nothing, while its servers are healthy: spymemcached in front sees its
/// only server stop answering, and its continuous-timeout counter counts
/// against the proxy. At 500 gets/s from 10 s every op waits the 2.5 s op
/// timeout; the counter passes its threshold (998: the trip comes at 999
/// consecutive timeouts, spymemcached 2.12.3's
/// `DEFAULT_MAX_TIMEOUTEXCEPTION_THRESHOLD`) 999 / 500 s after the first
/// timeout, and the connection to the proxy is dropped. The proxy's node side
/// never times out a server (nothing is forwarded while it is stopped).
#[test]
fn a_frozen_proxy_makes_spymemcached_trip_on_the_proxy() {
    let out = run(&parse(&proxy_fault(SPY, "frozen", "20s", ""), &[]));
    let trips = app_events(&out, NodeEventKind::Trip);
    let (start, op_timeout, rate, trip_at) = (10.0, 2.5, 500.0, 999.0);
    let expected = start + op_timeout + trip_at / rate;
    assert!(
        !trips.is_empty() && (trips[0] - expected).abs() < 0.05,
        "{trips:?}, expected {expected}"
    );
    assert!(out.summary.client.trips >= 1);
    assert!(
        event_times(&out, 1, NodeEventKind::TimeoutClose).is_empty(),
        "the proxy's servers never time out"
    );
    assert!(out.summary.cache_ops.timeout > 999);
    // The same proxy not frozen: no trip, no timeout.
    let healthy = run(&parse(
        &proxy_fault(SPY, "frozen", "20s", ""),
        &["fault.0.kind=none"],
    ));
    assert!(app_events(&healthy, NodeEventKind::Trip).is_empty());
    assert_eq!(healthy.summary.cache_ops.timeout, 0);
}

/// A frozen proxy resumed: what waited in its sockets is read and
/// answered, in order, once it runs again. A plain client with a timeout
/// longer than the freeze sees every op answered (none times out), the ops
/// of the frozen second late by up to its length.
#[test]
fn a_resumed_proxy_answers_what_waited() {
    let plain = "[client]\npolicy = \"plain\"\nop_timeout = \"5s\"";
    let out = run(&parse(&proxy_fault(plain, "frozen", "1s", ""), &[]));
    let c = out.summary.cache_ops;
    assert_eq!(c.timeout + c.unsent_timeout + c.error, 0, "{c:?}");
    assert_eq!(c.hit, out.summary.requests.offered, "{c:?}");
    let max = out.summary.latency_ms.max;
    assert!(max > 990.0 && max < 1010.0, "{max}");
}

/// A crashed proxy: spymemcached's connection is reset at once (lost at
/// the crash, after the reset's trip), its reconnects are refused while
/// the proxy is down, and the back-off is 2 s then 4 s (min(30 s, 2^n s),
/// `MemcachedConnection.queueReconnect`): refused at 12 s, connected at
/// 16 s, after the proxy came back at 15 s.
#[test]
fn a_crashed_proxy_refuses_spymemcached_until_it_is_back() {
    let out = run(&parse(&proxy_fault(SPY, "crash", "5s", ""), &[]));
    let lost = app_events(&out, NodeEventKind::Lost);
    let refused = app_events(&out, NodeEventKind::Refused);
    let connected = app_events(&out, NodeEventKind::Connected);
    let (crash, back) = (10.0, 15.0);
    assert!(
        !lost.is_empty() && lost[0] >= crash && lost[0] - crash < 0.01,
        "{lost:?}"
    );
    assert!(
        !refused.is_empty() && (refused[0] - (lost[0] + 2.0)).abs() < 0.01,
        "{refused:?}"
    );
    assert!(
        !connected.is_empty()
            && connected[0] > back
            && (connected[0] - (refused[0] + 4.0)).abs() < 0.01,
        "{connected:?}"
    );
    // Answered again after the reconnect: hits after 16 s.
    assert!(out.summary.cache_ops.hit > (500.0 * (10.0 + 60.0 - 16.5)) as u64);
}

/// `slow` on the proxy multiplies its thread's time per message: with no
/// queueing (500/s), each get's two turns take factor × 10 µs; `latency`
/// on the proxy delays each answer it sends by its delay.
#[test]
fn a_slow_or_delayed_proxy_adds_to_each_get() {
    let plain = "[client]\npolicy = \"plain\"\nop_timeout = \"2500ms\"";
    let text = |kind: &str, extra: &str| {
        proxy_fault(plain, kind, "50s", extra).replace("start = \"10s\"", "start = \"0s\"")
    };
    let base = run(&parse(&text("none", ""), &[]));
    let slow = run(&parse(&text("slow", "slow = { factor = 11 }\n"), &[]));
    let late = run(&parse(
        &text("latency", "latency = { delay = \"50ms\" }\n"),
        &[],
    ));
    let p50 = |o: &cachestorm::sim::RunOutput| o.summary.latency_ms.p50;
    // Two turns of 10 µs become two of 110 µs; each median is the top of
    // its 1 µs HDR bucket, so the difference is within 2 µs.
    let turns = p50(&slow) - p50(&base);
    assert!((turns - 0.200).abs() <= 0.002 + 1e-9, "{turns}");
    let delay = p50(&late) - p50(&base);
    assert!((delay - 50.0).abs() < 0.1, "{delay}");
}

/// The event estimate counts what a proxy adds: a get through the tier is
/// seven events (to the proxy, its thread forwards, to the node, served,
/// back to the proxy's node side, its thread answers, back to the client)
/// against three straight to the node. The estimate of the proxied model
/// exceeds the direct one's by 4 events per get, and so does what the runs
/// count (prefilled, no fault: every request one get that hits).
#[test]
fn the_event_estimate_counts_the_proxys_events() {
    use cachestorm::config::estimate::events;
    let plain = "[client]\npolicy = \"plain\"\nop_timeout = \"2500ms\"";
    let text = model(plain, "1s");
    let (a, b) = (
        text.find("[proxy]").unwrap(),
        text.find("[cluster]").unwrap(),
    );
    let direct_text = format!("{}{}", &text[..a], &text[b..]);
    let proxied = parse(&text, &["fault.0.kind=none"]);
    let direct = parse(&direct_text, &["fault.0.kind=none"]);
    let (ep, ed) = (events(&proxied), events(&direct));
    // Per request: the arrival and one get.
    let per_get = |e: &cachestorm::config::estimate::EventEstimate| e.per_request - 1.0;
    assert_eq!(per_get(&ed), 3.0);
    assert_eq!(per_get(&ep) / per_get(&ed), 7.0 / 3.0);
    assert!(ep.total() > ed.total());
    // What the runs count agrees: 4 more events per request, to 1 %.
    let (rp, rd) = (run(&proxied), run(&direct));
    let requests = rp.summary.requests.offered as f64;
    assert_eq!(rp.summary.requests.offered, rd.summary.requests.offered);
    let extra = (rp.summary.events as f64 - rd.summary.events as f64) / requests;
    let predicted = (ep.total() as f64 - ed.total() as f64) / ep.arrivals;
    assert!(
        (extra / predicted - 1.0).abs() < 0.01,
        "{extra} per request, estimate {predicted}"
    );
}
