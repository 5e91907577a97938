//! The plots of a sweep, rendered from its journal (`journal.jsonl` holds the
//! varied keys, every point's values and every run's full summary), so
//! `cachestorm plot DIR` can redraw them for any metric without rerunning:
//!
//! - `heatmap`: a metric's mean over two varied keys, one panel per value of
//!   a third, the other keys fixed;
//! - `lines`: a metric against one (numeric or duration) varied key, one line
//!   per value of another, with the 95 % confidence band;
//! - `ranking`: every point ranked by a metric with its 95 % interval and
//!   the 99 % line, when the metric is a ratio where higher is better.

use std::path::{Path, PathBuf};

use super::plot::{
    AxisScale, HeatmapData, HeatmapPanel, LinePoint, LineSeriesData, LinesData, Plot, PlotError,
    RankingData, RankingEntry, ReferenceLine, Rendered, ValueFormat, write_heatmap, write_lines,
    write_ranking,
};
use crate::config::units::parse_duration;
use crate::output::metric::axis_label;
use crate::output::names::{config_label, key_name, raw_keys_note};
use crate::output::{Format, Metric, SweepChart, SweepDataFile, Unit};
use crate::sweep::journal::{self, Header};
use crate::sweep::ranking::{FaultAxes, replications_per_point, worst_case};
use crate::sweep::record::Record;
use crate::sweep::stats::{MetricStats, metric_stats};

/// Why a sweep's plots could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum SweepPlotError {
    /// The folder is not a finished sweep, or a choice does not fit it.
    #[error("{0}")]
    Input(String),
    /// A lines chart was asked for along a key that is not numeric.
    #[error("{0}")]
    NotNumeric(String),
    /// Drawing failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// `report.html` could not be written.
    #[error(transparent)]
    Report(#[from] super::html::ReportError),
}

/// What to draw; everything left `None` is chosen from the sweep.
#[derive(Clone, Debug, Default)]
pub struct PlotChoice {
    /// The metric (a summary field by dotted path); default `rank_by`.
    pub metric: Option<String>,
    /// Heatmap and lines: the key across the x axis.
    pub x: Option<String>,
    /// Heatmap: the key down the y axis.
    pub y: Option<String>,
    /// Heatmap: the key with one panel per value.
    pub panel: Option<String>,
    /// Lines: the key with one line per value.
    pub series: Option<String>,
    /// Values for the keys a plot does not show (`key=value`); default: each
    /// key's first value.
    pub fix: Vec<(String, String)>,
    /// The title of every chart (default: the experiment's name and what
    /// the chart shows).
    pub title: Option<String>,
}

/// A sweep read back from its folder.
pub struct SweepData {
    /// The journal's header.
    pub header: Header,
    /// Every run, in (point, replication) order.
    pub records: Vec<Record>,
}

impl SweepData {
    /// Reads `dir/journal.jsonl`.
    pub fn read(dir: &Path) -> Result<Self, SweepPlotError> {
        Self::read_keeping(dir, None)
    }

    /// Reads `dir/journal.jsonl`, keeping of each run only the values the
    /// charts and `report.html` read when `metric` (default `rank_by`) is
    /// drawn: the sweep's metrics, `rank_by`, the ranking's costs, `metric`
    /// and the request counts of shares (a few hundred bytes a run instead
    /// of every summary field, about 27 KB); `None` keeps every value.
    pub fn read_keeping(dir: &Path, metric: Option<Option<&str>>) -> Result<Self, SweepPlotError> {
        // The values kept, once the header is known.
        let mut keep: Option<std::collections::HashSet<String>> = None;
        let mut records = Vec::new();
        let c = journal::scan(dir, &journal::common_seed, &mut |h, mut r| {
            if let Some(metric) = metric {
                let keep = keep.get_or_insert_with(|| {
                    let named = h
                        .metrics
                        .iter()
                        .map(String::as_str)
                        .chain([h.rank_by.as_str()])
                        .chain(crate::sweep::ranking::COSTS)
                        .chain(metric);
                    let mut keep = std::collections::HashSet::new();
                    for k in named {
                        keep.extend(crate::sweep::stats::count_key(k));
                        keep.insert(k.to_string());
                    }
                    keep
                });
                r.values.retain(|(k, _)| keep.contains(k));
                r.values.shrink_to_fit();
            }
            records.push(r);
        })
        .map_err(|e| SweepPlotError::Input(e.to_string()))?;
        crate::sweep::output::sort(&mut records);
        Ok(SweepData {
            header: c.header,
            records,
        })
    }

    /// The runs of point `p`, in replication order.
    fn runs_of(&self, p: usize) -> &[Record] {
        let from = self.records.partition_point(|r| r.point < p);
        let to = self.records.partition_point(|r| r.point <= p);
        &self.records[from..to]
    }

    /// The metric's mean and 95 % interval at point `p` (a share's by
    /// [`metric_stats`]'s logit-t interval).
    pub fn stats(&self, p: usize, metric: &str) -> MetricStats {
        metric_stats(metric, self.runs_of(p))
    }

    /// The distinct values of varied key `k`, in first-seen (grid) order.
    pub fn values(&self, k: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.header.points {
            if !out.contains(&p[k]) {
                out.push(p[k].clone());
            }
        }
        out
    }

    fn key_index(&self, key: &str) -> Result<usize, SweepPlotError> {
        self.header
            .params
            .iter()
            .position(|k| k == key)
            .ok_or_else(|| {
                SweepPlotError::Input(format!(
                    "`{key}` is not a varied key of this sweep (varied: {})",
                    self.header.params.join(", ")
                ))
            })
    }

    /// The point whose values match `want` (key index → value) on every key
    /// given, if it was run.
    fn find(&self, want: &[(usize, &str)]) -> Option<usize> {
        self.header
            .points
            .iter()
            .position(|p| want.iter().all(|(k, v)| p[*k] == *v))
            .filter(|&p| !self.runs_of(p).is_empty())
    }
}

/// The number a swept value stands for on an axis: a plain number, or a
/// duration in milliseconds.
pub fn numeric(value: &str) -> Option<f64> {
    value
        .parse::<f64>()
        .ok()
        .or_else(|| parse_duration(value).ok().map(|ns| ns as f64 / 1e6))
}

/// How a metric's values and ticks read on a chart (from its
/// [`Format`] in the metric table): shares as percentages.
pub fn format_for(metric: &str) -> ValueFormat {
    match Metric::of(metric).format {
        Format::Percent => ValueFormat::Percent { decimals: 1 },
        Format::Significant => ValueFormat::Auto,
    }
}

/// A metric's label for axes and legends: its human label and unit
/// ([`axis_label`]).
pub fn metric_label(metric: &str) -> String {
    axis_label(metric)
}

/// Whether the metric is a share in [0, 1].
fn is_share(metric: &str) -> bool {
    Metric::of(metric).unit == Unit::Share
}

struct Layout {
    metric: String,
    fixed: Vec<(usize, String)>,
}

fn layout(
    data: &SweepData,
    choice: &PlotChoice,
    shown: &[usize],
) -> Result<Layout, SweepPlotError> {
    let metric = choice
        .metric
        .clone()
        .unwrap_or_else(|| data.header.rank_by.clone());
    if !data.records.iter().any(|r| r.number(&metric).is_some()) {
        return Err(SweepPlotError::Input(format!(
            "no run of this sweep has a value for `{metric}` (metrics: {})",
            data.header.metrics.join(", ")
        )));
    }
    let mut fixed = Vec::new();
    for k in 0..data.header.params.len() {
        if shown.contains(&k) {
            continue;
        }
        let key = &data.header.params[k];
        let value = match choice.fix.iter().find(|(f, _)| f == key) {
            Some((_, v)) => {
                if !data.values(k).contains(v) {
                    return Err(SweepPlotError::Input(format!(
                        "--fix {key}={v}: the sweep's values of `{key}` are {}",
                        data.values(k).join(", ")
                    )));
                }
                v.clone()
            }
            None => data.values(k)[0].clone(),
        };
        fixed.push((k, value));
    }
    Ok(Layout { metric, fixed })
}

/// The subtitle: replications, seeds and the fixed keys by name, then (after
/// a newline, drawn in small print) the raw keys of the metric and of every
/// key named on the chart.
fn subtitle(data: &SweepData, fixed: &[(usize, String)], metric: &str, shown: &[usize]) -> String {
    let h = &data.header;
    let mut parts = vec![format!(
        "{}, seed {} ({} seeds)",
        replications_per_point(h, false),
        h.seed,
        h.seed_mode
    )];
    if !fixed.is_empty() {
        let f: Vec<String> = fixed
            .iter()
            .map(|(k, v)| format!("{} = {v}", key_name(&h.params[*k])))
            .collect();
        parts.push(format!("fixed: {}", f.join(", ")));
    }
    let mut raw = vec![(axis_label(metric), metric.to_string())];
    for &k in shown.iter().chain(fixed.iter().map(|(k, _)| k)) {
        raw.push((key_name(&h.params[k]), h.params[k].clone()));
    }
    format!("{}\n{}", parts.join(" · "), raw_keys_note(raw))
}

/// A chart's title: `--title`, or the experiment's name and `what`.
fn title(data: &SweepData, choice: &PlotChoice, what: &str) -> String {
    choice
        .title
        .clone()
        .unwrap_or_else(|| format!("{}: {what}", data.header.experiment))
}

/// The heatmap's data, or `None` when fewer than two keys were varied.
pub fn heatmap_data(
    data: &SweepData,
    choice: &PlotChoice,
) -> Result<Option<HeatmapData>, SweepPlotError> {
    let n = data.header.params.len();
    let multi: Vec<usize> = (0..n).filter(|&k| data.values(k).len() > 1).collect();
    if multi.len() < 2 && (choice.x.is_none() || choice.y.is_none()) {
        return Ok(None);
    }
    let pick =
        |given: &Option<String>, default: Option<usize>| -> Result<Option<usize>, SweepPlotError> {
            match given {
                Some(k) => data.key_index(k).map(Some),
                None => Ok(default),
            }
        };
    // Defaults: panels by the first varied key when three or more vary; the
    // x axis takes the key with the most values of the next two.
    let panel = pick(&choice.panel, (multi.len() >= 3).then(|| multi[0]))?;
    let rest: Vec<usize> = multi
        .iter()
        .copied()
        .filter(|k| Some(*k) != panel)
        .collect();
    let (dx, dy) = match rest.as_slice() {
        [a, b, ..] if data.values(*a).len() >= data.values(*b).len() => (Some(*a), Some(*b)),
        [a, b, ..] => (Some(*b), Some(*a)),
        _ => (None, None),
    };
    let (Some(x), Some(y)) = (pick(&choice.x, dx)?, pick(&choice.y, dy)?) else {
        return Ok(None);
    };
    let mut shown = vec![x, y];
    shown.extend(panel);
    let l = layout(data, choice, &shown)?;
    let (xs, ys) = (data.values(x), data.values(y));
    let panel_values = panel.map_or(vec![String::new()], |p| data.values(p));
    let mut panels = Vec::new();
    for pv in &panel_values {
        let mut values = Vec::new();
        for yv in &ys {
            let mut row = Vec::new();
            for xv in &xs {
                let mut want: Vec<(usize, &str)> =
                    l.fixed.iter().map(|(k, v)| (*k, v.as_str())).collect();
                want.push((x, xv));
                want.push((y, yv));
                if let Some(p) = panel {
                    want.push((p, pv));
                }
                let v = data
                    .find(&want)
                    .and_then(|p| data.stats(p, &l.metric).mean)
                    .unwrap_or(f64::NAN);
                row.push(v);
            }
            values.push(row);
        }
        panels.push(HeatmapPanel {
            name: pv.clone(),
            values,
        });
    }
    Ok(Some(HeatmapData {
        title: title(data, choice, &metric_label(&l.metric)),
        subtitle: subtitle(data, &l.fixed, &l.metric, &shown),
        x_label: key_name(&data.header.params[x]),
        y_label: key_name(&data.header.params[y]),
        panel_label: panel.map_or(String::new(), |p| key_name(&data.header.params[p])),
        metric_label: metric_label(&l.metric),
        x_values: xs,
        y_values: ys,
        panels,
        format: format_for(&l.metric),
        color_range: is_share(&l.metric).then_some((0.0, 1.0)),
    }))
}

/// The lines plot's data, or `None` when no varied key is numeric.
pub fn lines_data(
    data: &SweepData,
    choice: &PlotChoice,
) -> Result<Option<LinesData>, SweepPlotError> {
    let n = data.header.params.len();
    let is_numeric = |k: usize| data.values(k).iter().all(|v| numeric(v).is_some());
    let x = match &choice.x {
        Some(k) => {
            let i = data.key_index(k)?;
            if !is_numeric(i) {
                return Err(SweepPlotError::NotNumeric(format!(
                    "`{k}` has values that are neither numbers nor durations: it cannot be a lines x axis (draw the other charts with --chart heatmap or --chart ranking)"
                )));
            }
            i
        }
        None => match (0..n)
            .filter(|&k| is_numeric(k) && data.values(k).len() > 1)
            .max_by_key(|&k| (data.values(k).len(), std::cmp::Reverse(k)))
        {
            Some(k) => k,
            None => return Ok(None),
        },
    };
    let series = match &choice.series {
        Some(k) => Some(data.key_index(k)?),
        None => (0..n).find(|&k| k != x && data.values(k).len() > 1),
    };
    let mut shown = vec![x];
    shown.extend(series);
    let l = layout(data, choice, &shown)?;
    let series_values = series.map_or(vec![String::new()], |s| data.values(s));
    let ratio = is_share(&l.metric);
    let mut out = Vec::new();
    for sv in &series_values {
        let mut points = Vec::new();
        for xv in data.values(x) {
            let mut want: Vec<(usize, &str)> =
                l.fixed.iter().map(|(k, v)| (*k, v.as_str())).collect();
            want.push((x, &xv));
            if let Some(s) = series {
                want.push((s, sv));
            }
            let Some(p) = data.find(&want) else { continue };
            let st = data.stats(p, &l.metric);
            if let (Some(y), Some(lo), Some(hi)) = (st.mean, st.low, st.high) {
                // A ratio's interval is cut to [0, 1]: the t interval of a
                // share near 0 or 1 can reach past them.
                let (lo, hi) = if ratio {
                    (lo.max(0.0), hi.min(1.0))
                } else {
                    (lo, hi)
                };
                points.push(LinePoint {
                    x: numeric(&xv).expect("numeric key"),
                    y,
                    low: lo,
                    high: hi,
                });
            }
        }
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        out.push(LineSeriesData {
            name: if sv.is_empty() {
                metric_label(&l.metric)
            } else {
                sv.clone()
            },
            points,
        });
    }
    let xs: Vec<f64> = data.values(x).iter().filter_map(|v| numeric(v)).collect();
    let spread =
        xs.iter().cloned().fold(f64::MIN, f64::max) / xs.iter().cloned().fold(f64::MAX, f64::min);
    let duration = data.values(x).iter().any(|v| v.parse::<f64>().is_err());
    Ok(Some(LinesData {
        title: title(data, choice, &metric_label(&l.metric)),
        subtitle: subtitle(data, &l.fixed, &l.metric, &shown),
        x_label: format!(
            "{}{}",
            key_name(&data.header.params[x]),
            if duration { " (ms)" } else { "" }
        ),
        y_label: metric_label(&l.metric),
        series_label: series.map_or(String::new(), |s| key_name(&data.header.params[s])),
        x_scale: if xs.iter().all(|&v| v > 0.0) && spread >= 10.0 {
            AxisScale::Log
        } else {
            AxisScale::Linear
        },
        y_format: format_for(&l.metric),
        series: out,
    }))
}

/// Short labels for points: each varied key with more than one value by
/// its human name and value; a variant by its name alone.
pub fn point_label(data: &SweepData, p: usize) -> String {
    point_label_without(data, p, &[])
}

fn point_label_without(data: &SweepData, p: usize, skip: &[usize]) -> String {
    config_label(&data.header.params, &data.header.points[p], |i| {
        !skip.contains(&i) && data.values(i).len() > 1
    })
}

/// The ranking's data: with `--fix key=value`, only the points with those
/// values (the fixed keys are then left out of the labels). When the sweep
/// varies a fault's kind, each configuration is ranked by its worst case
/// across the fault kinds, with each kind's mean as a marker on its row;
/// otherwise every point by its mean. Best first.
pub fn ranking_data(data: &SweepData, choice: &PlotChoice) -> Result<RankingData, SweepPlotError> {
    let fixed: Vec<usize> = choice
        .fix
        .iter()
        .map(|(k, _)| data.key_index(k))
        .collect::<Result<_, _>>()?;
    let shown: Vec<usize> = (0..data.header.params.len())
        .filter(|k| !fixed.contains(k))
        .collect();
    let l = layout(data, choice, &shown)?;
    let higher = Metric::of(&l.metric).direction.higher_is_better();
    let points: Vec<usize> = data
        .records
        .iter()
        .map(|r| r.point)
        .collect::<std::collections::BTreeSet<usize>>()
        .into_iter()
        .filter(|&p| l.fixed.iter().all(|(k, v)| data.header.points[p][*k] == *v))
        .collect();
    let reference = (higher && is_share(&l.metric)).then(|| ReferenceLine {
        value: 0.99,
        label: "99 %".into(),
    });
    let entry = |label: String, s: MetricStats, marks: Vec<f64>| -> Option<RankingEntry> {
        Some(RankingEntry {
            label,
            value: s.mean?,
            ci_low: s.low?,
            ci_high: s.high?,
            marks,
        })
    };
    let label = metric_label(&l.metric);
    if let Some(axes) = FaultAxes::of(&data.header, &fixed) {
        let mut skip = fixed.clone();
        skip.extend(&axes.keys);
        let rows = worst_case(
            &data.header,
            &axes,
            &points,
            higher,
            |p| data.stats(p, &l.metric),
            |p| point_label_without(data, p, &skip),
        );
        let entries = rows
            .iter()
            .filter_map(|r| {
                let marks = r
                    .per_scenario
                    .iter()
                    .map(|x| x.and_then(|(_, s)| s.mean).unwrap_or(f64::NAN))
                    .collect();
                entry(point_label_without(data, r.point, &skip), r.worst, marks)
            })
            .collect();
        let kinds: Vec<String> = (0..axes.scenarios.len()).map(|s| axes.name(s)).collect();
        return Ok(RankingData {
            title: title(
                data,
                choice,
                &format!("worst case across fault kinds, {label}"),
            ),
            subtitle: subtitle(data, &l.fixed, &l.metric, &axes.keys),
            metric_label: label,
            format: format_for(&l.metric),
            higher_is_better: higher,
            reference,
            bar_label: format!("worst of {}", kinds.join(", ")),
            mark_labels: kinds,
            entries,
        });
    }
    let entries = points
        .into_iter()
        .filter_map(|p| {
            entry(
                point_label_without(data, p, &fixed),
                data.stats(p, &l.metric),
                vec![],
            )
        })
        .collect();
    Ok(RankingData {
        title: title(data, choice, &format!("ranked by {label}")),
        subtitle: subtitle(data, &l.fixed, &l.metric, &[]),
        metric_label: label,
        format: format_for(&l.metric),
        higher_is_better: higher,
        reference,
        bar_label: "mean over replications".into(),
        mark_labels: vec![],
        entries,
    })
}

/// Renders every [`SweepChart`] the sweep's shape allows (PNG and SVG)
/// into `dir`.
pub fn render_sweep_plots(
    dir: &Path,
    choice: &PlotChoice,
) -> Result<Vec<Rendered>, SweepPlotError> {
    render_sweep_plots_to(dir, dir, choice, None)
}

/// Renders the sweep in `dir` into `out`: the charts asked for (each must
/// fit the sweep's shape), or every chart the shape allows (a lines chart
/// whose x would not be numeric is then left out). Every chart's data is
/// computed and checked before the first file is written.
pub fn render_sweep_plots_to(
    dir: &Path,
    out: &Path,
    choice: &PlotChoice,
    charts: Option<&[SweepChart]>,
) -> Result<Vec<Rendered>, SweepPlotError> {
    let data = SweepData::read_keeping(dir, Some(choice.metric.as_deref()))?;
    // Every --fix names a varied key, whichever charts use it.
    for (k, _) in &choice.fix {
        data.key_index(k)?;
    }
    let asked = |c: SweepChart| charts.is_none_or(|cs| cs.contains(&c));
    let explicit = |c: SweepChart| charts.is_some_and(|cs| cs.contains(&c));
    let mut heatmap = None;
    let mut lines = None;
    let mut ranking = None;
    for &chart in SweepChart::ALL {
        if !asked(chart) {
            continue;
        }
        match chart {
            SweepChart::Heatmap => {
                heatmap = heatmap_data(&data, choice)?;
                if heatmap.is_none() && explicit(chart) {
                    return Err(SweepPlotError::Input(
                        "--chart heatmap: the sweep varies fewer than two keys; pass --x and --y"
                            .into(),
                    ));
                }
            }
            SweepChart::Lines => {
                lines = match lines_data(&data, choice) {
                    Err(SweepPlotError::NotNumeric(_)) if !explicit(chart) => None,
                    other => other?,
                };
                if lines.is_none() && explicit(chart) {
                    return Err(SweepPlotError::Input(
                        "--chart lines: no varied key is a number or a duration".into(),
                    ));
                }
            }
            SweepChart::Ranking => ranking = Some(ranking_data(&data, choice)?),
        }
    }
    for p in heatmap.iter() {
        p.validate()?;
    }
    for p in lines.iter() {
        p.validate()?;
    }
    for p in ranking.iter() {
        p.validate()?;
    }
    let mut rendered = Vec::new();
    for &chart in SweepChart::ALL {
        let name = chart.stem();
        rendered.extend(match chart {
            SweepChart::Heatmap => heatmap
                .as_ref()
                .map(|h| write_heatmap(out, name, h))
                .transpose()?,
            SweepChart::Lines => lines
                .as_ref()
                .map(|l| write_lines(out, name, l))
                .transpose()?,
            SweepChart::Ranking => ranking
                .as_ref()
                .map(|r| write_ranking(out, name, r))
                .transpose()?,
        });
    }
    super::html::write_sweep_report(dir, out, &data.header, &data.records, &rendered)?;
    Ok(rendered)
}

/// True when `dir` holds a sweep (its journal).
pub fn is_sweep_dir(dir: &Path) -> bool {
    SweepDataFile::Journal.path(dir).exists()
}

/// The paths of rendered files, for messages.
pub fn paths(rendered: &[Rendered]) -> Vec<PathBuf> {
    rendered
        .iter()
        .flat_map(|r| [r.png.clone(), r.svg.clone()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{SweepArgs, run_sweep};
    use std::sync::atomic::AtomicBool;

    /// A small sweep over the M/M/1 check: rate × op timeout.
    fn sweep() -> (tempfile::TempDir, SweepData) {
        let dir = tempfile::tempdir().unwrap();
        let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/checks/mm1.toml");
        let exp = dir.path().join("e.toml");
        std::fs::write(
            &exp,
            format!(
                "model = {model:?}\nreplications = 3\nseed = 3\nmetrics = [\"windows.steady.latency_ms.mean\", \"windows.steady.success_ratio\"]\n\
                 [set]\nduration = \"20s\"\nwarmup = \"2s\"\nslo = \"20ms\"\n\
                 [vary]\nclient.op_timeout = [\"1h\", \"30ms\"]\nworkload.rate = [300, 600, 900]\n"
            ),
        )
        .unwrap();
        let out = dir.path().join("out");
        let args = SweepArgs {
            experiment: exp,
            out: Some(out.clone()),
            resume: None,
            force: false,
            threads: Some(2),
            shard: None,
            independent_seeds: false,
            seed: None,
            max_events: 0,
            no_shared_prefix: false,
        };
        run_sweep(&args, &AtomicBool::new(false), &mut |_, _| {}).unwrap();
        let data = SweepData::read(&out).unwrap();
        (dir, data)
    }

    #[test]
    fn plot_data_are_the_sweeps_statistics() {
        let (_dir, data) = sweep();
        let metric = "windows.steady.latency_ms.mean";
        let choice = PlotChoice {
            metric: Some(metric.into()),
            ..Default::default()
        };
        // Heatmap: x takes the key with more values (the rate), y the other;
        // every cell is that point's mean.
        let h = heatmap_data(&data, &choice).unwrap().unwrap();
        assert_eq!(h.x_values, vec!["300", "600", "900"]);
        assert_eq!(h.y_values, vec!["1h", "30ms"]);
        assert_eq!(h.panels.len(), 1);
        for (yi, y) in h.y_values.iter().enumerate() {
            for (xi, x) in h.x_values.iter().enumerate() {
                let p = data.find(&[(0, y.as_str()), (1, x.as_str())]).unwrap();
                assert_eq!(
                    h.panels[0].values[yi][xi],
                    data.stats(p, metric).mean.unwrap()
                );
            }
        }
        // Latency grows with the rate (M/M/1: W = 1/(mu - lambda)).
        let row = &h.panels[0].values[0];
        assert!(row[0] < row[1] && row[1] < row[2], "{row:?}");
        // Lines: the numeric key across, a line per op timeout, with the 95 %
        // interval around each mean.
        let l = lines_data(&data, &choice).unwrap().unwrap();
        assert_eq!(l.series.len(), 2);
        assert_eq!(l.series[0].name, "1h");
        let xs: Vec<f64> = l.series[0].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![300.0, 600.0, 900.0]);
        for p in &l.series[0].points {
            assert!(p.low <= p.y && p.y <= p.high);
        }
        // Ranking by success: best first, each entry the point's mean; the
        // busiest rate is last (more requests miss the 20 ms SLO).
        let r = ranking_data(
            &data,
            &PlotChoice {
                metric: Some("windows.steady.success_ratio".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.entries.len(), 6);
        assert!(r.higher_is_better);
        assert_eq!(r.reference.as_ref().map(|x| x.value), Some(0.99));
        let order = r.ranked();
        assert!(order.windows(2).all(|w| w[0].value >= w[1].value));
        assert!(
            order[5].label.ends_with("request rate (req/s) 900"),
            "{}",
            order[5].label
        );
        for e in &r.entries {
            assert!(e.ci_low <= e.value && e.value <= e.ci_high);
            let p = (0..6).find(|&p| point_label(&data, p) == e.label).unwrap();
            assert_eq!(
                e.value,
                data.stats(p, "windows.steady.success_ratio").mean.unwrap()
            );
        }
        // --fix keeps one slice and drops the fixed key from the labels.
        let fixed = ranking_data(
            &data,
            &PlotChoice {
                metric: Some("windows.steady.success_ratio".into()),
                fix: vec![("client.op_timeout".into(), "30ms".into())],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(fixed.entries.len(), 3);
        assert!(
            fixed
                .entries
                .iter()
                .all(|e| e.label.starts_with("request rate"))
        );
        // A key the sweep did not vary is refused with the keys it did.
        let bad = lines_data(
            &data,
            &PlotChoice {
                x: Some("service.threads".into()),
                ..Default::default()
            },
        );
        assert!(matches!(bad, Err(SweepPlotError::Input(m)) if m.contains("client.op_timeout")));
        // Files render: every sweep chart, as the sweep's shape allows
        // them all; the folder then holds exactly the contract's sweep
        // files, and the `--force` cleanup removes every one of them.
        let out = _dir.path().join("out");
        let rendered = render_sweep_plots(&out, &choice).unwrap();
        assert_eq!(rendered.len(), SweepChart::ALL.len());
        let listing = || -> std::collections::BTreeSet<String> {
            std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let declared: std::collections::BTreeSet<String> = crate::output::SweepFile::all()
            .into_iter()
            .map(crate::output::SweepFile::name)
            .collect();
        assert_eq!(listing(), declared);
        crate::output::remove_sweep_files(&out).unwrap();
        assert!(listing().is_empty());
    }
}
