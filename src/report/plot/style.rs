//! Fonts, sizes, colours and the pieces every chart shares: the header,
//! the legend, markers and fault-window shading.

use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{FaultWindow, PlotError};

/// Font family name the bundled font is registered under. Written verbatim
/// into SVG `font-family`, so it doubles as a CSS fallback list.
pub const FAMILY: &str = "Roboto, Arial, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../../assets/Roboto-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/Roboto-Bold.ttf");

/// Registers the bundled font once per process (also under "sans-serif",
/// plotters' default family, so no text can fall through to a system font).
pub fn ensure_fonts() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        [FAMILY, "sans-serif"].iter().all(|name| {
            plotters::style::register_font(name, FontStyle::Normal, REGULAR).is_ok()
                && plotters::style::register_font(name, FontStyle::Bold, BOLD).is_ok()
        })
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

// Text sizes in pixels (plotters' size: the font's line height).
pub const TITLE_PX: f64 = 44.0;
pub const SUBTITLE_PX: f64 = 28.0;
pub const AXIS_PX: f64 = 28.0;
pub const TICK_PX: f64 = 24.0;
pub const LEGEND_PX: f64 = 24.0;
pub const NOTE_PX: f64 = 22.0;

/// Outer margin of the image.
pub const MARGIN: i32 = 36;
/// Height of the title and subtitle block.
pub const HEADER_H: u32 = 118;

/// The Okabe–Ito palette.
pub mod okabe_ito {
    use plotters::style::RGBColor;
    pub const BLACK: RGBColor = RGBColor(0, 0, 0);
    pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
    pub const SKY_BLUE: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    pub const BLUISH_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
    pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    pub const REDDISH_PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
}

/// Colours for lines, in order of use: yellow last (weak on white).
pub const SERIES: [RGBColor; 8] = [
    okabe_ito::BLUE,
    okabe_ito::VERMILLION,
    okabe_ito::BLUISH_GREEN,
    okabe_ito::ORANGE,
    okabe_ito::REDDISH_PURPLE,
    okabe_ito::SKY_BLUE,
    okabe_ito::BLACK,
    okabe_ito::YELLOW,
];

/// Colour of the n-th series (cycles).
pub fn series_color(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// Whether the n-th series is dashed: every other trip round the palette,
/// so series that share a colour still differ.
pub fn series_dashed(i: usize) -> bool {
    (i / SERIES.len()) % 2 == 1
}

pub const TEXT: RGBColor = RGBColor(25, 25, 25);
pub const SUBTLE: RGBColor = RGBColor(85, 85, 85);
pub const GRID: RGBColor = RGBColor(222, 222, 222);
pub const AXIS: RGBColor = RGBColor(60, 60, 60);
/// Fault-window overlay: a neutral grey, translucent so data stays visible.
pub const SHADE: RGBColor = RGBColor(40, 40, 40);
pub const SHADE_ALPHA: f64 = 0.13;

pub fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

pub fn bold(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Bold)
}

/// The house style of a chart's mesh: tick and axis-title fonts, a light
/// grid with no minor lines, dark axes. The caller adds its labels and draws.
pub fn house_mesh<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.label_style(font(TICK_PX).color(&TEXT))
        .axis_desc_style(font(AXIS_PX).color(&TEXT))
        .bold_line_style(GRID.stroke_width(1))
        .max_light_lines(0)
        .axis_style(AXIS.stroke_width(2))
}

/// A text style with colour and anchor.
pub fn text_style(
    font: FontDesc<'static>,
    color: RGBColor,
    h: HPos,
    v: VPos,
) -> TextStyle<'static> {
    font.color(&color).pos(Pos::new(h, v))
}

/// Width and height of `text` in pixels.
pub fn text_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc<'static>,
) -> Result<(u32, u32), PlotError> {
    if text.is_empty() {
        return Ok((0, 0));
    }
    Ok(area.estimate_text_size(text, &TextStyle::from(font.clone()))?)
}

/// Slack on text widths used for layout: an SVG viewer without Roboto sets
/// the text in its own sans-serif, often the wider DejaVu Sans, and the
/// label areas must still hold it.
pub const SVG_SLACK: f64 = 1.12;

/// Width of `text` for layout purposes (with [`SVG_SLACK`]).
pub fn layout_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc<'static>,
) -> Result<u32, PlotError> {
    Ok((text_size(area, text, font)?.0 as f64 * SVG_SLACK).ceil() as u32)
}

/// Shortens `text` with an ellipsis until it fits `max_w` pixels.
pub fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc<'static>,
    max_w: u32,
) -> Result<String, PlotError> {
    if text_size(area, text, font)?.0 <= max_w {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if text_size(area, &s, font)?.0 <= max_w {
            return Ok(s);
        }
    }
    Ok(String::new())
}

/// Draws text with its top at `y` (the anchor plotters places most
/// consistently between the bitmap and the SVG backends).
pub fn draw_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: FontDesc<'static>,
    color: RGBColor,
    h: HPos,
) -> Result<(), PlotError> {
    if text.is_empty() {
        return Ok(());
    }
    area.draw(&Text::new(
        text.to_string(),
        (x, y),
        text_style(font, color, h, VPos::Top),
    ))?;
    Ok(())
}

/// Whether `DB` is plotters' bitmap backend. Its ab_glyph text sits higher
/// than the SVG backend's for the same anchor (plotters 0.3.7 puts the
/// baseline half the font size below the anchor box's top), so vertical
/// centring differs by backend.
pub fn is_bitmap<DB: DrawingBackend>() -> bool {
    std::any::type_name::<DB>().contains("BitMapBackend")
}

/// Downward shift for plotters' own vertically centred tick labels (y
/// axes) so they line up with their ticks.
pub fn y_tick_nudge<DB: DrawingBackend>(size: f64) -> i32 {
    let k = if is_bitmap::<DB>() { 0.2 } else { 0.07 };
    (size * k).round() as i32
}

/// Draws text whose visual middle (of capitals and digits) sits at `y`.
pub fn draw_text_mid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: FontDesc<'static>,
    color: RGBColor,
    h: HPos,
) -> Result<(), PlotError> {
    // Distance from a top anchor down to the middle of the capitals.
    let size = font.get_size();
    let k = if is_bitmap::<DB>() { 0.2 } else { 0.32 };
    draw_text(
        area,
        text,
        (x, y - (size * k).round() as i32),
        font,
        color,
        h,
    )
}

/// Draws text rotated to read bottom-to-top with the glyph tops facing
/// left at `x`. `h` anchors the reading direction at `y`: `Center` centres
/// the text on `y`, `Right` ends it there (the text hangs below `y`).
pub fn draw_text_up<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: FontDesc<'static>,
    color: RGBColor,
    h: HPos,
) -> Result<(), PlotError> {
    if text.is_empty() {
        return Ok(());
    }
    let style = font
        .transform(FontTransform::Rotate270)
        .color(&color)
        .pos(Pos::new(h, VPos::Top));
    area.draw(&Text::new(text.to_string(), (x, y), style))?;
    Ok(())
}

/// Breaks `text` at spaces into lines no wider than `max_w` (a word wider
/// than that keeps a line of its own: text is wrapped, never cut).
pub fn wrap_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc<'static>,
    max_w: u32,
) -> Result<Vec<String>, PlotError> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if line.is_empty() || layout_width(area, &candidate, font)? <= max_w {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}

/// The largest size from `size` down to `min` (in steps of 2 px) at which
/// `text` wraps into at most `max_lines` lines of `max_w`, with the lines;
/// at `min`, however many lines it takes (never cut).
pub fn fit_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    min: f64,
    max_w: u32,
    max_lines: usize,
    bold_font: bool,
) -> Result<(f64, Vec<String>), PlotError> {
    let make = |s: f64| if bold_font { bold(s) } else { font(s) };
    let mut px = size;
    loop {
        let lines = wrap_text(area, text, &make(px), max_w)?;
        let fits = lines.len() <= max_lines.max(1)
            && lines
                .iter()
                .all(|l| layout_width(area, l, &make(px)).is_ok_and(|w| w <= max_w));
        if fits || px <= min {
            return Ok((px, lines));
        }
        px = (px - 2.0).max(min);
    }
}

/// Fills the background and draws the title, the subtitle and, when the
/// subtitle has a second part after a newline, that part in small print
/// (the raw keys, for whoever reproduces the figure); returns the area
/// below them. Long titles shrink, then wrap: nothing is cut.
pub fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, PlotError> {
    ensure_fonts()?;
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let max_w = (w.saturating_sub(2 * MARGIN as u32) as f64 / SVG_SLACK) as u32;
    let (sub, note) = subtitle.split_once('\n').unwrap_or((subtitle, ""));
    let mut y = 14;
    let (px, lines) = fit_lines(root, title, TITLE_PX, 30.0, max_w, 1, true)?;
    for l in &lines {
        draw_text(root, l, (MARGIN, y), bold(px), TEXT, HPos::Left)?;
        y += (px * 1.15) as i32;
    }
    y += 4;
    let (px, lines) = fit_lines(root, sub, SUBTITLE_PX, 20.0, max_w, 1, false)?;
    for l in &lines {
        draw_text(root, l, (MARGIN, y), font(px), SUBTLE, HPos::Left)?;
        y += (px * 1.2) as i32;
    }
    if !note.is_empty() {
        for l in wrap_text(root, note, &font(NOTE_SMALL_PX), max_w)? {
            draw_text(
                root,
                &l,
                (MARGIN, y),
                font(NOTE_SMALL_PX),
                SUBTLE,
                HPos::Left,
            )?;
            y += (NOTE_SMALL_PX * 1.2) as i32;
        }
    }
    let (_, body) = root.split_vertically((y as u32 + 6).max(HEADER_H));
    Ok(body)
}

/// Small print: the raw keys under the subtitle.
pub const NOTE_SMALL_PX: f64 = 17.0;

/// Point markers, so series differ by shape as well as colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
}

pub const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
];

pub fn series_marker(i: usize) -> Marker {
    MARKERS[i % MARKERS.len()]
}

/// Draws a filled marker of radius `r` centred at pixel `(x, y)`.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    marker: Marker,
    (x, y): (i32, i32),
    r: i32,
    color: RGBColor,
) -> Result<(), PlotError> {
    let fill = color.filled();
    match marker {
        Marker::Circle => area.draw(&Circle::new((x, y), r, fill))?,
        Marker::Square => {
            let s = (r as f64 * 0.85).round() as i32;
            area.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], fill))?
        }
        Marker::TriangleUp => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y + r - 1),
                (x - r - 1, y + r - 1),
            ],
            fill,
        ))?,
        Marker::TriangleDown => area.draw(&Polygon::new(
            vec![
                (x, y + r + 1),
                (x + r + 1, y - r + 1),
                (x - r - 1, y - r + 1),
            ],
            fill,
        ))?,
        Marker::Diamond => area.draw(&Polygon::new(
            vec![
                (x, y - r - 2),
                (x + r + 1, y),
                (x, y + r + 2),
                (x - r - 1, y),
            ],
            fill,
        ))?,
    }
    Ok(())
}

/// Draws a dashed straight line in pixel coordinates.
pub fn draw_dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    style: ShapeStyle,
    dash: f64,
    gap: f64,
) -> Result<(), PlotError> {
    let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1.0 {
        return Ok(());
    }
    let mut t = 0.0;
    while t < len {
        let t1 = (t + dash).min(len);
        let p = |t: f64| {
            (
                from.0 + (dx * t / len).round() as i32,
                from.1 + (dy * t / len).round() as i32,
            )
        };
        area.draw(&PathElement::new(vec![p(t), p(t1)], style))?;
        t += dash + gap;
    }
    Ok(())
}

/// Draws x-axis ticks under a plot whose pixel ranges are `x_px`, `y_px`:
/// per tick (pixel x, label) a grid line, a tick mark and the label; a
/// label that would touch the previous one is left out.
pub fn draw_x_ticks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x_px, y_px): (std::ops::Range<i32>, std::ops::Range<i32>),
    ticks: &[(i32, String)],
) -> Result<(), PlotError> {
    let mut last_right = i32::MIN;
    for (px, label) in ticks {
        let px = *px;
        area.draw(&PathElement::new(
            vec![(px, y_px.start), (px, y_px.end)],
            GRID.stroke_width(1),
        ))?;
        area.draw(&PathElement::new(
            vec![(px, y_px.end), (px, y_px.end + 8)],
            AXIS.stroke_width(2),
        ))?;
        let w = layout_width(area, label, &font(TICK_PX))? as i32;
        let left = (px - w / 2).max(x_px.start - 40);
        if left > last_right + 12 {
            draw_text(
                area,
                label,
                (px, y_px.end + 12),
                font(TICK_PX),
                TEXT,
                HPos::Center,
            )?;
            last_right = left + w;
        }
    }
    Ok(())
}

/// What a legend row shows next to its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A filled block (stacked areas, bars).
    Block(RGBColor),
    /// A line, optionally dashed and with a marker.
    Line {
        color: RGBColor,
        width: u32,
        dashed: bool,
        marker: Option<Marker>,
    },
    /// A translucent band (confidence interval).
    Band(RGBColor),
    /// The fault-window shading.
    Shade,
    /// An error bar with caps.
    Whisker(RGBColor),
}

/// One legend row.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

const SWATCH_W: i32 = 46;
const SWATCH_GAP: i32 = 12;
const LEGEND_ROW: i32 = 38;
const LEGEND_PAD: i32 = 12;

/// Pixel size of a legend with these rows.
pub fn legend_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: Option<&str>,
    entries: &[LegendEntry],
) -> Result<(u32, u32), PlotError> {
    let mut w = 0u32;
    for e in entries {
        let tw = layout_width(area, &e.label, &font(LEGEND_PX))?;
        w = w.max((SWATCH_W + SWATCH_GAP) as u32 + tw);
    }
    let mut rows = entries.len() as u32;
    if let Some(t) = title {
        w = w.max(layout_width(area, t, &bold(LEGEND_PX))?);
        rows += 1;
    }
    Ok((
        w + 2 * LEGEND_PAD as u32,
        rows * LEGEND_ROW as u32 + 2 * LEGEND_PAD as u32,
    ))
}

/// Draws a legend with its top-left corner at pixel `(x, y)` of `area`.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    title: Option<&str>,
    entries: &[LegendEntry],
) -> Result<(), PlotError> {
    let x = x + LEGEND_PAD;
    let mut cy = y + LEGEND_PAD + LEGEND_ROW / 2;
    if let Some(t) = title {
        draw_text_mid(area, t, (x, cy), bold(LEGEND_PX), TEXT, HPos::Left)?;
        cy += LEGEND_ROW;
    }
    for e in entries {
        let (x0, x1) = (x, x + SWATCH_W);
        match e.swatch {
            Swatch::Block(c) => {
                area.draw(&Rectangle::new([(x0, cy - 11), (x1, cy + 11)], c.filled()))?;
            }
            Swatch::Line {
                color,
                width,
                dashed,
                marker,
            } => {
                if dashed {
                    draw_dashed(
                        area,
                        (x0, cy),
                        (x1, cy),
                        color.stroke_width(width),
                        12.0,
                        6.0,
                    )?;
                } else {
                    area.draw(&PathElement::new(
                        vec![(x0, cy), (x1, cy)],
                        color.stroke_width(width),
                    ))?;
                }
                if let Some(m) = marker {
                    draw_marker(area, m, ((x0 + x1) / 2, cy), 7, color)?;
                }
            }
            Swatch::Band(c) => {
                area.draw(&Rectangle::new(
                    [(x0, cy - 12), (x1, cy + 12)],
                    c.mix(0.22).filled(),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x0, cy), (x1, cy)],
                    c.stroke_width(3),
                ))?;
            }
            Swatch::Shade => {
                area.draw(&Rectangle::new(
                    [(x0, cy - 13), (x1, cy + 13)],
                    SHADE.mix(SHADE_ALPHA * 1.6).filled(),
                ))?;
                let edge = SHADE.mix(0.6).stroke_width(2);
                draw_dashed(area, (x0, cy - 13), (x0, cy + 13), edge, 5.0, 4.0)?;
                draw_dashed(area, (x1, cy - 13), (x1, cy + 13), edge, 5.0, 4.0)?;
            }
            Swatch::Whisker(c) => {
                let s = c.stroke_width(3);
                area.draw(&PathElement::new(vec![(x0 + 4, cy), (x1 - 4, cy)], s))?;
                area.draw(&PathElement::new(
                    vec![(x0 + 4, cy - 9), (x0 + 4, cy + 9)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(x1 - 4, cy - 9), (x1 - 4, cy + 9)],
                    s,
                ))?;
            }
        }
        draw_text_mid(
            area,
            &e.label,
            (x1 + SWATCH_GAP, cy),
            font(LEGEND_PX),
            TEXT,
            HPos::Left,
        )?;
        cy += LEGEND_ROW;
    }
    Ok(())
}

/// Height of one row of fault labels above a plot.
pub const FAULT_ROW_H: i32 = 32;

/// Places band labels in rows above a plot (row 0 nearest the plot).
///
/// Input per label: its band's pixel span `(x0, x1)` and the label width;
/// output per label, in input order: (left x, row). A label is centred
/// over its band, kept inside `[min_x, max_x]`, and goes to the lowest row
/// where it overlaps neither another label in that row nor the shading of
/// another band that rises through that row (a band's shading runs from
/// its label's row down to the plot), and where its own shading crosses no
/// label below it. When no row meets the last condition, the lowest row
/// meeting the first two is used.
pub fn layout_band_labels(
    items: &[(i32, i32, i32)],
    min_x: i32,
    max_x: i32,
    gap: i32,
) -> Vec<(i32, usize)> {
    let overlaps = |a: (i32, i32), b: (i32, i32)| a.0 < b.1 + gap && b.0 < a.1 + gap;
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].0 + items[i].1) / 2);
    struct Placed {
        label: (i32, i32),
        band: (i32, i32),
        row: usize,
    }
    let mut placed: Vec<Placed> = Vec::new();
    let mut out = vec![(0, 0); items.len()];
    for i in order {
        let (x0, x1, w) = items[i];
        let mut left = (x0 + x1) / 2 - w / 2;
        if left + w > max_x {
            left = max_x - w;
        }
        if left < min_x {
            left = min_x;
        }
        let label = (left, left + w);
        let band = (x0, x1);
        let clashes = |p: &Placed, r: usize, strict: bool| {
            (p.row == r && overlaps(p.label, label))
                || (p.row >= r && overlaps(p.band, label))
                || (strict && p.row < r && overlaps(p.label, band))
        };
        let free = |r: usize, strict: bool| !placed.iter().any(|p| clashes(p, r, strict));
        let top = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
        let row = (0..=top)
            .find(|&r| free(r, true))
            .or_else(|| (0..=top).find(|&r| free(r, false)))
            .unwrap_or(top);
        placed.push(Placed { label, band, row });
        out[i] = (left, row);
    }
    out
}

/// Fault windows clipped to the visible x range, as pixel spans: for each
/// window that shows, (x0, x1, label). `to_px` maps seconds to pixels.
pub fn fault_spans(
    faults: &[FaultWindow],
    (x_lo, x_hi): (f64, f64),
    to_px: impl Fn(f64) -> i32,
) -> Vec<(i32, i32, String)> {
    faults
        .iter()
        .filter(|f| f.end_s >= x_lo && f.start_s <= x_hi)
        .map(|f| {
            let x0 = to_px(f.start_s.max(x_lo));
            let x1 = to_px(f.end_s.min(x_hi)).max(x0 + 2);
            (x0, x1, f.label.clone())
        })
        .collect()
}

/// Number of label rows the fault labels need.
pub fn fault_label_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spans: &[(i32, i32, String)],
    bounds: (i32, i32),
) -> Result<usize, PlotError> {
    Ok(place_fault_labels(area, spans, bounds)?
        .iter()
        .map(|&(_, r)| r + 1)
        .max()
        .unwrap_or(0))
}

fn place_fault_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spans: &[(i32, i32, String)],
    (min_x, max_x): (i32, i32),
) -> Result<Vec<(i32, usize)>, PlotError> {
    let mut items = Vec::with_capacity(spans.len());
    for (x0, x1, label) in spans {
        let w = layout_width(area, label, &font(NOTE_PX))?;
        items.push((*x0, *x1, w as i32 + 8));
    }
    Ok(layout_band_labels(&items, min_x, max_x, 10))
}

/// Shades fault windows over a plot (`plot_y` = top and bottom pixel).
pub fn shade_faults<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spans: &[(i32, i32, String)],
    (top, bottom): (i32, i32),
) -> Result<(), PlotError> {
    for (x0, x1, _) in spans {
        area.draw(&Rectangle::new(
            [(*x0, top), (*x1, bottom)],
            SHADE.mix(SHADE_ALPHA).filled(),
        ))?;
        let edge = SHADE.mix(0.55).stroke_width(2);
        draw_dashed(area, (*x0, top), (*x0, bottom), edge, 8.0, 6.0)?;
        draw_dashed(area, (*x1, top), (*x1, bottom), edge, 8.0, 6.0)?;
    }
    Ok(())
}

/// Draws the fault labels in rows above `plot_top`, each with the band's
/// shading extended up to it so label and band read as one.
pub fn label_faults<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spans: &[(i32, i32, String)],
    plot_top: i32,
    bounds: (i32, i32),
) -> Result<(), PlotError> {
    let placed = place_fault_labels(area, spans, bounds)?;
    for ((x0, x1, label), (left, row)) in spans.iter().zip(placed) {
        let row_mid = plot_top - FAULT_ROW_H / 2 - 2 - row as i32 * FAULT_ROW_H;
        area.draw(&Rectangle::new(
            [(*x0, row_mid - FAULT_ROW_H / 2 + 3), (*x1, plot_top)],
            SHADE.mix(SHADE_ALPHA).filled(),
        ))?;
        draw_text_mid(
            area,
            label,
            (left + 4, row_mid),
            font(NOTE_PX),
            TEXT,
            HPos::Left,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_labels_stack_only_when_they_collide() {
        // Two far-apart bands share row 0; a third overlapping the second
        // goes to row 1.
        let placed = layout_band_labels(
            &[(90, 110, 80), (390, 410, 80), (410, 430, 80)],
            0,
            1000,
            10,
        );
        assert_eq!(placed[0], (60, 0));
        assert_eq!(placed[1], (360, 0));
        assert_eq!(placed[2].1, 1);
    }

    #[test]
    fn band_labels_avoid_other_bands_shading() {
        // A wide band 100..400 labelled in row 0; a narrow band at 420
        // whose label (370..470) would sit on the wide band's shading.
        let placed = layout_band_labels(&[(100, 400, 80), (418, 422, 100)], 0, 1000, 10);
        assert_eq!(placed[0], (210, 0));
        assert_eq!(placed[1], (370, 1));
        // Far enough away, both share row 0.
        let placed = layout_band_labels(&[(100, 400, 80), (600, 604, 100)], 0, 1000, 10);
        assert_eq!(placed[1].1, 0);
    }

    #[test]
    fn band_labels_stay_inside_bounds() {
        let placed = layout_band_labels(&[(0, 10, 100), (990, 1000, 100)], 0, 1000, 10);
        assert_eq!(placed[0], (0, 0));
        assert_eq!(placed[1], (900, 0));
    }

    #[test]
    fn fault_spans_clip_to_the_visible_range() {
        let f = |a: f64, b: f64| FaultWindow {
            start_s: a,
            end_s: b,
            label: "f".into(),
        };
        let spans = fault_spans(
            &[f(-5.0, 5.0), f(20.0, 30.0), f(8.0, 8.0)],
            (0.0, 10.0),
            |s| (s * 10.0) as i32,
        );
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].0, spans[0].1), (0, 50));
        // A zero-length window still gets a visible sliver.
        assert_eq!((spans[1].0, spans[1].1), (80, 82));
    }
}
