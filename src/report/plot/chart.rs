//! What every chart shares: the image size, the [`Plot`] trait, the one
//! atomic [`render`] to PNG and SVG, fault windows and [`PlotError`]. A leaf:
//! the charts import it, and `mod.rs` names the charts.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use super::style;
use crate::output::ImageFormat;

/// Width of every rendered image, in pixels.
pub const WIDTH: u32 = 1600;
/// Height of every rendered image, in pixels.
pub const HEIGHT: u32 = 900;

/// Why a plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The input holds nothing that could be drawn.
    #[error("{chart}: nothing to plot ({reason})")]
    NoData {
        /// Which kind of chart.
        chart: &'static str,
        /// What was missing.
        reason: String,
    },
    /// Two parallel collections differ in length.
    #[error("{chart}: {what} has {got} values, expected {expected}")]
    LengthMismatch {
        /// Which kind of chart.
        chart: &'static str,
        /// Which collection.
        what: String,
        /// Length it should have.
        expected: usize,
        /// Length it has.
        got: usize,
    },
    /// A value that cannot be shown (negative rate, unordered times, …).
    #[error("{chart}: invalid input: {reason}")]
    InvalidData {
        /// Which kind of chart.
        chart: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The bundled font could not be registered.
    #[error("the bundled font could not be registered with plotters")]
    Font,
    /// The output name is not a plain file stem.
    #[error("invalid plot name {0:?}: use a plain file stem without path separators")]
    BadName(String),
    /// The output directory could not be created.
    #[error("cannot create plot directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The backend failed (also covers failing to write the file: the
    /// message names the files and the operating system's reason).
    #[error("drawing failed: {0}")]
    Draw(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

/// The cause in a plotters backend error, whose text is Rust debug output
/// (`ImageError(IoError(Os { code: 28, kind: StorageFull, .. }))`): the
/// operating system's message for its error code, else the quoted message
/// of a custom I/O error, else the text as it is.
fn backend_message(text: &str) -> String {
    if let Some(i) = text.find("code: ") {
        let digits: String = text[i + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(code) = digits.parse::<i32>() {
            return std::io::Error::from_raw_os_error(code).to_string();
        }
    }
    if let Some(i) = text.find("error: \"") {
        let rest = &text[i + 8..];
        if let Some(end) = rest.find('"') {
            return rest[..end].to_string();
        }
    }
    text.to_string()
}

/// A chart that can be drawn on any plotters backend.
pub trait Plot {
    /// Short name of the kind of chart, used in errors.
    const KIND: &'static str;

    /// Checks the input without drawing anything.
    fn validate(&self) -> Result<(), PlotError>;

    /// Draws the whole chart (title, axes, legend) onto `root`, which should
    /// be [`WIDTH`] × [`HEIGHT`] pixels; other sizes work but are not tuned.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Paths of the files a front function wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The bitmap, `<dir>/<name>.png`.
    pub png: PathBuf,
    /// The vector image, `<dir>/<name>.svg`.
    pub svg: PathBuf,
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg` (1600 × 900 px) for any
/// [`Plot`]. The input is validated first, so bad data leaves no files.
pub fn render<P: Plot>(plot: &P, dir: &Path, name: &str) -> Result<Rendered, PlotError> {
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.contains('\0')
    {
        return Err(PlotError::BadName(name.to_string()));
    }
    plot.validate()?;
    style::ensure_fonts()?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let png = dir.join(ImageFormat::Png.file(name));
    let svg = dir.join(ImageFormat::Svg.file(name));
    // Each image is drawn into a temporary file beside it and renamed, so an
    // interrupted render leaves the old image or the new one, never half of
    // one (the backends pick the format from the extension, hence the name).
    let png_tmp = dir.join(ImageFormat::Png.temporary(name));
    let svg_tmp = dir.join(ImageFormat::Svg.temporary(name));
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|source| PlotError::Io {
            path: to.to_path_buf(),
            source,
        })
    };
    let drawn = (|| -> Result<(), PlotError> {
        {
            let root = BitMapBackend::new(&png_tmp, (WIDTH, HEIGHT)).into_drawing_area();
            plot.draw(&root)?;
            root.present()?;
        }
        let root = SVGBackend::new(&svg_tmp, (WIDTH, HEIGHT)).into_drawing_area();
        plot.draw(&root)?;
        root.present()?;
        Ok(())
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&png_tmp);
        let _ = std::fs::remove_file(&svg_tmp);
        return Err(match e {
            PlotError::Draw(text) => PlotError::Draw(format!(
                "cannot write {} or {}: {}",
                png.display(),
                svg.display(),
                backend_message(&text)
            )),
            other => other,
        });
    }
    rename(&png_tmp, &png)?;
    rename(&svg_tmp, &svg)?;
    Ok(Rendered { png, svg })
}

/// A span of simulated time during which a fault was active, shaded in the
/// time-based charts and labelled at the top of the band.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    /// Start, in simulated seconds.
    pub start_s: f64,
    /// End, in simulated seconds (not before `start_s`).
    pub end_s: f64,
    /// Short label, e.g. the fault kind and node: `"frozen node 1"`.
    pub label: String,
}

/// Checks fault windows: finite and ordered.
pub(super) fn validate_faults(
    chart: &'static str,
    faults: &[FaultWindow],
) -> Result<(), PlotError> {
    for f in faults {
        if !f.start_s.is_finite() || !f.end_s.is_finite() || f.end_s < f.start_s {
            return Err(PlotError::InvalidData {
                chart,
                reason: format!(
                    "fault window {:?} spans {}..{} s; it needs finite bounds with start <= end",
                    f.label, f.start_s, f.end_s
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod backend_message_tests {
    #[test]
    fn backend_errors_read_without_debug_text() {
        let m = super::backend_message(
            "Drawing backend error: ImageError(IoError(Os { code: 28, kind: StorageFull, message: \"No space left on device\" }))",
        );
        assert!(m.starts_with("No space left on device"), "{m}");
        let m = super::backend_message(
            "ImageError(IoError(Custom { kind: Other, error: \"failed to write whole buffer\" }))",
        );
        assert_eq!(m, "failed to write whole buffer");
    }
}
