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

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::doc::{Document, read_text};
use super::error::{ConfigError, Origin, did_you_mean};
use super::units::parse_duration;
use super::{Model, model_from_doc};
use crate::engine::format_nanos;

/// The metrics reported when an experiment names none: fault-window success
/// and rejected ratios, p99 latency, requests over the SLO, database peak.
pub const DEFAULT_METRICS: &[&str] = &[
    "windows.fault.success_ratio",
    "windows.fault.rejected_ratio",
    "latency_ms.p99",
    "over_slo",
    "db.peak_in_flight",
];

/// Most values one range may produce.
const MAX_RANGE_VALUES: usize = 10_000;
/// Most points one experiment may have (before the filter).
const MAX_POINTS: usize = 1_000_000;

/// The keys of the experiment file, checked by serde (`deny_unknown_fields`
/// gives the did-you-mean for a misspelt top-level key). `[vary]`, `[set]`
/// and `[[exclude]]` are free-form and walked with their spans instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // fields are read from the spanned tree, not from here
struct RawExperiment {
    model: String,
    replications: u32,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
    #[serde(default)]
    rank_by: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    vary: Option<IgnoredAny>,
    #[serde(default)]
    set: Option<IgnoredAny>,
    #[serde(default)]
    exclude: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    variant: Option<Vec<IgnoredAny>>,
}

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
    /// (axis index, which of its values match).
    pub conditions: Vec<(usize, Vec<bool>)>,
}

impl Exclude {
    /// True when the point with these value indices is excluded.
    pub fn matches(&self, point: &[usize]) -> bool {
        self.conditions.iter().all(|(axis, ok)| ok[point[*axis]])
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
    /// Replications per point.
    pub replications: Located<u32>,
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
}

/// Where a span of the experiment text is.
struct Ctx<'d, 'a> {
    doc: &'d Document<'a>,
    text: &'a str,
}

impl Ctx<'_, '_> {
    fn origin(&self, span: &Range<usize>) -> Origin {
        self.doc.origin_of_span(span)
    }

    fn err(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: self.origin(span),
            key: key.to_string(),
            message: message.into(),
            allowed: None,
        }
    }

    fn err_allowed(
        &self,
        span: &Range<usize>,
        key: &str,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            allowed: Some(allowed.into()),
            ..self.err(span, key, message)
        }
    }

    /// True when the value at `span` is written as an inline table `{ … }`.
    fn is_inline_table(&self, span: &Range<usize>) -> bool {
        self.text
            .get(span.clone())
            .is_some_and(|s| s.trim_start().starts_with('{'))
    }
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
        let parsed = Parsed::parse(path, &text)?;
        Ok(Experiment {
            path: path.to_path_buf(),
            name: parsed.name,
            model_path: parsed.model_path,
            model_text: parsed.model_text,
            model_span: parsed.model_span,
            replications: parsed.replications,
            seed: parsed.seed,
            metrics: parsed.metrics,
            rank_by: parsed.rank_by,
            axes: parsed.axes,
            sets: parsed.sets,
            excludes: parsed.excludes,
            points: parsed.points,
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

/// Everything [`Experiment`] holds but its own text (which it borrows while
/// parsing).
struct Parsed {
    name: String,
    model_path: PathBuf,
    model_text: String,
    model_span: Range<usize>,
    replications: Located<u32>,
    seed: Option<Located<u64>>,
    metrics: Vec<Located<String>>,
    rank_by: Option<Located<String>>,
    axes: Vec<Axis>,
    sets: Vec<Setting>,
    excludes: Vec<Exclude>,
    points: Vec<Vec<usize>>,
}

type Entry<'s, 'a> = (
    &'s Spanned<std::borrow::Cow<'a, str>>,
    &'s Spanned<DeValue<'a>>,
);

impl Parsed {
    fn parse(path: &Path, text: &str) -> Result<Parsed, ConfigError> {
        let doc = Document::parse(path, text)?;
        // Top-level keys and types (with did-you-mean), then the spanned walk.
        doc.deserialize::<RawExperiment>()?;
        let root = DeTable::parse(text).map_err(|e| ConfigError {
            origin: doc.origin_of_span(&e.span().unwrap_or(0..0)),
            key: String::new(),
            message: format!("not valid TOML: {}", e.message().trim()),
            allowed: None,
        })?;
        let cx = Ctx { doc: &doc, text };
        let root = root.get_ref();
        let get = |k: &str| root.get_key_value(k);
        let whole = Origin::WholeFile(path.to_path_buf());

        // model
        let (_, model_v) = get("model").expect("checked by serde");
        let model_rel = model_v.get_ref().as_str().unwrap_or_default().to_string();
        let model_span = model_v.span();
        let base = path.parent().unwrap_or(Path::new(""));
        let model_path = base.join(&model_rel);
        let model_text = read_text(&model_path).map_err(|e| {
            cx.err_allowed(
                &model_span,
                "model",
                format!(
                    "cannot use the model `{}` ({}): {}",
                    model_rel,
                    model_path.display(),
                    e.message
                ),
                "a model file path relative to the experiment file",
            )
        })?;

        // replications, seed
        let (_, rep_v) = get("replications").expect("checked by serde");
        let rep_n = rep_v
            .get_ref()
            .as_integer()
            .and_then(|i| i.as_str().parse::<u32>().ok())
            .unwrap_or(0);
        if rep_n == 0 {
            return Err(cx.err_allowed(
                &rep_v.span(),
                "replications",
                "must be at least 1",
                "an integer ≥ 1 (≥ 2 for confidence intervals)",
            ));
        }
        let replications = Located {
            value: rep_n,
            origin: cx.origin(&rep_v.span()),
        };
        let seed = get("seed").map(|(_, v)| Located {
            value: v
                .get_ref()
                .as_integer()
                .and_then(|i| u64::from_str_radix(i.as_str(), i.radix()).ok())
                .unwrap_or_default(),
            origin: cx.origin(&v.span()),
        });

        // metrics, rank_by
        let metrics = match get("metrics") {
            Some((_, v)) => {
                let items = v.get_ref().as_array().expect("checked by serde");
                if items.is_empty() {
                    return Err(cx.err_allowed(
                        &v.span(),
                        "metrics",
                        "the list is empty",
                        "summary fields by dotted path, or leave `metrics` out for the default list",
                    ));
                }
                let mut out: Vec<Located<String>> = Vec::new();
                for item in items.iter() {
                    let name = item.get_ref().as_str().unwrap_or_default().to_string();
                    if out.iter().any(|m| m.value == name) {
                        return Err(cx.err(
                            &item.span(),
                            "metrics",
                            format!("`{name}` is listed twice"),
                        ));
                    }
                    out.push(Located {
                        value: name,
                        origin: cx.origin(&item.span()),
                    });
                }
                out
            }
            None => DEFAULT_METRICS
                .iter()
                .map(|m| Located {
                    value: m.to_string(),
                    origin: whole.clone(),
                })
                .collect(),
        };
        let rank_by = get("rank_by").map(|(_, v)| Located {
            value: v.get_ref().as_str().unwrap_or_default().to_string(),
            origin: cx.origin(&v.span()),
        });
        if let Some(r) = &rank_by
            && !metrics.iter().any(|m| m.value == r.value)
        {
            return Err(ConfigError {
                origin: r.origin.clone(),
                key: "rank_by".into(),
                message: format!("`{}` is not one of the reported metrics", r.value),
                allowed: Some(
                    metrics
                        .iter()
                        .map(|m| m.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            });
        }
        let name = get("name")
            .and_then(|(_, v)| v.get_ref().as_str().map(str::to_string))
            .unwrap_or_else(|| {
                path.file_stem()
                    .map_or("experiment".into(), |s| s.to_string_lossy().into_owned())
            });

        // [[variant]]: named configurations, one axis before the others.
        let mut axes = Vec::new();
        if let Some((k, v)) = get("variant") {
            axes.push(variant_axis(&cx, &k.span(), v)?);
        }

        // [vary]
        if let Some((k, v)) = get("vary") {
            let DeValue::Table(t) = v.get_ref() else {
                return Err(cx.err_allowed(
                    &k.span(),
                    "vary",
                    format!("expected a table, found a {}", v.get_ref().type_str()),
                    "[vary] with `dotted.key = [values]` or `dotted.key = { from, to, step }`",
                ));
            };
            let mut raw = Vec::new();
            collect_vary(&cx, t, "", &mut raw)?;
            raw.sort_by_key(|(_, _, v)| v.span().start);
            for (key, key_span, value) in raw {
                axes.push(axis(&cx, key, &key_span, value)?);
            }
        }

        // [set]
        let mut sets = Vec::new();
        if let Some((k, v)) = get("set") {
            let DeValue::Table(t) = v.get_ref() else {
                return Err(cx.err_allowed(
                    &k.span(),
                    "set",
                    format!("expected a table, found a {}", v.get_ref().type_str()),
                    "[set] with `dotted.key = value`",
                ));
            };
            let mut raw = Vec::new();
            collect_set(&cx, t, "", &mut raw);
            raw.sort_by_key(|(_, _, v)| v.span().start);
            for (key, key_span, value) in raw {
                check_key(&cx, &key, &key_span, "set")?;
                sets.push(Setting {
                    key,
                    value: param(&cx, value.get_ref(), &value.span()),
                });
            }
        }
        check_overlaps(&cx, &axes, &sets)?;

        // [[exclude]]
        let mut excludes = Vec::new();
        if let Some((k, v)) = get("exclude") {
            let items = v.get_ref().as_array().expect("checked by serde");
            for item in items.iter() {
                let DeValue::Table(t) = item.get_ref() else {
                    return Err(cx.err_allowed(
                        &item.span(),
                        "exclude",
                        format!("expected a table, found a {}", item.get_ref().type_str()),
                        "[[exclude]] entries of `varied.key = value`",
                    ));
                };
                let span = if item.span().is_empty() {
                    k.span()
                } else {
                    item.span()
                };
                excludes.push(exclude(&cx, t, &span, &axes)?);
            }
        }

        // The grid.
        let total = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                cx.err(
                    &get("vary").map_or(0..0, |(k, _)| k.span()),
                    "vary",
                    format!("the grid has more than {MAX_POINTS} points; shrink it"),
                )
            })?;
        let mut points = Vec::with_capacity(total);
        let mut current = vec![0usize; axes.len()];
        for _ in 0..total {
            if !excludes.iter().any(|e| e.matches(&current)) {
                points.push(current.clone());
            }
            // Advance the last axis fastest.
            for i in (0..axes.len()).rev() {
                current[i] += 1;
                if current[i] < axes[i].values.len() {
                    break;
                }
                current[i] = 0;
            }
        }
        if points.is_empty() {
            let e = &excludes[0];
            return Err(ConfigError {
                origin: e.origin.clone(),
                key: "exclude".into(),
                message: format!(
                    "the [[exclude]] entries remove all {total} point(s) of the grid; nothing is left to run"
                ),
                allowed: None,
            });
        }

        Ok(Parsed {
            name,
            model_path,
            model_text,
            model_span,
            replications,
            seed,
            metrics,
            rank_by,
            axes,
            sets,
            excludes,
            points,
        })
    }
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Flattens `[vary]`: arrays and range tables are leaves, other tables nest.
fn collect_vary<'s, 'a>(
    cx: &Ctx<'_, '_>,
    table: &'s DeTable<'a>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'s Spanned<DeValue<'a>>)>,
) -> Result<(), ConfigError> {
    for (k, v) in table.iter() {
        let key = join_key(prefix, k.get_ref());
        match v.get_ref() {
            DeValue::Array(_) => out.push((key, k.span(), v)),
            DeValue::Table(t) if ["from", "to", "step"].iter().any(|r| t.contains_key(*r)) => {
                out.push((key, k.span(), v))
            }
            DeValue::Table(t) => collect_vary(cx, t, &key, out)?,
            other => {
                return Err(cx.err_allowed(
                    &v.span(),
                    &key,
                    format!(
                        "a varied key needs a list of values or a range, found a {}",
                        other.type_str()
                    ),
                    format!(
                        "`{key} = [a, b, c]`, `{key} = {{ from = 1, to = 9, step = 2 }}` (or durations: from = \"100ms\"), or move it to [set]"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Flattens `[set]`: a standard or dotted table nests; anything else,
/// including an inline table `{ … }`, is a value that replaces the key's.
fn collect_set<'s, 'a>(
    cx: &Ctx<'_, '_>,
    table: &'s DeTable<'a>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'s Spanned<DeValue<'a>>)>,
) {
    for (k, v) in table.iter() {
        let key = join_key(prefix, k.get_ref());
        match v.get_ref() {
            DeValue::Table(t) if !cx.is_inline_table(&v.span()) => collect_set(cx, t, &key, out),
            _ => out.push((key, k.span(), v)),
        }
    }
}

/// A key of `[vary]` or `[set]` must name a model key other than `seed`.
fn check_key(
    cx: &Ctx<'_, '_>,
    key: &str,
    span: &Range<usize>,
    table: &str,
) -> Result<(), ConfigError> {
    if key.split('.').any(str::is_empty) {
        return Err(cx.err(span, key, "the key is empty or has an empty part"));
    }
    if key == "seed" {
        return Err(cx.err_allowed(
            span,
            key,
            format!("the run seed cannot be in [{table}]: each replication's seed is derived from the experiment's"),
            "`seed = N` at the top of the experiment file, or `cachestorm sweep --seed N`",
        ));
    }
    Ok(())
}

/// Two keys overlap when they are equal or one is inside the other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|r| r.starts_with('.'))
    };
    inside(a, b) || inside(b, a)
}

fn check_overlaps(cx: &Ctx<'_, '_>, axes: &[Axis], sets: &[Setting]) -> Result<(), ConfigError> {
    // A variant's key may not also be varied (which would win?); it may
    // change a key that [set] fixes for the other variants.
    let varied: Vec<&Axis> = axes.iter().filter(|a| a.variants.is_none()).collect();
    for a in axes.iter().filter_map(|a| a.variants.as_ref()) {
        for s in a.iter().flatten() {
            if let Some(v) = varied.iter().find(|v| overlaps(&v.key, &s.key)) {
                return Err(ConfigError {
                    origin: s.value.origin.clone(),
                    key: s.key.clone(),
                    message: format!(
                        "`{}` is set in a [[variant]] and varied in [vary] (`{}`): give it in one place",
                        s.key, v.key
                    ),
                    allowed: None,
                });
            }
        }
    }
    let keys: Vec<(&str, &Origin, &str)> = varied
        .iter()
        .map(|a| (a.key.as_str(), &a.origin, "[vary]"))
        .chain(
            sets.iter()
                .map(|s| (s.key.as_str(), &s.value.origin, "[set]")),
        )
        .collect();
    for (i, (a, origin, table)) in keys.iter().enumerate() {
        for (b, _, other) in &keys[..i] {
            if overlaps(a, b) {
                let _ = cx;
                return Err(ConfigError {
                    origin: (*origin).clone(),
                    key: a.to_string(),
                    message: if a == b {
                        format!("`{a}` is given twice (here in {table}, and before in {other})")
                    } else {
                        format!(
                            "`{a}` in {table} overlaps `{b}` in {other}: one is part of the other, so the result would depend on the order"
                        )
                    },
                    allowed: None,
                });
            }
        }
    }
    Ok(())
}

/// The axis of the `[[variant]]` tables: each has a `name` and overrides
/// written like `[set]`'s (dotted keys); a variant's overrides are applied
/// after `[set]`'s, so a variant may change a key that `[set]` fixes for the
/// others.
fn variant_axis(
    cx: &Ctx<'_, '_>,
    key_span: &Range<usize>,
    value: &Spanned<DeValue<'_>>,
) -> Result<Axis, ConfigError> {
    let allowed = "[[variant]] tables with `name = \"…\"` and overrides such as `\"client.op_timeout\" = \"100ms\"`";
    let items = value.get_ref().as_array().expect("checked by serde");
    let mut values: Vec<ParamValue> = Vec::new();
    let mut variants = Vec::new();
    for item in items.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            return Err(cx.err_allowed(
                &item.span(),
                VARIANT,
                format!("expected a table, found a {}", item.get_ref().type_str()),
                allowed,
            ));
        };
        let span = if item.span().is_empty() {
            key_span.clone()
        } else {
            item.span()
        };
        let Some((nk, nv)) = t.get_key_value("name") else {
            return Err(cx.err_allowed(&span, VARIANT, "this variant has no `name`", allowed));
        };
        let Some(name) = nv.get_ref().as_str() else {
            return Err(cx.err_allowed(
                &nv.span(),
                "variant.name",
                format!("expected a string, found a {}", nv.get_ref().type_str()),
                "a short name for tables and plots, e.g. \"op timeout 100 ms\"",
            ));
        };
        if name.trim().is_empty() || values.iter().any(|v| v.display == name) {
            return Err(cx.err(
                &nv.span(),
                "variant.name",
                format!("the variant name `{name}` is empty or used twice"),
            ));
        }
        let _ = nk;
        let mut raw = Vec::new();
        collect_set(cx, t, "", &mut raw);
        raw.retain(|(k, _, _)| k != "name");
        raw.sort_by_key(|(_, _, v)| v.span().start);
        let mut settings = Vec::new();
        for (k, k_span, v) in raw {
            check_key(cx, &k, &k_span, "variant")?;
            if settings.iter().any(|s: &Setting| overlaps(&s.key, &k)) {
                return Err(cx.err(
                    &k_span,
                    &k,
                    format!("`{k}` is given twice in the variant `{name}`"),
                ));
            }
            settings.push(Setting {
                key: k,
                value: param(cx, v.get_ref(), &v.span()),
            });
        }
        values.push(ParamValue {
            literal: quote(name),
            display: name.to_string(),
            origin: cx.origin(&nv.span()),
        });
        variants.push(settings);
    }
    if values.is_empty() {
        return Err(cx.err_allowed(key_span, VARIANT, "no variants are given", allowed));
    }
    Ok(Axis {
        key: VARIANT.into(),
        origin: cx.origin(&value.span()),
        values,
        variants: Some(variants),
    })
}

/// One varied key: a list of values or a range.
fn axis(
    cx: &Ctx<'_, '_>,
    key: String,
    key_span: &Range<usize>,
    value: &Spanned<DeValue<'_>>,
) -> Result<Axis, ConfigError> {
    check_key(cx, &key, key_span, "vary")?;
    let values = match value.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .map(|item| param(cx, item.get_ref(), &item.span()))
            .collect(),
        DeValue::Table(t) => range(cx, &key, t, &value.span())?,
        _ => unreachable!("collect_vary keeps arrays and tables"),
    };
    if values.is_empty() {
        return Err(cx.err_allowed(
            &value.span(),
            &key,
            "the list of values is empty",
            "at least one value",
        ));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].iter().any(|w| w.literal == v.literal) {
            return Err(ConfigError {
                origin: v.origin.clone(),
                key: key.clone(),
                message: format!("the value {} is listed twice", v.literal),
                allowed: None,
            });
        }
    }
    Ok(Axis {
        key,
        origin: cx.origin(&value.span()),
        values,
        variants: None,
    })
}

fn param(cx: &Ctx<'_, '_>, v: &DeValue<'_>, span: &Range<usize>) -> ParamValue {
    let literal = literal(v);
    let display = match v {
        DeValue::String(s) => s.to_string(),
        _ => literal.clone(),
    };
    ParamValue {
        literal,
        display,
        origin: cx.origin(span),
    }
}

/// A number of a range bound.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

/// Expands `{ from, to, step }`: integers, floats, or duration strings;
/// `to` is included when a step lands on it.
fn range(
    cx: &Ctx<'_, '_>,
    key: &str,
    t: &DeTable<'_>,
    span: &Range<usize>,
) -> Result<Vec<ParamValue>, ConfigError> {
    const FORM: &str = "{ from = 50, to = 200, step = 50 } (integers, floats, or durations such as from = \"100ms\")";
    for (k, _) in t.iter() {
        if !["from", "to", "step"].contains(&k.get_ref().as_ref()) {
            let hint = did_you_mean(k.get_ref(), ["from", "to", "step"])
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(cx.err_allowed(
                &k.span(),
                &format!("{key}.{}", k.get_ref()),
                format!("unknown key `{}` in a range{hint}", k.get_ref()),
                FORM,
            ));
        }
    }
    let part = |name: &str| -> Result<Entry<'_, '_>, ConfigError> {
        t.get_key_value(name)
            .ok_or_else(|| cx.err_allowed(span, key, format!("the range has no `{name}`"), FORM))
    };
    let (from, to, step) = (part("from")?, part("to")?, part("step")?);
    let origin = cx.origin(span);
    let make = |literal: String, display: String| ParamValue {
        literal,
        display,
        origin: origin.clone(),
    };
    let all = [from, to, step];
    if all.iter().all(|(_, v)| v.get_ref().is_str()) {
        let mut ns = [0u64; 3];
        for (i, (k, v)) in all.iter().enumerate() {
            let s = v.get_ref().as_str().unwrap_or_default();
            ns[i] = parse_duration(s).map_err(|m| {
                cx.err_allowed(
                    &v.span(),
                    &format!("{key}.{}", k.get_ref()),
                    m,
                    super::units::DURATION_UNITS,
                )
            })?;
        }
        let [a, b, s] = ns;
        check_bounds(cx, key, span, a as f64, b as f64, s as f64)?;
        let n = (b - a) / s + 1;
        check_count(cx, key, span, n as f64)?;
        return Ok((0..n)
            .map(|i| {
                let d = format_nanos(a + i * s);
                make(quote(&d), d)
            })
            .collect());
    }
    let mut nums = [Num::Int(0); 3];
    for (i, (k, v)) in all.iter().enumerate() {
        nums[i] = match v.get_ref() {
            DeValue::Integer(x) => Num::Int(
                i64::from_str_radix(x.as_str(), x.radix())
                    .map_err(|_| cx.err(&v.span(), key, "the integer does not fit in 64 bits"))?,
            ),
            DeValue::Float(x) => Num::Float(
                x.as_str()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| cx.err(&v.span(), key, "a range needs finite numbers"))?,
            ),
            other => {
                return Err(cx.err_allowed(
                    &v.span(),
                    &format!("{key}.{}", k.get_ref()),
                    format!(
                        "found a {}; `from`, `to` and `step` must all be numbers or all duration strings",
                        other.type_str()
                    ),
                    FORM,
                ));
            }
        };
    }
    check_bounds(cx, key, span, nums[0].f(), nums[1].f(), nums[2].f())?;
    if let [Num::Int(a), Num::Int(b), Num::Int(s)] = nums {
        let n = ((b as i128 - a as i128) / s as i128 + 1) as f64;
        check_count(cx, key, span, n)?;
        return Ok((0..n as i64)
            .map(|i| {
                let x = (a + i * s).to_string();
                make(x.clone(), x)
            })
            .collect());
    }
    let (a, b, s) = (nums[0].f(), nums[1].f(), nums[2].f());
    // Round each value to the decimals of `from` and `step`, so 0.1 + 2 × 0.1
    // is 0.3, not 0.30000000000000004.
    let decimals = |x: f64| {
        let s = format!("{x}");
        s.split_once('.').map_or(0, |(_, f)| f.len()) as i32
    };
    let d = decimals(a).max(decimals(s)).min(15);
    let scale = 10f64.powi(d);
    let n = ((b - a) / s * (1.0 + 1e-12) + 1e-9).floor() + 1.0;
    check_count(cx, key, span, n)?;
    Ok((0..n as i64)
        .map(|i| {
            let x = ((a + i as f64 * s) * scale).round() / scale;
            let lit = float_literal(x);
            make(lit.clone(), lit)
        })
        .collect())
}

fn check_bounds(
    cx: &Ctx<'_, '_>,
    key: &str,
    span: &Range<usize>,
    from: f64,
    to: f64,
    step: f64,
) -> Result<(), ConfigError> {
    if step <= 0.0 {
        return Err(cx.err(span, key, "the range's `step` must be greater than zero"));
    }
    if to < from {
        return Err(cx.err(span, key, "the range's `to` is below its `from`"));
    }
    Ok(())
}

fn check_count(
    cx: &Ctx<'_, '_>,
    key: &str,
    span: &Range<usize>,
    n: f64,
) -> Result<(), ConfigError> {
    if n > MAX_RANGE_VALUES as f64 {
        return Err(cx.err(
            span,
            key,
            format!("the range has {n} values; the limit is {MAX_RANGE_VALUES}"),
        ));
    }
    Ok(())
}

/// One `[[exclude]]` entry: its keys must be varied keys, each value one of
/// that key's values.
fn exclude(
    cx: &Ctx<'_, '_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    axes: &[Axis],
) -> Result<Exclude, ConfigError> {
    let mut raw = Vec::new();
    collect_exclude(cx, t, "", axes, &mut raw)?;
    if raw.is_empty() {
        return Err(cx.err_allowed(
            span,
            "exclude",
            "this [[exclude]] entry is empty, so it would remove every point",
            "`varied.key = value` pairs; a point is skipped when it matches all of them",
        ));
    }
    let mut conditions: Vec<(usize, Vec<bool>)> = Vec::new();
    for (key, v) in raw {
        let ai = axes.iter().position(|a| a.key == key).expect("collected");
        let ok: Vec<bool> = axes[ai]
            .values
            .iter()
            .map(|x| same_value(&x.literal, &literal(v.get_ref())))
            .collect();
        if !ok.iter().any(|&b| b) {
            return Err(cx.err_allowed(
                &v.span(),
                &key,
                format!(
                    "{} is not one of the values of `{key}` in [vary], so this entry never matches",
                    literal(v.get_ref())
                ),
                axes[ai]
                    .values
                    .iter()
                    .map(|x| x.literal.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        if conditions.iter().any(|(a, _)| *a == ai) {
            return Err(cx.err(&v.span(), &key, "this key is given twice in one entry"));
        }
        conditions.push((ai, ok));
    }
    Ok(Exclude {
        origin: cx.origin(span),
        conditions,
    })
}

fn collect_exclude<'s, 'a>(
    cx: &Ctx<'_, '_>,
    t: &'s DeTable<'a>,
    prefix: &str,
    axes: &[Axis],
    out: &mut Vec<(String, &'s Spanned<DeValue<'a>>)>,
) -> Result<(), ConfigError> {
    for (k, v) in t.iter() {
        let key = join_key(prefix, k.get_ref());
        if axes.iter().any(|a| a.key == key) {
            out.push((key, v));
        } else if let DeValue::Table(inner) = v.get_ref()
            && axes.iter().any(|a| a.key.starts_with(&format!("{key}.")))
        {
            collect_exclude(cx, inner, &key, axes, out)?;
        } else {
            let hint = did_you_mean(&key, axes.iter().map(|a| a.key.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(cx.err_allowed(
                &k.span(),
                &key,
                format!("`{key}` is not a key of [vary]{hint}"),
                axes.iter()
                    .map(|a| a.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    Ok(())
}

/// True when two literals name the same value: the same spelling, the same
/// duration (`"100ms"` and `"0.1s"`), or the same number (`2` and `2.0`).
fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (Ok(x), Ok(y)) = (DeValue::parse(a), DeValue::parse(b)) else {
        return false;
    };
    let num = |v: &DeValue<'_>| match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|i| i as f64),
        DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
        _ => None,
    };
    match (x.get_ref(), y.get_ref()) {
        (DeValue::String(s), DeValue::String(t)) => {
            matches!((parse_duration(s), parse_duration(t)), (Ok(m), Ok(n)) if m == n)
        }
        (p, q) => matches!((num(p), num(q)), (Some(m), Some(n)) if m == n),
    }
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float as TOML writes it, with a `.0` when the shortest spelling is an
/// integer.
fn float_literal(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{x}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn bare_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// The canonical TOML spelling of a value: integers in decimal, floats in
/// their shortest round-trip form, strings as basic strings, tables with
/// their keys sorted. Equal values have equal literals however written.
pub fn literal(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => quote(s),
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .map(|n| n.to_string())
            .unwrap_or_else(|_| i.to_string()),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .map(float_literal)
            .unwrap_or_else(|_| f.to_string()),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|x| literal(x.get_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DeValue::Table(t) => {
            if t.is_empty() {
                return "{}".into();
            }
            let mut entries: Vec<(String, String)> = t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), literal(v.get_ref())))
                .collect();
            entries.sort();
            format!(
                "{{ {} }}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{} = {v}", bare_key(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const MODEL: &str = include_str!("../../models/testbed/frozen.toml");

    fn exp(body: &str) -> Result<Experiment, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "m.toml", MODEL);
        let p = write(
            dir.path(),
            "e.toml",
            &format!("model = \"m.toml\"\nreplications = 2\n{body}"),
        );
        Experiment::load(&p)
    }

    #[test]
    fn grid_order_first_key_slowest_and_flattened_keys() {
        let e = exp(
            "[vary]\nclient.op_timeout = [\"100ms\", \"2500ms\"]\n\"fault.0.kind\" = [\"frozen\", \"crash\", \"slow\"]\n",
        )
        .unwrap();
        assert_eq!(e.axes[0].key, "client.op_timeout");
        assert_eq!(e.axes[1].key, "fault.0.kind");
        assert_eq!(e.points.len(), 6);
        assert_eq!(e.point_values(0), ["100ms", "frozen"]);
        assert_eq!(e.point_values(1), ["100ms", "crash"]);
        assert_eq!(e.point_values(3), ["2500ms", "frozen"]);
        assert_eq!(e.axes[0].values[0].literal, "\"100ms\"");
        assert_eq!(e.metrics.len(), DEFAULT_METRICS.len());
    }

    #[test]
    fn order_follows_the_file_not_the_alphabet() {
        let e = exp("[vary]\nservice.threads = [1, 2]\nclient.op_timeout = [\"1s\"]\n").unwrap();
        assert_eq!(e.axes[0].key, "service.threads");
        assert_eq!(e.axes[1].key, "client.op_timeout");
    }

    #[test]
    fn ranges_of_integers_floats_and_durations() {
        let e = exp(
            "[vary]\nservice.threads = { from = 50, to = 200, step = 50 }\nworkload.rate = { from = 0.1, to = 0.5, step = 0.1 }\nclient.op_timeout = { from = \"100ms\", to = \"1s\", step = \"300ms\" }\n",
        )
        .unwrap();
        let d = |i: usize| -> Vec<String> {
            e.axes[i].values.iter().map(|v| v.display.clone()).collect()
        };
        assert_eq!(d(0), ["50", "100", "150", "200"]);
        assert_eq!(d(1), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(d(2), ["100ms", "400ms", "700ms", "1s"]);
    }

    #[test]
    fn excludes_remove_matching_points_and_must_match_something() {
        let e = exp(
            "[vary]\na.b = [1, 2]\nc = [\"100ms\", \"2s\"]\n[[exclude]]\na.b = 2\nc = \"0.1s\"\n",
        );
        // a.b is not a model key, but that is only found when models are built.
        let e = e.unwrap();
        assert_eq!(e.points.len(), 3);
        assert!(!e.points.contains(&vec![1, 0]));
        let err = exp("[vary]\na = [1, 2]\n[[exclude]]\na = 3\n").unwrap_err();
        assert!(err.message.contains("never matches"), "{err}");
        assert_eq!(err.origin.to_string().split(':').nth(1), Some("6"));
        let err = exp("[vary]\na = [1, 2]\n[[exclude]]\nb = 3\n").unwrap_err();
        assert!(err.message.contains("not a key of [vary]"), "{err}");
        let err = exp("[vary]\na = [1]\n[[exclude]]\na = 1\n").unwrap_err();
        assert!(err.message.contains("remove all"), "{err}");
    }

    #[test]
    fn bad_values_are_reported_where_they_are_written() {
        let e = exp("[vary]\nclient.op_timeout = [\"100ms\", \"soon\"]\n").unwrap();
        let err = e.model_for(1).unwrap_err();
        let s = err.to_string();
        assert!(s.contains("e.toml:4:31"), "{s}");
        assert!(s.contains("client.op_timeout"), "{s}");
        let e = exp("[vary]\nclient.op_timout = [\"100ms\"]\n").unwrap();
        let s = e.model_for(0).unwrap_err().to_string();
        assert!(s.contains("e.toml:4:21"), "{s}");
        assert!(s.contains("did you mean `op_timeout`"), "{s}");
    }

    #[test]
    fn structural_errors() {
        let s = exp("[vary]\nclient.op_timeout = \"100ms\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            s.contains("e.toml:4:21") && s.contains("list of values"),
            "{s}"
        );
        let s = exp("[vary]\nseed = [1, 2]\n").unwrap_err().to_string();
        assert!(s.contains("seed"), "{s}");
        let s = exp("[vary]\na = [1, 1]\n").unwrap_err().to_string();
        assert!(s.contains("twice"), "{s}");
        let s = exp("[vary]\na = [1]\n[set]\na = 2\n")
            .unwrap_err()
            .to_string();
        assert!(s.contains("twice"), "{s}");
        let s = exp("[vary]\na.b = [1]\n[set]\na = { b = 2 }\n")
            .unwrap_err()
            .to_string();
        assert!(s.contains("overlaps"), "{s}");
        let s = exp("replicatons = 3\n").unwrap_err().to_string();
        assert!(s.contains("did you mean"), "{s}");
        let s = exp("[vary]\na = { from = 1, to = 0, step = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(s.contains("below"), "{s}");
        let s = exp("rank_by = \"over_slo\"\nmetrics = [\"latency_ms.p99\"]\n")
            .unwrap_err()
            .to_string();
        assert!(s.contains("not one of the reported metrics"), "{s}");
    }

    #[test]
    fn missing_model_points_at_the_model_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "e.toml",
            "model = \"nope.toml\"\nreplications = 1\n",
        );
        let s = Experiment::load(&p).unwrap_err().to_string();
        assert!(s.contains("e.toml:1:9"), "{s}");
        assert!(s.contains("nope.toml"), "{s}");
    }

    #[test]
    fn variants_are_one_named_axis_before_the_others() {
        let e = exp(concat!(
            "[set]\ndrain = \"5s\"\n",
            "[vary]\nclient.op_timeout = [\"100ms\", \"1s\"]\n",
            "[[variant]]\nname = \"as is\"\n",
            "[[variant]]\nname = \"short drain, 4 threads\"\ndrain = \"1s\"\n\"service.threads\" = 4\n",
            "[[exclude]]\nvariant = \"as is\"\nclient.op_timeout = \"1s\"\n",
        ))
        .unwrap();
        assert_eq!(e.axes[0].key, VARIANT);
        assert_eq!(e.axes[1].key, "client.op_timeout");
        assert_eq!(e.points.len(), 3, "4 points minus one excluded");
        assert_eq!(e.point_values(0), vec!["as is", "100ms"]);
        let plain = e.model_for(0).unwrap();
        assert_eq!((plain.drain, plain.service.threads), (5_000_000_000, 200));
        let variant = e.model_for(2).unwrap();
        assert_eq!(e.point_values(2), vec!["short drain, 4 threads", "1s"]);
        assert_eq!((variant.drain, variant.service.threads), (1_000_000_000, 4));
        assert_eq!(variant.client.op_timeout, 1_000_000_000);
        // A variant may not set a key that [vary] varies, and needs a name.
        let clash = exp(
            "[vary]\nservice.threads = [1, 2]\n[[variant]]\nname = \"a\"\n\"service.threads\" = 3\n",
        );
        assert!(clash.unwrap_err().message.contains("varied in [vary]"));
        let unnamed = exp("[[variant]]\ndrain = \"1s\"\n");
        assert!(unnamed.unwrap_err().message.contains("no `name`"));
        let bad = exp("[[variant]]\nname = \"a\"\n\"client.op_timeout\" = 5\n")
            .unwrap()
            .model_for(0)
            .unwrap_err();
        assert!(bad.origin.to_string().contains("e.toml:5:"), "{bad}");
    }

    #[test]
    fn set_applies_and_inline_tables_replace() {
        let e = exp(
            "[vary]\nclient.op_timeout = [\"100ms\"]\n[set]\ndrain = \"5s\"\ncluster.service_time = { dist = \"constant\", value = \"1ms\" }\n",
        )
        .unwrap();
        assert_eq!(e.sets[0].key, "drain");
        assert_eq!(e.sets[1].key, "cluster.service_time");
        let m = e.model_for(0).unwrap();
        assert_eq!(m.drain, 5_000_000_000);
    }

    #[test]
    fn literals_are_canonical() {
        let v = |s: &str| literal(DeValue::parse(s).unwrap().get_ref());
        assert_eq!(v("0x10"), "16");
        assert_eq!(v("2.0"), "2.0");
        assert_eq!(v("1e3"), "1000.0");
        assert_eq!(v("'a\"b'"), "\"a\\\"b\"");
        assert_eq!(v("{ b = 1, a = \"x\" }"), "{ a = \"x\", b = 1 }");
        assert!(same_value("\"100ms\"", "\"0.1s\""));
        assert!(same_value("2", "2.0"));
        assert!(!same_value("\"a\"", "\"b\""));
    }

    #[test]
    fn the_copy_names_the_resolved_model() {
        let e = exp("").unwrap();
        let t = e.text_with_model(Path::new("/abs/m.toml"));
        assert!(
            t.starts_with("model = \"/abs/m.toml\"\nreplications = 2"),
            "{t}"
        );
        assert_eq!(e.points, vec![Vec::<usize>::new()]);
    }
}
