//! What a validated model will cost before it runs: how many events the run
//! will handle (the runaway guard of `cachestorm run` and `check`) and how
//! much memory its per-key and per-connection tables take (refused in
//! validation above [`MEMORY_LIMIT`]).
//!
//! The event estimate is the expected number of arrivals times the events a
//! request causes on the path its flow takes, plus timeline ticks, fault
//! phases and the clients' idle wake-ups. It is meant to be right within a
//! small factor, not exact: conditional steps are weighted by a rough hit
//! ratio, and what a fault adds (timeouts, reconnects, retransmissions) is
//! left out. `docs/reliability.md` compares it with the `events` of the
//! shipped models' runs.

use std::fmt;

use super::client::mcrouter::next_probe_delay;
use super::fault::{FaultKindConfig, SlowMode};
use super::{Condition, Model, PolicyConfig, StepOp};
use crate::engine::time::SEC;

/// Default most events `cachestorm run` accepts without `--max-events`.
pub const DEFAULT_MAX_EVENTS: u64 = 2_000_000_000;

/// Most bytes of tables a model may ask for (2 GiB).
pub const MEMORY_LIMIT: u64 = 2 << 30;

/// Events a cache operation on one key causes when nothing goes wrong: the
/// request reaching the node, the node's worker finishing it, the reply
/// reaching the client.
const EVENTS_PER_CACHE_KEY: f64 = 3.0;

/// Events a cache operation on one key causes through a proxy tier
/// (`[proxy]`): the request reaching the proxy, its thread forwarding it,
/// the request reaching the node, the node finishing it, the reply reaching
/// the proxy's node side, its thread answering, the answer reaching the
/// client (`sim::world::proxy`): the three of a direct op, and four more.
const EVENTS_PER_PROXIED_KEY: f64 = 7.0;

/// The expected event count of a run, by source.
#[derive(Clone, Debug, PartialEq)]
pub struct EventEstimate {
    /// Expected arrivals over `duration`.
    pub arrivals: f64,
    /// Expected events per request (its arrival included).
    pub per_request: f64,
    /// Timeline ticks.
    pub ticks: f64,
    /// Fault phase changes.
    pub faults: f64,
    /// The clients' idle wake-ups (spymemcached's select timeout).
    pub clients: f64,
}

impl EventEstimate {
    /// The total, rounded up, saturating at `u64::MAX`.
    pub fn total(&self) -> u64 {
        let t = self.arrivals * self.per_request + self.ticks + self.faults + self.clients;
        if t.is_finite() {
            t.ceil().min(u64::MAX as f64) as u64
        } else {
            u64::MAX
        }
    }
}

impl EventEstimate {
    /// Which keys to look at first: those behind the largest part.
    pub fn hint(&self) -> &'static str {
        let requests = self.arrivals * self.per_request;
        let other = self.faults + self.clients;
        if requests >= self.ticks && requests >= other {
            "check `duration`, `workload.rate` and the flows' steps"
        } else if self.ticks >= other {
            "check `bucket` and `duration`"
        } else {
            "check the faults' flapping and slow periods, and the client's timers: `max_reconnect_delay` and `wakeup_delay` (spymemcached), `probe_delay_initial` (mcrouter)"
        }
    }
}

impl fmt::Display for EventEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "about {} events ({} arrivals × {:.1} events per request + {} ticks + {} fault and client events)",
            sci(self.total() as f64),
            sci(self.arrivals),
            self.per_request,
            sci(self.ticks),
            sci(self.faults + self.clients),
        )
    }
}

/// A count spelled for people: `12345`, `3.6e9`.
pub fn sci(x: f64) -> String {
    if !x.is_finite() {
        return "infinitely many".into();
    }
    if x < 1e6 {
        format!("{}", x.round() as u64)
    } else {
        let e = x.log10().floor() as i32;
        let m = x / 10f64.powi(e);
        format!("{m:.1}e{e}")
    }
}

/// The share of the key space the smallest pool can hold (1 without
/// capacities).
fn room_share(model: &Model) -> f64 {
    let keys = f64::from(model.workload.keys.count.max(1));
    model
        .pools
        .iter()
        .map(|p| {
            let per_node = match p.memory.capacity {
                None => return 1.0,
                Some(super::Capacity::Items(n)) => f64::from(n),
                // At least the smallest slab chunk per item.
                Some(super::Capacity::Bytes(b)) => {
                    b as f64
                        / (super::memory::MIN_MEMORY as f64)
                            .max(f64::from(model.workload.value_size))
                }
            };
            (per_node * p.nodes.len() as f64 / keys).min(1.0)
        })
        .fold(1.0, f64::min)
}

/// Estimates the events of a run of `model`.
pub fn events(model: &Model) -> EventEstimate {
    let secs = |ns: u64| ns as f64 / SEC as f64;
    let end = model.end();
    // Arrivals: the integral of the piecewise-constant rate over [0, duration).
    let rates = &model.workload.rates;
    let mut arrivals = 0.0;
    for (i, &(from, rate)) in rates.iter().enumerate() {
        let to = rates.get(i + 1).map_or(model.duration, |r| r.0);
        let to = to.min(model.duration);
        if to > from {
            arrivals += rate * secs(to - from);
        }
    }
    // Gets over the run, to guess the miss ratio of a cache without prefill:
    // each key misses about once, then hits.
    let flows = &model.workload.flows;
    let total_weight: f64 = flows.iter().map(|f| f.weight).sum();
    let share = |w: f64| {
        if total_weight.is_finite() && total_weight > 0.0 {
            w / total_weight
        } else {
            1.0 / flows.len().max(1) as f64
        }
    };
    let gets_per_request: f64 = flows
        .iter()
        .map(|f| {
            share(f.weight)
                * f.steps
                    .iter()
                    .filter(|s| s.op.is_get())
                    .map(|s| s.count as f64)
                    .sum::<f64>()
        })
        .sum();
    // The proxy tier's own pool holds nothing (its servers hold the keys).
    let prefilled = model
        .pools
        .iter()
        .enumerate()
        .all(|(i, p)| p.prefill || model.proxy.as_ref().is_some_and(|x| x.front_pool == i));
    let miss = if prefilled {
        0.0
    } else {
        let gets = arrivals * gets_per_request;
        if gets > 0.0 {
            (model.workload.keys.count as f64 / gets).min(1.0)
        } else {
            1.0
        }
    };
    // A node with less room than its keys misses at least the share it
    // cannot hold (uniform popularity; skewed popularity misses less).
    let miss = miss.max(1.0 - room_share(model));
    // Retries multiply work: a database step makes up to `max_attempts`
    // calls, and each upstream layer sends the whole request up to its
    // `max_attempts` times (k at each of L layers: k^L). The estimate takes
    // the worst case, when every attempt fails, so a model whose retries
    // multiply load beyond any reason is refused before it runs.
    let db_attempts = model
        .database
        .retry
        .as_ref()
        .map_or(1.0, |r| f64::from(r.max_attempts));
    let upstream: f64 = model
        .service
        .upstream
        .iter()
        .map(|r| f64::from(r.max_attempts))
        .product();
    // Steps that reach the proxy's pool pass through the proxy: two more
    // hops and two turns of its thread per key.
    let per_key = |pool: usize| match &model.proxy {
        Some(p) if p.front_pool == pool => EVENTS_PER_PROXIED_KEY,
        Some(_) | None => EVENTS_PER_CACHE_KEY,
    };
    let per_request = upstream
        * (1.0
            + flows
                .iter()
                .map(|f| {
                    share(f.weight)
                        * f.steps
                            .iter()
                            .map(|s| {
                                let p = match s.on {
                                    Condition::Always => 1.0,
                                    Condition::Hit => 1.0 - miss,
                                    Condition::Miss | Condition::MissOrError => miss,
                                    Condition::Error => 0.0,
                                };
                                // A per-key loop's step runs once per earlier
                                // get that missed.
                                let p = match s.each {
                                    None => p,
                                    Some((start, _)) => {
                                        miss * f.steps[..start as usize]
                                            .iter()
                                            .filter(|g| g.op == StepOp::Get && g.wait)
                                            .count()
                                            as f64
                                    }
                                };
                                let events = match s.op {
                                    StepOp::Get | StepOp::Set | StepOp::Touch | StepOp::Delete => {
                                        per_key(s.pool)
                                    }
                                    StepOp::MultiGet => per_key(s.pool) * s.count as f64,
                                    StepOp::DbRead if s.fill == super::Fill::ReadThrough => {
                                        db_attempts + per_key(s.pool)
                                    }
                                    StepOp::DbRead | StepOp::DbWrite => db_attempts,
                                    StepOp::Work => 1.0,
                                };
                                p * events
                            })
                            .sum::<f64>()
                })
                .sum::<f64>());
    let ticks = (end / model.bucket) as f64;
    let faults: f64 = model
        .faults
        .iter()
        .map(|f| {
            let length = (f.end - f.start) as f64;
            let toggles = match &f.kind {
                FaultKindConfig::Flapping { frozen, healthy } => {
                    length / (*frozen as f64 + *healthy as f64) * 2.0
                }
                FaultKindConfig::Slow(SlowMode::DutyCycle { stop, run }) => {
                    length / (*stop as f64 + *run as f64) * 2.0
                }
                FaultKindConfig::Slow(SlowMode::Factor(_))
                | FaultKindConfig::None
                | FaultKindConfig::Crash
                | FaultKindConfig::Frozen { .. }
                | FaultKindConfig::Lossy { .. }
                | FaultKindConfig::Partition
                | FaultKindConfig::Latency { .. }
                | FaultKindConfig::Errors { .. }
                | FaultKindConfig::Flush
                | FaultKindConfig::DeleteHot { .. }
                | FaultKindConfig::Spike { .. }
                | FaultKindConfig::DbOutage
                | FaultKindConfig::DbSlow(_)
                | FaultKindConfig::DbFailover { .. }
                | FaultKindConfig::DbBlip
                | FaultKindConfig::RetriesOff
                | FaultKindConfig::ShedLoad { .. } => 0.0,
            };
            // A duty cycle switches twice a period (its shortest, with jitter).
            let toggles = toggles
                + f.cycle.map_or(0.0, |c| {
                    length / ((c.on + c.off - 2 * c.jitter).max(1) as f64) * 2.0
                });
            // A client whose connection to the node is lost retries every
            // min(max_reconnect_delay, 2^n s) plus a connect round trip: two
            // events an attempt. Negligible with the defaults; a storm with
            // a tiny max_reconnect_delay and no network latency.
            let drops_connections = match &f.kind {
                FaultKindConfig::Crash
                | FaultKindConfig::Frozen { .. }
                | FaultKindConfig::Flapping { .. }
                | FaultKindConfig::Partition => true,
                // A `SERVER_ERROR` drops a spymemcached connection.
                FaultKindConfig::Errors { .. } => true,
                FaultKindConfig::None
                | FaultKindConfig::Slow(_)
                | FaultKindConfig::Lossy { .. }
                | FaultKindConfig::Latency { .. }
                | FaultKindConfig::Flush
                | FaultKindConfig::DeleteHot { .. }
                | FaultKindConfig::Spike { .. }
                | FaultKindConfig::DbOutage
                | FaultKindConfig::DbSlow(_)
                | FaultKindConfig::DbFailover { .. }
                | FaultKindConfig::DbBlip
                | FaultKindConfig::RetriesOff
                | FaultKindConfig::ShedLoad { .. } => false,
            };
            let reconnects = match &model.client.policy {
                PolicyConfig::Spymemcached(spy) if drops_connections => {
                    let period = (spy.max_reconnect_delay as f64
                        + 2.0 * model.network.latency.mean())
                    .max(1.0);
                    model.service.instances as f64 * length / period * 2.0
                }
                // While a destination is TKO, each instance's probe timer
                // fires and sends a `version` probe (four events: the timer,
                // the probe reaching the node, served, the reply). Any fault
                // but `none` can make a destination TKO (timeouts count).
                PolicyConfig::Mcrouter(m) if !matches!(f.kind, FaultKindConfig::None) => {
                    model.service.instances as f64
                        * probe_timers(length, m.probe_delay_initial, m.probe_delay_max)
                        * 4.0
                }
                PolicyConfig::Spymemcached(_)
                | PolicyConfig::Plain(_)
                | PolicyConfig::Mcrouter(_)
                | PolicyConfig::Twemproxy(_)
                | PolicyConfig::Pymemcache(_)
                | PolicyConfig::Libmemcached(_) => 0.0,
            };
            3.0 + toggles + reconnects
        })
        .sum();
    // spymemcached's I/O thread wakes at least every wakeupDelay; the other
    // policies have no idle timers (mcrouter's probes run only while a
    // destination is TKO: counted with the faults above).
    let clients = match &model.client.policy {
        PolicyConfig::Spymemcached(spy) => {
            model.service.instances as f64 * end as f64 / spy.wakeup_delay as f64
        }
        PolicyConfig::Plain(_)
        | PolicyConfig::Mcrouter(_)
        | PolicyConfig::Twemproxy(_)
        | PolicyConfig::Pymemcache(_)
        | PolicyConfig::Libmemcached(_) => 0.0,
    };
    EventEstimate {
        arrivals,
        per_request,
        ticks,
        faults,
        clients,
    }
}

/// mcrouter's probe delay grows ×1.5 after each probe
/// (`next_probe_delay`), each delay stretched by at least 5 %
/// (`src/sim/client/mcrouter.rs`, after mcrouter's
/// `ProxyDestination::scheduleNextProbe`).
const PROBE_MIN_STRETCH: f64 = 1.05;

/// How many probe timers fire in `length` ns while a destination stays TKO:
/// the delays from `initial` grow ×1.5 (rounded up to whole nanoseconds, as
/// the client computes them) up to `max`.
fn probe_timers(length: f64, initial: u64, max: u64) -> f64 {
    let (mut t, mut n, mut d) = (0.0, 0.0, initial.max(1));
    // 200 steps of ×1.5 pass any u64 delay.
    for _ in 0..200 {
        if t >= length {
            return n;
        }
        let next = next_probe_delay(d, max);
        if next == d {
            break;
        }
        t += d as f64 * PROBE_MIN_STRETCH;
        n += 1.0;
        d = next;
    }
    n + ((length - t).max(0.0) / (d as f64 * PROBE_MIN_STRETCH)).ceil()
}

/// One table a model allocates, for the memory guard.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryTerm {
    /// The dotted key that decides its size (where an error points).
    pub key: &'static str,
    /// How it is computed, spelled for people: `4 nodes × 10000 keys × 4 B`.
    pub arithmetic: String,
    /// Bytes.
    pub bytes: f64,
}

/// Approximate bytes per item of the tables a run allocates up front
/// (`src/sim/`): a node's key store (u32 per key), the database's versions
/// (u32 per key), a pool's primary per key (u16), a connection and the
/// client's per-node state, an event loop, a memcached worker.
const KEY_STORE: f64 = 4.0;
const KEY_PLACEMENT: f64 = 2.0;
const PER_CONNECTION: f64 = 512.0;
const PER_EVENT_LOOP: f64 = 64.0;
const PER_WORKER: f64 = 128.0;

/// The tables a run of `model` allocates before its first event, largest
/// first.
pub fn memory(model: &Model) -> Vec<MemoryTerm> {
    let keys = model.workload.keys.count as f64;
    let nodes = model.node_count() as f64;
    let pools = model.pools.len() as f64;
    let instances = model.service.instances as f64;
    let mut terms = vec![MemoryTerm {
        key: "workload.keys.count",
        arithmetic: format!(
            "{} keys × ({} node(s) × 4 B + 4 B database versions + {} pool(s) × 2 B placement)",
            model.workload.keys.count,
            model.node_count(),
            model.pools.len()
        ),
        bytes: keys * (nodes * KEY_STORE + KEY_STORE + pools * KEY_PLACEMENT),
    }];
    terms.push(MemoryTerm {
        key: "service.instances",
        arithmetic: format!(
            "{} instance(s) × {} node(s) connections × about {} B",
            model.service.instances,
            model.node_count(),
            PER_CONNECTION
        ),
        bytes: instances * nodes * PER_CONNECTION,
    });
    if model.service.executor == super::ExecutorKind::EventLoop {
        terms.push(MemoryTerm {
            key: "service.threads",
            arithmetic: format!(
                "{} instance(s) × {} event loops × about {} B",
                model.service.instances, model.service.threads, PER_EVENT_LOOP
            ),
            bytes: instances * model.service.threads as f64 * PER_EVENT_LOOP,
        });
    }
    let workers: f64 = model
        .pools
        .iter()
        .map(|p| p.nodes.len() as f64 * p.worker_threads as f64)
        .sum();
    terms.push(MemoryTerm {
        key: "cluster.worker_threads",
        arithmetic: format!("{workers} memcached worker threads × about {PER_WORKER} B"),
        bytes: workers * PER_WORKER,
    });
    // Item memory beyond the version per key: LRU links (8 B, and 4 B of
    // charge when counted in bytes), expiries (8 B), leases (8 B, and 4 B of
    // stale version when served).
    let per_key_node: f64 = model
        .pools
        .iter()
        .map(|p| {
            let m = &p.memory;
            let lru = match m.capacity {
                None => 0.0,
                Some(super::Capacity::Items(_)) => 8.0,
                Some(super::Capacity::Bytes(_)) => 12.0,
            };
            let ttl = if m.ttl.is_some() { 8.0 } else { 0.0 };
            let lease = match m.lease {
                None => 0.0,
                Some(l) if l.miss == super::LeaseMiss::Stale => 12.0,
                Some(_) => 8.0,
            };
            p.nodes.len() as f64 * (lru + ttl + lease)
        })
        .sum();
    if per_key_node > 0.0 {
        terms.push(MemoryTerm {
            key: "cluster.memory",
            arithmetic: format!(
                "{} keys × {per_key_node} B of LRU links, expiries and leases over the nodes",
                model.workload.keys.count
            ),
            bytes: keys * per_key_node,
        });
    }
    terms.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
    terms
}

/// Bytes spelled for people: `512 B`, `3.5 MiB`, `14.9 GiB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_counts_and_sizes() {
        assert_eq!(sci(12345.0), "12345");
        assert_eq!(sci(3.6e9), "3.6e9");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(2.0 * 1024.0 * 1024.0 * 1024.0), "2.0 GiB");
    }

    #[test]
    fn probe_timers_follow_the_growing_delay() {
        let s = SEC;
        // 10 s, 15 s, 22.5 s, … capped at 60 s: over 60 s, the first three
        // (10 × 1.05 + 15 × 1.05 + 22.5 × 1.05 = 49.9 s) and one more.
        assert_eq!(probe_timers(60.0 * s as f64, 10 * s, 60 * s), 4.0);
        // A delay of 1 ns grows (1, 2, 3, 5, 8, … ns) to the cap: about
        // length / (max × 1.05) timers plus the ~60 of the ramp.
        let n = probe_timers(3600.0 * s as f64, 1, 60 * s);
        let capped = 3600.0 / (60.0 * 1.05);
        assert!(n > capped && n < capped + 70.0, "{n}");
        // Capped at the max: about length / (max × 1.05).
        let n = probe_timers(3600.0 * s as f64, s, s);
        assert!((n - 3600.0 / 1.05).abs() < 2.0, "{n}");
    }
}
