//! Requests per second by outcome over simulated time (stacked areas),
//! p99 latency on a secondary log axis, fault windows shaded.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{FaultWindow, Plot, PlotError, Rendered, render, validate_faults};
use super::scale::{decades, format_log_tick, format_plain, format_si, log_range, nice_ceil};
use super::style::{
    AXIS, AXIS_PX, FAULT_ROW_H, LEGEND_PX, LegendEntry, MARGIN, SUBTLE, Swatch, TEXT, TICK_PX,
    draw_header, draw_legend, draw_text_mid, fault_label_rows, fault_spans, font, house_mesh,
    label_faults, legend_size, okabe_ito, shade_faults, text_size, y_tick_nudge,
};

/// The legend's explanation of a break in the p99 line.
pub const GAP_LABEL: &str = "break in the p99 line: no request completed";

const KIND: &str = crate::output::RunChart::Timeline.stem();

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeBand {
    /// Answered from the cache.
    SucceededCache,
    /// Answered after a cache miss, from the database.
    SucceededDatabase,
    /// Answered, but after its deadline.
    Late,
    /// Refused (load shedding, open circuit breaker).
    Rejected,
    /// Gave up waiting.
    TimedOut,
    /// Failed with an error.
    Failed,
}

impl OutcomeBand {
    /// All outcomes in stacking order, bottom first.
    pub const ALL: [OutcomeBand; 6] = [
        OutcomeBand::SucceededCache,
        OutcomeBand::SucceededDatabase,
        OutcomeBand::Late,
        OutcomeBand::Rejected,
        OutcomeBand::TimedOut,
        OutcomeBand::Failed,
    ];

    /// Legend label.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeBand::SucceededCache => "succeeded (cache)",
            OutcomeBand::SucceededDatabase => "succeeded (database)",
            OutcomeBand::Late => "late",
            OutcomeBand::Rejected => "rejected",
            OutcomeBand::TimedOut => "timed out",
            OutcomeBand::Failed => "failed",
        }
    }

    fn color(self) -> RGBColor {
        match self {
            OutcomeBand::SucceededCache => okabe_ito::BLUISH_GREEN,
            OutcomeBand::SucceededDatabase => okabe_ito::SKY_BLUE,
            OutcomeBand::Late => okabe_ito::YELLOW,
            OutcomeBand::Rejected => okabe_ito::ORANGE,
            OutcomeBand::TimedOut => okabe_ito::REDDISH_PURPLE,
            OutcomeBand::Failed => okabe_ito::VERMILLION,
        }
    }
}

/// Requests per second of each outcome in one bucket. NaN means "not
/// recorded" and counts as zero; negative or infinite rates are errors.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OutcomeRates {
    pub succeeded_cache: f64,
    pub succeeded_database: f64,
    pub late: f64,
    pub rejected: f64,
    pub timed_out: f64,
    pub failed: f64,
}

impl OutcomeRates {
    /// The rate of one outcome.
    pub fn get(&self, o: OutcomeBand) -> f64 {
        match o {
            OutcomeBand::SucceededCache => self.succeeded_cache,
            OutcomeBand::SucceededDatabase => self.succeeded_database,
            OutcomeBand::Late => self.late,
            OutcomeBand::Rejected => self.rejected,
            OutcomeBand::TimedOut => self.timed_out,
            OutcomeBand::Failed => self.failed,
        }
    }
}

/// One time bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineBucket {
    /// Bucket start, simulated seconds.
    pub start_s: f64,
    /// Requests per second by outcome.
    pub rates: OutcomeRates,
    /// p99 latency of the requests completed in the bucket, in ms; `None`
    /// (or a value that is not positive and finite) leaves a gap.
    pub p99_latency_ms: Option<f64>,
}

/// Input of the timeline chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineData {
    /// Title, e.g. the model name.
    pub title: String,
    /// Subtitle: the fixed parameters.
    pub subtitle: String,
    /// Width of every bucket, in simulated seconds.
    pub bucket_width_s: f64,
    /// Buckets in increasing start order.
    pub buckets: Vec<TimelineBucket>,
    /// Fault windows to shade.
    pub faults: Vec<FaultWindow>,
}

fn rate(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

fn p99(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite() && *v > 0.0)
}

impl TimelineData {
    /// Outcomes with a positive rate somewhere, bottom of the stack first:
    /// only these are drawn and listed in the legend.
    pub fn visible_outcomes(&self) -> Vec<OutcomeBand> {
        OutcomeBand::ALL
            .into_iter()
            .filter(|&o| self.buckets.iter().any(|b| rate(b.rates.get(o)) > 0.0))
            .collect()
    }

    /// Cumulative stack tops per bucket: `[i][k]` is the sum of the rates of
    /// `OutcomeBand::ALL[..=k]` in bucket `i` (NaN counted as zero).
    pub fn stacked(&self) -> Vec<[f64; 6]> {
        self.buckets
            .iter()
            .map(|b| {
                let mut acc = 0.0;
                let mut tops = [0.0; 6];
                for (k, o) in OutcomeBand::ALL.into_iter().enumerate() {
                    acc += rate(b.rates.get(o));
                    tops[k] = acc;
                }
                tops
            })
            .collect()
    }

    /// Top of the requests-per-second axis: a nice number above the
    /// highest stack (1 when everything is zero).
    pub fn rate_axis_max(&self) -> f64 {
        let max = self.stacked().iter().map(|t| t[5]).fold(0.0, f64::max);
        nice_ceil(max * 1.04)
    }

    /// Range of the p99 log axis: whole decades around the positive values
    /// (zeros and gaps ignored), 1–1000 ms when there are none.
    pub fn latency_axis(&self) -> (f64, f64) {
        log_range(self.buckets.iter().filter_map(|b| p99(b.p99_latency_ms)))
            .unwrap_or((1.0, 1000.0))
    }

    /// Visible time range: first bucket start to last bucket end.
    pub fn time_range(&self) -> (f64, f64) {
        match (self.buckets.first(), self.buckets.last()) {
            (Some(a), Some(b)) => (a.start_s, b.start_s + self.bucket_width_s),
            _ => (0.0, 1.0),
        }
    }

    /// End of bucket `i`: its start plus the width, cut at the next start.
    fn bucket_end(&self, i: usize) -> f64 {
        let end = self.buckets[i].start_s + self.bucket_width_s;
        match self.buckets.get(i + 1) {
            Some(next) => end.min(next.start_s),
            None => end,
        }
    }

    /// Step-shaped polygons (data coordinates) for one outcome's band: one
    /// per run of consecutive buckets where the band is thicker than zero,
    /// so zero stretches draw nothing (not even a hairline).
    pub fn band_polygons(&self, stacked: &[[f64; 6]], o: OutcomeBand) -> Vec<Vec<(f64, f64)>> {
        let k = OutcomeBand::ALL.iter().position(|&x| x == o).unwrap_or(0);
        let n = self.buckets.len().min(stacked.len());
        let low = |i: usize| if k == 0 { 0.0 } else { stacked[i][k - 1] };
        let top = |i: usize| stacked[i][k];
        let thick = |i: usize| top(i) - low(i) > 0.0;
        let mut polys = Vec::new();
        let mut i = 0;
        while i < n {
            if !thick(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && thick(i) {
                i += 1;
            }
            let mut pts = Vec::with_capacity((i - start) * 4);
            for j in start..i {
                pts.push((self.buckets[j].start_s, top(j)));
                pts.push((self.bucket_end(j), top(j)));
            }
            for j in (start..i).rev() {
                pts.push((self.bucket_end(j), low(j)));
                pts.push((self.buckets[j].start_s, low(j)));
            }
            polys.push(pts);
        }
        polys
    }

    /// Whether the p99 line breaks: a bucket between two with a p99 has
    /// none (no request completed in it).
    pub fn latency_gaps(&self) -> bool {
        let has: Vec<bool> = self
            .buckets
            .iter()
            .map(|b| p99(b.p99_latency_ms).is_some())
            .collect();
        let (Some(first), Some(last)) = (has.iter().position(|&h| h), has.iter().rposition(|&h| h))
        else {
            return false;
        };
        has[first..=last].iter().any(|&h| !h)
    }

    /// p99 line pieces at bucket midpoints, broken where there is no value.
    fn latency_segments(&self) -> Vec<Vec<(f64, f64)>> {
        let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, b) in self.buckets.iter().enumerate() {
            match p99(b.p99_latency_ms) {
                Some(v) => {
                    let mid = (b.start_s + self.bucket_end(i)) / 2.0;
                    if let Some(seg) = segs.last_mut() {
                        seg.push((mid, v));
                    }
                }
                None => segs.push(Vec::new()),
            }
        }
        segs.retain(|s| !s.is_empty());
        segs
    }
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write_timeline(dir: &Path, name: &str, data: &TimelineData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

impl Plot for TimelineData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.buckets.is_empty() {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no time buckets".into(),
            });
        }
        if !(self.bucket_width_s.is_finite() && self.bucket_width_s > 0.0) {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("bucket width {} s is not positive", self.bucket_width_s),
            });
        }
        let mut prev = f64::NEG_INFINITY;
        for b in &self.buckets {
            if !b.start_s.is_finite() || b.start_s <= prev {
                return Err(PlotError::InvalidData {
                    chart: KIND,
                    reason: format!("bucket start {} s is not finite and increasing", b.start_s),
                });
            }
            prev = b.start_s;
            for o in OutcomeBand::ALL {
                let v = b.rates.get(o);
                if v < 0.0 || v.is_infinite() {
                    return Err(PlotError::InvalidData {
                        chart: KIND,
                        reason: format!("rate of {:?} at {} s is {v}", o.label(), b.start_s),
                    });
                }
            }
        }
        validate_faults(KIND, &self.faults)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;

        let visible = self.visible_outcomes();
        let segments = self.latency_segments();
        let mut entries = Vec::new();
        if !segments.is_empty() {
            entries.push(LegendEntry {
                label: "p99 latency (right axis)".into(),
                swatch: Swatch::Line {
                    color: okabe_ito::BLACK,
                    width: 3,
                    dashed: false,
                    marker: None,
                },
            });
        }
        if self.latency_gaps() {
            entries.push(LegendEntry {
                label: GAP_LABEL.into(),
                swatch: Swatch::Line {
                    color: SUBTLE,
                    width: 2,
                    dashed: true,
                    marker: None,
                },
            });
        }
        for o in visible.iter().rev() {
            entries.push(LegendEntry {
                label: o.label().into(),
                swatch: Swatch::Block(o.color()),
            });
        }
        if !self.faults.is_empty() {
            entries.push(LegendEntry {
                label: "fault window".into(),
                swatch: Swatch::Shade,
            });
        }
        let legend_title = Some("requests by outcome");
        let (legend_w, _) = legend_size(&body, legend_title, &entries)?;
        let (body_w, _) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));

        // Geometry fixed up front so fault labels can be laid out before
        // the chart is built (they decide the top margin).
        const Y_AREA: u32 = 105;
        const R_AREA: u32 = 105;
        const X_AREA: u32 = 88;
        let (ml, mr) = (MARGIN as u32 - 12, 24u32);
        let right_area = if segments.is_empty() { 0 } else { R_AREA };
        let (t0, t1) = self.time_range();
        let (pw, _) = plot_area.dim_in_pixel();
        let base = plot_area.get_base_pixel();
        let px_left = base.0 + (ml + Y_AREA) as i32;
        let px_right = base.0 + pw as i32 - (mr + right_area) as i32;
        let to_px =
            |s: f64| px_left + ((s - t0) / (t1 - t0) * (px_right - px_left) as f64).round() as i32;
        let spans = fault_spans(&self.faults, (t0, t1), to_px);
        let rows = fault_label_rows(root, &spans, (px_left, px_right))?;
        let margin_top = 14 + rows as u32 * FAULT_ROW_H as u32;

        let y_max = self.rate_axis_max();
        let (lat_lo, lat_hi) = self.latency_axis();
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_left(ml)
            .margin_right(mr)
            .margin_top(margin_top)
            .margin_bottom(10)
            .x_label_area_size(X_AREA)
            .y_label_area_size(Y_AREA)
            .right_y_label_area_size(right_area)
            .build_cartesian_2d(t0..t1, 0.0..y_max)?
            .set_secondary_coord(t0..t1, (lat_lo..lat_hi).log_scale());

        house_mesh(&mut chart.configure_mesh())
            .x_desc("simulated time (s)")
            .y_desc("requests per second")
            .x_labels(12)
            .y_labels(7)
            .x_label_formatter(&|v| format_plain(*v))
            .y_label_offset(y_tick_nudge::<DB>(TICK_PX))
            .y_label_formatter(&|v| format_si(*v))
            .draw()?;
        if !segments.is_empty() {
            chart
                .configure_secondary_axes()
                .y_desc("p99 latency (ms, log scale)")
                .label_style(font(TICK_PX).color(&TEXT))
                .axis_desc_style(font(AXIS_PX).color(&TEXT))
                .y_labels(decades(lat_lo, lat_hi) + 1)
                .y_label_offset(y_tick_nudge::<DB>(TICK_PX))
                .y_label_formatter(&|v| format_log_tick(*v))
                .axis_style(AXIS.stroke_width(2))
                .draw()?;
        }

        let stacked = self.stacked();
        for &o in &visible {
            for poly in self.band_polygons(&stacked, o) {
                chart.draw_series(std::iter::once(Polygon::new(poly, o.color().filled())))?;
            }
        }

        let (_, y_px) = chart.plotting_area().get_pixel_range();
        let (plot_top, plot_bottom) = (y_px.start, y_px.end);
        shade_faults(root, &spans, (plot_top, plot_bottom))?;

        if visible.is_empty() {
            let note = "no requests recorded";
            let (nw, _) = text_size(root, note, &font(LEGEND_PX))?;
            let (cx, cy) = ((px_left + px_right) / 2, (plot_top + plot_bottom) / 2);
            let half = nw as i32 / 2 + 14;
            root.draw(&Rectangle::new(
                [(cx - half, cy - 22), (cx + half, cy + 22)],
                WHITE.filled(),
            ))?;
            draw_text_mid(root, note, (cx, cy), font(LEGEND_PX), SUBTLE, HPos::Center)?;
        }
        for seg in segments {
            chart.draw_secondary_series(LineSeries::new(seg, okabe_ito::BLACK.stroke_width(3)))?;
        }
        label_faults(root, &spans, plot_top, (px_left, px_right))?;
        let lx = legend_area.get_base_pixel().0;
        draw_legend(root, (lx, plot_top - 12), legend_title, &entries)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::plot::test_util::check_rendered;

    /// A 120 s run at ~2000 req/s with a node frozen from 40 s to 70 s.
    pub(crate) fn sample() -> TimelineData {
        let buckets = (0..120)
            .map(|i| {
                let t = i as f64;
                let in_fault = (40.0..70.0).contains(&t);
                let wobble = ((t * 0.7).sin() * 40.0).round();
                let rates = if in_fault {
                    OutcomeRates {
                        succeeded_cache: 1250.0 + wobble,
                        succeeded_database: 180.0,
                        late: 90.0,
                        rejected: 0.0,
                        timed_out: 420.0 - wobble,
                        failed: 60.0,
                    }
                } else {
                    OutcomeRates {
                        succeeded_cache: 1880.0 + wobble,
                        succeeded_database: 120.0 - wobble / 4.0,
                        ..OutcomeRates::default()
                    }
                };
                TimelineBucket {
                    start_s: t,
                    rates,
                    p99_latency_ms: Some(if in_fault {
                        250.0 + 40.0 * (t * 0.3).cos()
                    } else {
                        2.2 + wobble / 100.0
                    }),
                }
            })
            .collect();
        TimelineData {
            title: "ketama-3node — frozen node".into(),
            subtitle: "3 nodes · 2000 req/s · timeout 200 ms · 1 s buckets · seed 42".into(),
            bucket_width_s: 1.0,
            buckets,
            faults: vec![FaultWindow {
                start_s: 40.0,
                end_s: 70.0,
                label: "frozen node 1".into(),
            }],
        }
    }

    /// Four faults, two of them close enough that their labels collide.
    pub(crate) fn many_faults() -> TimelineData {
        let mut d = sample();
        d.faults = vec![
            FaultWindow {
                start_s: 10.0,
                end_s: 14.0,
                label: "slow node 0 (10×)".into(),
            },
            FaultWindow {
                start_s: 16.0,
                end_s: 20.0,
                label: "packet loss 5% node 2".into(),
            },
            FaultWindow {
                start_s: 40.0,
                end_s: 70.0,
                label: "frozen node 1".into(),
            },
            FaultWindow {
                start_s: 100.0,
                end_s: 130.0,
                label: "crashed node 0 (past end)".into(),
            },
        ];
        d
    }

    #[test]
    fn stacking_is_cumulative_in_outcome_order() {
        let d = sample();
        let st = d.stacked();
        let b = &d.buckets[50].rates;
        assert_eq!(st[50][0], b.succeeded_cache);
        assert_eq!(st[50][1], b.succeeded_cache + b.succeeded_database);
        let total: f64 = OutcomeBand::ALL.iter().map(|&o| b.get(o)).sum();
        assert!((st[50][5] - total).abs() < 1e-9);
        for row in &st {
            assert!(row.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn bands_cover_only_buckets_where_they_are_thick() {
        let d = sample();
        let st = d.stacked();
        let failed = d.band_polygons(&st, OutcomeBand::Failed);
        assert_eq!(failed.len(), 1, "one run: the fault window");
        let xs: Vec<f64> = failed[0].iter().map(|p| p.0).collect();
        assert_eq!(xs.iter().cloned().fold(f64::INFINITY, f64::min), 40.0);
        assert_eq!(xs.iter().cloned().fold(0.0, f64::max), 70.0);
        assert!(d.band_polygons(&st, OutcomeBand::Rejected).is_empty());
        let cache = d.band_polygons(&st, OutcomeBand::SucceededCache);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache[0].len(), 4 * d.buckets.len());
    }

    #[test]
    fn nan_rates_count_as_zero() {
        let mut d = sample();
        d.buckets[0].rates.late = f64::NAN;
        let st = d.stacked();
        assert_eq!(st[0][2], st[0][1]);
        assert!(d.validate().is_ok());
    }

    #[test]
    fn all_zero_outcomes_are_left_out_of_the_legend() {
        let d = sample();
        let v = d.visible_outcomes();
        assert!(!v.contains(&OutcomeBand::Rejected));
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], OutcomeBand::SucceededCache);
    }

    #[test]
    fn latency_axis_ignores_zero_and_missing() {
        let mut d = sample();
        d.buckets[3].p99_latency_ms = Some(0.0);
        d.buckets[4].p99_latency_ms = None;
        d.buckets[5].p99_latency_ms = Some(f64::NAN);
        assert_eq!(d.latency_axis(), (1.0, 1000.0));
        // Gaps split the line.
        assert_eq!(d.latency_segments().len(), 2);
        for b in &mut d.buckets {
            b.p99_latency_ms = Some(0.0);
        }
        assert_eq!(d.latency_axis(), (1.0, 1000.0));
        assert!(d.latency_segments().is_empty());
    }

    #[test]
    fn rate_axis_is_nice_and_never_empty() {
        let d = sample();
        let m = d.rate_axis_max();
        assert!((2000.0..=2500.0).contains(&m), "{m}");
        let mut z = sample();
        for b in &mut z.buckets {
            b.rates = OutcomeRates::default();
        }
        assert_eq!(z.rate_axis_max(), 1.0);
        assert!(z.visible_outcomes().is_empty());
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut d = sample();
        d.buckets[2].rates.failed = -1.0;
        assert!(matches!(d.validate(), Err(PlotError::InvalidData { .. })));
        let mut d = sample();
        d.buckets[2].start_s = 0.5;
        assert!(matches!(d.validate(), Err(PlotError::InvalidData { .. })));
        let mut d = sample();
        d.bucket_width_s = 0.0;
        assert!(d.validate().is_err());
    }

    #[test]
    fn renders_png_and_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_rendered(&write_timeline(dir.path(), "timeline", &sample()).expect("render"));
    }

    #[test]
    fn renders_degenerate_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut d = sample();
        for b in &mut d.buckets {
            b.rates = OutcomeRates::default();
            b.p99_latency_ms = None;
        }
        d.faults.clear();
        check_rendered(&write_timeline(dir.path(), "zero", &d).expect("render"));
        d.buckets.truncate(1);
        check_rendered(&write_timeline(dir.path(), "one", &d).expect("render"));
    }
}
