//! Plots for architecture reviews: PNG and SVG from the same drawing code.
//!
//! Each kind of chart lives in its own module and takes plain data structs
//! defined there (the simulator fills them from its CSV files). Every chart
//! implements [`Plot`], whose `draw` is generic over the plotters
//! [`DrawingBackend`], so the bitmap and the SVG output come from one code
//! path. The `write_*` front functions write `<name>.png` and `<name>.svg`
//! (1600 × 900 px) into a directory.
//!
//! Text is drawn with the Roboto font bundled under `assets/` (Apache 2.0,
//! see `assets/LICENSE-Roboto.txt`), registered with plotters' `ab_glyph`
//! support, so rendering needs no fontconfig and no system fonts. The SVG
//! names `Roboto, Arial, sans-serif` and lets the viewer pick what it has.
//!
//! Colours follow the Okabe–Ito palette (categorical) and viridis
//! (the heatmap's sequential scale); both stay distinguishable under the
//! common colour-vision deficiencies.

mod chart;
pub mod heatmap;
pub mod lines;
pub mod nodes;
pub mod ranking;
pub mod scale;
mod style;
pub mod timeline;
pub mod vmap;

pub use chart::{FaultWindow, HEIGHT, Plot, PlotError, Rendered, WIDTH, render};
pub use heatmap::{HeatmapData, HeatmapPanel, write_heatmap};
pub use lines::{LinePoint, LineSeriesData, LinesData, XAxis, write_lines};
pub use nodes::{DepthAxis, NodeSeries, NodesData, write_nodes};
pub use ranking::{RankingData, RankingEntry, ReferenceLine, write_ranking};
pub use scale::{AxisScale, ValueFormat};
pub use timeline::{OutcomeBand, OutcomeRates, TimelineBucket, TimelineData, write_timeline};
pub use vmap::{VmapColumn, VmapData, write_vmap};

#[cfg(test)]
pub(crate) mod test_util {
    //! Checks on rendered files shared by the chart tests.

    use std::path::Path;

    /// Reads width and height from a PNG's IHDR chunk, checking the
    /// signature and the chunk layout by hand.
    pub fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).expect("read png");
        assert!(bytes.len() > 33, "png too short");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "png signature");
        assert_eq!(&bytes[8..12], &[0, 0, 0, 13], "IHDR length");
        assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
        let w = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
        let h = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
        assert!(bytes.ends_with(b"IEND\xaeB`\x82"), "png ends with IEND");
        (w, h)
    }

    /// Checks the SVG opens with an `<svg` element of the given size and is
    /// closed, with balanced text elements.
    pub fn check_svg(path: &Path, w: u32, h: u32) {
        let text = std::fs::read_to_string(path).expect("read svg");
        let start = text.trim_start();
        assert!(start.starts_with("<svg"), "svg starts with <svg");
        let open_tag = &start[..start.find('>').expect("svg tag closes")];
        assert!(open_tag.contains(&format!("width=\"{w}\"")), "{open_tag}");
        assert!(open_tag.contains(&format!("height=\"{h}\"")), "{open_tag}");
        assert!(text.trim_end().ends_with("</svg>"), "svg is closed");
        assert_eq!(
            text.matches("<text").count(),
            text.matches("</text>").count(),
            "balanced <text> elements"
        );
        assert!(text.contains("Roboto"), "svg names the bundled font");
    }

    /// Renders through the front function and checks both files.
    pub fn check_rendered(r: &super::Rendered) {
        assert_eq!(png_size(&r.png), (super::WIDTH, super::HEIGHT));
        check_svg(&r.svg, super::WIDTH, super::HEIGHT);
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::chart::validate_faults;
    use super::*;

    /// Renders one example of each chart through its front function and
    /// checks both files (a PNG and an SVG of the canvas size, at the paths
    /// asked for), printing the time each took. They go to a temporary
    /// folder, or to the one named by `CACHESTORM_PLOT_EXAMPLES` to look at
    /// them: `CACHESTORM_PLOT_EXAMPLES=/tmp/plot-examples cargo test
    /// --release write_examples -- --nocapture`.
    #[test]
    fn write_examples_and_check_them() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let dir = std::env::var_os("CACHESTORM_PLOT_EXAMPLES")
            .map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
        let time = |name: &str, f: &dyn Fn() -> Result<Rendered, PlotError>| {
            let t = std::time::Instant::now();
            let r = f().expect("render example");
            println!("{name}: {:?} -> {}", t.elapsed(), r.png.display());
            test_util::check_rendered(&r);
            assert_eq!(r.png.extension().and_then(|e| e.to_str()), Some("png"));
            assert_eq!(r.svg.extension().and_then(|e| e.to_str()), Some("svg"));
            assert!(
                r.png.parent().is_some_and(|p| p.starts_with(&dir)),
                "{}",
                r.png.display()
            );
        };
        time("timeline", &|| {
            write_timeline(&dir, "timeline", &timeline::tests::sample())
        });
        time("nodes", &|| {
            write_nodes(&dir, "nodes", &nodes::tests::sample())
        });
        time("heatmap", &|| {
            write_heatmap(&dir, "heatmap", &heatmap::tests::sample())
        });
        time("lines", &|| {
            write_lines(&dir, "lines", &lines::tests::sample())
        });
        time("ranking", &|| {
            write_ranking(&dir, "ranking", &ranking::tests::sample())
        });
        let stress = dir.join("stress");
        time("ranking (crowded)", &|| {
            write_ranking(&stress, "ranking-crowded", &ranking::tests::crowded())
        });
        time("heatmap (dense)", &|| {
            write_heatmap(&stress, "heatmap-dense", &heatmap::tests::dense())
        });
        time("timeline (zero)", &|| {
            let mut d = timeline::tests::sample();
            for b in &mut d.buckets {
                b.rates = OutcomeRates::default();
                b.p99_latency_ms = None;
            }
            write_timeline(&stress, "timeline-zero", &d)
        });
        time("timeline (faults)", &|| {
            write_timeline(&stress, "timeline-faults", &timeline::tests::many_faults())
        });
        time("nodes (many)", &|| {
            write_nodes(&stress, "nodes-many", &nodes::tests::many())
        });
        time("lines (one point)", &|| {
            let mut d = lines::tests::sample();
            d.series.truncate(1);
            d.series[0].points.truncate(1);
            d.x_scale = AxisScale::Auto;
            write_lines(&stress, "lines-one-point", &d)
        });
    }

    /// Other canvas sizes are not tuned but must still draw: each chart
    /// draws on a small and a very wide SVG kept in memory.
    #[test]
    fn other_canvas_sizes_do_not_panic() {
        fn draw_at<P: Plot>(p: &P, size: (u32, u32)) -> Result<(), PlotError> {
            let mut out = String::new();
            {
                let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
                p.draw(&root)?;
                root.present()?;
            }
            assert!(out.starts_with("<svg"));
            Ok(())
        }
        for size in [(480, 320), (3000, 500)] {
            draw_at(&timeline::tests::many_faults(), size).expect("timeline");
            draw_at(&nodes::tests::many(), size).expect("nodes");
            draw_at(&heatmap::tests::dense(), size).expect("heatmap");
            draw_at(&lines::tests::sample(), size).expect("lines");
            draw_at(&ranking::tests::crowded(), size).expect("ranking");
        }
    }

    #[test]
    fn bad_names_are_rejected_before_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = timeline::tests::sample();
        for name in ["", "a/b", "..", "x\\y"] {
            let err = render(&data, dir.path(), name).expect_err("bad name");
            assert!(matches!(err, PlotError::BadName(_)), "{err}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn invalid_data_leaves_no_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut data = timeline::tests::sample();
        data.buckets.clear();
        let err = write_timeline(dir.path(), "t", &data).expect_err("empty");
        assert!(matches!(err, PlotError::NoData { .. }), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn fault_windows_must_be_ordered_and_finite() {
        let ok = FaultWindow {
            start_s: 1.0,
            end_s: 1.0,
            label: "x".into(),
        };
        assert!(validate_faults("t", std::slice::from_ref(&ok)).is_ok());
        for (s, e) in [(2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
            let bad = FaultWindow {
                start_s: s,
                end_s: e,
                ..ok.clone()
            };
            assert!(validate_faults("t", &[bad]).is_err());
        }
    }
}
