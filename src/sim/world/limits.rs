//! The run-time limits of [`crate::sim::limits`], checked by the event loop
//! every `CHECK_EVERY` events: the event budget and the bound on state.

use super::World;
use crate::engine::Nanos;
use crate::metrics::TimelineRow;
use crate::sim::limits::{Growing, LimitExceeded, SAMPLE, Tally};

impl World {
    /// The first limit the run is over, if any. Over the event budget, the
    /// run goes on for up to [`SAMPLE`] more events (discarding their
    /// timeline rows) to say which kind of event ran away.
    pub(super) fn over_limits(&mut self, end: Nanos) -> Option<LimitExceeded> {
        let limits = self.limits.as_ref()?;
        let (max_events, estimate) = (limits.max_events, limits.estimate);
        let (max_in_flight, max_pending) = (limits.max_in_flight, limits.max_pending);
        let live = self.reqs.live();
        if live > max_in_flight {
            return Some(self.state_stop("requests in flight", live, max_in_flight, false));
        }
        let pending = self.sched.len();
        if pending > max_pending {
            return Some(self.state_stop("pending events", pending, max_pending, true));
        }
        let budget = max_events?;
        if self.events <= budget {
            return None;
        }
        let (time, events) = (self.sched.now(), self.events);
        let mut tally = Tally::default();
        let mut discard = |_: &TimelineRow| {};
        for _ in 0..SAMPLE {
            let Some((_, ev)) = self.sched.pop_before(end) else {
                break;
            };
            if self.handle(ev, &mut discard) {
                tally.add(&format!("{ev:?}"));
            }
            self.pump();
        }
        Some(LimitExceeded::Events {
            time,
            events,
            budget,
            estimate: estimate.min(budget),
            kinds: tally.describe(),
        })
    }

    fn state_stop(
        &self,
        what: &'static str,
        held: usize,
        limit: usize,
        events: bool,
    ) -> LimitExceeded {
        LimitExceeded::State {
            time: self.sched.now(),
            what,
            held: held as u64,
            limit: limit as u64,
            growing: self.largest_queue(events),
        }
    }

    /// The largest queue of the run, named with the keys that bound it
    /// (with `events`, the scheduled events count as one).
    fn largest_queue(&self, events: bool) -> Growing {
        let g = self.gauges();
        let mut best = Growing {
            what: "the executor queue (service.queue, service.threads)".into(),
            len: g.exec_queue,
        };
        let mut consider = |what: String, len: u64| {
            if len > best.len {
                best = Growing { what, len };
            }
        };
        consider(
            "the requests holding executor threads (service.threads)".into(),
            g.busy_threads,
        );
        consider(
            "the front end's backend queue (frontend.maxconn, frontend.timeout_queue)".into(),
            g.frontend_queue,
        );
        consider(
            "the database's queries and waiters (database.pool, database.connection_timeout)"
                .into(),
            g.db_in_flight,
        );
        for (i, n) in g.nodes.iter().enumerate() {
            consider(
                format!("node {i}'s worker queue (cluster.worker_threads, the service time)"),
                n.queue,
            );
            consider(
                format!(
                    "the clients' queues for node {i} (client.op_timeout, the client's queue bounds)"
                ),
                n.client_backlog,
            );
        }
        if events {
            consider(
                "the scheduled events (timers and messages on the wire)".into(),
                self.sched.len() as u64,
            );
        }
        best
    }
}
