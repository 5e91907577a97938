//! Per-node view over time: queue depth (one line per node) in the upper
//! panel and, in a lower panel of strips, the share of clients that see
//! each node active, so a node that is "connected but serving nothing"
//! shows as a full strip over a flat or exploding queue. Fault windows are
//! shaded across both panels.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{FaultWindow, Plot, PlotError, Rendered, render, validate_faults};
use super::scale::{
    AxisScale, format_log_tick, format_plain, format_si, log_range, nice_ceil, wants_log,
};
use super::style::{
    AXIS_PX, FAULT_ROW_H, GRID, LegendEntry, MARGIN, NOTE_PX, SUBTLE, Swatch, TEXT, TICK_PX,
    draw_header, draw_legend, draw_text_mid, fault_label_rows, fault_spans, fit_text, font,
    house_mesh, label_faults, layout_width, legend_size, series_color, series_dashed, shade_faults,
    y_tick_nudge,
};

const KIND: &str = crate::output::RunChart::Nodes.stem();

/// One cache node's series, sampled at [`NodesData::times_s`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSeries {
    /// Legend and strip label, e.g. "node 1".
    pub name: String,
    /// Requests queued at the node; NaN leaves a gap, negatives are errors.
    pub queue_depth: Vec<f64>,
    /// Fraction (0–1) of clients that see the node active; NaN leaves a gap.
    pub active_share: Vec<f64>,
}

/// Input of the per-node chart.
#[derive(Debug, Clone, PartialEq)]
pub struct NodesData {
    /// Title, e.g. the model name.
    pub title: String,
    /// Subtitle: the fixed parameters.
    pub subtitle: String,
    /// Sample times in simulated seconds, increasing.
    pub times_s: Vec<f64>,
    /// One entry per node.
    pub nodes: Vec<NodeSeries>,
    /// Fault windows to shade.
    pub faults: Vec<FaultWindow>,
    /// Queue-depth axis scale; `Auto` picks log when depths span three
    /// decades or more.
    pub depth_scale: AxisScale,
}

/// The queue-depth axis as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthAxis {
    /// Logarithmic?
    pub log: bool,
    /// Lower bound (on a log axis: the floor, where zeros are drawn).
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// On a log axis, whether some values (zeros) sit clamped on the floor,
    /// which is then labelled "0".
    pub zero_at_floor: bool,
}

impl DepthAxis {
    /// Maps a depth to the drawing coordinate (log10 on a log axis, with
    /// values under the floor clamped to it).
    pub fn map(&self, v: f64) -> f64 {
        if self.log { v.max(self.lo).log10() } else { v }
    }

    fn range(&self) -> (f64, f64) {
        (self.map(self.lo), self.map(self.hi))
    }
}

impl NodesData {
    fn depths(&self) -> impl Iterator<Item = f64> + '_ {
        self.nodes
            .iter()
            .flat_map(|n| n.queue_depth.iter().copied())
            .filter(|v| v.is_finite())
    }

    /// The queue-depth axis: linear from zero to a nice maximum, or on a
    /// log scale decades around the positive depths with zeros drawn on
    /// the floor one decade below the smallest positive depth.
    pub fn depth_axis(&self) -> DepthAxis {
        let log = match self.depth_scale {
            AxisScale::Linear => false,
            AxisScale::Log => log_range(self.depths()).is_some(),
            AxisScale::Auto => wants_log(self.depths()),
        };
        if log && let Some((mut lo, hi)) = log_range(self.depths()) {
            let zeros = self.depths().any(|v| v < lo);
            if zeros {
                lo /= 10.0;
            }
            return DepthAxis {
                log: true,
                lo,
                hi,
                zero_at_floor: zeros,
            };
        }
        let max = self.depths().fold(0.0, f64::max);
        DepthAxis {
            log: false,
            lo: 0.0,
            hi: nice_ceil(max * 1.05),
            zero_at_floor: false,
        }
    }

    /// Visible time range (one second either side of a single sample).
    pub fn time_range(&self) -> (f64, f64) {
        match (self.times_s.first(), self.times_s.last()) {
            (Some(&a), Some(&b)) if b > a => (a, b),
            (Some(&a), _) => (a - 1.0, a + 1.0),
            _ => (0.0, 1.0),
        }
    }

    /// Runs of consecutive finite samples of a series, as (time, value).
    pub fn runs(&self, values: &[f64]) -> Vec<Vec<(f64, f64)>> {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (&t, &v) in self.times_s.iter().zip(values) {
            if v.is_finite() {
                if let Some(r) = runs.last_mut() {
                    r.push((t, v));
                }
            } else {
                runs.push(Vec::new());
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write_nodes(dir: &Path, name: &str, data: &NodesData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

/// Caption of the lower panel, which has no numeric y axis.
const LOWER_CAPTION: &str = "share of clients that see each node active (each row: 0 at its baseline, 100% at its top line)";
const LOWER_CAPTION_H: u32 = 44;

/// Fraction of a strip's height used by 100 %.
const STRIP_FILL: f64 = 0.78;

impl Plot for NodesData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.times_s.is_empty() || self.nodes.is_empty() {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no sample times or no nodes".into(),
            });
        }
        if self.times_s.iter().any(|t| !t.is_finite())
            || self.times_s.windows(2).any(|w| w[1] <= w[0])
        {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: "sample times must be finite and increasing".into(),
            });
        }
        let n = self.times_s.len();
        for node in &self.nodes {
            for (what, v) in [
                ("queue_depth", &node.queue_depth),
                ("active_share", &node.active_share),
            ] {
                if v.len() != n {
                    return Err(PlotError::LengthMismatch {
                        chart: KIND,
                        what: format!("{what} of {:?}", node.name),
                        expected: n,
                        got: v.len(),
                    });
                }
            }
            if let Some(v) = node
                .queue_depth
                .iter()
                .find(|v| **v < 0.0 || v.is_infinite())
            {
                return Err(PlotError::InvalidData {
                    chart: KIND,
                    reason: format!("queue depth {v} of {:?}", node.name),
                });
            }
            if let Some(v) = node
                .active_share
                .iter()
                .find(|v| !v.is_nan() && !(-1e-9..=1.0 + 1e-9).contains(*v))
            {
                return Err(PlotError::InvalidData {
                    chart: KIND,
                    reason: format!("active share {v} of {:?} is outside 0..1", node.name),
                });
            }
        }
        validate_faults(KIND, &self.faults)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;

        let mut entries: Vec<LegendEntry> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| LegendEntry {
                label: n.name.clone(),
                swatch: Swatch::Line {
                    color: series_color(i),
                    width: 4,
                    dashed: series_dashed(i),
                    marker: None,
                },
            })
            .collect();
        if !self.faults.is_empty() {
            entries.push(LegendEntry {
                label: "fault window".into(),
                swatch: Swatch::Shade,
            });
        }
        let legend_title = Some("node");
        let (legend_w, _) = legend_size(&body, legend_title, &entries)?;
        let (body_w, body_h) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));

        let count = self.nodes.len();
        // Left label area: tick labels or node names, plus the axis title.
        let mut name_w = 0u32;
        for n in &self.nodes {
            let label = fit_text(root, &n.name, &font(TICK_PX), 240)?;
            name_w = name_w.max(layout_width(root, &label, &font(TICK_PX))?);
        }
        let y_area = name_w.max(64) + 18 + AXIS_PX as u32 + 14;
        let (ml, mr) = (MARGIN as u32 - 12, 24u32);
        let (t0, t1) = self.time_range();
        let (pw, _) = plot_area.dim_in_pixel();
        let base = plot_area.get_base_pixel();
        let px_left = base.0 + (ml + y_area) as i32;
        let px_right = base.0 + pw as i32 - mr as i32;
        let to_px =
            |s: f64| px_left + ((s - t0) / (t1 - t0) * (px_right - px_left) as f64).round() as i32;
        let spans = fault_spans(&self.faults, (t0, t1), to_px);
        let rows = fault_label_rows(root, &spans, (px_left, px_right))?;
        let margin_top = 14 + rows as u32 * FAULT_ROW_H as u32;

        // The lower panel grows with the node count (about 30 px a strip),
        // between 48 % and 62 % of the height.
        const X_AREA: u32 = 88;
        let fixed = LOWER_CAPTION_H + X_AREA + 20;
        let want = count as u32 * 30 + fixed;
        let lower_h = want.clamp((body_h as f64 * 0.48) as u32, (body_h as f64 * 0.62) as u32);
        let strip_px = lower_h.saturating_sub(fixed) as f64 / count as f64;
        let strip_font = font(TICK_PX.min(strip_px * 0.8).max(20.0));
        let upper_h = body_h - lower_h;
        let (upper, lower) = plot_area.split_vertically(upper_h);

        // Upper panel: queue depth.
        let axis = self.depth_axis();
        let (y0, y1) = axis.range();
        let depth_desc = if axis.log {
            "queue depth (log scale)"
        } else {
            "queue depth (requests)"
        };
        let mut top = ChartBuilder::on(&upper)
            .margin_left(ml)
            .margin_right(mr)
            .margin_top(margin_top)
            .margin_bottom(6)
            .y_label_area_size(y_area)
            .build_cartesian_2d(t0..t1, y0..y1)?;
        let floor_exp = y0;
        let fmt_depth = |v: &f64| {
            if axis.log {
                if (v - v.round()).abs() > 1e-6 {
                    String::new()
                } else if axis.zero_at_floor && (v - floor_exp).abs() < 1e-6 {
                    "0".to_string()
                } else {
                    format_log_tick(10f64.powf(v.round()))
                }
            } else {
                format_si(*v)
            }
        };
        let y_labels = if axis.log {
            (y1 - y0).round() as usize + 1
        } else {
            6
        };
        house_mesh(&mut top.configure_mesh())
            .y_desc(depth_desc)
            .x_labels(12)
            .y_labels(y_labels)
            .x_label_formatter(&|_| String::new())
            .y_label_offset(y_tick_nudge::<DB>(TICK_PX))
            .y_label_formatter(&fmt_depth)
            .draw()?;
        let (_, top_y) = top.plotting_area().get_pixel_range();
        shade_faults(root, &spans, (top_y.start, top_y.end))?;
        for (i, n) in self.nodes.iter().enumerate() {
            for run in self.runs(&n.queue_depth) {
                let pts = run.into_iter().map(|(t, v)| (t, axis.map(v)));
                let style = series_color(i).stroke_width(3);
                if series_dashed(i) {
                    top.draw_series(DashedLineSeries::new(pts, 14, 8, style))?;
                } else {
                    top.draw_series(LineSeries::new(pts, style))?;
                }
            }
        }

        // Lower panel: one strip per node, first node at the top.
        let mut bottom = ChartBuilder::on(&lower)
            .margin_left(ml)
            .margin_right(mr)
            .margin_top(LOWER_CAPTION_H)
            .margin_bottom(10)
            .x_label_area_size(X_AREA)
            .y_label_area_size(y_area)
            .build_cartesian_2d(t0..t1, 0.0..count as f64)?;
        house_mesh(&mut bottom.configure_mesh())
            .x_desc("simulated time (s)")
            .x_labels(12)
            .y_labels(0)
            .x_label_formatter(&|v| format_plain(*v))
            .draw()?;
        let (_, bot_y) = bottom.plotting_area().get_pixel_range();
        shade_faults(root, &spans, (bot_y.start, bot_y.end))?;
        for (i, n) in self.nodes.iter().enumerate() {
            let base_y = (count - 1 - i) as f64;
            let color = series_color(i);
            for y in [base_y, base_y + STRIP_FILL] {
                bottom.draw_series(LineSeries::new([(t0, y), (t1, y)], GRID.stroke_width(1)))?;
            }
            for run in self.runs(&n.active_share) {
                let mut poly: Vec<(f64, f64)> = run
                    .iter()
                    .map(|&(t, v)| (t, base_y + v.clamp(0.0, 1.0) * STRIP_FILL))
                    .collect();
                let line = poly.clone();
                if let (Some(&(a, _)), Some(&(b, _))) = (run.first(), run.last()) {
                    poly.push((b, base_y));
                    poly.push((a, base_y));
                }
                bottom.draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.35).filled(),
                )))?;
                bottom.draw_series(LineSeries::new(line, color.stroke_width(3)))?;
            }
            let (_, mid) = bottom.backend_coord(&(t0, base_y + STRIP_FILL / 2.0));
            let label = fit_text(root, &n.name, &strip_font, 240)?;
            draw_text_mid(
                root,
                &label,
                (px_left - 10, mid),
                strip_font.clone(),
                TEXT,
                HPos::Right,
            )?;
        }
        let caption = fit_text(
            root,
            LOWER_CAPTION,
            &font(NOTE_PX),
            (px_right - px_left).max(0) as u32,
        )?;
        let cap_y = bot_y.start - LOWER_CAPTION_H as i32 / 2 - 2;
        draw_text_mid(
            root,
            &caption,
            (px_left, cap_y),
            font(NOTE_PX),
            SUBTLE,
            HPos::Left,
        )?;

        label_faults(root, &spans, top_y.start, (px_left, px_right))?;
        let lx = legend_area.get_base_pixel().0;
        draw_legend(root, (lx, top_y.start - 12), legend_title, &entries)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::plot::test_util::check_rendered;

    /// Three nodes; node 2 is "connected but serving nothing" from 30 s to
    /// 60 s: clients keep seeing it active in cycles while its queue grows.
    pub(crate) fn sample() -> NodesData {
        let times_s: Vec<f64> = (0..=90).map(f64::from).collect();
        let in_fault = |t: f64| (30.0..60.0).contains(&t);
        let nodes = (1..=3)
            .map(|k| {
                let kf = f64::from(k);
                let queue_depth = times_s
                    .iter()
                    .map(|&t| {
                        let base = 2.0 + kf + (t * 0.5 + kf).sin().abs() * 3.0;
                        if k == 2 && in_fault(t) {
                            10f64.powf(1.0 + (t - 30.0) / 10.0)
                        } else {
                            base.round()
                        }
                    })
                    .collect();
                let active_share = times_s
                    .iter()
                    .map(|&t| {
                        if k == 2 && in_fault(t) {
                            if ((t - 30.0) as i64 / 5) % 2 == 0 {
                                1.0
                            } else {
                                0.15
                            }
                        } else {
                            1.0
                        }
                    })
                    .collect();
                NodeSeries {
                    name: format!("node {k}"),
                    queue_depth,
                    active_share,
                }
            })
            .collect();
        NodesData {
            title: "ketama-3node — half-open node".into(),
            subtitle: "3 nodes · 2000 req/s · failure detector: 2 strikes, 5 s retry · seed 42"
                .into(),
            times_s,
            nodes,
            faults: vec![FaultWindow {
                start_s: 30.0,
                end_s: 60.0,
                label: "half-open node 2".into(),
            }],
            depth_scale: AxisScale::Auto,
        }
    }

    /// Ten nodes on a linear axis, one with a gap, two faults.
    pub(crate) fn many() -> NodesData {
        let mut d = sample();
        let base = d.nodes[0].clone();
        d.nodes = (0..10)
            .map(|k| {
                let mut n = base.clone();
                n.name = format!("10.0.0.{}:11211", 10 + k);
                n.queue_depth = d
                    .times_s
                    .iter()
                    .map(|t| ((t * 0.2 + k as f64).sin() + 1.2) * (3.0 + k as f64))
                    .collect();
                n.active_share = d
                    .times_s
                    .iter()
                    .map(|t| {
                        if k == 4 && (20.0..50.0).contains(t) {
                            0.5 + 0.5 * (t * 0.5).sin()
                        } else {
                            1.0
                        }
                    })
                    .collect();
                n
            })
            .collect();
        d.nodes[7].queue_depth[40] = f64::NAN;
        d.depth_scale = AxisScale::Linear;
        d.faults.push(FaultWindow {
            start_s: 62.0,
            end_s: 64.0,
            label: "network partition node 7".into(),
        });
        d
    }

    #[test]
    fn auto_scale_goes_log_for_wide_spread_and_floors_zeros() {
        let mut d = sample();
        d.nodes[0].queue_depth[0] = 0.0;
        let a = d.depth_axis();
        assert!(a.log);
        assert!(a.zero_at_floor);
        assert_eq!(
            a.lo, 0.1,
            "one decade under the smallest positive depth (1..)"
        );
        assert_eq!(a.hi, 10000.0);
        assert_eq!(a.map(0.0), a.map(a.lo));
        assert_eq!(a.map(100.0), 2.0);
    }

    #[test]
    fn small_spread_stays_linear() {
        let mut d = sample();
        d.nodes[1].queue_depth = d.nodes[0].queue_depth.clone();
        let a = d.depth_axis();
        assert!(!a.log);
        assert_eq!(a.lo, 0.0);
        assert_eq!(a.hi, 10.0);
    }

    #[test]
    fn all_zero_depths_give_a_usable_axis() {
        let mut d = sample();
        for n in &mut d.nodes {
            n.queue_depth.iter_mut().for_each(|v| *v = 0.0);
        }
        d.depth_scale = AxisScale::Log;
        let a = d.depth_axis();
        assert!(!a.log, "nothing positive: falls back to linear");
        assert_eq!((a.lo, a.hi), (0.0, 1.0));
    }

    #[test]
    fn gaps_split_runs() {
        let d = sample();
        let mut v = d.nodes[0].active_share.clone();
        v[10] = f64::NAN;
        let runs = d.runs(&v);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 10);
        assert_eq!(runs[1].len(), d.times_s.len() - 11);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut d = sample();
        d.nodes[0].active_share.pop();
        assert!(matches!(
            d.validate(),
            Err(PlotError::LengthMismatch { .. })
        ));
        let mut d = sample();
        d.nodes[0].active_share[3] = 1.5;
        assert!(matches!(d.validate(), Err(PlotError::InvalidData { .. })));
        let mut d = sample();
        d.nodes.clear();
        assert!(matches!(d.validate(), Err(PlotError::NoData { .. })));
    }

    #[test]
    fn renders_png_and_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_rendered(&write_nodes(dir.path(), "nodes", &sample()).expect("render"));
        let mut lin = sample();
        lin.depth_scale = AxisScale::Linear;
        lin.times_s.truncate(1);
        for n in &mut lin.nodes {
            n.queue_depth.truncate(1);
            n.active_share = vec![f64::NAN];
        }
        check_rendered(&write_nodes(dir.path(), "single", &lin).expect("render"));
    }
}
