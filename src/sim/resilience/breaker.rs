//! resilience4j's `CircuitBreaker` (2.x, `CircuitBreakerStateMachine`,
//! `CircuitBreakerMetrics`; `shared/reference/service-stack.md` §7) with a
//! count-based sliding window.
//!
//! CLOSED: each finished call goes into a ring of the last
//! `sliding_window_size` outcomes; once `minimum_number_of_calls` are
//! recorded, a failure rate ≥ `failure_rate_threshold` (or a slow-call rate ≥
//! `slow_call_rate_threshold`) opens it. OPEN: every call is refused at once
//! (not recorded); the first call after `wait_duration_in_open_state` finds it
//! HALF_OPEN (lazily: no timer). HALF_OPEN: `permitted_number_of_calls…`
//! calls pass, the rest are refused; when they have all finished their rates
//! decide: OPEN again (a new wait) or CLOSED (a fresh window). Calls that
//! finish while it is OPEN are not recorded.

use crate::config::BreakerConfig as Spec;
use crate::engine::Nanos;
use crate::sim::protocol::NodeEventKind;

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Calls pass and are recorded.
    Closed,
    /// Calls are refused since then.
    Open(Nanos),
    /// Trial calls: this many permits left.
    HalfOpen(u32),
}

/// A count-based window of outcomes.
#[derive(Clone, Debug)]
struct Window {
    /// Each entry: bit 0 failure, bit 1 slow.
    ring: Vec<u8>,
    size: usize,
    next: usize,
    filled: usize,
    failures: u32,
    slows: u32,
}

impl Window {
    fn new(size: u32) -> Self {
        Window {
            ring: vec![0; size as usize],
            size: size as usize,
            next: 0,
            filled: 0,
            failures: 0,
            slows: 0,
        }
    }

    fn push(&mut self, failure: bool, slow: bool) {
        if self.filled == self.size {
            let old = self.ring[self.next];
            self.failures -= (old & 1) as u32;
            self.slows -= (old >> 1 & 1) as u32;
        } else {
            self.filled += 1;
        }
        self.ring[self.next] = failure as u8 | (slow as u8) << 1;
        self.failures += failure as u32;
        self.slows += slow as u32;
        self.next = (self.next + 1) % self.size;
    }
}

/// One circuit breaker.
#[derive(Clone, Debug)]
pub struct Breaker {
    spec: Spec,
    state: State,
    window: Window,
}

/// A state change, logged in `node_events.csv` as [`Transition::event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// CLOSED or HALF_OPEN → OPEN.
    Open,
    /// OPEN → HALF_OPEN.
    HalfOpen,
    /// HALF_OPEN → CLOSED.
    Closed,
}

impl Transition {
    /// The node event it is logged as.
    pub fn event(self) -> NodeEventKind {
        match self {
            Transition::Open => NodeEventKind::BreakerOpen,
            Transition::HalfOpen => NodeEventKind::BreakerHalfOpen,
            Transition::Closed => NodeEventKind::BreakerClosed,
        }
    }
}

impl Breaker {
    /// A closed breaker.
    pub fn new(spec: &Spec) -> Self {
        Breaker {
            spec: spec.clone(),
            state: State::Closed,
            window: Window::new(spec.window),
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// `tryAcquirePermission` at `now`: whether the call may go, and the
    /// transition it caused (OPEN → HALF_OPEN).
    pub fn acquire(&mut self, now: Nanos) -> (bool, Option<Transition>) {
        match self.state {
            State::Closed => (true, None),
            State::Open(since) => {
                if now.saturating_sub(since) < self.spec.open_wait {
                    return (false, None);
                }
                self.window = Window::new(self.spec.half_open_calls);
                self.state = State::HalfOpen(self.spec.half_open_calls - 1);
                (true, Some(Transition::HalfOpen))
            }
            State::HalfOpen(0) => (false, None),
            State::HalfOpen(n) => {
                self.state = State::HalfOpen(n - 1);
                (true, None)
            }
        }
    }

    /// A permitted call finished at `now` after `took`.
    pub fn record(&mut self, now: Nanos, failure: bool, took: Nanos) -> Option<Transition> {
        let slow = took >= self.spec.slow_call_duration_threshold;
        let minimum = match self.state {
            State::Open(_) => return None,
            State::Closed => self.spec.minimum_calls as usize,
            State::HalfOpen(_) => self.spec.half_open_calls as usize,
        };
        self.window.push(failure, slow);
        let w = &self.window;
        if w.filled < minimum {
            return None;
        }
        let n = w.filled as f64;
        let over = 100.0 * w.failures as f64 / n >= self.spec.failure_rate_threshold
            || 100.0 * w.slows as f64 / n >= self.spec.slow_call_rate_threshold;
        match (self.state, over) {
            (_, true) => {
                self.state = State::Open(now);
                Some(Transition::Open)
            }
            (State::HalfOpen(_), false) => {
                self.state = State::Closed;
                self.window = Window::new(self.spec.window);
                Some(Transition::Closed)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BreakerScope;
    use crate::engine::time::{MS, SEC};

    fn spec() -> Spec {
        Spec {
            scope: BreakerScope::Client,
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_threshold: 60 * SEC,
            window: 100,
            minimum_calls: 100,
            open_wait: 60 * SEC,
            half_open_calls: 10,
        }
    }

    #[test]
    fn opens_at_fifty_percent_of_a_hundred_calls() {
        let mut b = Breaker::new(&spec());
        // 99 failures: still closed (fewer than 100 calls recorded).
        for _ in 0..99 {
            assert_eq!(b.record(0, true, MS), None);
        }
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.record(0, true, MS), Some(Transition::Open));
        let mut b = Breaker::new(&spec());
        for i in 0..100 {
            // 51 successes, then 49 failures: 49 % of 100, closed.
            assert_eq!(b.record(0, i >= 51, MS), None);
        }
        // One more failure replaces the oldest success: 50 of the last 100.
        assert_eq!(b.record(0, true, MS), Some(Transition::Open));
    }

    #[test]
    fn half_opens_lazily_after_sixty_seconds_with_ten_trials() {
        let mut b = Breaker::new(&spec());
        for _ in 0..100 {
            b.record(0, true, MS);
        }
        assert_eq!(b.acquire(59 * SEC), (false, None));
        assert_eq!(b.acquire(60 * SEC), (true, Some(Transition::HalfOpen)));
        for _ in 0..9 {
            assert_eq!(b.acquire(60 * SEC), (true, None));
        }
        assert_eq!(b.acquire(60 * SEC), (false, None));
        // 5 of 10 trials fail: open again.
        for i in 0..10 {
            let t = b.record(61 * SEC, i < 5, MS);
            assert_eq!(t, (i == 9).then_some(Transition::Open));
        }
        assert_eq!(b.state(), State::Open(61 * SEC));
        b.acquire(121 * SEC);
        for _ in 0..9 {
            b.acquire(121 * SEC);
        }
        for i in 0..10 {
            let t = b.record(122 * SEC, i < 4, MS);
            assert_eq!(t, (i == 9).then_some(Transition::Closed));
        }
        assert_eq!(b.state(), State::Closed);
    }
}
