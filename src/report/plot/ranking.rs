//! Configurations ranked by a metric: horizontal bars, best at the top,
//! 95 % confidence whiskers, a labelled vertical reference line, and the
//! value printed beside each bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{Plot, PlotError, Rendered, render};
use super::scale::{
    ValueFormat, finite_min_max, format_plain, format_si, nice_step, nice_ticks, padded_range,
};
use super::style::{
    LegendEntry, MARGIN, NOTE_PX, SUBTLE, SVG_SLACK, Swatch, TEXT, TICK_PX, bold, draw_dashed,
    draw_header, draw_legend, draw_marker, draw_text, draw_text_mid, draw_x_ticks, font,
    house_mesh, layout_width, legend_size, okabe_ito, series_marker, wrap_text,
};

const KIND: &str = crate::output::SweepChart::Ranking.stem();

/// One configuration's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingEntry {
    /// Configuration label, shown in full (long labels widen the label
    /// area; only past 55 % of the image width are they shortened).
    pub label: String,
    /// The metric; NaN ranks last and draws no bar ("n/a").
    pub value: f64,
    /// Lower end of the 95 % interval (NaN: no whisker).
    pub ci_low: f64,
    /// Upper end of the 95 % interval (NaN: no whisker).
    pub ci_high: f64,
    /// Values drawn as markers on the row, one per
    /// [`RankingData::mark_labels`] (e.g. each fault kind's mean when the
    /// bar is the worst case across them); NaN draws none.
    pub marks: Vec<f64>,
}

/// A vertical reference line, e.g. an SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceLine {
    /// Where, in metric units.
    pub value: f64,
    /// Label drawn at its top, e.g. "99% SLO".
    pub label: String,
}

/// Input of the ranking chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingData {
    /// Title, e.g. the model name.
    pub title: String,
    /// Subtitle: the fixed parameters.
    pub subtitle: String,
    /// x-axis title with unit, e.g. "fault-window success".
    pub metric_label: String,
    /// How values and ticks are printed.
    pub format: ValueFormat,
    /// Whether larger values rank higher.
    pub higher_is_better: bool,
    /// Optional reference line.
    pub reference: Option<ReferenceLine>,
    /// What the bar is, in the legend (e.g. "worst case across fault kinds").
    pub bar_label: String,
    /// The legend's names of each entry's `marks`.
    pub mark_labels: Vec<String>,
    /// Entries in any order.
    pub entries: Vec<RankingEntry>,
}

impl RankingData {
    /// Entries best first, missing values last; equal values by their
    /// interval (the one whose pessimistic end is better first), then by
    /// label.
    pub fn ranked(&self) -> Vec<&RankingEntry> {
        let mut v: Vec<&RankingEntry> = self.entries.iter().collect();
        let higher = self.higher_is_better;
        let better = |x: f64, y: f64| {
            if higher {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            }
        };
        let pessimistic = |e: &RankingEntry| {
            let p = if higher { e.ci_low } else { e.ci_high };
            if p.is_finite() { p } else { e.value }
        };
        v.sort_by(|a, b| match (a.value.is_finite(), b.value.is_finite()) {
            (true, true) => better(a.value, b.value)
                .then_with(|| better(pessimistic(a), pessimistic(b)))
                .then_with(|| a.label.cmp(&b.label)),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => a.label.cmp(&b.label),
        });
        v
    }

    /// The rows drawn when only `max_rows` fit: all of them, or the best
    /// and the worst with `None` (a "… more" row) between, so the failing
    /// end is always on the chart.
    pub fn shown_rows(&self, max_rows: usize) -> Vec<Option<&RankingEntry>> {
        let ranked = self.ranked();
        if ranked.len() <= max_rows {
            return ranked.into_iter().map(Some).collect();
        }
        let room = max_rows.max(3) - 1;
        let top = room.div_ceil(2);
        let bottom = room - top;
        let mut out: Vec<Option<&RankingEntry>> = ranked[..top].iter().copied().map(Some).collect();
        out.push(None);
        out.extend(ranked[ranked.len() - bottom..].iter().copied().map(Some));
        out
    }

    /// Where the x axis starts when it does not start at zero although
    /// every value is positive (bars then start at a zoomed axis, marked
    /// on the chart).
    pub fn zoomed(&self) -> Option<f64> {
        let (x0, _) = self.x_range();
        let positive = self
            .entries
            .iter()
            .flat_map(|e| [e.value, e.ci_low, e.ci_high])
            .filter(|v| v.is_finite())
            .all(|v| v >= 0.0);
        (positive && x0 > 0.0).then_some(x0)
    }

    /// The x range: all values, interval ends and the reference line.
    /// It starts at zero when the smallest value is under half the largest
    /// (bars then compare by length); otherwise it zooms in so close
    /// results stay distinguishable, and the bars start at the axis.
    pub fn x_range(&self) -> (f64, f64) {
        let vals = || {
            self.entries
                .iter()
                .flat_map(|e| {
                    [e.value, e.ci_low, e.ci_high]
                        .into_iter()
                        .chain(e.marks.clone())
                })
                .chain(self.reference.as_ref().map(|r| r.value))
        };
        let clamp = matches!(self.format, ValueFormat::Percent { .. }).then_some((0.0, 1.0));
        let (lo, hi) = padded_range(vals(), 0.05, clamp);
        match finite_min_max(vals()) {
            Some((min, max)) if min >= 0.0 && min <= 0.5 * max => (0.0, hi),
            _ => {
                // Start on a tick so the bars' origin is labelled.
                let mut lo = lo;
                for _ in 0..4 {
                    let step = nice_step(lo, hi, 5);
                    let aligned = (lo / step + 1e-9).floor() * step;
                    if (aligned - lo).abs() <= step * 1e-9 {
                        break;
                    }
                    lo = aligned;
                }
                (lo, hi)
            }
        }
    }

    /// x ticks: nice steps from the left end of [`Self::x_range`], which is
    /// always one of them.
    pub fn x_ticks(&self) -> Vec<f64> {
        let (lo, hi) = self.x_range();
        nice_ticks(lo, hi, 5).0
    }
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write_ranking(dir: &Path, name: &str, data: &RankingData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

const BAR: RGBColor = okabe_ito::BLUE;

/// The note beside a zoomed value axis (followed by where it starts).
pub const ZOOM_NOTE: &str = "zoomed: axis starts at";

/// The colour of the `k`-th kind of marker (never the bar's blue).
fn mark_color(k: usize) -> RGBColor {
    const MARKS: [RGBColor; 4] = [
        okabe_ito::VERMILLION,
        okabe_ito::BLACK,
        okabe_ito::BLUISH_GREEN,
        okabe_ito::REDDISH_PURPLE,
    ];
    MARKS[k % MARKS.len()]
}
const REFERENCE: RGBColor = okabe_ito::VERMILLION;
/// Smallest label font and row pitch before rows are cut.
const MIN_LABEL_PX: f64 = 20.0;

impl Plot for RankingData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.entries.is_empty() {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no configurations".into(),
            });
        }
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.value.is_infinite() || e.ci_low.is_infinite() || e.ci_high.is_infinite())
        {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("{:?} has an infinite value or interval", e.label),
            });
        }
        if let Some(r) = &self.reference
            && !r.value.is_finite()
        {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("reference line {:?} is at {}", r.label, r.value),
            });
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;
        let n_entries = self.entries.len();
        let mut entries = vec![
            LegendEntry {
                label: self.bar_label.clone(),
                swatch: Swatch::Block(BAR),
            },
            LegendEntry {
                label: "95% confidence interval".into(),
                swatch: Swatch::Whisker(TEXT),
            },
        ];
        for (i, l) in self.mark_labels.iter().enumerate() {
            entries.push(LegendEntry {
                label: l.clone(),
                swatch: Swatch::Line {
                    color: mark_color(i),
                    width: 0,
                    dashed: false,
                    marker: Some(series_marker(i)),
                },
            });
        }
        let (legend_w, legend_h) = legend_size(&body, None, &entries)?;
        let (body_w, body_h) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));

        // Rows: shrink the label font to the row pitch; past the smallest
        // legible size, the middle of the ranking gives way to a "more"
        // row so both the best and the worst stay on the chart.
        const X_AREA: u32 = 88;
        let ref_h: u32 = if self.reference.is_some() { 44 } else { 16 };
        let plot_h = body_h.saturating_sub(X_AREA + ref_h + 10) as f64;
        let max_rows = ((plot_h / (MIN_LABEL_PX / 0.62)).floor() as usize).max(1);
        let rows = self.shown_rows(max_rows);
        let shown = rows.len();
        let pitch = plot_h / shown as f64;
        let label_px = (TICK_PX).min(pitch * 0.62).max(MIN_LABEL_PX);
        let label_font = font(label_px);
        let hidden = (n_entries + 1).saturating_sub(shown);
        let more = format!("… {hidden} more …");

        // Label area from the longest label, capped at 55 % of the width;
        // a longer label wraps onto more lines (never cut).
        let cap = (body_w as f64 * 0.55 / SVG_SLACK) as u32;
        let mut labels: Vec<Vec<String>> = Vec::with_capacity(shown);
        let mut label_w = 0u32;
        for e in &rows {
            let lines = match e {
                Some(e) => wrap_text(root, &e.label, &label_font, cap)?,
                None => vec![more.clone()],
            };
            for l in &lines {
                label_w = label_w.max(layout_width(root, l, &label_font)?);
            }
            labels.push(lines);
        }
        let values: Vec<String> = rows
            .iter()
            .map(|e| e.map_or(String::new(), |e| self.format.format(e.value)))
            .collect();
        let mut value_w = 0u32;
        for v in &values {
            value_w = value_w.max(layout_width(root, v, &label_font)?);
        }

        let (x0, x1) = self.x_range();
        let n = shown as f64;
        let fmt = self.format;
        let fmt_x = move |v: &f64| match fmt {
            ValueFormat::Percent { .. } => format_plain(v * 100.0) + "%",
            _ => format_si(*v),
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_left(MARGIN as u32 - 12)
            .margin_right(value_w + 24)
            .margin_top(ref_h)
            .margin_bottom(10)
            .x_label_area_size(X_AREA)
            .y_label_area_size(label_w + 18)
            .build_cartesian_2d(x0..x1, 0.0..n)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(self.metric_label.clone())
            .disable_y_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .draw()?;
        let (x_px, y_px) = chart.plotting_area().get_pixel_range();
        let ticks: Vec<(i32, String)> = self
            .x_ticks()
            .into_iter()
            .map(|x| (chart.backend_coord(&(x, 0.0)).0, fmt_x(&x)))
            .collect();
        draw_x_ticks(root, (x_px.clone(), y_px.clone()), &ticks)?;

        for (i, row) in rows.iter().enumerate() {
            let top = n - i as f64;
            let (_, cy) = chart.backend_coord(&(x0, top - 0.5));
            let Some(e) = row else {
                draw_text_mid(
                    root,
                    &more,
                    (x_px.start - 12, cy),
                    font(NOTE_PX),
                    SUBTLE,
                    HPos::Right,
                )?;
                continue;
            };
            let (y_a, y_b) = (top - 0.2, top - 0.8);
            if e.value.is_finite() {
                let v = e.value.clamp(x0, x1);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y_a), (v, y_b)],
                    BAR.filled(),
                )))?;
            }
            if e.ci_low.is_finite() && e.ci_high.is_finite() {
                let (lo, hi) = (
                    e.ci_low.min(e.ci_high).clamp(x0, x1),
                    e.ci_high.max(e.ci_low).clamp(x0, x1),
                );
                let mid = top - 0.5;
                let s = TEXT.stroke_width(3);
                chart.draw_series([
                    PathElement::new(vec![(lo, mid), (hi, mid)], s),
                    PathElement::new(vec![(lo, mid - 0.17), (lo, mid + 0.17)], s),
                    PathElement::new(vec![(hi, mid - 0.17), (hi, mid + 0.17)], s),
                ])?;
            }
            for (k, m) in e.marks.iter().enumerate() {
                if m.is_finite() {
                    let p = chart.backend_coord(&(m.clamp(x0, x1), top - 0.5));
                    let size = ((pitch * 0.22) as i32).clamp(4, 9);
                    draw_marker(root, series_marker(k), p, size, mark_color(k))?;
                }
            }
            let lines = &labels[i];
            let step = (label_px * 1.1) as i32;
            let first = cy - step * (lines.len() as i32 - 1) / 2;
            for (j, l) in lines.iter().enumerate() {
                draw_text_mid(
                    root,
                    l,
                    (x_px.start - 12, first + j as i32 * step),
                    label_font.clone(),
                    TEXT,
                    HPos::Right,
                )?;
            }
            draw_text_mid(
                root,
                &values[i],
                (x_px.end + 12, cy),
                label_font.clone(),
                TEXT,
                HPos::Left,
            )?;
        }

        if let Some(r) = &self.reference
            && (x0..=x1).contains(&r.value)
        {
            let (px, _) = chart.backend_coord(&(r.value, 0.0));
            draw_dashed(
                root,
                (px, y_px.start - 6),
                (px, y_px.end),
                REFERENCE.stroke_width(3),
                12.0,
                7.0,
            )?;
            let w = layout_width(root, &r.label, &bold(NOTE_PX))? as i32;
            let lo = x_px.start + w / 2;
            let cx = px.clamp(lo, (x_px.end + value_w as i32 - w / 2).max(lo));
            draw_text(
                root,
                &r.label,
                (cx, y_px.start - 40),
                bold(NOTE_PX),
                REFERENCE,
                HPos::Center,
            )?;
        }
        let lx = legend_area.get_base_pixel().0;
        draw_legend(root, (lx, y_px.start - 12), None, &entries)?;
        if let Some(from) = self.zoomed() {
            let note = format!("{ZOOM_NOTE} {}", fmt_x(&from));
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

    pub(crate) fn sample() -> RankingData {
        let cfg = [
            (
                "ketama · 3 replicas · timeout 100 ms · hedged reads",
                0.9962,
                0.0012,
            ),
            ("ketama · 2 replicas · timeout 100 ms", 0.9921, 0.0018),
            ("modulo · 1 replica · timeout 50 ms", 0.9412, 0.0041),
            (
                "ketama · 1 replica · timeout 100 ms · failure detector 2 strikes / 5 s",
                0.9733,
                0.0030,
            ),
            ("rendezvous · 2 replicas · timeout 200 ms", 0.9895, 0.0022),
            ("ketama · 1 replica · timeout 500 ms", 0.9558, 0.0052),
        ];
        RankingData {
            title: "Which client configuration survives a frozen node?".into(),
            subtitle: "3 nodes · 2000 req/s · fault 60 s · 20 seeds each · whiskers: 95% CI".into(),
            metric_label: "fault-window success".into(),
            format: ValueFormat::Percent { decimals: 1 },
            higher_is_better: true,
            reference: Some(ReferenceLine {
                value: 0.99,
                label: "99% target".into(),
            }),
            bar_label: "worst of frozen, crash".into(),
            mark_labels: vec!["frozen".into(), "crash".into()],
            entries: cfg
                .iter()
                .map(|&(l, v, w)| RankingEntry {
                    label: l.into(),
                    value: v,
                    ci_low: v - w,
                    ci_high: (v + w).min(1.0),
                    marks: vec![v - w / 2.0, (v + w / 3.0).min(1.0)],
                })
                .collect(),
        }
    }

    #[test]
    fn ranks_best_first_and_missing_last() {
        let mut d = sample();
        d.entries.push(RankingEntry {
            label: "broken".into(),
            value: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            marks: vec![],
        });
        let r = d.ranked();
        assert_eq!(r[0].value, 0.9962);
        assert!(r.windows(2).take(5).all(|w| w[0].value >= w[1].value));
        assert_eq!(r.last().map(|e| e.label.as_str()), Some("broken"));
        d.higher_is_better = false;
        assert_eq!(d.ranked()[0].value, 0.9412);
    }

    #[test]
    fn ties_break_by_interval_then_label_and_both_ends_stay() {
        let e = |label: &str, v: f64, lo: f64| RankingEntry {
            label: label.into(),
            value: v,
            ci_low: lo,
            ci_high: 1.0,
            marks: vec![],
        };
        let mut d = sample();
        d.entries = vec![
            e("b", 1.0, 1.0),
            e("a", 1.0, 0.9),
            e("c", 1.0, 1.0),
            e("z", 0.5, 0.4),
        ];
        let order: Vec<&str> = d.ranked().iter().map(|e| e.label.as_str()).collect();
        // Equal means: the tighter pessimistic end first, then by label.
        assert_eq!(order, ["b", "c", "a", "z"]);
        d.higher_is_better = false;
        let order: Vec<&str> = d.ranked().iter().map(|e| e.label.as_str()).collect();
        assert_eq!(order, ["z", "a", "b", "c"]);
        // Sixty rows where ten fit: the best and the worst are both shown,
        // with one "more" row between them.
        let c = crowded();
        let ranked = c.ranked();
        let rows = c.shown_rows(10);
        assert_eq!(rows.len(), 10);
        assert_eq!(rows.iter().filter(|r| r.is_none()).count(), 1);
        assert_eq!(rows[0].map(|e| &e.label), Some(&ranked[0].label));
        assert_eq!(
            rows[9].map(|e| &e.label),
            Some(&ranked[ranked.len() - 1].label),
            "the worst configuration is on the chart"
        );
        assert_eq!(c.shown_rows(100).len(), 60);
    }

    #[test]
    fn x_range_zooms_on_close_values_and_includes_the_reference() {
        let d = sample();
        let (lo, hi) = d.x_range();
        assert!(lo > 0.8 && lo <= 0.9412 - 0.0041, "{lo}");
        assert_eq!(d.zoomed(), Some(lo), "a zoomed axis is marked");
        assert_eq!(hi, 1.0);
        let ticks = d.x_ticks();
        assert_eq!(
            ticks.first().copied(),
            Some(lo),
            "the bars' origin is a tick"
        );
        assert!((ticks.last().copied().unwrap_or(0.0) - 1.0).abs() < 1e-9);
        let mut wide = sample();
        wide.entries[0].value = 0.2;
        assert_eq!(wide.x_range().0, 0.0, "far-apart values start at zero");
        assert_eq!(wide.zoomed(), None);
        let mut low_ref = sample();
        low_ref.reference = Some(ReferenceLine {
            value: 0.4,
            label: "x".into(),
        });
        assert_eq!(low_ref.x_range().0, 0.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut d = sample();
        d.entries.clear();
        assert!(matches!(d.validate(), Err(PlotError::NoData { .. })));
        let mut d = sample();
        d.entries[0].ci_high = f64::INFINITY;
        assert!(matches!(d.validate(), Err(PlotError::InvalidData { .. })));
    }

    /// Sixty configurations with long labels: rows are cut to what fits.
    pub(crate) fn crowded() -> RankingData {
        let mut d = sample();
        let base = d.entries.clone();
        d.entries = (0..60)
            .map(|i| {
                let mut e = base[i % base.len()].clone();
                e.label = format!("{} · variant {i}", e.label);
                let shift = i as f64 * 0.0005;
                e.value -= shift;
                e.ci_low -= shift;
                e.ci_high -= shift;
                e
            })
            .collect();
        d
    }

    #[test]
    fn renders_png_and_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_rendered(&write_ranking(dir.path(), "ranking", &sample()).expect("render"));
        check_rendered(&write_ranking(dir.path(), "crowded", &crowded()).expect("render"));
        let mut zero = sample();
        zero.reference = None;
        zero.format = ValueFormat::Auto;
        for e in &mut zero.entries {
            (e.value, e.ci_low, e.ci_high) = (0.0, f64::NAN, f64::NAN);
        }
        check_rendered(&write_ranking(dir.path(), "zero", &zero).expect("render"));
    }
}
