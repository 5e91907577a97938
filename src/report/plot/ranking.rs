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
    draw_header, draw_legend, draw_text, draw_text_mid, draw_x_ticks, fit_text, font, house_mesh,
    layout_width, legend_size, okabe_ito,
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
    /// Entries in any order.
    pub entries: Vec<RankingEntry>,
}

impl RankingData {
    /// Entries best first; missing values last, ties in input order.
    pub fn ranked(&self) -> Vec<&RankingEntry> {
        let mut v: Vec<&RankingEntry> = self.entries.iter().collect();
        v.sort_by(|a, b| match (a.value.is_finite(), b.value.is_finite()) {
            (true, true) => {
                if self.higher_is_better {
                    b.value.total_cmp(&a.value)
                } else {
                    a.value.total_cmp(&b.value)
                }
            }
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => std::cmp::Ordering::Equal,
        });
        v
    }

    /// The x range: all values, interval ends and the reference line.
    /// It starts at zero when the smallest value is under half the largest
    /// (bars then compare by length); otherwise it zooms in so close
    /// results stay distinguishable, and the bars start at the axis.
    pub fn x_range(&self) -> (f64, f64) {
        let vals = || {
            self.entries
                .iter()
                .flat_map(|e| [e.value, e.ci_low, e.ci_high])
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
        let ranked = self.ranked();

        let entries = vec![
            LegendEntry {
                label: "value".into(),
                swatch: Swatch::Block(BAR),
            },
            LegendEntry {
                label: "95% confidence interval".into(),
                swatch: Swatch::Whisker(TEXT),
            },
        ];
        let (legend_w, _) = legend_size(&body, None, &entries)?;
        let (body_w, body_h) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));

        // Rows: shrink the label font to the row pitch, cut rows past the
        // smallest legible size.
        const X_AREA: u32 = 88;
        let ref_h: u32 = if self.reference.is_some() { 44 } else { 16 };
        let plot_h = body_h.saturating_sub(X_AREA + ref_h + 10) as f64;
        let max_rows = ((plot_h / (MIN_LABEL_PX / 0.62)).floor() as usize).max(1);
        let shown = ranked.len().min(max_rows);
        let pitch = plot_h / shown as f64;
        let label_px = (TICK_PX).min(pitch * 0.62).max(MIN_LABEL_PX);
        let label_font = font(label_px);

        // Label area from the longest label, capped at 55 % of the width.
        let cap = (body_w as f64 * 0.55 / SVG_SLACK) as u32;
        let mut labels = Vec::with_capacity(shown);
        let mut label_w = 0u32;
        for e in &ranked[..shown] {
            let s = fit_text(root, &e.label, &label_font, cap)?;
            label_w = label_w.max(layout_width(root, &s, &label_font)?);
            labels.push(s);
        }
        let values: Vec<String> = ranked[..shown]
            .iter()
            .map(|e| self.format.format(e.value))
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

        for (i, e) in ranked[..shown].iter().enumerate() {
            let top = n - i as f64;
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
            let (_, cy) = chart.backend_coord(&(x0, top - 0.5));
            draw_text_mid(
                root,
                &labels[i],
                (x_px.start - 12, cy),
                label_font.clone(),
                TEXT,
                HPos::Right,
            )?;
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
        if shown < ranked.len() {
            let note = format!("top {shown} of {} shown", ranked.len());
            draw_text(
                root,
                &note,
                (lx + 12, y_px.start + 96),
                font(NOTE_PX),
                SUBTLE,
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
            entries: cfg
                .iter()
                .map(|&(l, v, w)| RankingEntry {
                    label: l.into(),
                    value: v,
                    ci_low: v - w,
                    ci_high: (v + w).min(1.0),
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
        });
        let r = d.ranked();
        assert_eq!(r[0].value, 0.9962);
        assert!(r.windows(2).take(5).all(|w| w[0].value >= w[1].value));
        assert_eq!(r.last().map(|e| e.label.as_str()), Some("broken"));
        d.higher_is_better = false;
        assert_eq!(d.ranked()[0].value, 0.9412);
    }

    #[test]
    fn x_range_zooms_on_close_values_and_includes_the_reference() {
        let d = sample();
        let (lo, hi) = d.x_range();
        assert!(lo > 0.8 && lo <= 0.9412 - 0.0041, "{lo}");
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
