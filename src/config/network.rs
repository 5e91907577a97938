//! `[network]`: latencies, socket buffers and TCP's connect and
//! retransmission timers. The simulator's twin is `sim::network`.

use serde::Deserialize;

use super::check::Check;
use super::dist::{Dist, DistSpec};
use super::error::ConfigError;
use super::units::{Bytes, Duration};
use crate::engine::Nanos;
use crate::engine::time::{MS, SEC, US};

/// `[network]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// One-way latency of a hop between a client and a node. Default
    /// constant 50us (the testbed's loopback round trip was 0.1–0.3 ms).
    #[serde(default = "default_latency")]
    pub latency: DistSpec,
    /// Client socket send buffer. Default 4MiB (Linux `tcp_wmem` maximum,
    /// reached by autotuning on loopback).
    #[serde(default = "default_send_buffer")]
    pub send_buffer: Bytes,
    /// Node socket receive buffer. Default 128KiB (Linux `tcp_rmem` default;
    /// memcached does not set `SO_RCVBUF`).
    #[serde(default = "default_recv_buffer")]
    pub recv_buffer: Bytes,
    /// How long a connect to a host that does not answer takes to fail.
    /// Default 127s (Linux `tcp_syn_retries` = 6; spymemcached has no connect
    /// timer, §2.1).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Duration,
    /// First retransmission timeout of a lost packet, doubling after each
    /// loss. Default 200ms (Linux `TCP_RTO_MIN`).
    #[serde(default = "default_rto")]
    pub rto: Duration,
    /// Cap of the retransmission timeout. Default 120s (Linux `TCP_RTO_MAX`).
    #[serde(default = "default_rto_max")]
    pub rto_max: Duration,
}

impl Default for NetworkFile {
    fn default() -> Self {
        NetworkFile {
            latency: default_latency(),
            send_buffer: default_send_buffer(),
            recv_buffer: default_recv_buffer(),
            connect_timeout: default_connect_timeout(),
            rto: default_rto(),
            rto_max: default_rto_max(),
        }
    }
}

fn default_latency() -> DistSpec {
    DistSpec::constant(50 * US)
}
fn default_send_buffer() -> Bytes {
    Bytes(4 << 20)
}
fn default_recv_buffer() -> Bytes {
    Bytes(128 << 10)
}
fn default_connect_timeout() -> Duration {
    Duration(127 * SEC)
}
fn default_rto() -> Duration {
    Duration(200 * MS)
}
fn default_rto_max() -> Duration {
    Duration(120 * SEC)
}

/// The network, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// One-way latency.
    pub latency: Dist,
    /// Client send buffer, bytes.
    pub send_buffer: u64,
    /// Node receive buffer, bytes.
    pub recv_buffer: u64,
    /// Failed-connect time.
    pub connect_timeout: Nanos,
    /// First RTO.
    pub rto: Nanos,
    /// RTO cap.
    pub rto_max: Nanos,
}

pub(super) fn validate(v: &Check, n: &NetworkFile) -> Result<NetworkConfig, ConfigError> {
    Ok(NetworkConfig {
        latency: v.dist(path!["network", "latency"], &n.latency)?,
        send_buffer: v.nonzero_bytes(path!["network", "send_buffer"], n.send_buffer.0)?,
        recv_buffer: v.nonzero_bytes(path!["network", "recv_buffer"], n.recv_buffer.0)?,
        connect_timeout: v.positive(path!["network", "connect_timeout"], n.connect_timeout.0)?,
        rto: v.positive(path!["network", "rto"], n.rto.0)?,
        rto_max: n.rto_max.0.max(n.rto.0),
    })
}
