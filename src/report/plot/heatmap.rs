//! A metric over two labelled parameters, one panel per value of a third,
//! cells annotated with their value, one shared colour scale (viridis,
//! which stays ordered in greyscale and under colour-vision deficiencies)
//! with a colour bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::chart::{Plot, PlotError, Rendered, render};
use super::scale::{ValueFormat, finite_min_max, nice_ticks};
use super::style::{
    AXIS, AXIS_PX, MARGIN, SUBTLE, TEXT, TICK_PX, bold, draw_header, draw_text, draw_text_mid,
    draw_text_up, fit_text, font, layout_width, wrap_text,
};

const KIND: &str = crate::output::SweepChart::Heatmap.stem();

/// One panel: the metric for every (y, x) pair at one value of the third
/// parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapPanel {
    /// Value of the third parameter, e.g. "freeze".
    pub name: String,
    /// `values[row][col]`: row indexes [`HeatmapData::y_values`] (first row
    /// drawn at the top), col indexes [`HeatmapData::x_values`]. NaN marks
    /// a missing cell (grey, "n/a").
    pub values: Vec<Vec<f64>>,
}

/// Input of the heatmap chart.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapData {
    /// Title, e.g. the model name.
    pub title: String,
    /// Subtitle: the fixed parameters.
    pub subtitle: String,
    /// Name (and unit) of the x parameter, e.g. "replicas".
    pub x_label: String,
    /// Name (and unit) of the y parameter, e.g. "client timeout (ms)".
    pub y_label: String,
    /// Name of the parameter that splits panels, e.g. "failure mode".
    pub panel_label: String,
    /// What the colour shows, e.g. "fault-window success".
    pub metric_label: String,
    /// Column labels, left to right.
    pub x_values: Vec<String>,
    /// Row labels, top to bottom.
    pub y_values: Vec<String>,
    /// One or more panels (up to four per row; more wrap).
    pub panels: Vec<HeatmapPanel>,
    /// How cell values and colour-bar ticks are printed.
    pub format: ValueFormat,
    /// Fixed colour range (low, high); `None` takes the data's range.
    pub color_range: Option<(f64, f64)>,
}

/// Viridis colour map, sampled at 11 points and interpolated.
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 11] = [
        (0x44, 0x01, 0x54),
        (0x48, 0x24, 0x75),
        (0x41, 0x44, 0x87),
        (0x35, 0x5f, 0x8d),
        (0x2a, 0x78, 0x8e),
        (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84),
        (0x44, 0xbf, 0x70),
        (0x7a, 0xd1, 0x51),
        (0xbd, 0xdf, 0x26),
        (0xfd, 0xe7, 0x25),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Colour of a missing cell.
pub const MISSING: RGBColor = RGBColor(215, 215, 215);

/// Black or white, whichever reads better on `bg`.
pub fn text_color_on(bg: RGBColor) -> RGBColor {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    if lum > 0.22 { BLACK } else { WHITE }
}

impl HeatmapData {
    /// The colour scale's (low, high): the fixed range if it is usable,
    /// otherwise the finite values' min and max; one value only gives a
    /// small range around it (kept inside 0..1 for percentages), no value
    /// at all gives 0..1.
    pub fn color_scale(&self) -> (f64, f64) {
        if let Some((lo, hi)) = self.color_range
            && lo.is_finite()
            && hi.is_finite()
            && hi > lo
        {
            return (lo, hi);
        }
        let values = self
            .panels
            .iter()
            .flat_map(|p| p.values.iter().flatten().copied());
        match finite_min_max(values) {
            None => (0.0, 1.0),
            Some((lo, hi)) if hi > lo => (lo, hi),
            Some((v, _)) => {
                let d = if v == 0.0 { 1.0 } else { v.abs() * 0.05 };
                match self.format {
                    ValueFormat::Percent { .. } if (0.0..=1.0).contains(&v) => {
                        let (lo, hi) = ((v - 0.05).max(0.0), (v + 0.05).min(1.0));
                        if hi > lo { (lo, hi) } else { (0.0, 1.0) }
                    }
                    _ => (v - d, v + d),
                }
            }
        }
    }

    /// Position of `v` on the colour scale, 0..1 (clamped); `None` for
    /// missing values.
    pub fn scale_position(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        let (lo, hi) = self.color_scale();
        Some(((v - lo) / (hi - lo)).clamp(0.0, 1.0))
    }

    /// Fill colour of a cell.
    pub fn cell_color(&self, v: f64) -> RGBColor {
        self.scale_position(v).map_or(MISSING, viridis)
    }

    /// Text written in a cell.
    pub fn cell_text(&self, v: f64) -> String {
        self.format.format(v)
    }

    /// Colour-bar ticks and their labels.
    pub fn color_bar_ticks(&self) -> Vec<(f64, String)> {
        let (lo, hi) = self.color_scale();
        let (ticks, step) = nice_ticks(lo, hi, 5);
        ticks
            .into_iter()
            .map(|t| (t, self.format.format_tick(t, step)))
            .collect()
    }

    /// Panels per row and number of rows.
    pub fn grid_shape(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = n.min(4);
        (cols, n.div_ceil(cols))
    }
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write_heatmap(dir: &Path, name: &str, data: &HeatmapData) -> Result<Rendered, PlotError> {
    render(data, dir, name)
}

const PANEL_GAP: i32 = 36;
const PANEL_TITLE_H: i32 = 44;
const BAR_W: i32 = 34;

impl Plot for HeatmapData {
    const KIND: &'static str = KIND;

    fn validate(&self) -> Result<(), PlotError> {
        if self.panels.is_empty() || self.x_values.is_empty() || self.y_values.is_empty() {
            return Err(PlotError::NoData {
                chart: KIND,
                reason: "no panels, x values or y values".into(),
            });
        }
        for p in &self.panels {
            if p.values.len() != self.y_values.len() {
                return Err(PlotError::LengthMismatch {
                    chart: KIND,
                    what: format!("rows of panel {:?}", p.name),
                    expected: self.y_values.len(),
                    got: p.values.len(),
                });
            }
            for (r, row) in p.values.iter().enumerate() {
                if row.len() != self.x_values.len() {
                    return Err(PlotError::LengthMismatch {
                        chart: KIND,
                        what: format!("row {r} of panel {:?}", p.name),
                        expected: self.x_values.len(),
                        got: row.len(),
                    });
                }
            }
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.validate()?;
        let body = draw_header(root, &self.title, &self.subtitle)?;
        let (bx, by) = body.get_base_pixel();
        let (bw, bh) = body.dim_in_pixel();
        let (nx, ny) = (self.x_values.len(), self.y_values.len());
        let (cols, rows) = self.grid_shape();
        let tick = font(TICK_PX);

        // Colour bar on the right: bar, tick labels, rotated metric label.
        let ticks = self.color_bar_ticks();
        let mut tick_w = 0;
        for (_, t) in &ticks {
            tick_w = tick_w.max(layout_width(root, t, &tick)? as i32);
        }
        let bar_area_w = 28 + BAR_W + 10 + tick_w + 16 + AXIS_PX as i32 + 8;

        // Row labels on the left, after the rotated y-axis title: wrapped
        // at 260 px, never cut.
        let mut y_labels = Vec::with_capacity(ny);
        let mut y_label_w = 0;
        for v in &self.y_values {
            let lines = wrap_text(root, v, &tick, 260)?;
            for l in &lines {
                y_label_w = y_label_w.max(layout_width(root, l, &tick)? as i32);
            }
            y_labels.push(lines);
        }
        let grid_left = bx + MARGIN - 8 + AXIS_PX as i32 + 16 + y_label_w + 12;
        let grid_right = bx + bw as i32 - MARGIN / 2 - bar_area_w;
        let panel_w = ((grid_right - grid_left) - (cols as i32 - 1) * PANEL_GAP) / cols as i32;
        let cell_w = (panel_w / nx as i32).max(1);

        // Column labels: horizontal when they fit a cell, else rotated and
        // wrapped at 220 px (lines side by side under the cell), never cut.
        let mut x_label_w = 0;
        for v in &self.x_values {
            x_label_w = x_label_w.max(layout_width(root, v, &tick)? as i32);
        }
        let rotate_x = x_label_w > cell_w - 8;
        let x_labels: Vec<Vec<String>> = if rotate_x {
            let mut out = Vec::with_capacity(nx);
            for v in &self.x_values {
                out.push(wrap_text(root, v, &tick, 220)?);
            }
            x_label_w = 0;
            for v in out.iter().flatten() {
                x_label_w = x_label_w.max(layout_width(root, v, &tick)? as i32);
            }
            out
        } else {
            self.x_values.iter().map(|v| vec![v.clone()]).collect()
        };
        // Rotated lines side by side must fit the cell's width.
        let most_lines = x_labels.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let x_tick_px = if rotate_x {
            TICK_PX
                .min(cell_w as f64 / (most_lines as f64 * 1.1))
                .max(12.0)
        } else {
            TICK_PX
        };
        let x_tick = font(x_tick_px);
        let x_labels_h = if rotate_x {
            x_label_w + 14
        } else {
            TICK_PX as i32 + 14
        };
        let x_desc_h = AXIS_PX as i32 + 22;
        let top = by + 4;
        let bottom = by + bh as i32 - 10 - x_desc_h;
        let row_h = (bottom - top) / rows as i32;
        let panel_h = row_h - PANEL_TITLE_H - x_labels_h - if rows > 1 { 12 } else { 0 };
        let cell_h = (panel_h / ny as i32).max(1);

        // Cell text size: as large as fits every cell, dropped when tiny.
        let mut cell_px = (TICK_PX).min(cell_h as f64 * 0.5);
        let mut widest = 0;
        for p in &self.panels {
            for v in p.values.iter().flatten() {
                widest =
                    widest.max(layout_width(root, &self.cell_text(*v), &font(TICK_PX))? as i32);
            }
        }
        if widest > 0 && widest as f64 > (cell_w - 10) as f64 {
            cell_px = cell_px.min(TICK_PX * (cell_w - 10) as f64 / widest as f64);
        }
        let annotate = cell_px >= 14.0;

        let grid_top_first = top + PANEL_TITLE_H;
        let mut grid_bottom_last = grid_top_first;
        for (pi, panel) in self.panels.iter().enumerate() {
            let (c, r) = ((pi % cols) as i32, (pi / cols) as i32);
            let x0 = grid_left + c * (panel_w + PANEL_GAP);
            let y_title = top + r * row_h;
            let y0 = y_title + PANEL_TITLE_H;
            let title = format!("{}: {}", self.panel_label, panel.name);
            let title = if self.panel_label.is_empty() {
                panel.name.clone()
            } else {
                title
            };
            let title = fit_text(root, &title, &bold(TICK_PX), panel_w.max(0) as u32)?;
            draw_text_mid(
                root,
                &title,
                (x0 + cell_w * nx as i32 / 2, y_title + PANEL_TITLE_H / 2 - 2),
                bold(TICK_PX),
                TEXT,
                HPos::Center,
            )?;
            for (yi, row) in panel.values.iter().enumerate() {
                for (xi, &v) in row.iter().enumerate() {
                    let cx0 = x0 + xi as i32 * cell_w;
                    let cy0 = y0 + yi as i32 * cell_h;
                    let fill = self.cell_color(v);
                    root.draw(&Rectangle::new(
                        [(cx0, cy0), (cx0 + cell_w, cy0 + cell_h)],
                        fill.filled(),
                    ))?;
                    root.draw(&Rectangle::new(
                        [(cx0, cy0), (cx0 + cell_w, cy0 + cell_h)],
                        WHITE.stroke_width(2),
                    ))?;
                    if annotate {
                        draw_text_mid(
                            root,
                            &self.cell_text(v),
                            (cx0 + cell_w / 2, cy0 + cell_h / 2),
                            font(cell_px),
                            text_color_on(fill),
                            HPos::Center,
                        )?;
                    }
                }
            }
            let gy1 = y0 + ny as i32 * cell_h;
            grid_bottom_last = grid_bottom_last.max(gy1);
            if c == 0 {
                for (yi, lines) in y_labels.iter().enumerate() {
                    let cy = y0 + yi as i32 * cell_h + cell_h / 2;
                    let px = TICK_PX
                        .min(cell_h as f64 / (lines.len() as f64 * 1.15))
                        .max(12.0);
                    let step = (px * 1.15) as i32;
                    let first = cy - step * (lines.len() as i32 - 1) / 2;
                    for (j, l) in lines.iter().enumerate() {
                        let y = first + j as i32 * step;
                        draw_text_mid(root, l, (x0 - 12, y), font(px), TEXT, HPos::Right)?;
                    }
                }
            }
            for (xi, lines) in x_labels.iter().enumerate() {
                let cx = x0 + xi as i32 * cell_w + cell_w / 2;
                if rotate_x {
                    // Reads bottom-to-top, ending just under the cell; the
                    // lines of a wrapped label sit side by side.
                    let step = (x_tick_px * 1.1) as i32;
                    let first = cx - x_tick_px as i32 * 2 / 5 - step * (lines.len() as i32 - 1) / 2;
                    for (j, l) in lines.iter().enumerate() {
                        let x = first + j as i32 * step;
                        draw_text_up(root, l, (x, gy1 + 10), x_tick.clone(), TEXT, HPos::Right)?;
                    }
                } else {
                    let s = lines.join(" ");
                    draw_text(root, &s, (cx, gy1 + 8), tick.clone(), TEXT, HPos::Center)?;
                }
            }
        }

        // Axis titles.
        let grid_w = cols as i32 * panel_w + (cols as i32 - 1) * PANEL_GAP;
        draw_text(
            root,
            &fit_text(root, &self.x_label, &font(AXIS_PX), grid_w.max(0) as u32)?,
            (grid_left + grid_w / 2, bottom + 12),
            font(AXIS_PX),
            TEXT,
            HPos::Center,
        )?;
        let y_desc = fit_text(
            root,
            &self.y_label,
            &font(AXIS_PX),
            (bottom - top).max(0) as u32,
        )?;
        draw_text_up(
            root,
            &y_desc,
            (bx + MARGIN - 8, (grid_top_first + grid_bottom_last) / 2),
            font(AXIS_PX),
            TEXT,
            HPos::Center,
        )?;

        // Colour bar.
        let (lo, hi) = self.color_scale();
        let bar_x0 = grid_right + 28;
        let bar_top = grid_top_first;
        let bar_bottom = grid_bottom_last.max(bar_top + 60);
        let n_steps = (bar_bottom - bar_top).max(1);
        for i in 0..n_steps {
            let t = 1.0 - (i as f64 + 0.5) / n_steps as f64;
            let y = bar_top + i;
            root.draw(&Rectangle::new(
                [(bar_x0, y), (bar_x0 + BAR_W, y + 1)],
                viridis(t).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(bar_x0, bar_top), (bar_x0 + BAR_W, bar_bottom)],
            AXIS.stroke_width(1),
        ))?;
        for (v, label) in &ticks {
            let y = bar_bottom
                - (((v - lo) / (hi - lo)) * (bar_bottom - bar_top) as f64).round() as i32;
            root.draw(&PathElement::new(
                vec![(bar_x0 + BAR_W, y), (bar_x0 + BAR_W + 7, y)],
                AXIS.stroke_width(2),
            ))?;
            draw_text_mid(
                root,
                label,
                (bar_x0 + BAR_W + 10, y),
                tick.clone(),
                TEXT,
                HPos::Left,
            )?;
        }
        let metric = fit_text(
            root,
            &self.metric_label,
            &font(AXIS_PX),
            (bar_bottom - bar_top).max(0) as u32,
        )?;
        draw_text_up(
            root,
            &metric,
            (
                bar_x0 + BAR_W + 10 + tick_w + 16,
                (bar_top + bar_bottom) / 2,
            ),
            font(AXIS_PX),
            TEXT,
            HPos::Center,
        )?;
        if self
            .panels
            .iter()
            .any(|p| p.values.iter().flatten().any(|v| !v.is_finite()))
        {
            draw_text(
                root,
                "grey: no data",
                (bar_x0, bar_bottom + 12),
                font(TICK_PX - 4.0),
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

    pub(crate) fn sample() -> HeatmapData {
        let x_values: Vec<String> = ["1", "2", "3"].map(String::from).to_vec();
        let y_values: Vec<String> = ["50", "100", "200", "500"].map(String::from).to_vec();
        let panel = |name: &str, base: f64| HeatmapPanel {
            name: name.into(),
            values: (0..4)
                .map(|r| {
                    (0..3)
                        .map(|c| (base + 0.012 * c as f64 + 0.006 * r as f64).min(1.0))
                        .collect()
                })
                .collect(),
        };
        HeatmapData {
            title: "ketama-3node — fault-window success".into(),
            subtitle: "2000 req/s · 60 s fault windows · 20 seeds per cell".into(),
            x_label: "replicas per key".into(),
            y_label: "client timeout (ms)".into(),
            panel_label: "failure mode".into(),
            metric_label: "fault-window success".into(),
            x_values,
            y_values,
            panels: vec![
                panel("crash", 0.955),
                panel("freeze", 0.90),
                panel("slow (10×)", 0.93),
            ],
            format: ValueFormat::Percent { decimals: 1 },
            color_range: None,
        }
    }

    #[test]
    fn color_scale_spans_all_panels() {
        let d = sample();
        let (lo, hi) = d.color_scale();
        assert!((lo - 0.90).abs() < 1e-12);
        assert!((hi - 0.997).abs() < 1e-12, "{hi}");
        assert_eq!(d.scale_position(lo), Some(0.0));
        assert_eq!(d.scale_position(hi), Some(1.0));
        assert_eq!(d.scale_position(f64::NAN), None);
        assert_eq!(d.cell_color(f64::NAN), MISSING);
    }

    #[test]
    fn fixed_color_range_wins_when_valid() {
        let mut d = sample();
        d.color_range = Some((0.5, 1.0));
        assert_eq!(d.color_scale(), (0.5, 1.0));
        d.color_range = Some((1.0, 1.0));
        assert!((d.color_scale().0 - 0.90).abs() < 1e-12);
    }

    #[test]
    fn degenerate_color_scales() {
        let mut d = sample();
        for p in &mut d.panels {
            p.values.iter_mut().flatten().for_each(|v| *v = 1.0);
        }
        assert_eq!(d.color_scale(), (0.95, 1.0));
        for p in &mut d.panels {
            p.values.iter_mut().flatten().for_each(|v| *v = f64::NAN);
        }
        assert_eq!(d.color_scale(), (0.0, 1.0));
        d.format = ValueFormat::Auto;
        for p in &mut d.panels {
            p.values.iter_mut().flatten().for_each(|v| *v = 0.0);
        }
        assert_eq!(d.color_scale(), (-1.0, 1.0));
    }

    #[test]
    fn cell_text_and_bar_ticks() {
        let d = sample();
        assert_eq!(d.cell_text(0.9551), "95.5%");
        assert_eq!(d.cell_text(f64::NAN), "n/a");
        let ticks = d.color_bar_ticks();
        assert!(ticks.len() >= 3);
        assert!(ticks.iter().all(|(v, _)| (0.9..=0.997).contains(v)));
        assert_eq!(ticks[0].1, "90%");
    }

    #[test]
    fn text_colour_contrasts_with_the_cell() {
        assert_eq!(text_color_on(viridis(0.0)), WHITE);
        assert_eq!(text_color_on(viridis(1.0)), BLACK);
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(2.0), viridis(1.0));
    }

    #[test]
    fn panels_wrap_after_four() {
        let mut d = sample();
        assert_eq!(d.grid_shape(), (3, 1));
        let extra = d.panels[0].clone();
        d.panels.extend(std::iter::repeat_n(extra, 3));
        assert_eq!(d.grid_shape(), (4, 2));
    }

    #[test]
    fn ragged_rows_are_an_error() {
        let mut d = sample();
        d.panels[1].values[2].pop();
        assert!(matches!(
            d.validate(),
            Err(PlotError::LengthMismatch { .. })
        ));
        let mut d = sample();
        d.panels.clear();
        assert!(matches!(d.validate(), Err(PlotError::NoData { .. })));
    }

    /// Many long column labels (rotated), missing cells, five panels.
    pub(crate) fn dense() -> HeatmapData {
        let mut d = sample();
        d.x_values = (0..12).map(|i| format!("config-{i}-long")).collect();
        for p in &mut d.panels {
            p.values = (0..4)
                .map(|_| {
                    (0..12)
                        .map(|i| if i == 3 { f64::NAN } else { 0.9 })
                        .collect()
                })
                .collect();
        }
        let extra = d.panels[0].clone();
        d.panels.extend(std::iter::repeat_n(extra, 2));
        d
    }

    #[test]
    fn renders_png_and_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_rendered(&write_heatmap(dir.path(), "heatmap", &sample()).expect("render"));
        check_rendered(&write_heatmap(dir.path(), "dense", &dense()).expect("render"));
    }
}
