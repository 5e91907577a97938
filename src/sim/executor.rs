//! A service instance's executor (`shared/reference/service-stack.md` §2–4).
//!
//! `pool`: one lane of `threads` threads fed by one FIFO queue, unbounded by
//! default (Tomcat; the pool fills to its maximum before anything queues) or
//! bounded, rejecting when full. `event_loop`: `threads` lanes of one thread
//! each, with their own queue; requests are pinned to a lane round robin, as
//! Netty and Vert.x pin connections. A blocking call holds the thread.

use std::collections::VecDeque;

use super::request::ReqRef;
use crate::config::{ExecutorKind, ServiceConfig};

/// One thread group with its queue. Each queued entry says whether it is a
/// new request (counted against the capacity) or a continuation.
#[derive(Clone, Debug, Default)]
struct ExecLane {
    threads: u32,
    busy: u32,
    queue: VecDeque<(ReqRef, bool)>,
    fresh: u32,
}

/// What happened to a request offered to the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A thread took it.
    Run,
    /// It waits in the queue.
    Queued,
    /// The queue was full.
    Rejected,
}

/// An instance's executor.
#[derive(Clone, Debug)]
pub struct Executor {
    lanes: Vec<ExecLane>,
    capacity: Option<u32>,
    next: u32,
}

impl Executor {
    /// An executor as the model describes it.
    pub fn new(spec: &ServiceConfig) -> Self {
        let lanes = match spec.executor {
            ExecutorKind::Pool => vec![ExecLane {
                threads: spec.threads,
                ..Default::default()
            }],
            ExecutorKind::EventLoop => vec![
                ExecLane {
                    threads: 1,
                    ..Default::default()
                };
                spec.threads as usize
            ],
        };
        Executor {
            lanes,
            capacity: spec.queue,
            next: 0,
        }
    }

    /// The lane a new request is pinned to.
    pub fn pick_lane(&mut self) -> u16 {
        let l = self.next % self.lanes.len() as u32;
        self.next = self.next.wrapping_add(1);
        l as u16
    }

    /// A new request on `lane`: runs, queues or is rejected.
    #[inline]
    pub fn admit(&mut self, lane: u16, r: ReqRef) -> Admission {
        let l = &self.lanes[lane as usize];
        if l.busy >= l.threads && self.capacity.is_some_and(|c| l.fresh >= c) {
            Admission::Rejected
        } else {
            self.enter(lane, r, true)
        }
    }

    /// An admitted request that released its thread wants one again (a
    /// continuation after a bulkhead call): runs, or queues past any bound.
    #[inline]
    pub fn resume(&mut self, lane: u16, r: ReqRef) -> Admission {
        self.enter(lane, r, false)
    }

    /// Runs `r` on a free thread of `lane`, or queues it; a `fresh` (new)
    /// request counts against the queue's bound.
    #[inline]
    fn enter(&mut self, lane: u16, r: ReqRef, fresh: bool) -> Admission {
        let l = &mut self.lanes[lane as usize];
        if l.busy < l.threads {
            l.busy += 1;
            Admission::Run
        } else {
            l.queue.push_back((r, fresh));
            l.fresh += fresh as u32;
            Admission::Queued
        }
    }

    /// A thread of `lane` is released; returns the next queued request, which
    /// now holds that thread.
    #[inline]
    pub fn release(&mut self, lane: u16) -> Option<ReqRef> {
        let l = &mut self.lanes[lane as usize];
        match l.queue.pop_front() {
            Some((r, fresh)) => {
                l.fresh -= fresh as u32;
                Some(r)
            }
            None => {
                l.busy -= 1;
                None
            }
        }
    }

    /// Busy threads.
    pub fn busy(&self) -> u64 {
        self.lanes.iter().map(|l| l.busy as u64).sum()
    }

    /// Queued requests.
    pub fn queued(&self) -> u64 {
        self.lanes.iter().map(|l| l.queue.len() as u64).sum()
    }

    /// Checks that no lane runs more than its threads and no queue holds more
    /// new requests than its capacity.
    pub fn check(&self) -> Result<(), String> {
        for (i, l) in self.lanes.iter().enumerate() {
            if l.busy > l.threads {
                return Err(format!(
                    "lane {i}: {} busy threads of {}",
                    l.busy, l.threads
                ));
            }
            if let Some(c) = self.capacity
                && l.fresh > c
            {
                return Err(format!(
                    "lane {i}: {} queued requests, capacity {c}",
                    l.fresh
                ));
            }
            if l.fresh as usize > l.queue.len() {
                return Err(format!("lane {i}: queue accounting"));
            }
        }
        Ok(())
    }
}
