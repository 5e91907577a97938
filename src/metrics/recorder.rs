//! The recorder: counts every request once, by arrival window and by
//! completion bucket, and emits one timeline row per bucket.

use super::timeline::NodeGauge;

use super::histogram::LatencyHistogram;
use super::outcome::{CacheCounts, CacheOutcome, Outcome, RequestFlags};
use super::summary::{RequestCounts, Tail, Verdict, VerdictState, Window, Windows};
use super::timeline::{Percentiles, TimelineRow};
use crate::engine::Nanos;
use crate::engine::time::secs;

/// Gauges sampled at a bucket boundary.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    /// Busy executor threads.
    pub busy_threads: u64,
    /// Executor queue length.
    pub exec_queue: u64,
    /// Front-end queue length.
    pub frontend_queue: u64,
    /// Database in flight.
    pub db_in_flight: u64,
    /// Requests in flight (not in the timeline: the verdict tells a stalled
    /// bucket from an idle one by it).
    pub requests_in_flight: u64,
    /// Per node.
    pub nodes: Vec<NodeGauge>,
}

#[derive(Clone, Debug, Default)]
struct WindowAcc {
    start: Nanos,
    end: Nanos,
    counts: [u64; 6],
    cache_timeout: u64,
    cache_cancel: u64,
    miss: u64,
    stale: u64,
    over_slo: u64,
    latency: LatencyHistogram,
}

impl WindowAcc {
    fn new(start: Nanos, end: Nanos) -> Self {
        WindowAcc {
            start,
            end: end.max(start),
            ..Default::default()
        }
    }

    fn contains(&self, t: Nanos) -> bool {
        self.start <= t && t < self.end
    }

    fn finish(&self) -> Window {
        let counts = request_counts(&self.counts);
        let n = counts.offered;
        let ratio = |x: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
        Window {
            start_s: secs(self.start),
            end_s: secs(self.end),
            offered: n,
            requests: counts,
            success_ratio: ratio(counts.succeeded),
            rejected_ratio: ratio(counts.rejected),
            timed_out_ratio: ratio(counts.timed_out),
            failed_ratio: ratio(counts.failed),
            late_ratio: ratio(counts.late),
            cache_timeout_ratio: ratio(self.cache_timeout),
            cache_cancel_ratio: ratio(self.cache_cancel),
            miss_ratio: ratio(self.miss),
            stale_ratio: ratio(self.stale),
            over_slo: self.over_slo,
            latency_ms: percentiles(&self.latency),
        }
    }
}

fn request_counts(c: &[u64; 6]) -> RequestCounts {
    RequestCounts {
        offered: c.iter().sum(),
        succeeded: c[Outcome::Succeeded.index()],
        late: c[Outcome::Late.index()],
        rejected: c[Outcome::Rejected.index()],
        timed_out: c[Outcome::TimedOut.index()],
        failed: c[Outcome::Failed.index()],
        unfinished: c[Outcome::Unfinished.index()],
    }
}

/// Percentiles of a histogram (zeros when it is empty). A bucketed
/// percentile is the top of its bucket, so it is capped at the exact maximum.
pub fn percentiles(h: &LatencyHistogram) -> Percentiles {
    let max = h.max_ms();
    Percentiles {
        count: h.count(),
        mean: h.mean_ms(),
        p50: h.quantile_ms(0.5).min(max),
        p90: h.quantile_ms(0.9).min(max),
        p99: h.quantile_ms(0.99).min(max),
        p999: h.quantile_ms(0.999).min(max),
        max,
    }
}

/// Streams a run's measurements.
#[derive(Clone)]
pub struct Recorder {
    slo: Nanos,
    fault_window: Option<(Nanos, Nanos)>,
    row: TimelineRow,
    row_bad: u64,
    row_hist: LatencyHistogram,
    row_db_sum: u128,
    row_db_n: u64,
    totals: [u64; 6],
    /// Latency of answered requests that arrived outside the three windows
    /// (during the warm-up); the run's latency is this merged with the
    /// windows', so each request is recorded in one run-long histogram.
    other_latency: LatencyHistogram,
    over_slo: u64,
    cache: CacheCounts,
    windows: [WindowAcc; 3],
    first_bad: Option<Nanos>,
    /// End of the last bucket after the faults with more than 1 % bad.
    last_bad_bucket_end: Option<Nanos>,
    peak_error_ratio: f64,
    trips: u64,
    first_trip: Option<Nanos>,
    stale_reads: u64,
    submitted: u64,
    /// Sums of the rows emitted so far: (offered, outcomes, cache ops ended).
    row_sums: (u64, [u64; 6], u64),
    /// Database calls (retries included) in the open bucket.
    row_db_calls: u64,
    /// Arrivals stop here.
    duration: Nanos,
    warmup: Nanos,
    bucket: Nanos,
    /// Succeeded and ended requests of the buckets between the warm-up and
    /// the first fault: the reference success share of the verdict.
    reference: (u64, u64),
    /// Start of the current run of good buckets after the last fault.
    good_since: Option<Nanos>,
    /// A bucket after the last fault was bad.
    bad_after: bool,
    /// The last loaded buckets (at most [`HOLD`] long), for the verdict's
    /// tail figures.
    tail: std::collections::VecDeque<TailBucket>,
    tail_db_in_flight: u64,
}

/// The verdict's criterion: a bucket is good when its successes reach
/// (1 − `TOLERANCE`) × the reference success share × the larger of its
/// ended and offered requests; the system has recovered when the buckets
/// from some time after the last fault to the end of arrivals are good,
/// for at least `HOLD` (or for all the time left).
pub const TOLERANCE: f64 = 0.10;
/// See [`TOLERANCE`].
pub const HOLD: Nanos = 5 * crate::engine::time::SEC;

/// One loaded bucket's figures for the verdict's tail.
#[derive(Clone, Copy, Debug, Default)]
struct TailBucket {
    length: Nanos,
    offered: u64,
    ended: u64,
    succeeded: u64,
    db_calls: u64,
    hit: u64,
    miss: u64,
}

impl Recorder {
    /// A recorder for a run whose arrivals stop at `duration`.
    pub fn new(
        slo: Nanos,
        warmup: Nanos,
        duration: Nanos,
        fault_window: Option<(Nanos, Nanos)>,
    ) -> Self {
        let (fs, fe) = fault_window.unwrap_or((duration, duration));
        let (fs, fe) = (fs.clamp(warmup, duration), fe.clamp(warmup, duration));
        Recorder {
            slo,
            fault_window,
            row: TimelineRow::default(),
            row_bad: 0,
            row_hist: LatencyHistogram::with_precision(2),
            row_db_sum: 0,
            row_db_n: 0,
            totals: [0; 6],
            other_latency: LatencyHistogram::new(),
            over_slo: 0,
            cache: CacheCounts::default(),
            windows: [
                WindowAcc::new(warmup, fs),
                WindowAcc::new(fs, fe),
                WindowAcc::new(fe, duration),
            ],
            first_bad: None,
            last_bad_bucket_end: None,
            peak_error_ratio: 0.0,
            trips: 0,
            first_trip: None,
            stale_reads: 0,
            submitted: 0,
            row_sums: (0, [0; 6], 0),
            row_db_calls: 0,
            duration,
            warmup,
            bucket: 0,
            reference: (0, 0),
            good_since: None,
            bad_after: false,
            tail: std::collections::VecDeque::new(),
            tail_db_in_flight: 0,
        }
    }

    /// Gives a recorder that has recorded only what happened before `now`
    /// another model's fault window, as if it had been built with it (a
    /// world continued from a shared warm-up prefix as another point of a
    /// sweep). Before the first fault starts the window decides nothing but
    /// whether one exists (the verdict's reference is gathered only then),
    /// so this holds when both windows exist, or neither, and neither
    /// starts before `now`; otherwise nothing changes and it returns false.
    pub fn set_fault_window(&mut self, now: Nanos, fault_window: Option<(Nanos, Nanos)>) -> bool {
        let later = |w: Option<(Nanos, Nanos)>| w.is_none_or(|(s, _)| s >= now);
        if self.fault_window.is_some() != fault_window.is_some()
            || !later(self.fault_window)
            || !later(fault_window)
        {
            return false;
        }
        let built = Recorder::new(self.slo, self.warmup, self.duration, fault_window);
        debug_assert!(
            self.windows[1..]
                .iter()
                .all(|w| w.counts == [0; 6] && w.latency.count() == 0),
            "the fault and recovery windows have recorded nothing yet"
        );
        self.windows[0].end = built.windows[0].end;
        self.windows[1] = built.windows[1].clone();
        self.windows[2] = built.windows[2].clone();
        self.fault_window = fault_window;
        true
    }

    /// A database call (a first attempt or a retry) was made.
    #[inline]
    pub fn db_call(&mut self) {
        self.row_db_calls += 1;
    }

    /// The reference success share: succeeded / ended over the buckets
    /// between the warm-up and the first fault (1 when there are none).
    fn reference_share(&self) -> f64 {
        let (ok, ended) = self.reference;
        if ended == 0 {
            1.0
        } else {
            ok as f64 / ended as f64
        }
    }

    /// Feeds a closed bucket to the verdict.
    fn judge(
        &mut self,
        start: Nanos,
        end: Nanos,
        b: TailBucket,
        in_flight: u64,
        db_in_flight: u64,
    ) {
        if start >= self.duration {
            return; // the drain: no load, nothing to judge
        }
        self.bucket = self.bucket.max(end - start);
        self.tail.push_back(b);
        let hold_buckets = HOLD.div_ceil(self.bucket.max(1)).max(1) as usize;
        while self.tail.len() > hold_buckets {
            self.tail.pop_front();
        }
        self.tail_db_in_flight = db_in_flight;
        let Some((fs, fe)) = self.fault_window else {
            return;
        };
        if end <= fs && start >= self.warmup {
            self.reference.0 += b.succeeded;
            self.reference.1 += b.ended;
        }
        if start < fe {
            return;
        }
        let good = if b.ended == 0 {
            if b.offered == 0 && in_flight == 0 {
                return; // idle: neither good nor bad
            }
            false
        } else {
            let need = (1.0 - TOLERANCE) * self.reference_share() * b.ended.max(b.offered) as f64;
            b.succeeded as f64 >= need
        };
        if good {
            self.good_since.get_or_insert(start);
        } else {
            self.good_since = None;
            self.bad_after = true;
        }
    }

    /// Whether the system recovered after the last fault, by the criterion
    /// of [`TOLERANCE`], with the figures of the last loaded [`HOLD`].
    pub fn verdict(&self) -> Verdict {
        let secs_of = |t: Nanos| secs(t);
        let length: Nanos = self.tail.iter().map(|b| b.length).sum();
        let sum = |f: fn(&TailBucket) -> u64| self.tail.iter().map(f).sum::<u64>();
        let per_s = |n: u64| {
            if length == 0 {
                0.0
            } else {
                n as f64 / secs_of(length)
            }
        };
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (offered, ended, succeeded, db_calls, hit, miss) = (
            sum(|b| b.offered),
            sum(|b| b.ended),
            sum(|b| b.succeeded),
            sum(|b| b.db_calls),
            sum(|b| b.hit),
            sum(|b| b.miss),
        );
        let tail = Tail {
            seconds: secs_of(length),
            offered_per_sec: per_s(offered),
            goodput_per_sec: per_s(succeeded),
            success_ratio: ratio(succeeded, ended),
            db_calls_per_sec: per_s(db_calls),
            db_amplification: ratio(db_calls, offered),
            db_in_flight: self.tail_db_in_flight,
            cache_hit_ratio: ratio(hit, hit + miss),
        };
        let Some((_, fe)) = self.fault_window else {
            return Verdict {
                state: VerdictState::NoFault,
                stuck: 0.0,
                recovered_s: None,
                tail,
            };
        };
        let left = self.duration.saturating_sub(fe);
        let (state, recovered_s) = match self.good_since {
            None if !self.bad_after => (VerdictState::Recovered, Some(0.0)),
            None => (VerdictState::Stuck, None),
            Some(t) if !self.bad_after => (VerdictState::Recovered, Some(secs_of(t - fe.min(t)))),
            Some(t) if self.duration - t >= HOLD.min(left) => {
                (VerdictState::Recovered, Some(secs_of(t - fe.min(t))))
            }
            Some(_) => (VerdictState::Stuck, None),
        };
        Verdict {
            state,
            stuck: if state == VerdictState::Stuck {
                1.0
            } else {
                0.0
            },
            recovered_s,
            tail,
        }
    }

    /// A request arrived.
    #[inline]
    pub fn offered(&mut self) {
        self.row.offered += 1;
    }

    /// A request ended at `now`. `answered` is true when the service answered
    /// it (its latency counts); rejections and front-end timeouts are not.
    #[inline]
    pub fn request_end(
        &mut self,
        arrival: Nanos,
        now: Nanos,
        outcome: Outcome,
        flags: RequestFlags,
        answered: bool,
    ) {
        let i = outcome.index();
        self.totals[i] += 1;
        let latency = now - arrival;
        let over = answered && latency > self.slo;
        match outcome {
            Outcome::Succeeded if flags.has(RequestFlags::DATABASE) => self.row.succeeded_db += 1,
            Outcome::Succeeded => self.row.succeeded_cache += 1,
            Outcome::Late => self.row.late += 1,
            Outcome::Rejected => self.row.rejected += 1,
            Outcome::TimedOut => self.row.timed_out += 1,
            Outcome::Failed => self.row.failed += 1,
            Outcome::Unfinished => self.row.unfinished += 1,
        }
        if answered {
            self.row_hist.record(latency);
        }
        if over {
            self.row.over_slo += 1;
            self.over_slo += 1;
        }
        let bad = outcome != Outcome::Succeeded || flags.met_cache_error();
        if bad && outcome != Outcome::Unfinished {
            self.row_bad += 1;
            if let Some((fs, _)) = self.fault_window
                && self.first_bad.is_none()
                && now >= fs
            {
                self.first_bad = Some(now);
            }
        }
        if flags.has(RequestFlags::STALE) {
            self.stale_reads += 1;
        }
        let mut in_window = false;
        for w in &mut self.windows {
            if w.contains(arrival) {
                in_window = true;
                w.counts[i] += 1;
                if flags.has(RequestFlags::CACHE_TIMEOUT) {
                    w.cache_timeout += 1;
                }
                if flags.has(RequestFlags::CACHE_CANCEL) {
                    w.cache_cancel += 1;
                }
                if flags.has(RequestFlags::MISS) {
                    w.miss += 1;
                }
                if flags.has(RequestFlags::STALE) {
                    w.stale += 1;
                }
                if over {
                    w.over_slo += 1;
                }
                if answered {
                    w.latency.record(latency);
                }
                break;
            }
        }
        if answered && !in_window {
            self.other_latency.record(latency);
        }
    }

    /// A cache operation was submitted: it will be counted exactly once.
    #[inline]
    pub fn cache_submitted(&mut self) {
        self.submitted += 1;
    }

    /// Cache operations submitted.
    pub fn submitted(&self) -> u64 {
        self.submitted
    }

    /// Sums of the timeline rows emitted so far: offered, the six outcomes,
    /// and cache operations ended.
    pub fn row_sums(&self) -> (u64, [u64; 6], u64) {
        self.row_sums
    }

    /// A cache operation ended.
    #[inline]
    pub fn cache(&mut self, o: CacheOutcome) {
        self.row.cache.add(o);
        self.cache.add(o);
    }

    /// A cache operation went to a node other than its key's primary.
    #[inline]
    pub fn redirected(&mut self) {
        self.row.cache.redirected += 1;
        self.cache.redirected += 1;
    }

    /// Cache operations still pending when the run ended.
    pub fn cache_unfinished(&mut self, n: u64) {
        self.row.cache.unfinished += n;
        self.cache.unfinished += n;
    }

    /// A database query (wait + run) took `ns`.
    #[inline]
    pub fn db_latency(&mut self, ns: Nanos) {
        self.row_db_sum += ns as u128;
        self.row_db_n += 1;
    }

    /// A client dropped a connection after the continuous-timeout threshold.
    pub fn trip(&mut self, now: Nanos) {
        self.trips += 1;
        self.row.trips += 1;
        self.first_trip.get_or_insert(now);
    }

    /// Closes the bucket [start, end) with the gauges sampled at its end and
    /// hands the row to `sink`.
    pub fn close_bucket(
        &mut self,
        start: Nanos,
        end: Nanos,
        gauges: &Gauges,
        sink: &mut dyn FnMut(&TimelineRow),
    ) {
        let row = &mut self.row;
        row.start = start;
        row.end = end;
        row.latency = percentiles(&self.row_hist);
        row.busy_threads = gauges.busy_threads;
        row.exec_queue = gauges.exec_queue;
        row.frontend_queue = gauges.frontend_queue;
        row.db_in_flight = gauges.db_in_flight;
        row.db_latency_ms = if self.row_db_n == 0 {
            0.0
        } else {
            self.row_db_sum as f64 / self.row_db_n as f64 / 1e6
        };
        row.nodes.clear();
        row.nodes.extend_from_slice(&gauges.nodes);
        let ended = row.ended() - row.unfinished;
        // Only buckets under load count for recovery (the drain has none); a
        // bucket under load in which nothing ends while requests are in
        // flight is bad, not skipped.
        let loaded = start < self.duration;
        let stalled = ended == 0 && (row.offered > 0 || gauges.requests_in_flight > 0);
        if ended > 0 {
            let not_ok = ended - row.succeeded();
            self.peak_error_ratio = self.peak_error_ratio.max(not_ok as f64 / ended as f64);
        }
        if let Some((_, fe)) = self.fault_window
            && end > fe
            && loaded
            && (stalled || (ended > 0 && self.row_bad as f64 > 0.01 * ended as f64))
        {
            self.last_bad_bucket_end = Some(end);
        }
        let b = TailBucket {
            length: end - start,
            offered: row.offered,
            ended,
            succeeded: row.succeeded(),
            db_calls: self.row_db_calls,
            hit: row.cache.hit,
            miss: row.cache.miss,
        };
        self.row_db_calls = 0;
        self.judge(
            start,
            end,
            b,
            gauges.requests_in_flight,
            gauges.db_in_flight,
        );
        let row = &mut self.row;
        sink(row);
        self.row_sums.0 += row.offered;
        let outcomes = [
            row.succeeded(),
            row.late,
            row.rejected,
            row.timed_out,
            row.failed,
            row.unfinished,
        ];
        for (s, o) in self.row_sums.1.iter_mut().zip(outcomes) {
            *s += o;
        }
        self.row_sums.2 += row.cache.ended();
        let nodes = std::mem::take(&mut row.nodes);
        *row = TimelineRow {
            nodes,
            ..Default::default()
        };
        self.row_bad = 0;
        self.row_hist.reset();
        self.row_db_sum = 0;
        self.row_db_n = 0;
    }

    /// Outcome totals.
    pub fn requests(&self) -> RequestCounts {
        request_counts(&self.totals)
    }

    /// Latency of all answered requests.
    pub fn latency(&self) -> Percentiles {
        let mut all = self.other_latency.clone();
        for w in &self.windows {
            all.merge(&w.latency);
        }
        percentiles(&all)
    }

    /// Requests answered after the SLO.
    pub fn over_slo(&self) -> u64 {
        self.over_slo
    }

    /// Cache operation totals.
    pub fn cache_counts(&self) -> CacheCounts {
        self.cache
    }

    /// The three windows.
    pub fn windows(&self) -> Windows {
        Windows {
            steady: self.windows[0].finish(),
            fault: self.windows[1].finish(),
            recovery: self.windows[2].finish(),
        }
    }

    /// Seconds from the first fault start to the first bad request's end.
    pub fn first_bad_s(&self) -> Option<f64> {
        let (fs, _) = self.fault_window?;
        self.first_bad.map(|t| secs(t - fs))
    }

    /// Seconds from the last fault end until no later bucket under load is
    /// over 1 % bad (a bucket under load in which nothing ends is bad);
    /// `None` when the last bucket under load was still bad. The drain after
    /// the arrivals carries no load and is not judged.
    pub fn recovery_s(&self) -> Option<f64> {
        let (_, fe) = self.fault_window?;
        match self.last_bad_bucket_end {
            None => Some(0.0),
            Some(t) if t >= self.duration => None,
            Some(t) => Some(secs(t.saturating_sub(fe))),
        }
    }

    /// Highest not-succeeded share in one bucket.
    pub fn peak_bucket_error_ratio(&self) -> f64 {
        self.peak_error_ratio
    }

    /// Trips and the first trip time.
    pub fn trips(&self) -> (u64, Option<f64>) {
        (self.trips, self.first_trip.map(secs))
    }

    /// Stale reads.
    pub fn stale_reads(&self) -> u64 {
        self.stale_reads
    }
}
