//! The event queue: a binary heap ordered by (time, insertion sequence) plus
//! FIFO *lanes* for fixed-delay timers.
//!
//! Ties resolve in the order events were scheduled, so a run never depends on
//! heap internals. Most timers in a cache simulation have a fixed duration
//! (every operation arms the same op timeout, every hop of a constant-latency
//! network takes the same time), so events scheduled `delay` after "now" on
//! one lane are already in time order: a `VecDeque` per distinct delay keeps
//! them out of the heap.
//!
//! The lane heads' keys sit side by side in a small array with their minimum
//! cached: a pop from the heap compares three keys (heap top, earliest lane
//! head, zero-delay FIFO) and scans nothing; only a pop from a lane rescans
//! the few head keys. Events with no delay at all (a zero-latency network
//! hop) go to one FIFO compared by the same key comparison: they never touch
//! the heap. The order of pops is exactly (time, sequence), whatever
//! structure an event waits in (`pops_match_a_stable_sort` below).
//!
//! Cancellation is lazy and belongs to the model: a cancelled timer stays
//! queued and its handler recognises it as stale (a generation counter), which
//! makes arming and cancelling O(1). A lane timer armed with
//! [`Scheduler::after_lane_timer`] can also be cancelled in the queue
//! ([`Scheduler::cancel`]): it is marked dead where it waits and dropped, with
//! no handler call, when it reaches the lane's head. A dead timer never
//! becomes a lane head, so it takes no part in the order of the others.

use std::collections::VecDeque;

use super::time::Nanos;

/// Packs (time, sequence) into one key: time in the high 64 bits.
#[inline]
fn key(time: Nanos, seq: u64) -> u128 {
    ((time as u128) << 64) | seq as u128
}

#[inline]
fn key_time(key: u128) -> Nanos {
    (key >> 64) as Nanos
}

#[derive(Clone, Copy)]
struct HeapEntry<E> {
    key: u128,
    event: E,
}

/// A 4-ary min-heap of entries by key. Keys are unique (the sequence half),
/// so the order of pops is the keys' order whatever the heap's shape; four
/// children per node halve the levels a pop walks down (each level moves
/// one 32-byte entry), against the binary heap of `std`.
#[derive(Clone)]
struct Heap<E> {
    data: Vec<HeapEntry<E>>,
}

impl<E> Heap<E> {
    fn with_capacity(n: usize) -> Self {
        Heap {
            data: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.data.len()
    }

    /// The smallest key (`EMPTY` when empty).
    #[inline(always)]
    fn top_key(&self) -> u128 {
        self.data.first().map_or(EMPTY, |e| e.key)
    }
}

impl<E: Copy> Heap<E> {
    #[inline]
    fn push(&mut self, entry: HeapEntry<E>) {
        let mut pos = self.data.len();
        self.data.push(entry);
        let d = &mut self.data[..];
        while pos > 0 {
            let parent = (pos - 1) / 4;
            if d[parent].key <= entry.key {
                break;
            }
            d[pos] = d[parent];
            pos = parent;
        }
        d[pos] = entry;
    }

    /// Removes the entry with the smallest key.
    #[inline]
    fn pop(&mut self) -> Option<HeapEntry<E>> {
        let last = self.data.pop()?;
        let n = self.data.len();
        if n == 0 {
            return Some(last);
        }
        let d = &mut self.data[..];
        let top = d[0];
        let mut pos = 0;
        loop {
            let c = 4 * pos + 1;
            if c >= n {
                break;
            }
            // The smallest of the (up to four) children. (An index loop:
            // an unrolled tournament of pairs measured 0.8 % more
            // instructions on the incident model.)
            let mut m = c;
            let mut mk = d[c].key;
            #[allow(clippy::needless_range_loop)]
            for j in c + 1..(c + 4).min(n) {
                let k = d[j].key;
                if k < mk {
                    m = j;
                    mk = k;
                }
            }
            if last.key <= mk {
                break;
            }
            d[pos] = d[m];
            pos = m;
        }
        d[pos] = last;
        Some(top)
    }
}

/// A handle to a fixed-delay FIFO lane, from [`Scheduler::lane`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lane(u32);

/// The handle of the zero-delay lane.
const ZERO_LANE: u32 = u32::MAX;

/// The key of an empty lane: later than any event.
const EMPTY: u128 = u128::MAX;

/// The sequence half of a cancelled lane entry's key (no event is ever
/// given this sequence number).
const DEAD: u64 = u64::MAX;

#[inline]
fn is_dead(key: u128) -> bool {
    key as u64 == DEAD
}

/// A lane timer that can be cancelled, from [`Scheduler::after_lane_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timer {
    lane: u32,
    /// Position in the lane since it was made (entries popped before it
    /// plus its place in the queue).
    pos: u64,
}

#[derive(Clone)]
struct LaneQueue<E> {
    delay: Nanos,
    queue: VecDeque<(u128, E)>,
    /// Entries taken from the front so far (events and dead timers).
    popped: u64,
    /// Dead timers still queued: while there are none (a model that never
    /// cancels), a pop does not look for them.
    dead: u32,
}

/// The event queue of one run.
#[derive(Clone)]
pub struct Scheduler<E> {
    now: Nanos,
    seq: u64,
    heap: Heap<E>,
    lanes: Vec<LaneQueue<E>>,
    /// Each lane's head key (`EMPTY` when the lane is empty), side by side so
    /// that finding the earliest head is a short scan of plain integers.
    heads: Vec<u128>,
    /// The earliest lane head and its lane, kept up to date when a head
    /// changes, so a pop from the heap compares one key.
    lane_min: (u128, usize),
    /// Events scheduled with no delay, by sequence number, from `zero_head`
    /// on. All are due now: they are popped before the clock moves, so
    /// their time is `now` and only the sequence number is kept. A plain
    /// vector read from a moving head, emptied when its last event is
    /// popped (no wrap-around to compute, 24-byte entries).
    zero: Vec<(u64, E)>,
    /// The next zero-delay event's place in `zero`.
    zero_head: usize,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Scheduler<E> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        Scheduler {
            now: 0,
            seq: 0,
            heap: Heap::with_capacity(1024),
            lanes: Vec::new(),
            heads: Vec::new(),
            lane_min: (EMPTY, 0),
            zero: Vec::with_capacity(64),
            zero_head: 0,
        }
    }

    /// The current simulated time: the time of the event last popped.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The lane for timers of exactly `delay`, created on first use.
    pub fn lane(&mut self, delay: Nanos) -> Lane {
        if delay == 0 {
            return Lane(ZERO_LANE);
        }
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return Lane(i as u32);
        }
        self.lanes.push(LaneQueue {
            delay,
            queue: VecDeque::with_capacity(256),
            popped: 0,
            dead: 0,
        });
        self.heads.push(EMPTY);
        Lane((self.lanes.len() - 1) as u32)
    }

    /// The delay of a lane.
    pub fn lane_delay(&self, lane: Lane) -> Nanos {
        if lane.0 == ZERO_LANE {
            0
        } else {
            self.lanes[lane.0 as usize].delay
        }
    }

    #[inline]
    fn next_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq += 1;
        s
    }

    /// Schedules `event` at absolute time `at` (never before now).
    #[inline(always)]
    pub fn at(&mut self, at: Nanos, event: E)
    where
        E: Copy,
    {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let at = at.max(self.now);
        let seq = self.next_seq();
        self.heap.push(HeapEntry {
            key: key(at, seq),
            event,
        });
    }

    /// Sequence numbers handed out so far: the next event scheduled takes
    /// this one.
    pub fn issued(&self) -> u64 {
        self.seq
    }

    /// Hands out no event the next `n` sequence numbers, keeping them for
    /// [`Scheduler::at_seq`]. Only the order of sequence numbers matters, so
    /// a gap changes no pop order.
    pub fn skip(&mut self, n: u64) {
        self.seq += n;
    }

    /// Schedules `event` at absolute time `at` with sequence number `seq`,
    /// one kept by [`Scheduler::skip`] (never handed out before, so no two
    /// events share a key). A world continued from a shared warm-up prefix
    /// schedules its faults so, with the numbers its own run would have
    /// given them.
    pub fn at_seq(&mut self, at: Nanos, seq: u64, event: E)
    where
        E: Copy,
    {
        debug_assert!(at >= self.now, "event scheduled in the past");
        debug_assert!(seq < self.seq, "sequence number not kept by skip");
        self.heap.push(HeapEntry {
            key: key(at.max(self.now), seq),
            event,
        });
    }

    /// Schedules `event` after `delay`.
    #[inline(always)]
    pub fn after(&mut self, delay: Nanos, event: E)
    where
        E: Copy,
    {
        self.at(self.now.saturating_add(delay), event);
    }

    /// Schedules `event` after the lane's fixed delay, without touching the heap.
    #[inline(always)]
    pub fn after_lane(&mut self, lane: Lane, event: E) {
        let seq = self.next_seq();
        if lane.0 == ZERO_LANE {
            self.zero.push((seq, event));
            return;
        }
        let i = lane.0 as usize;
        let l = &mut self.lanes[i];
        let k = key(self.now.saturating_add(l.delay), seq);
        if l.queue.is_empty() {
            // The event becomes the lane's head.
            self.heads[i] = k;
            if k < self.lane_min.0 {
                self.lane_min = (k, i);
            }
        }
        l.queue.push_back((k, event));
    }

    /// Schedules `event` after the lane's fixed delay, as
    /// [`Scheduler::after_lane`], and returns a handle that can cancel it.
    #[inline(always)]
    pub fn after_lane_timer(&mut self, lane: Lane, event: E) -> Timer {
        let pos = if lane.0 == ZERO_LANE {
            0
        } else {
            let l = &self.lanes[lane.0 as usize];
            l.popped + l.queue.len() as u64
        };
        self.after_lane(lane, event);
        Timer { lane: lane.0, pos }
    }

    /// Cancels a timer from [`Scheduler::after_lane_timer`]: its event will
    /// not be popped. A timer already popped (or on the zero-delay lane) is
    /// left alone, so cancelling is safe at any time.
    ///
    /// Ops are mostly answered in the order they were sent, so the timer
    /// cancelled is most often its lane's head: it is taken off the front at
    /// once (no mark, no scan for marks). One further back is marked dead
    /// where it waits and dropped when it reaches the front.
    #[inline]
    pub fn cancel(&mut self, timer: Timer) {
        if timer.lane == ZERO_LANE {
            return;
        }
        let i = timer.lane as usize;
        let l = &mut self.lanes[i];
        let Some(at) = timer.pos.checked_sub(l.popped) else {
            return;
        };
        if at == 0 {
            // The lane's head: never dead (dead timers are dropped as soon
            // as they reach the front), so it is this timer's event.
            if l.queue.pop_front().is_none() {
                return;
            }
            l.popped += 1;
            if l.dead > 0 {
                self.drop_dead(i);
            }
            self.heads[i] = self.lanes[i].queue.front().map_or(EMPTY, |&(k, _)| k);
            if self.lane_min.1 == i {
                // The old head was the earliest; the new one is later.
                self.lane_min = min_head(&self.heads);
            }
            return;
        }
        self.mark_dead(i, at as usize);
    }

    /// Marks the entry `at` places behind lane `i`'s head dead.
    #[inline(never)]
    fn mark_dead(&mut self, i: usize, at: usize) {
        let l = &mut self.lanes[i];
        let Some(entry) = l.queue.get_mut(at) else {
            return;
        };
        if is_dead(entry.0) {
            return;
        }
        entry.0 |= DEAD as u128;
        l.dead += 1;
    }

    /// Drops dead timers from the front of lane `i`.
    #[cold]
    fn drop_dead(&mut self, i: usize) {
        let l = &mut self.lanes[i];
        while l.queue.front().is_some_and(|&(k, _)| is_dead(k)) {
            l.queue.pop_front();
            l.popped += 1;
            l.dead -= 1;
        }
    }

    /// The key of the earliest event, if any.
    #[inline]
    fn earliest(&self) -> Option<u128> {
        let h = self.heap.top_key();
        let z = self
            .zero
            .get(self.zero_head)
            .map_or(EMPTY, |&(seq, _)| key(self.now, seq));
        let m = h.min(z).min(self.lane_min.0);
        (m != EMPTY).then_some(m)
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        self.earliest().map(key_time)
    }

    /// Removes the earliest event if it is due before `end`, advances the
    /// clock to it and returns it.
    #[inline(always)]
    pub fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)>
    where
        E: Copy,
    {
        self.pop_until(end.checked_sub(1)?)
    }

    /// Removes the earliest event if it is due at or before `last`.
    #[inline(always)]
    fn pop_until(&mut self, last: Nanos) -> Option<(Nanos, E)>
    where
        E: Copy,
    {
        let h = self.heap.top_key();
        let (l, li) = self.lane_min;
        if let Some(&(seq, event)) = self.zero.get(self.zero_head) {
            let z = key(self.now, seq);
            if z < h && z < l {
                if self.now > last {
                    return None;
                }
                self.zero_head += 1;
                if self.zero_head == self.zero.len() {
                    self.zero.clear();
                    self.zero_head = 0;
                }
                // A zero-delay event is due now: the clock does not move.
                return Some((self.now, event));
            }
        }
        let k = h.min(l);
        if k == EMPTY || key_time(k) > last {
            return None;
        }
        let t = key_time(k);
        debug_assert!(t >= self.now, "time moved backwards");
        self.now = t;
        if h < l {
            return self.heap.pop().map(|e| (t, e.event));
        }
        let l = &mut self.lanes[li];
        let (_, event) = l.queue.pop_front()?;
        l.popped += 1;
        if l.dead > 0 {
            self.drop_dead(li);
        }
        self.heads[li] = self.lanes[li].queue.front().map_or(EMPTY, |&(k, _)| k);
        self.lane_min = min_head(&self.heads);
        Some((t, event))
    }

    /// Removes the earliest event, advances the clock to it and returns it.
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, E)>
    where
        E: Copy,
    {
        self.pop_until(Nanos::MAX)
    }

    /// Events still queued (including stale and cancelled timers not yet
    /// skipped).
    pub fn len(&self) -> usize {
        self.heap.len()
            + (self.zero.len() - self.zero_head)
            + self.lanes.iter().map(|l| l.queue.len()).sum::<usize>()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The earliest of the lane heads and its lane.
#[inline]
fn min_head(heads: &[u128]) -> (u128, usize) {
    let mut best = (EMPTY, 0);
    for (i, &k) in heads.iter().enumerate() {
        if k < best.0 {
            best = (k, i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_times_pop_in_scheduling_order_across_heap_and_lanes() {
        let mut s = Scheduler::new();
        let lane = s.lane(10);
        s.at(10, 'a');
        s.after_lane(lane, 'b');
        s.at(10, 'c');
        s.at(5, 'z');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['z', 'a', 'b', 'c']);
    }

    #[test]
    fn cancelled_timers_are_never_popped() {
        let mut s = Scheduler::new();
        let lane = s.lane(10);
        let a = s.after_lane_timer(lane, 'a');
        s.at(3, 'x');
        let (_, x) = s.pop().unwrap();
        assert_eq!(x, 'x');
        let b = s.after_lane_timer(lane, 'b');
        let c = s.after_lane_timer(lane, 'c');
        s.cancel(b);
        s.cancel(a);
        // Cancelling twice, or after the pop, changes nothing.
        s.cancel(a);
        let order: Vec<(u64, char)> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, vec![(13, 'c')]);
        s.cancel(c);
        assert!(s.is_empty());
    }

    #[test]
    fn kept_sequence_numbers_order_as_if_scheduled_then() {
        // 'f' scheduled into a kept slot pops exactly where it would have
        // had it been scheduled when the slot was kept.
        let mut direct = Scheduler::new();
        direct.at(5, 'a');
        direct.at(9, 'f');
        direct.at(9, 'b');
        direct.at(7, 'c');
        let mut kept = Scheduler::new();
        kept.at(5, 'a');
        let slot = kept.issued();
        kept.skip(2);
        kept.at(9, 'b');
        kept.at(7, 'c');
        let (_, a) = kept.pop().unwrap();
        assert_eq!(a, 'a');
        kept.at_seq(9, slot, 'f');
        let d: Vec<(u64, char)> = std::iter::from_fn(|| direct.pop()).collect();
        let k: Vec<(u64, char)> = std::iter::from_fn(|| kept.pop()).collect();
        assert_eq!(&d[1..], &k[..]);
        assert_eq!(k, vec![(7, 'c'), (9, 'f'), (9, 'b')]);
    }

    #[test]
    fn lanes_are_shared_per_delay() {
        let mut s: Scheduler<()> = Scheduler::new();
        let a = s.lane(7);
        let b = s.lane(9);
        assert_ne!(a, b);
        assert_eq!(s.lane(7), a);
        assert_eq!(s.lane_delay(b), 9);
    }

    /// The 4-ary heap gives its keys back in order, through growth and
    /// shrinkage, whatever the interleaving of pushes and pops.
    #[test]
    fn heap_pops_keys_in_order() {
        use rand::RngExt;
        let mut rng = crate::engine::stream(3, "heap-test");
        let mut heap = Heap::with_capacity(4);
        let mut model = std::collections::BTreeSet::new();
        for round in 0..20_000u32 {
            if rng.random_bool(0.55) || model.is_empty() {
                // Unique keys, as the scheduler's (time, sequence) are.
                let key = (u128::from(rng.random_range(0..1_000u64)) << 64) | u128::from(round);
                heap.push(HeapEntry { key, event: round });
                model.insert((key, round));
            } else {
                let e = heap.pop().unwrap();
                assert_eq!(Some((e.key, e.event)), model.pop_first());
            }
            assert_eq!(heap.len(), model.len());
            assert_eq!(heap.top_key(), model.first().map_or(EMPTY, |&(k, _)| k));
        }
        while let Some(e) = heap.pop() {
            assert_eq!(Some((e.key, e.event)), model.pop_first());
        }
        assert!(model.is_empty());
    }

    /// The common pattern: timers answered in the order they were armed are
    /// cancelled at their lane's head, beside another lane and the heap;
    /// the earliest lane head stays right.
    #[test]
    fn cancelling_lane_heads_in_order() {
        let mut s = Scheduler::new();
        let slow = s.lane(100);
        let fast = s.lane(10);
        let mut timers = Vec::new();
        for t in 0..6u64 {
            s.at(t, 'h');
            let (_, h) = s.pop().unwrap();
            assert_eq!(h, 'h');
            timers.push(s.after_lane_timer(slow, 's'));
        }
        s.after_lane(fast, 'f');
        // The slow lane's head (armed at 0, due at 100) is the earliest lane
        // head until the fast lane's event (due at 15).
        for &t in &timers[..5] {
            s.cancel(t);
        }
        // A timer cancelled twice, and one already gone, change nothing.
        s.cancel(timers[0]);
        let order: Vec<(u64, char)> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, vec![(15, 'f'), (105, 's')]);
        s.cancel(timers[5]);
        assert!(s.is_empty());
    }

    proptest! {
        /// Whatever mix of heap and lane events, pops come out sorted by
        /// (time, scheduling order), exactly as a stable sort would give.
        #[test]
        fn pops_match_a_stable_sort(ops in proptest::collection::vec((0u64..50, 0usize..7, any::<bool>()), 1..200), oldest in any::<bool>()) {
            let mut s = Scheduler::new();
            // Five lanes (8 twice) besides the zero-delay one.
            let delays = [0u64, 3, 8, 8, 20, 5, 13];
            let lanes: Vec<Lane> = delays.iter().map(|&d| s.lane(d)).collect();
            let mut expected = Vec::new();
            let mut timers = Vec::new();
            let mut id = 0usize;
            // Interleave scheduling with pops so that "now" advances; a
            // lane event (not zero-delay) whose time is odd is armed as a
            // cancellable timer, and every
            // fifth op cancels the timer armed three before it (if any), or
            // (`oldest`) the oldest armed timer not yet cancelled, which is
            // most often its lane's head.
            for (t, lane, use_lane) in ops {
                let now = s.now();
                if id % 5 == 4 && timers.len() >= 3 {
                    let (timer, victim) = if oldest {
                        timers.remove(0)
                    } else {
                        timers[timers.len() - 3]
                    };
                    s.cancel(timer);
                    expected.retain(|&(_, i)| i != victim);
                }
                if use_lane && t % 2 == 1 && delays[lane] > 0 {
                    timers.push((s.after_lane_timer(lanes[lane], id), id));
                    expected.push((now + delays[lane], id));
                } else if use_lane {
                    s.after_lane(lanes[lane], id);
                    expected.push((now + delays[lane], id));
                } else {
                    s.at(now + t, id);
                    expected.push((now + t, id));
                }
                id += 1;
                if id.is_multiple_of(3) {
                    let (t, e) = s.pop().unwrap();
                    expected.sort_by_key(|&(t, i)| (t, i));
                    let first = expected.remove(0);
                    prop_assert_eq!((t, e), first);
                }
            }
            expected.sort_by_key(|&(t, i)| (t, i));
            let rest: Vec<(u64, usize)> = std::iter::from_fn(|| s.pop()).collect();
            prop_assert_eq!(rest, expected);
        }
    }
}
