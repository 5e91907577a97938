//! A vulnerability map: load across, trigger size up; at each load the
//! region below the smallest stuck trigger is shaded stable, the region
//! above it metastable (the form of Fig. 6 of Huang et al., "Metastable
//! Failures in the Wild", OSDI 2022), with every size tried marked.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{Plot, PlotError, Rendered, render};
use super::scale::{format_plain, format_si};
use super::style::{
    LegendEntry, MARGIN, Marker, Swatch, TICK_PX, draw_header, draw_legend, draw_marker,
    draw_x_ticks, house_mesh, okabe_ito as palette, y_tick_nudge,
};
use crate::output::vmap::MapState;

const KIND: &str = crate::output::vmap::VmapChart::Map.stem();

/// The colour of the stable region.
const STABLE: RGBColor = palette::BLUISH_GREEN;
/// The colour of the metastable region.
const STUCK: RGBColor = palette::VERMILLION;
/// The colour of the bracket the boundary lies in.
const BRACKET: RGBColor = palette::YELLOW;
/// The stable region's shade: bluish green at 35 % on white.
const STABLE_SHADE: RGBColor = RGBColor(166, 221, 206);
/// The metastable region's shade: vermillion at 35 % on white.
const STUCK_SHADE: RGBColor = RGBColor(240, 199, 166);

/// The shade of a load stuck even at the smallest trigger tried: vermillion
/// at 65 % on white, darker than the metastable region because no trigger
/// in the range leaves it healthy (typically a load past capacity, stuck
/// with no trigger at all).
const OVERLOADED_SHADE: RGBColor = RGBColor(227, 150, 89);

/// One load value's column.
#[derive(Debug, Clone, PartialEq)]
pub struct VmapColumn {
    /// The load (x).
    pub x: f64,
    /// What the search found.
    pub state: MapState,
    /// The largest size found not stuck.
    pub stable_up_to: Option<f64>,
    /// The smallest size found stuck.
    pub min_trigger: Option<f64>,
    /// Every size tried: (size, stuck?).
    pub tried: Vec<(f64, bool)>,
}

/// Input of the map chart.
#[derive(Debug, Clone, PartialEq)]
pub struct VmapData {
    /// Title.
    pub title: String,
    /// Subtitle (and small print after a newline).
    pub subtitle: String,
    /// x-axis title with unit.
    pub x_label: String,
    /// y-axis title with unit.
    pub y_label: String,
    /// The smallest and largest trigger sizes searched.
    pub y_range: (f64, f64),
    /// One column per load value, by increasing x.
    pub columns: Vec<VmapColumn>,
}

/// Writes `<dir>/<name>.png` and `.svg`.
pub fn write_vmap(dir: &Path, name: &str, data: &VmapData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

impl VmapData {
    /// Each column's left and right edge: halfway to its neighbours, the
    /// outer ones as wide as their inner half.
    fn edges(&self) -> Vec<(f64, f64)> {
        let xs: Vec<f64> = self.columns.iter().map(|c| c.x).collect();
        let n = xs.len();
        (0..n)
            .map(|i| {
                let left_gap = if i > 0 {
                    (xs[i] - xs[i - 1]) / 2.0
                } else if n > 1 {
                    (xs[1] - xs[0]) / 2.0
                } else {
                    xs[0].abs().max(1.0) / 2.0
                };
                let right_gap = if i + 1 < n {
                    (xs[i + 1] - xs[i]) / 2.0
                } else {
                    left_gap
                };
                (xs[i] - left_gap, xs[i] + right_gap)
            })
            .collect()
    }
}

impl VmapData {
    /// A log trigger axis when the sizes span a factor of 30 or more (the
    /// boundary then sits near the bottom on a linear axis).
    fn log_y(&self) -> bool {
        let (lo, hi) = self.y_range;
        lo > 0.0 && hi / lo >= 30.0
    }

    /// The plot area: shading, boundary, markers. Returns the plotting
    /// area's pixel ranges.
    fn draw_chart<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plot_area: &DrawingArea<DB, Shift>,
        y: Y,
    ) -> Result<(std::ops::Range<i32>, std::ops::Range<i32>), PlotError>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let edges = self.edges();
        let x0 = edges[0].0;
        let x1 = edges[edges.len() - 1].1;
        let (y0, y1) = self.y_range;
        let mut chart = ChartBuilder::on(plot_area)
            .margin_left(MARGIN as u32 - 12)
            .margin_right(24)
            .margin_top(20)
            .margin_bottom(10)
            .x_label_area_size(88)
            .y_label_area_size(118)
            .build_cartesian_2d(x0..x1, y)?;
        let fmt_y = |v: &f64| format_si(*v);
        house_mesh(&mut chart.configure_mesh())
            .x_desc(self.x_label.clone())
            .y_desc(if self.log_y() {
                format!("{} — log scale", self.y_label)
            } else {
                self.y_label.clone()
            })
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(10)
            .y_label_offset(y_tick_nudge::<DB>(TICK_PX))
            .y_label_formatter(&fmt_y)
            .draw()?;
        let (x_px, y_px) = chart.plotting_area().get_pixel_range();
        let ticks: Vec<(i32, String)> = self
            .columns
            .iter()
            .map(|c| (chart.backend_coord(&(c.x, y0)).0, format_plain(c.x)))
            .collect();
        draw_x_ticks(root, (x_px.clone(), y_px.clone()), &ticks)?;

        for (c, &(l, r)) in self.columns.iter().zip(&edges) {
            // Stable up to the largest size that recovered (or everything
            // when even `high` recovered); stuck from the smallest stuck
            // size; the bracket between them.
            let (green_top, red_bottom) = match c.state {
                MapState::Stable => (y1, y1),
                MapState::Stuck => (y0, y0),
                MapState::Metastable => (c.stable_up_to.unwrap_or(y0), c.min_trigger.unwrap_or(y1)),
            };
            let rect = |a: f64, b: f64, color: ShapeStyle| Rectangle::new([(l, a), (r, b)], color);
            if green_top > y0 {
                chart.draw_series(std::iter::once(rect(y0, green_top, STABLE_SHADE.filled())))?;
            }
            if red_bottom > green_top {
                chart.draw_series(std::iter::once(rect(
                    green_top,
                    red_bottom,
                    BRACKET.filled(),
                )))?;
            }
            if red_bottom < y1 {
                let shade = match c.state {
                    MapState::Stuck => OVERLOADED_SHADE,
                    MapState::Stable | MapState::Metastable => STUCK_SHADE,
                };
                chart.draw_series(std::iter::once(rect(red_bottom, y1, shade.filled())))?;
            }
        }
        // The boundary: the smallest stuck size at each load, as a step
        // across its column.
        let line: Vec<(f64, f64)> = self
            .columns
            .iter()
            .zip(&edges)
            .flat_map(|(c, &(l, r))| {
                let h = match c.state {
                    MapState::Stable => y1,
                    MapState::Stuck => y0,
                    MapState::Metastable => c.min_trigger.unwrap_or(y1),
                };
                [(l, h), (r, h)]
            })
            .collect();
        chart.draw_series(LineSeries::new(line, BLACK.stroke_width(3)))?;
        for c in &self.columns {
            for &(size, stuck) in &c.tried {
                let (marker, color) = if stuck {
                    (Marker::Circle, STUCK)
                } else {
                    (Marker::Square, STABLE)
                };
                draw_marker(root, marker, chart.backend_coord(&(c.x, size)), 7, color)?;
            }
        }
        Ok((x_px, y_px))
    }
}

impl Plot for VmapData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.columns.is_empty() {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no load values".into(),
            });
        }
        let (lo, hi) = self.y_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("trigger range {lo}..{hi} is empty"),
            });
        }
        for w in self.columns.windows(2) {
            if w[0].x.partial_cmp(&w[1].x) != Some(std::cmp::Ordering::Less) {
                return Err(PlotError::InvalidData {
                    chart: KIND,
                    reason: format!("load values {} and {} are not increasing", w[0].x, w[1].x),
                });
            }
        }
        if let Some(c) = self.columns.iter().find(|c| !c.x.is_finite()) {
            return Err(PlotError::InvalidData {
                chart: KIND,
                reason: format!("load value {} is not finite", c.x),
            });
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;
        let mut entries = vec![
            LegendEntry {
                label: "stable: recovers after the trigger".into(),
                swatch: Swatch::Block(STABLE_SHADE),
            },
            LegendEntry {
                label: "metastable: stays stuck".into(),
                swatch: Swatch::Block(STUCK_SHADE),
            },
        ];
        if self.columns.iter().any(|c| c.state == MapState::Stuck) {
            entries.push(LegendEntry {
                label: "stuck even at the smallest trigger tried".into(),
                swatch: Swatch::Block(OVERLOADED_SHADE),
            });
        }
        entries.extend([
            LegendEntry {
                label: "boundary within the tolerance".into(),
                swatch: Swatch::Block(BRACKET),
            },
            LegendEntry {
                label: "smallest trigger that stays stuck".into(),
                swatch: Swatch::Line {
                    color: BLACK,
                    width: 3,
                    dashed: false,
                    marker: None,
                },
            },
            LegendEntry {
                label: "size tried: stuck".into(),
                swatch: Swatch::Line {
                    color: STUCK,
                    width: 0,
                    dashed: false,
                    marker: Some(Marker::Circle),
                },
            },
            LegendEntry {
                label: "size tried: recovered".into(),
                swatch: Swatch::Line {
                    color: STABLE,
                    width: 0,
                    dashed: false,
                    marker: Some(Marker::Square),
                },
            },
        ]);
        let (legend_w, _) = super::style::legend_size(&body, None, &entries)?;
        let (body_w, _) = body.dim_in_pixel();
        let (plot_area, legend_area) =
            body.split_horizontally(body_w.saturating_sub(legend_w + MARGIN as u32 / 2));
        let (_, y_px) = if self.log_y() {
            let (y0, y1) = self.y_range;
            self.draw_chart(root, &plot_area, (y0..y1).log_scale())?
        } else {
            let (y0, y1) = self.y_range;
            self.draw_chart(root, &plot_area, y0..y1)?
        };
        let lx = legend_area.get_base_pixel().0;
        draw_legend(root, (lx, y_px.start - 12), None, &entries)?;
        let _ = HPos::Left;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::test_util::check_rendered;

    fn data() -> VmapData {
        VmapData {
            title: "map".into(),
            subtitle: "sub".into(),
            x_label: "load (req/s)".into(),
            y_label: "outage (s)".into(),
            y_range: (1.0, 40.0),
            columns: vec![
                VmapColumn {
                    x: 100.0,
                    state: MapState::Stable,
                    stable_up_to: Some(40.0),
                    min_trigger: None,
                    tried: vec![(40.0, false), (1.0, false)],
                },
                VmapColumn {
                    x: 200.0,
                    state: MapState::Metastable,
                    stable_up_to: Some(5.0),
                    min_trigger: Some(6.0),
                    tried: vec![
                        (40.0, true),
                        (1.0, false),
                        (20.0, true),
                        (5.0, false),
                        (6.0, true),
                    ],
                },
                VmapColumn {
                    x: 300.0,
                    state: MapState::Stuck,
                    stable_up_to: None,
                    min_trigger: Some(1.0),
                    tried: vec![(40.0, true), (1.0, true)],
                },
            ],
        }
    }

    #[test]
    fn renders_and_refuses_unordered_loads() {
        let dir = tempfile::tempdir().unwrap();
        check_rendered(&write_vmap(dir.path(), "vmap", &data()).unwrap());
        let mut bad = data();
        bad.columns.swap(0, 1);
        assert!(matches!(bad.validate(), Err(PlotError::InvalidData { .. })));
        bad.columns.clear();
        assert!(matches!(bad.validate(), Err(PlotError::NoData { .. })));
    }
}
