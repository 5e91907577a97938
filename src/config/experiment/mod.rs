//! Experiment files (`experiments/*.toml`): the model to start from, the keys
//! to vary (lists or ranges), fixed overrides, an optional filter, the
//! replications, the seed and the metrics to report.
//!
//! ```toml
//! model = "../models/testbed/frozen.toml"   # relative to this file
//! replications = 5
//! seed = 42
//! metrics = ["windows.fault.success_ratio", "latency_ms.p99"]
//! [vary]
//! client.op_timeout = ["100ms", "2500ms"]
//! "fault.0.kind" = ["frozen", "crash"]
//! service.threads = { from = 50, to = 200, step = 50 }
//! [set]
//! drain = "5s"
//! [[exclude]]
//! "client.op_timeout" = "100ms"
//! "fault.0.kind" = "crash"
//! ```
//!
//! Every value is checked where it is written: an unknown model key or a bad
//! value in `[vary]` or `[set]` is reported at the experiment file's line and
//! column, because each swept value is applied to the model as an override
//! named by that position. This module parses and checks the file and expands
//! the grid; running it is `crate::sweep`'s job.

mod axes;
mod literal;
pub mod map;
mod parse;
mod range;
#[cfg(test)]
mod tests;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_spanned::Spanned;
use toml::de::DeValue;

use super::doc::{Document, read_text};
use super::error::{ConfigError, Origin};
use super::{Model, model_from_doc};
pub use literal::{literal, normal_form, quote};
pub use parse::MAX_RUNS;

/// Sequential stopping of a point's replications: after `min` replications,
/// a point stops as soon as the 95 % interval of the ranking metric over its
/// replications so far (taken in replication order) has a half-width within
/// `until`; it never runs more than the experiment's `replications.max`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequential {
    /// Replications every point runs.
    pub min: u32,
    /// The half-width as written: `"±1 pp"` (percentage points of a ratio).
    pub until: String,
}

impl Sequential {
    /// The half-width of `until` in the metric's own units (a ratio: 1 pp is
    /// 0.01), or `None` if it is not `±X pp` (also `+-X pp`) with X > 0.
    pub fn parse_until(until: &str) -> Option<f64> {
        let t = until.trim();
        let t = t
            .strip_prefix('±')
            .or_else(|| t.strip_prefix("+-"))?
            .trim()
            .strip_suffix("pp")?
            .trim();
        let x: f64 = t.parse().ok()?;
        (x.is_finite() && x > 0.0).then_some(x / 100.0)
    }

    /// The half-width in the metric's units.
    pub fn half_width(&self) -> f64 {
        Self::parse_until(&self.until).expect("validated when the experiment was read")
    }
}

/// The metrics reported when an experiment names none: fault-window success
/// and rejected ratios, p99 latency, requests over the SLO, database peak.
pub const DEFAULT_METRICS: &[&str] = &[
    "windows.fault.success_ratio",
    "windows.fault.rejected_ratio",
    "latency_ms.p99",
    "over_slo",
    "db.peak_in_flight",
];

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its position in the experiment file.
    pub origin: Origin,
}

/// One value of a varied or set key.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamValue {
    /// Canonical TOML spelling, applied to the model as an override
    /// (`"100ms"`, `50`, `0.3`, `true`, `[1, 2]`, `{ dist = "constant" }`).
    pub literal: String,
    /// Spelling in CSV columns and tables: a string's content, otherwise the
    /// literal (`100ms`, `50`, `redistribute`).
    pub display: String,
    /// Where it was written (a list item, or the range table it came from).
    pub origin: Origin,
}

/// A varied key and its values, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted model key (`client.op_timeout`, `fault.0.kind`), or
    /// [`VARIANT`] for the axis of `[[variant]]` tables.
    pub key: String,
    /// Where the key's values are.
    pub origin: Origin,
    /// The values (at least one, no two alike). For the variant axis: the
    /// variants' names.
    pub values: Vec<ParamValue>,
    /// For the variant axis: each variant's overrides, by value index.
    pub variants: Option<Vec<Vec<Setting>>>,
}

/// The name of the axis of `[[variant]]` tables (its CSV column is
/// `param.variant`).
pub const VARIANT: &str = "variant";

/// A fixed override from `[set]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// Dotted model key.
    pub key: String,
    /// The value.
    pub value: ParamValue,
}

/// One `[[exclude]]` entry: a point is skipped when, for every condition,
/// its value of that axis is one of the matching values.
#[derive(Clone, Debug, PartialEq)]
pub struct Exclude {
    /// Where the entry is.
    pub origin: Origin,
    /// (axis index, the index of the value it matches), in axis order. The
    /// values of an axis are distinct by value, so a condition matches
    /// exactly one.
    pub conditions: Vec<(usize, usize)>,
}

impl Exclude {
    /// True when the point with these value indices is excluded.
    pub fn matches(&self, point: &[usize]) -> bool {
        self.conditions.iter().all(|&(axis, v)| point[axis] == v)
    }
}

/// A checked experiment file with its model text and its expanded grid.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The experiment file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// `name`, or the file stem.
    pub name: String,
    /// The model file, resolved against the experiment file's folder.
    pub model_path: PathBuf,
    /// The model file's text.
    pub model_text: String,
    /// Byte span of the `model` value in `text` (for the copy in the output).
    model_span: Range<usize>,
    /// Replications per point (the most, with sequential stopping).
    pub replications: Located<u32>,
    /// Sequential stopping, when `replications` is a table.
    pub sequential: Option<Sequential>,
    /// The experiment seed, if written.
    pub seed: Option<Located<u64>>,
    /// Metrics to report, by dotted summary path; defaults to
    /// [`DEFAULT_METRICS`] (then located at the file as a whole).
    pub metrics: Vec<Located<String>>,
    /// Metric to rank points by, if written.
    pub rank_by: Option<Located<String>>,
    /// Varied keys, in the order they appear in the file.
    pub axes: Vec<Axis>,
    /// Fixed overrides, in the order they appear in the file.
    pub sets: Vec<Setting>,
    /// The filter.
    pub excludes: Vec<Exclude>,
    /// The points: for each, the index of its value on every axis. The
    /// Cartesian product, first axis slowest, minus excluded points; a
    /// point's index in this list is its `point` number.
    pub points: Vec<Vec<usize>>,
    /// `[map]`: a vulnerability map over the one axis (the load key).
    pub map: Option<map::VulnerabilityMap>,
}

impl Experiment {
    /// Reads and checks an experiment file and the model it names.
    pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
        let text = read_text(path)?;
        Experiment::from_text(path, text)
    }

    /// Checks experiment `text` (read from `path`; the model path is
    /// resolved against its folder).
    pub fn from_text(path: &Path, text: String) -> Result<Experiment, ConfigError> {
        let parsed = parse::Parsed::parse(path, &text)?;
        Ok(Experiment {
            path: path.to_path_buf(),
            name: parsed.name,
            model_path: parsed.model_path,
            model_text: parsed.model_text,
            model_span: parsed.model_span,
            replications: parsed.replications,
            sequential: parsed.sequential,
            seed: parsed.seed,
            metrics: parsed.metrics,
            rank_by: parsed.rank_by,
            axes: parsed.axes,
            sets: parsed.sets,
            excludes: parsed.excludes,
            points: parsed.points,
            map: parsed.map,
            text,
        })
    }

    /// The display values of point `p`, one per axis.
    pub fn point_values(&self, p: usize) -> Vec<&str> {
        self.points[p]
            .iter()
            .zip(&self.axes)
            .map(|(&v, a)| a.values[v].display.as_str())
            .collect()
    }

    /// The canonical spelling of point `p`: `key=literal` per axis, sorted by
    /// key, one per line. It names the point whatever the order of the keys
    /// in the file or of the values in their lists.
    pub fn point_canonical(&self, p: usize) -> String {
        let mut parts: Vec<String> = self.points[p]
            .iter()
            .zip(&self.axes)
            .map(|(&v, a)| format!("{}={}", a.key, a.values[v].literal))
            .collect();
        parts.sort();
        parts.join("\n")
    }

    /// `key=value, key=value` for messages.
    pub fn point_label(&self, p: usize) -> String {
        if self.axes.is_empty() {
            return "(the model as it is)".into();
        }
        self.axes
            .iter()
            .zip(self.point_values(p))
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Builds and validates the model of point `p`: the model file, then the
    /// `[set]` overrides, then the point's values. A bad value is reported at
    /// its position in the experiment file; a problem elsewhere in the model
    /// names the point.
    pub fn model_for(&self, p: usize) -> Result<Model, ConfigError> {
        self.model_with(p, &[])
    }

    /// The model of point `p` with `extra` overrides applied last (a
    /// vulnerability map's trigger size).
    pub fn model_with(&self, p: usize, extra: &[Setting]) -> Result<Model, ConfigError> {
        let mut doc = Document::parse(&self.model_path, &self.model_text)?;
        fn apply<'a>(
            doc: &mut Document<'a>,
            key: &str,
            v: &'a ParamValue,
        ) -> Result<(), ConfigError> {
            doc.set(key, literal_value(v, key)?, v.origin.to_string())
        }
        for s in &self.sets {
            apply(&mut doc, &s.key, &s.value)?;
        }
        for (axis, &vi) in self.axes.iter().zip(&self.points[p]) {
            match &axis.variants {
                Some(variants) => {
                    for s in &variants[vi] {
                        apply(&mut doc, &s.key, &s.value)?;
                    }
                }
                None => apply(&mut doc, &axis.key, &axis.values[vi])?,
            }
        }
        for s in extra {
            apply(&mut doc, &s.key, &s.value)?;
        }
        model_from_doc(&doc).map_err(|mut e| {
            if !matches!(e.origin, Origin::Override(_)) && !self.axes.is_empty() {
                e.message = format!("{} [sweep point {p}: {}]", e.message, self.point_label(p));
            }
            e
        })
    }

    /// The experiment text with its `model` value replaced by `model`
    /// (e.g. the resolved absolute path), for the copy kept with the results.
    pub fn text_with_model(&self, model: &Path) -> String {
        let mut out = String::with_capacity(self.text.len() + 64);
        out.push_str(&self.text[..self.model_span.start]);
        out.push_str(&quote(&model.to_string_lossy()));
        out.push_str(&self.text[self.model_span.end..]);
        out
    }
}

/// Parses a value's literal back into a TOML value for an override.
fn literal_value<'v>(v: &'v ParamValue, key: &str) -> Result<DeValue<'v>, ConfigError> {
    DeValue::parse(&v.literal)
        .map(Spanned::into_inner)
        .map_err(|e| ConfigError {
            origin: v.origin.clone(),
            key: key.to_string(),
            message: format!(
                "internal error: the value `{}` does not read back: {}",
                v.literal,
                e.message().trim()
            ),
            allowed: None,
        })
}
