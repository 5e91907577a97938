//! Invariants of a run, checked when asked (`--check-invariants`, the tests)
//! and always in debug builds: simulated time never moves backwards; every
//! offered request ends in exactly one outcome; queues stay within their
//! capacities; every cache operation is counted exactly once; the summary
//! equals the sum of the timeline.

use super::World;

impl World {
    /// Checks the invariants that hold at any instant between events.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let ended = self.rec.requests().offered;
        let live = self.reqs.live() as u64;
        let answered_live = self.answered_live;
        if self.arrived != ended - answered_live + live {
            return Err(format!(
                "{} requests arrived, {ended} ended (of which {answered_live} answered early but still running), {live} in flight",
                self.arrived
            ));
        }
        for (i, inst) in self.service.instances.iter().enumerate() {
            inst.exec
                .check()
                .map_err(|e| format!("instance {i}: {e}"))?;
        }
        for (i, (busy, threads, queued, cap)) in
            self.service.bulkhead_load().into_iter().enumerate()
        {
            if busy > threads || queued as u32 > cap {
                return Err(format!(
                    "bulkhead {i}: {busy}/{threads} threads, {queued}/{cap} queued"
                ));
            }
        }
        self.db.check()?;
        let pending = self.cache.pending();
        let counted = self.rec.cache_counts().ended();
        if self.rec.submitted() != counted + pending {
            return Err(format!(
                "{} cache operations submitted, {counted} counted, {pending} pending",
                self.rec.submitted()
            ));
        }
        Ok(())
    }

    /// Checks, at the end of a run, that the summary adds up and equals the
    /// sum of the timeline.
    pub(crate) fn check_final(&self) -> Result<(), String> {
        let r = self.rec.requests();
        let outcomes = r.outcomes();
        if outcomes.iter().sum::<u64>() != r.offered || r.offered != self.arrived {
            return Err(format!(
                "{} arrived but the outcomes are {outcomes:?}",
                self.arrived
            ));
        }
        let (offered, rows, cache) = self.rec.row_sums();
        if offered != r.offered || rows != outcomes {
            return Err(format!(
                "timeline sums {offered} {rows:?} differ from the summary {outcomes:?}"
            ));
        }
        if cache != self.rec.cache_counts().ended() || cache != self.rec.submitted() {
            return Err(format!(
                "cache operations: timeline {cache}, summary {}, submitted {}",
                self.rec.cache_counts().ended(),
                self.rec.submitted()
            ));
        }
        let w = self.rec.windows();
        for (name, win) in [
            ("steady", &w.steady),
            ("fault", &w.fault),
            ("recovery", &w.recovery),
        ] {
            let q = &win.requests;
            let sum = q.succeeded + q.late + q.rejected + q.timed_out + q.failed + q.unfinished;
            if sum != win.offered {
                return Err(format!(
                    "window {name}: {} offered, outcomes sum to {sum}",
                    win.offered
                ));
            }
        }
        Ok(())
    }
}
