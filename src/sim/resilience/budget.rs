//! A retry budget (Finagle's `RetryBudget`: "about 20 % of the total requests
//! retried on top of 10 retries per second", deposits living `ttl` = 10 s).
//!
//! Each call deposits `ratio` tokens, each retry withdraws one; deposits and
//! withdrawals expire after `ttl` (kept in ten slots of `ttl`/10, as
//! Finagle's windowed leaky bucket); a reserve of `min_per_sec` × `ttl`
//! tokens is always there. A retry is allowed when the balance has a token.

use crate::config::BudgetConfig as Spec;
use crate::engine::Nanos;
use crate::engine::time::SEC;

const SLOTS: usize = 10;

/// One service instance's retry budget.
#[derive(Clone, Debug)]
pub struct Budget {
    ratio: f64,
    reserve: f64,
    width: Nanos,
    slots: [f64; SLOTS],
    current: usize,
    current_start: Nanos,
}

impl Budget {
    /// A full budget (only the reserve).
    pub fn new(spec: &Spec) -> Self {
        Budget {
            ratio: spec.ratio,
            reserve: spec.min_per_sec * spec.ttl as f64 / SEC as f64,
            width: (spec.ttl / SLOTS as u64).max(1),
            slots: [0.0; SLOTS],
            current: 0,
            current_start: 0,
        }
    }

    fn advance(&mut self, now: Nanos) {
        let steps = (now.saturating_sub(self.current_start)) / self.width;
        if steps == 0 {
            return;
        }
        if steps >= SLOTS as u64 {
            self.slots = [0.0; SLOTS];
        } else {
            for _ in 0..steps {
                self.current = (self.current + 1) % SLOTS;
                self.slots[self.current] = 0.0;
            }
        }
        self.current_start += steps * self.width;
    }

    /// Tokens available now.
    pub fn balance(&mut self, now: Nanos) -> f64 {
        self.advance(now);
        self.reserve + self.slots.iter().sum::<f64>()
    }

    /// A call was made.
    pub fn deposit(&mut self, now: Nanos) {
        self.advance(now);
        self.slots[self.current] += self.ratio;
    }

    /// Takes a token for a retry; false when there is none.
    pub fn withdraw(&mut self, now: Nanos) -> bool {
        if self.balance(now) < 1.0 - 1e-9 {
            return false;
        }
        self.slots[self.current] -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    fn spec() -> Spec {
        Spec {
            ratio: 0.2,
            min_per_sec: 10.0,
            ttl: 10 * SEC,
        }
    }

    #[test]
    fn reserve_then_ratio_of_calls() {
        let mut b = Budget::new(&spec());
        // No calls: the reserve of 100 retries over 10 s.
        let allowed = (0..1000).filter(|_| b.withdraw(0)).count();
        assert_eq!(allowed, 100);
        // 1000 calls deposit 200 more.
        for _ in 0..1000 {
            b.deposit(MS);
        }
        let allowed = (0..1000).filter(|_| b.withdraw(MS)).count();
        assert_eq!(allowed, 200);
        // Everything expires after ttl: the reserve is back.
        assert!((b.balance(12 * SEC) - 100.0).abs() < 1e-9);
    }
}
