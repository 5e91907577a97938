//! `[frontend]`: an HAProxy-like balancer in front of the service
//! instances. The simulator's twin is `sim::frontend`.

use serde::Deserialize;

use super::check::Check;
use super::error::ConfigError;
use super::units::Duration;
use crate::engine::Nanos;

/// HAProxy's balancing algorithm.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Round robin over servers that are not full (HAProxy's default).
    #[default]
    Roundrobin,
    /// The server with the fewest requests in flight.
    Leastconn,
}

/// `[frontend]`: HAProxy 2.x semantics (`shared/reference/service-stack.md` §1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendFile {
    /// Default true; `--set frontend.enabled=false` removes the front end.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Server `maxconn`: requests in flight per service instance. 0 =
    /// unlimited (HAProxy's default).
    #[serde(default)]
    pub maxconn: u32,
    /// `timeout queue`: patience in the backend queue, then 503. Unset: the
    /// value of `timeout_connect`; both unset: infinite (HAProxy's default).
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub timeout_queue: Option<Duration>,
    /// `timeout connect` (only its role as the queue default is modelled).
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub timeout_connect: Option<Duration>,
    /// `timeout server`: time to the response headers, then 504; the backend
    /// keeps working on the abandoned request. Unset: infinite.
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub timeout_server: Option<Duration>,
    /// `roundrobin` (default) or `leastconn`.
    #[serde(default)]
    pub balance: Balance,
}

fn yes() -> bool {
    true
}

/// The balancer, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontendConfig {
    /// Requests in flight per server; `None` = unlimited.
    pub maxconn: Option<u32>,
    /// Queue patience; `None` = infinite.
    pub timeout_queue: Option<Nanos>,
    /// Server timeout; `None` = infinite.
    pub timeout_server: Option<Nanos>,
    /// Algorithm.
    pub balance: Balance,
}

/// `None` when the section is absent or disabled.
pub(super) fn validate(
    v: &Check,
    f: Option<&FrontendFile>,
) -> Result<Option<FrontendConfig>, ConfigError> {
    let Some(f) = f.filter(|f| f.enabled) else {
        return Ok(None);
    };
    Ok(Some(FrontendConfig {
        maxconn: (f.maxconn > 0).then_some(f.maxconn),
        timeout_queue: match (f.timeout_queue, f.timeout_connect) {
            (Some(q), _) => Some(v.positive(path!["frontend", "timeout_queue"], q.0)?),
            (None, Some(c)) => Some(v.positive(path!["frontend", "timeout_connect"], c.0)?),
            (None, None) => None,
        },
        timeout_server: match f.timeout_server {
            Some(t) => Some(v.positive(path!["frontend", "timeout_server"], t.0)?),
            None => None,
        },
        balance: f.balance,
    }))
}
