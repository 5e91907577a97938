//! `[service]`: the service instances, their executors, the bulkhead for
//! cache calls and the application-level resilience around them. The
//! simulator's twins are `sim::service`, `sim::executor`, `sim::bulkhead`
//! and `sim::resilience`.

pub mod resilience;

use serde::Deserialize;

use super::check::{Check, MAX_U16, U16_WHY};
use super::error::ConfigError;
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;
use resilience::{ResilienceConfig, ResilienceFile};

/// Tomcat's `maxThreads` default: the pool size when `threads` is unset.
pub const DEFAULT_POOL_THREADS: u32 = 200;
/// Netty's default number of event loops per core.
const EVENT_LOOPS_PER_CORE: u32 = 2;

/// How a service instance runs requests.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    /// A thread pool fed by one FIFO queue (Tomcat's NIO connector).
    #[default]
    Pool,
    /// A few single-threaded loops, each with its own queue; requests are
    /// pinned to loops round robin (Netty, Vert.x).
    EventLoop,
}

impl ExecutorKind {
    /// Every kind, in the order of the file's documentation.
    pub const ALL: [ExecutorKind; 2] = [ExecutorKind::Pool, ExecutorKind::EventLoop];

    /// The kind's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Pool => "pool",
            ExecutorKind::EventLoop => "event_loop",
        }
    }
}

/// `[service]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// Service instances (each with its own client). Default 1.
    #[serde(default = "default_instances")]
    pub instances: u32,
    /// `pool` (default) or `event_loop`.
    #[serde(default)]
    pub executor: ExecutorKind,
    /// Threads per instance: the pool size, or the number of event loops.
    /// Default [`DEFAULT_POOL_THREADS`] for `pool` (Tomcat `maxThreads`),
    /// 2 × `cores` for `event_loop` (Netty's default).
    pub threads: Option<u32>,
    /// Queue capacity per pool or per loop; a request finding it full is
    /// rejected. Absent: unbounded (Tomcat's `maxQueueSize` default).
    pub queue: Option<u32>,
    /// CPU cores per instance, for defaults that follow the core count.
    /// Default 4.
    #[serde(default = "default_cores")]
    pub cores: u32,
    /// A separate executor for cache calls.
    #[serde(default)]
    pub bulkhead: BulkheadFile,
    /// Application-level retries, retry budget and circuit breakers around
    /// each awaited cache call, with any client policy.
    #[serde(default)]
    pub resilience: ResilienceFile,
}

impl Default for ServiceFile {
    fn default() -> Self {
        ServiceFile {
            instances: default_instances(),
            executor: ExecutorKind::default(),
            threads: None,
            queue: None,
            cores: default_cores(),
            bulkhead: BulkheadFile::default(),
            resilience: ResilienceFile::default(),
        }
    }
}

fn default_instances() -> u32 {
    1
}
fn default_cores() -> u32 {
    4
}

/// `[service.bulkhead]`: cache calls run on their own bounded pool
/// (resilience4j ThreadPoolBulkhead + TimeLimiter, `service-stack.md` §7). The
/// request's thread is released while the call runs; a rejected or late call
/// counts as a cache error, and the late call still holds its bulkhead thread
/// until the client returns.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Threads. Default `service.cores` (resilience4j `maxThreadPoolSize` =
    /// available processors).
    pub threads: Option<u32>,
    /// Queue capacity. Default 100 (resilience4j `queueCapacity`).
    #[serde(default = "default_bulkhead_queue")]
    pub queue: u32,
    /// Time the caller waits. Default 1s (resilience4j TimeLimiter).
    #[serde(default = "default_bulkhead_deadline")]
    pub deadline: Duration,
}

impl Default for BulkheadFile {
    fn default() -> Self {
        BulkheadFile {
            enabled: false,
            threads: None,
            queue: default_bulkhead_queue(),
            deadline: default_bulkhead_deadline(),
        }
    }
}

fn default_bulkhead_queue() -> u32 {
    100
}
fn default_bulkhead_deadline() -> Duration {
    Duration(SEC)
}

/// The service, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// Instances.
    pub instances: u32,
    /// Executor kind.
    pub executor: ExecutorKind,
    /// Pool size, or number of loops.
    pub threads: u32,
    /// Queue capacity (per pool or per loop); `None` = unbounded.
    pub queue: Option<u32>,
    /// The bulkhead for cache calls, when enabled.
    pub bulkhead: Option<BulkheadConfig>,
    /// Application-level retries, budget and breakers, when any is enabled.
    pub resilience: Option<ResilienceConfig>,
    /// Retries of the whole request by the layers above the service,
    /// outermost first (`[[service.resilience.upstream]]`).
    pub upstream: Vec<resilience::RetryConfig>,
}

/// A separate executor for cache calls, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkheadConfig {
    /// Threads.
    pub threads: u32,
    /// Queue capacity.
    pub queue: u32,
    /// Caller's deadline.
    pub deadline: Nanos,
}

pub(super) fn validate(v: &Check, s: &ServiceFile) -> Result<ServiceConfig, ConfigError> {
    let instances = v.in_range(
        path!["service", "instances"],
        s.instances,
        1,
        MAX_U16,
        U16_WHY,
    )?;
    let cores = v.in_range(path!["service", "cores"], s.cores, 1, MAX_U16, "")?;
    let threads = match (s.threads, s.executor) {
        (Some(t), ExecutorKind::EventLoop) => v.in_range(
            path!["service", "threads"],
            t,
            1,
            MAX_U16,
            " event loops; the simulator numbers them with 16 bits",
        )?,
        (Some(t), ExecutorKind::Pool) => v.at_least(path!["service", "threads"], t, 1)?,
        (None, ExecutorKind::Pool) => DEFAULT_POOL_THREADS,
        (None, ExecutorKind::EventLoop) => (EVENT_LOOPS_PER_CORE * cores).min(MAX_U16),
    };
    let bulkhead = if s.bulkhead.enabled {
        Some(BulkheadConfig {
            threads: v.at_least(
                path!["service", "bulkhead", "threads"],
                s.bulkhead.threads.unwrap_or(cores),
                1,
            )?,
            queue: s.bulkhead.queue,
            deadline: v.positive(
                path!["service", "bulkhead", "deadline"],
                s.bulkhead.deadline.0,
            )?,
        })
    } else {
        None
    };
    Ok(ServiceConfig {
        instances,
        executor: s.executor,
        threads,
        queue: s.queue,
        bulkhead,
        resilience: resilience::validate(v, &s.resilience)?,
        upstream: resilience::validate_upstream(v, &s.resilience.upstream)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};
    use resilience::BreakerScope;

    #[test]
    fn all_lists_every_executor_and_breaker_scope_the_file_accepts() {
        assert_allowed(
            "service.executor",
            ExecutorKind::ALL.map(ExecutorKind::name),
        );
        assert_allowed(
            "service.resilience.breaker.scope",
            BreakerScope::ALL.map(BreakerScope::name),
        );
    }

    #[test]
    fn thread_defaults_follow_the_executor() {
        let m = model(&[]).unwrap();
        assert_eq!(m.service.threads, DEFAULT_POOL_THREADS);
        assert_eq!(m.describe()["service.executor"], "pool");
        let m = model(&["service.executor=event_loop", "service.cores=3"]).unwrap();
        assert_eq!(m.service.threads, 6);
        assert_eq!(m.describe()["service.executor"], "event_loop");
        let m = model(&["service.bulkhead.enabled=true", "service.cores=3"]).unwrap();
        assert_eq!(m.service.bulkhead.unwrap().threads, 3);
    }
}
