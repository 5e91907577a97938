//! The experiment file's top-level keys, read once by serde with their
//! positions, and the grid they span.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_spanned::Spanned;
use toml::de::DeValue;

use super::axes::{
    axis, check_key, check_overlaps, collect_set, collect_vary, exclude, param, variant_axis,
};
use super::literal::normal_form;
use super::map::VulnerabilityMap;
use super::{Axis, DEFAULT_METRICS, Exclude, Located, Sequential, Setting};
use crate::config::doc::{Document, read_text};
use crate::config::error::{ConfigError, Origin};

/// Most points one experiment's grid may span (before the filter).
pub const MAX_GRID: usize = 1_000_000;
/// Most points one experiment may run (after the filter): each is
/// validated (and passed through the runaway guard) before the first run.
pub const MAX_POINTS: usize = 100_000;
/// Most runs (points × replications) one experiment may ask for: the plan,
/// the journal's index and the finished runs' statistics grow with it.
pub const MAX_RUNS: u64 = 1_000_000;

/// `replications = 5`, or `replications = { min = 3, max = 10, until = "±1 pp" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ReplicationsFile {
    Fixed(u32),
    Sequential(SequentialFile),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequentialFile {
    min: u32,
    max: u32,
    until: String,
}

/// The experiment file as written. serde reads the scalar keys (with
/// `deny_unknown_fields` giving the did-you-mean for a misspelt key);
/// `[vary]`, `[set]`, `[[exclude]]` and `[[variant]]` are free-form, so only
/// their place is declared here and they are walked in the document's
/// spanned tree instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    model: Spanned<String>,
    pub(super) replications: Spanned<ReplicationsFile>,
    #[serde(default)]
    pub(super) seed: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) metrics: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) rank_by: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) name: Option<String>,
    /// Free text for people; not used.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // walked in the spanned tree
    vary: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)] // walked in the spanned tree
    set: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)] // walked in the spanned tree
    exclude: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    #[allow(dead_code)] // walked in the spanned tree
    variant: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    #[allow(dead_code)] // walked in the spanned tree
    map: Option<IgnoredAny>,
}

/// Where a span of the experiment text is.
pub(super) struct Text<'d, 'a> {
    doc: &'d Document<'a>,
    text: &'a str,
}

impl Text<'_, '_> {
    pub(super) fn origin(&self, span: &Range<usize>) -> Origin {
        self.doc.origin_of_span(span)
    }

    pub(super) fn err(
        &self,
        span: &Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            origin: self.origin(span),
            key: key.to_string(),
            message: message.into(),
            allowed: None,
        }
    }

    pub(super) fn err_allowed(
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
    pub(super) fn is_inline_table(&self, span: &Range<usize>) -> bool {
        self.text
            .get(span.clone())
            .is_some_and(|s| s.trim_start().starts_with('{'))
    }
}

/// Everything [`Experiment`] holds but its own text (which it borrows while
/// parsing).
pub(super) struct Parsed {
    pub(super) name: String,
    pub(super) model_path: PathBuf,
    pub(super) model_text: String,
    pub(super) model_span: Range<usize>,
    pub(super) replications: Located<u32>,
    pub(super) sequential: Option<Sequential>,
    pub(super) seed: Option<Located<u64>>,
    pub(super) metrics: Vec<Located<String>>,
    pub(super) rank_by: Option<Located<String>>,
    pub(super) axes: Vec<Axis>,
    pub(super) sets: Vec<Setting>,
    pub(super) excludes: Vec<Exclude>,
    pub(super) points: Vec<Vec<usize>>,
    pub(super) map: Option<VulnerabilityMap>,
}

impl Parsed {
    pub(super) fn parse(path: &Path, text: &str) -> Result<Parsed, ConfigError> {
        let doc = Document::parse(path, text)?;
        let file: ExperimentFile = doc.deserialize()?;
        let cx = Text { doc: &doc, text };
        let root = doc.root();
        let get = |k: &str| root.get_key_value(k);
        let whole = Origin::WholeFile(path.to_path_buf());

        // model
        let model_rel = file.model.get_ref().clone();
        let model_span = file.model.span();
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
        let span = file.replications.span();
        let bad = |message: &str, allowed: &str| {
            Err(cx.err_allowed(&span, "replications", message, allowed))
        };
        let (count, sequential) = match file.replications.get_ref() {
            ReplicationsFile::Fixed(0) => {
                return bad(
                    "must be at least 1",
                    "an integer ≥ 1 (≥ 2 for confidence intervals)",
                );
            }
            ReplicationsFile::Fixed(n) => (*n, None),
            ReplicationsFile::Sequential(f) => {
                let allowed = "{ min = 2…, max = min…, until = \"±X pp\" } with X > 0 (stop a point once the 95 % interval of `rank_by` is within ±X percentage points)";
                if f.min < 2 || f.max < f.min {
                    return bad("needs 2 ≤ min ≤ max", allowed);
                }
                if Sequential::parse_until(&f.until).is_none() {
                    return bad(
                        &format!("`until = \"{}\"` is not a half-width", f.until),
                        allowed,
                    );
                }
                (
                    f.max,
                    Some(Sequential {
                        min: f.min,
                        until: f.until.trim().to_string(),
                    }),
                )
            }
        };
        if u64::from(count) > MAX_RUNS {
            return bad(
                &format!(
                    "{count} replications is over the limit of {MAX_RUNS} runs per experiment"
                ),
                &format!("an integer from 1 to {MAX_RUNS}"),
            );
        }
        let replications = Located {
            value: count,
            origin: cx.origin(&span),
        };
        let seed = file.seed.map(|v| Located {
            value: *v.get_ref(),
            origin: cx.origin(&v.span()),
        });

        // metrics, rank_by
        let metrics = match file.metrics {
            Some(v) => {
                if v.get_ref().is_empty() {
                    return Err(cx.err_allowed(
                        &v.span(),
                        "metrics",
                        "the list is empty",
                        "summary fields by dotted path, or leave `metrics` out for the default list",
                    ));
                }
                let mut out: Vec<Located<String>> = Vec::new();
                let mut seen = HashSet::new();
                for item in v.into_inner() {
                    let span = item.span();
                    let name = item.into_inner();
                    if !seen.insert(name.clone()) {
                        return Err(cx.err(&span, "metrics", format!("`{name}` is listed twice")));
                    }
                    out.push(Located {
                        value: name,
                        origin: cx.origin(&span),
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
        let rank_by = file.rank_by.map(|v| Located {
            origin: cx.origin(&v.span()),
            value: v.into_inner(),
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
        let name = file.name.unwrap_or_else(|| {
            path.file_stem()
                .map_or("experiment".into(), |s| s.to_string_lossy().into_owned())
        });

        // [map]: the load key is the one axis; no grid beside it.
        let map = match get("map") {
            Some((k, v)) => {
                for other in ["vary", "variant", "exclude"] {
                    if let Some((ok, _)) = get(other) {
                        return Err(cx.err_allowed(
                            &ok.span(),
                            other,
                            "an experiment with [map] searches one load key and one trigger; it has no grid",
                            "[map] with [set] for fixed overrides, or a grid without [map]",
                        ));
                    }
                }
                if sequential.is_some() {
                    return Err(cx.err_allowed(
                        &span,
                        "replications",
                        "a [map] runs a fixed number of replications per trigger size",
                        "an integer ≥ 1",
                    ));
                }
                Some(super::map::map(&cx, &k.span(), v)?)
            }
            None => None,
        };

        // [[variant]]: named configurations, one axis before the others.
        let mut axes = Vec::new();
        if let Some(m) = &map {
            axes.push(m.load.clone());
        }
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
            raw.sort_by_key(|(_, _, v)| v.span.start);
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
        if let Some(m) = &map {
            // The trigger key may not be fixed by [set] either.
            let trigger = Axis {
                key: m.trigger.key.clone(),
                origin: m.trigger.origin.clone(),
                values: Vec::new(),
                variants: None,
            };
            check_overlaps(&cx, &[trigger], &sets)?;
        }

        // [[exclude]]: each value looked up by its normal form.
        let index: Vec<HashMap<String, usize>> = axes
            .iter()
            .map(|a| {
                a.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (normal_form(&v.literal), i))
                    .collect()
            })
            .collect();
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
                excludes.push(exclude(&cx, t, &span, &axes, &index)?);
            }
        }

        // The grid.
        let total = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .filter(|&n| n <= MAX_GRID)
            .ok_or_else(|| {
                cx.err(
                    &get("vary").map_or(0..0, |(k, _)| k.span()),
                    "vary",
                    format!("the grid has more than {MAX_GRID} points; shrink it"),
                )
            })?;
        // The filter, linear in points + entries: the entries grouped by the
        // axes they name, each group a hash set of those axes' values.
        let mut groups: BTreeMap<Vec<usize>, HashSet<Vec<usize>>> = BTreeMap::new();
        for e in &excludes {
            let mut c = e.conditions.clone();
            c.sort_unstable();
            let (axes_of, values): (Vec<usize>, Vec<usize>) = c.into_iter().unzip();
            groups.entry(axes_of).or_default().insert(values);
        }
        let excluded = |point: &[usize]| {
            groups.iter().any(|(axes_of, set)| {
                let key: Vec<usize> = axes_of.iter().map(|&a| point[a]).collect();
                set.contains(&key)
            })
        };
        let mut points = Vec::with_capacity(total.min(MAX_POINTS + 1));
        let mut current = vec![0usize; axes.len()];
        for _ in 0..total {
            if !excluded(&current) {
                points.push(current.clone());
                if points.len() > MAX_POINTS {
                    break;
                }
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

        if points.len() > MAX_POINTS {
            return Err(cx.err_allowed(
                &get("vary").map_or(0..0, |(k, _)| k.span()),
                "vary",
                format!("the grid has more than {MAX_POINTS} points after [[exclude]]"),
                format!("at most {MAX_POINTS} points: split the experiment, or use --shard on several machines"),
            ));
        }
        let runs = points.len() as u64 * u64::from(replications.value);
        if runs > MAX_RUNS {
            return Err(ConfigError {
                origin: replications.origin.clone(),
                key: "replications".into(),
                message: format!(
                    "{} points × {} replications = {runs} runs, over the limit of {MAX_RUNS}",
                    points.len(),
                    replications.value
                ),
                allowed: Some(format!(
                    "at most {} replications with this grid",
                    MAX_RUNS / points.len() as u64
                )),
            });
        }
        Ok(Parsed {
            name,
            model_path,
            model_text,
            model_span,
            replications,
            sequential,
            seed,
            metrics,
            rank_by,
            axes,
            sets,
            excludes,
            points,
            map,
        })
    }
}
