//! `[client.plain]`: a per-request timeout and nothing else, for textbook
//! checks and the SimPy peer. The simulator's twin is `sim::client::plain`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice};

/// `[client.plain]`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlainFile {
    /// Default `array_mod`.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// Default `native`.
    #[serde(default)]
    pub hash: HashChoice,
    /// The node skips a request whose caller has already given up, as a
    /// server honouring a propagated deadline would (the SimPy peer's
    /// `--drop-expired`). Default false: memcached does not know.
    #[serde(default)]
    pub drop_expired: bool,
}

/// The `plain` policy, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct PlainConfig {
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
    /// Nodes skip requests whose caller gave up.
    pub drop_expired: bool,
}

impl PlainConfig {
    /// No entries beyond the policy's name.
    pub(super) fn describe(&self, _put: &mut dyn FnMut(&str, String)) {}
}

/// Every value of the subtable is valid.
pub(super) fn validate(p: &PlainFile) -> PlainConfig {
    PlainConfig {
        locator: p.locator,
        hash: p.hash,
        drop_expired: p.drop_expired,
    }
}
