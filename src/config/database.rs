//! `[database]`: a connection pool in front of a server with read and write
//! times. The simulator's twin is `sim::database`.

use serde::Deserialize;

use super::check::Check;
use super::dist::{Dist, DistSpec};
use super::error::ConfigError;
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::{MS, SEC};

/// `[database]`: a pool of connections (HikariCP, `service-stack.md` §6) in
/// front of a server with a service-time distribution.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// Pool size. Default 10 (HikariCP `maximumPoolSize`). 0 = no limit.
    #[serde(default = "default_connections")]
    pub connections: u32,
    /// Longest wait for a connection; then the request fails. Default 30s
    /// (HikariCP `connectionTimeout`).
    #[serde(default = "default_wait")]
    pub connection_timeout: Duration,
    /// Time of a read. Default constant 5ms (the testbed's database).
    #[serde(default = "default_time")]
    pub service_time: DistSpec,
    /// Time of a write. Default: `service_time`.
    pub write_time: Option<DistSpec>,
}

impl Default for DatabaseFile {
    fn default() -> Self {
        DatabaseFile {
            connections: default_connections(),
            connection_timeout: default_wait(),
            service_time: default_time(),
            write_time: None,
        }
    }
}

fn default_connections() -> u32 {
    10
}
fn default_wait() -> Duration {
    Duration(30 * SEC)
}
fn default_time() -> DistSpec {
    DistSpec::constant(5 * MS)
}

/// The database, validated.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// Connections; `None` = no limit.
    pub connections: Option<u32>,
    /// Longest wait for a connection.
    pub connection_timeout: Nanos,
    /// Read time.
    pub read: Dist,
    /// Write time.
    pub write: Dist,
}

pub(super) fn validate(v: &Check, d: &DatabaseFile) -> Result<DatabaseConfig, ConfigError> {
    let read_path = || path!["database", "service_time"];
    Ok(DatabaseConfig {
        connections: (d.connections > 0).then_some(d.connections),
        connection_timeout: v.positive(
            path!["database", "connection_timeout"],
            d.connection_timeout.0,
        )?,
        read: v.dist(read_path(), &d.service_time)?,
        write: match &d.write_time {
            Some(w) => v.dist(path!["database", "write_time"], w)?,
            None => v.dist(read_path(), &d.service_time)?,
        },
    })
}
