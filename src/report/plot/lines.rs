//! A metric against one numeric parameter (linear or log x), one line per
//! value of another parameter, each with a shaded 95 % confidence band.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{Plot, PlotError, Rendered, render};
use super::scale::{
    AxisScale, ValueFormat, decades, format_plain, format_si, log_range, nice_ticks, padded_range,
};
use super::style::{
    LegendEntry, MARGIN, NOTE_PX, SUBTLE, Swatch, TEXT, TICK_PX, bold, draw_header, draw_legend,
    draw_marker, draw_text, draw_x_ticks, house_mesh, legend_size, series_color, series_marker,
    y_tick_nudge,
};

/// The note beside a zoomed y axis (followed by where it starts).
pub const ZOOM_NOTE: &str = "zoomed: y axis starts at";

const KIND: &str = crate::output::SweepChart::Lines.stem();

/// One point of a line: the estimate and its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinePoint {
    /// Parameter value.
    pub x: f64,
    /// Estimate; NaN leaves a gap in the line.
    pub y: f64,
    /// Lower end of the 95 % interval; NaN (either end) means no band here.
    pub low: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
}

/// One line: the metric at one value of the series parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSeriesData {
    /// Legend label, e.g. "3 replicas".
    pub name: String,
    /// Points in any order (drawn sorted by x).
    pub points: Vec<LinePoint>,
}

/// Input of the line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LinesData {
    /// Title, e.g. the model name.
    pub title: String,
    /// Subtitle: the fixed parameters.
    pub subtitle: String,
    /// x-axis title with unit, e.g. "client timeout (ms)".
    pub x_label: String,
    /// y-axis title with unit, e.g. "fault-window success".
    pub y_label: String,
    /// Legend title: the parameter the lines stand for, e.g. "replicas".
    pub series_label: String,
    /// x scale; `Auto` picks log when x spans three decades or more.
    /// `Log` with an x that is not positive is an error.
    pub x_scale: AxisScale,
    /// How y ticks are printed (e.g. `Percent` for fractions).
    pub y_format: ValueFormat,
    /// The lines.
    pub series: Vec<LineSeriesData>,
}

/// The x axis as drawn, in drawing units (log10 of x on a log axis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XAxis {
    /// Logarithmic?
    pub log: bool,
    /// Left end, drawing units.
    pub u0: f64,
    /// Right end, drawing units.
    pub u1: f64,
}

impl XAxis {
    /// Data x to drawing units.
    pub fn map(&self, x: f64) -> f64 {
        if self.log { x.log10() } else { x }
    }
}

impl LinesData {
    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.x))
    }

    /// The x axis: log or linear, padded 4 % each side (a lone x value gets
    /// half a decade or 10 % either side).
    pub fn x_axis(&self) -> XAxis {
        let all_positive = self.xs().all(|x| x > 0.0);
        let log = match self.x_scale {
            AxisScale::Linear => false,
            AxisScale::Log => all_positive,
            AxisScale::Auto => {
                all_positive && log_range(self.xs()).is_some_and(|(lo, hi)| decades(lo, hi) >= 3)
            }
        };
        let map = |x: f64| if log { x.log10() } else { x };
        let (mut u0, mut u1) = (f64::INFINITY, f64::NEG_INFINITY);
        for x in self.xs() {
            u0 = u0.min(map(x));
            u1 = u1.max(map(x));
        }
        if !(u0.is_finite() && u1.is_finite()) {
            return XAxis {
                log,
                u0: 0.0,
                u1: 1.0,
            };
        }
        if u1 - u0 < 1e-12 {
            let d = if log { 0.5 } else { (u0.abs() * 0.1).max(1.0) };
            return XAxis {
                log,
                u0: u0 - d,
                u1: u1 + d,
            };
        }
        let pad = (u1 - u0) * 0.04;
        XAxis {
            log,
            u0: u0 - pad,
            u1: u1 + pad,
        }
    }

    /// x tick positions in data units: the distinct x values when there
    /// are at most twelve (sweeps are read at their points), otherwise
    /// decades on a log axis or nice steps on a linear one.
    pub fn x_ticks(&self, axis: &XAxis) -> Vec<f64> {
        let mut xs: Vec<f64> = self.xs().collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1e-300));
        if xs.len() <= 12 {
            return xs;
        }
        if axis.log {
            let mut out = Vec::new();
            let mut e = axis.u0.ceil();
            while e <= axis.u1 + 1e-9 {
                out.push(10f64.powf(e));
                e += 1.0;
            }
            out
        } else {
            nice_ticks(axis.u0, axis.u1, 8).0
        }
    }

    /// The y range: every estimate and interval end, padded; kept inside
    /// 0..1 for percentages when the data is.
    pub fn y_range(&self) -> (f64, f64) {
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [p.y, p.low, p.high]));
        let clamp = matches!(self.y_format, ValueFormat::Percent { .. }).then_some((0.0, 1.0));
        padded_range(ys, 0.06, clamp)
    }

    /// Where the y axis starts when it does not start at zero although
    /// every value is positive (a zoomed axis, marked on the chart).
    pub fn zoomed(&self) -> Option<f64> {
        let (y0, _) = self.y_range();
        let all_positive = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [p.y, p.low, p.high]))
            .filter(|v| v.is_finite())
            .all(|v| v >= 0.0);
        (all_positive && y0 > 0.0).then_some(y0)
    }

    /// A series' points sorted by x.
    fn sorted(s: &LineSeriesData) -> Vec<LinePoint> {
        let mut pts = s.points.clone();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        pts
    }

    /// Runs of points with a finite estimate, as (x, y), sorted by x.
    pub fn line_runs(s: &LineSeriesData) -> Vec<Vec<(f64, f64)>> {
        split_runs(&Self::sorted(s), |p| p.y.is_finite().then_some((p.x, p.y)))
    }

    /// Runs of points with a finite interval, as (x, low, high).
    pub fn band_runs(s: &LineSeriesData) -> Vec<Vec<(f64, f64, f64)>> {
        split_runs(&Self::sorted(s), |p| {
            (p.low.is_finite() && p.high.is_finite()).then_some((
                p.x,
                p.low.min(p.high),
                p.low.max(p.high),
            ))
        })
    }
}

fn split_runs<T>(pts: &[LinePoint], f: impl Fn(&LinePoint) -> Option<T>) -> Vec<Vec<T>> {
    let mut runs: Vec<Vec<T>> = vec![Vec::new()];
    for p in pts {
        match f(p) {
            Some(v) => {
                if let Some(r) = runs.last_mut() {
                    r.push(v);
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write_lines(dir: &Path, name: &str, data: &LinesData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

impl Plot for LinesData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no series with points".into(),
            });
        }
        if let Some(x) = self.xs().find(|x| !x.is_finite()) {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("x value {x} is not finite"),
            });
        }
        if self.x_scale == AxisScale::Log
            && let Some(x) = self.xs().find(|x| *x <= 0.0)
        {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("x value {x} cannot sit on a log axis"),
            });
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;

        let has_band = self.series.iter().any(|s| !Self::band_runs(s).is_empty());
        let mut entries: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                label: s.name.clone(),
                swatch: Swatch::Line {
                    color: series_color(i),
                    width: 3,
                    dashed: false,
                    marker: Some(series_marker(i)),
                },
            })
            .collect();
        if has_band {
            entries.push(LegendEntry {
                label: "95% confidence band".into(),
                swatch: Swatch::Band(SUBTLE),
            });
        }
        let title = (!self.series_label.is_empty()).then_some(self.series_label.as_str());
        let (legend_w, _) = legend_size(&body, title, &entries)?;
        let (body_w, _) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));

        let axis = self.x_axis();
        let (y0, y1) = self.y_range();
        let y_fmt = self.y_format;
        let fmt_y = move |v: &f64| match y_fmt {
            ValueFormat::Percent { .. } => format_plain(v * 100.0) + "%",
            _ => format_si(*v),
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_left(MARGIN as u32 - 12)
            .margin_right(24)
            .margin_top(20)
            .margin_bottom(10)
            .x_label_area_size(88)
            .y_label_area_size(118)
            .build_cartesian_2d(axis.u0..axis.u1, y0..y1)?;
        let x_desc = if axis.log {
            format!("{} — log scale", self.x_label)
        } else {
            self.x_label.clone()
        };
        house_mesh(&mut chart.configure_mesh())
            .x_desc(x_desc)
            .y_desc(self.y_label.clone())
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(10)
            .y_label_offset(y_tick_nudge::<DB>(TICK_PX))
            .y_label_formatter(&fmt_y)
            .draw()?;

        // x ticks drawn here: at the swept values, thinned if they collide.
        let (x_px, y_px) = chart.plotting_area().get_pixel_range();
        let ticks: Vec<(i32, String)> = self
            .x_ticks(&axis)
            .into_iter()
            .filter(|&x| (axis.u0..=axis.u1).contains(&axis.map(x)))
            .map(|x| (chart.backend_coord(&(axis.map(x), y0)).0, format_plain(x)))
            .collect();
        draw_x_ticks(root, (x_px, y_px.clone()), &ticks)?;

        for (i, s) in self.series.iter().enumerate() {
            let c = series_color(i);
            for run in Self::band_runs(s) {
                let mut poly: Vec<(f64, f64)> =
                    run.iter().map(|&(x, _, hi)| (axis.map(x), hi)).collect();
                poly.extend(run.iter().rev().map(|&(x, lo, _)| (axis.map(x), lo)));
                if run.len() == 1 {
                    // A lone interval: a short vertical bar instead of a band.
                    let (x, lo, hi) = run[0];
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(axis.map(x), lo), (axis.map(x), hi)],
                        c.mix(0.4).stroke_width(8),
                    )))?;
                } else {
                    chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))?;
                }
            }
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = series_color(i);
            for run in Self::line_runs(s) {
                let pts: Vec<(f64, f64)> = run.iter().map(|&(x, y)| (axis.map(x), y)).collect();
                chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))?;
                for p in pts {
                    if p.1 >= y0 && p.1 <= y1 {
                        draw_marker(root, series_marker(i), chart.backend_coord(&p), 7, c)?;
                    }
                }
            }
        }
        let lx = legend_area.get_base_pixel().0;
        draw_legend(root, (lx, y_px.start - 12), title, &entries)?;
        if let Some(from) = self.zoomed() {
            let (_, legend_h) = legend_size(&body, title, &entries)?;
            let note = format!("{ZOOM_NOTE} {}", fmt_y(&from));
            draw_text(
                root,
                &note,
                (lx + 12, y_px.start + legend_h as i32 + 8),
                bold(NOTE_PX),
                TEXT,
                HPos::Left,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::plot::test_util::check_rendered;

    pub(crate) fn sample() -> LinesData {
        let xs = [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0];
        let series = [(1, 0.90), (2, 0.955), (3, 0.975)]
            .iter()
            .map(|&(r, base)| LineSeriesData {
                name: format!("{r} replica{}", if r == 1 { "" } else { "s" }),
                points: xs
                    .iter()
                    .map(|&x| {
                        let y: f64 = base + (1.0 - base) * (1.0 - (-x / 300.0f64).exp()) * 0.8;
                        let w = 0.004 + 0.02 / (x / 10.0f64).sqrt();
                        LinePoint {
                            x,
                            y,
                            low: y - w,
                            high: (y + w).min(1.0),
                        }
                    })
                    .collect(),
            })
            .collect();
        LinesData {
            title: "ketama-3node — success during a frozen node".into(),
            subtitle: "2000 req/s · fault 60 s · 20 seeds per point · band: 95% CI".into(),
            x_label: "client timeout (ms)".into(),
            y_label: "fault-window success".into(),
            series_label: "replicas per key".into(),
            x_scale: AxisScale::Log,
            y_format: ValueFormat::Percent { decimals: 1 },
            series,
        }
    }

    #[test]
    fn log_x_axis_and_ticks_at_swept_values() {
        let d = sample();
        let a = d.x_axis();
        assert!(a.log);
        assert!(a.u0 < 1.0 && a.u1 > 3.0 + 0.3);
        let ticks = d.x_ticks(&a);
        assert_eq!(ticks.len(), 8);
        assert_eq!(ticks[0], 10.0);
    }

    #[test]
    fn auto_scale_and_dense_ticks() {
        let mut d = sample();
        d.x_scale = AxisScale::Auto;
        assert!(d.x_axis().log, "10..2000 spans more than two decades");
        d.series[0].points.push(LinePoint {
            x: 0.0,
            y: 0.5,
            low: f64::NAN,
            high: f64::NAN,
        });
        assert!(!d.x_axis().log, "zero x forces linear under Auto");
        let mut d = sample();
        d.x_scale = AxisScale::Linear;
        for (i, p) in d.series[0].points.iter_mut().enumerate() {
            p.x = i as f64 * 7.0;
        }
        for (i, p) in d.series[1].points.iter_mut().enumerate() {
            p.x = i as f64 * 7.0 + 3.0;
        }
        let a = d.x_axis();
        let ticks = d.x_ticks(&a);
        assert!(
            ticks.len() < 16,
            "many distinct x fall back to nice ticks: {ticks:?}"
        );
    }

    #[test]
    fn zero_x_on_a_log_axis_is_an_error() {
        let mut d = sample();
        d.series[1].points[0].x = 0.0;
        assert!(matches!(d.validate(), Err(PlotError::InvalidData { .. })));
    }

    #[test]
    fn y_range_covers_bands_and_stays_in_percent_domain() {
        let d = sample();
        let (lo, hi) = d.y_range();
        let min_low = d
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.low))
            .fold(f64::INFINITY, f64::min);
        assert!(lo <= min_low);
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn gaps_split_lines_and_bands() {
        let mut s = sample().series.remove(0);
        s.points[3].y = f64::NAN;
        s.points[5].low = f64::NAN;
        s.points.reverse();
        let lines = LinesData::line_runs(&s);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].windows(2).all(|w| w[0].0 < w[1].0), "sorted by x");
        assert_eq!(LinesData::band_runs(&s).len(), 2);
    }

    #[test]
    fn renders_png_and_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_rendered(&write_lines(dir.path(), "lines", &sample()).expect("render"));
        let mut d = sample();
        d.series.truncate(1);
        d.series[0].points.truncate(1);
        d.x_scale = AxisScale::Auto;
        check_rendered(&write_lines(dir.path(), "one-point", &d).expect("render"));
        let mut empty = sample();
        empty.series.iter_mut().for_each(|s| s.points.clear());
        assert!(matches!(
            write_lines(dir.path(), "empty", &empty),
            Err(PlotError::NoData { .. })
        ));
    }
}
