//! The checks every section's validation uses: each error names the key and
//! points at where its value was written (file position or `--set`).

use super::dist::{Dist, DistSpec};
use super::doc::{Document, Seg};
use super::error::ConfigError;
use crate::engine::Nanos;

/// Most of anything the model numbers with 16 bits: service instances (one
/// client each), event loops, memcached workers per node, flows, steps.
pub(super) const MAX_U16: u32 = u16::MAX as u32;
/// Why a count stops at [`MAX_U16`].
pub(super) const U16_WHY: &str = "; the simulator numbers them with 16 bits";

/// A document being validated: builds errors that point into it.
pub(super) struct Check<'d, 'a> {
    pub(super) doc: &'d Document<'a>,
}

impl Check<'_, '_> {
    pub(super) fn err(&self, path: Vec<Seg>, message: impl Into<String>) -> ConfigError {
        self.doc.error_at(&path, message, None)
    }

    pub(super) fn err_allowed(
        &self,
        path: Vec<Seg>,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) -> ConfigError {
        self.doc.error_at(&path, message, Some(allowed.into()))
    }

    /// `v` if it is not zero; `allowed` says what a valid value looks like.
    fn nonzero<T: Default + PartialEq>(
        &self,
        path: Vec<Seg>,
        v: T,
        allowed: &str,
    ) -> Result<T, ConfigError> {
        if v == T::default() {
            return Err(self.err_allowed(path, "must be greater than zero", allowed));
        }
        Ok(v)
    }

    pub(super) fn positive(&self, path: Vec<Seg>, v: Nanos) -> Result<Nanos, ConfigError> {
        self.nonzero(path, v, "a positive duration, e.g. \"1s\"")
    }

    pub(super) fn at_least(&self, path: Vec<Seg>, v: u32, min: u32) -> Result<u32, ConfigError> {
        if v < min {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                format!("an integer ≥ {min}"),
            ));
        }
        Ok(v)
    }

    /// `v` within `min..=max`; `why` says where the upper bound comes from.
    pub(super) fn in_range(
        &self,
        path: Vec<Seg>,
        v: u32,
        min: u32,
        max: u32,
        why: &str,
    ) -> Result<u32, ConfigError> {
        if v < min || v > max {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                format!("an integer from {min} to {max}{why}"),
            ));
        }
        Ok(v)
    }

    pub(super) fn finite_positive(&self, path: Vec<Seg>, v: f64) -> Result<f64, ConfigError> {
        if !v.is_finite() || v <= 0.0 {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                "a finite number greater than zero",
            ));
        }
        Ok(v)
    }

    pub(super) fn nonzero_bytes(&self, path: Vec<Seg>, b: u64) -> Result<u64, ConfigError> {
        self.nonzero(path, b, "a size in bytes, e.g. 131072 or \"128KiB\"")
    }

    pub(super) fn dist(&self, path: Vec<Seg>, spec: &DistSpec) -> Result<Dist, ConfigError> {
        spec.resolve().map_err(|(field, message)| {
            let mut p = path.clone();
            if self
                .doc
                .contains(&[path.clone(), vec![Seg::Key(field.clone())]].concat())
            {
                p.push(Seg::Key(field));
            }
            self.err(p, message)
        })
    }
}
