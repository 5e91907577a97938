//! `report.html`: one self-contained page beside a run's or a sweep's files
//! for a reviewer to open — the question, the model's assumptions in plain
//! words (its key settings and faults), the ranking table (a sweep) or the
//! results by window (a run), every plot as inline SVG, and links to the
//! CSV files. No script, no stylesheet or font from the network: it opens
//! from a file, prints on paper, and reads on a phone (the plots scale to
//! the width; tables scroll sideways).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::plot::Rendered;
use crate::config::{self, Model};
use crate::engine::time::secs;
use crate::output::metric::axis_label;
use crate::output::names::{config_label, key_name};
use crate::output::{Metric, RunDataFile, SweepDataFile, write_atomic};
use crate::sweep::journal::Header;
use crate::sweep::ranking::{self, interval_method, with_interval};
use crate::sweep::record::Record;

/// The file name, as declared in the output contract.
pub const REPORT: &str = crate::output::files::REPORT;

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct ReportError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Text made safe for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: Roboto, Arial, Helvetica, sans-serif; color: #191919; background: #fff;
  max-width: 1100px; margin: 0 auto; padding: 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
p.question { font-size: 1.15rem; }
.small, code.key { font-size: 0.8rem; color: #555; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 1.2rem 0; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
ul.files li { margin: 0.15rem 0; }
@media (max-width: 600px) { body { padding: 0.5rem; } h1 { font-size: 1.3rem; } table { font-size: 0.8rem; } }
@media print { body { max-width: none; } figure, table { break-inside: avoid; } a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; } }
";

pub(super) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\
         <p class=\"small\">Written by cachestorm {} from the files beside this page.</p>\n</body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// The SVG of a rendered plot, made to scale with the page.
pub(super) fn inline_svg(r: &Rendered, caption: &str) -> String {
    let svg = std::fs::read_to_string(&r.svg).unwrap_or_default();
    let svg = svg.trim_start();
    let Some(rest) = svg.strip_prefix("<svg") else {
        return String::new();
    };
    // The drawing keeps its viewBox; the fixed size goes, so it scales.
    let rest = rest
        .replacen(" width=\"1600\"", "", 1)
        .replacen(" height=\"900\"", "", 1);
    let png = r
        .png
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    format!(
        "<figure>\n<svg role=\"img\" aria-label=\"{}\"{rest}\n<figcaption>{} · <a href=\"{}\">PNG</a></figcaption>\n</figure>\n",
        esc(caption),
        esc(caption),
        esc(&png)
    )
}

/// The closing sections of a run's or a sweep's page: each rendered chart
/// inline under "Plots", captioned by its file stem, then the links to
/// the data files `names`.
fn plots_and_files(rendered: &[Rendered], dir: &Path, out: &Path, names: &[&str]) -> String {
    let mut html = String::from("<h2>Plots</h2>\n");
    for r in rendered {
        let stem = r
            .svg
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        html.push_str(&inline_svg(r, &stem));
    }
    html.push_str(&file_links(dir, out, names));
    html
}

pub(super) fn file_links(dir: &Path, out: &Path, names: &[&str]) -> String {
    let mut s = String::from("<h2>Files</h2>\n<ul class=\"files\">\n");
    for n in names {
        let path = dir.join(n);
        if !path.exists() {
            continue;
        }
        let href = if dir == out {
            (*n).to_string()
        } else {
            std::fs::canonicalize(&path)
                .map_or(path.display().to_string(), |p| p.display().to_string())
        };
        let _ = writeln!(s, "<li><a href=\"{}\">{}</a></li>", esc(&href), esc(n));
    }
    s.push_str("</ul>\n");
    s
}

pub(super) fn table(head: &[String], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut s = String::from("<div class=\"scroll\"><table>\n<tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i >= numeric_from || i == 0 {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
    s
}

/// The model's assumptions in plain words: its settings by name, and each
/// fault with its node's name and its times.
fn assumptions(model: &Model) -> String {
    let mut s = String::from("<h2>The model's assumptions</h2>\n<ul>\n");
    for (k, v) in model.describe() {
        let _ = writeln!(
            s,
            "<li>{}: <b>{}</b> <code class=\"key\">{}</code></li>",
            esc(&key_name(&k)),
            esc(&v),
            esc(&k)
        );
    }
    s.push_str("</ul>\n");
    if model.faults.is_empty() {
        s.push_str("<p>No fault.</p>\n");
    } else {
        s.push_str("<p>Faults:</p>\n<ul>\n");
        for f in &model.faults {
            let node = model.pools[f.pool]
                .nodes
                .get(f.node)
                .cloned()
                .unwrap_or_else(|| format!("node {}", f.node));
            let _ = writeln!(
                s,
                "<li><b>{}</b> on {} (pool {}) from {} s to {} s</li>",
                esc(f.kind.kind().name()),
                esc(&node),
                esc(&model.pools[f.pool].name),
                secs(f.start),
                secs(f.end)
            );
        }
        s.push_str("</ul>\n");
    }
    s
}

/// How the comment a sweep adds to its copy of the experiment starts
/// (`sweep::plan::Plan::experiment_copy`).
const COPY_NOTE: &str = "The experiment as run by cachestorm";

/// The leading comment of an experiment or model file (its first
/// paragraph): what it asks.
pub fn question(text: &str) -> String {
    let mut lines = Vec::new();
    for l in text.lines() {
        let Some(c) = l.trim_start().strip_prefix('#') else {
            break;
        };
        let c = c.trim();
        // The line a sweep puts on its copy of the experiment.
        if lines.is_empty() && c.starts_with(COPY_NOTE) {
            continue;
        }
        if c.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(c.to_string());
    }
    lines.join(" ")
}

/// Writes `out/report.html` for the sweep in `dir` with its rendered plots.
pub fn write_sweep_report(
    dir: &Path,
    out: &Path,
    header: &Header,
    records: &[Record],
    rendered: &[Rendered],
) -> Result<PathBuf, ReportError> {
    let mut body = format!("<h1>{}</h1>\n", esc(&header.experiment));
    let exp = config::experiment::Experiment::load(&SweepDataFile::Experiment.path(dir)).ok();
    if let Some(e) = &exp {
        let q = question(&e.text);
        if !q.is_empty() {
            let _ = writeln!(body, "<p class=\"question\">{}</p>", esc(&q));
        }
    }
    let m = &header.rank_by;
    let _ = writeln!(
        body,
        "<p>{} point(s), {}, seed {} ({} seeds). Ranked by <b>{}</b> ({}); 95 % intervals: {}.</p>",
        header.points.len(),
        esc(&crate::sweep::ranking::replications_per_point(
            header, false
        )),
        header.seed,
        header.seed_mode,
        esc(&axis_label(m)),
        Metric::of(m).direction.describe(),
        esc(interval_method(m))
    );
    body.push_str("<h2>What was varied</h2>\n<ul>\n");
    for (k, key) in header.params.iter().enumerate() {
        let mut values: Vec<&str> = Vec::new();
        for p in &header.points {
            if !values.contains(&p[k].as_str()) {
                values.push(&p[k]);
            }
        }
        let _ = writeln!(
            body,
            "<li>{}: {} <code class=\"key\">{}</code></li>",
            esc(&key_name(key)),
            esc(&values.join(", ")),
            esc(key)
        );
    }
    body.push_str("</ul>\n");
    if let Some(e) = &exp {
        let sets: Vec<String> = e
            .sets
            .iter()
            .map(|s| format!("{}={}", s.key, s.value.literal))
            .collect();
        if let Ok(model) = config::model_from_str(&e.model_path, &e.model_text, &sets) {
            body.push_str(&assumptions(&model));
            let _ = writeln!(
                body,
                "<p class=\"small\">Model file: {}; the experiment's fixed settings applied.</p>",
                esc(&e.model_path.display().to_string())
            );
        }
    }
    body.push_str("<h2>Ranking</h2>\n");
    if let Some((_, head, rows)) = ranking::worst_case_table(header, records) {
        body.push_str("<p>Each configuration by its worst case across the fault kinds; the other columns give each fault kind's mean.</p>\n");
        body.push_str(&table(&head, &rows, 2));
    } else {
        let stats = crate::sweep::output::point_stats(header, records);
        let rows = ranking::rows(header, &stats, records);
        let mut head = vec!["rank".to_string(), "configuration".to_string()];
        head.push(format!("{} [95 % CI]", axis_label(m)));
        head.extend(ranking::COSTS.iter().map(|c| axis_label(c)));
        let body_rows: Vec<Vec<String>> =
            rows.iter()
                .map(|r| {
                    let mut row = vec![
                        r.rank.to_string(),
                        config_label(&header.params, &header.points[r.point], |_| true),
                        with_interval(m, &r.metric),
                    ];
                    row.extend(ranking::COSTS.iter().zip(&r.costs).map(|(c, s)| {
                        s.mean.map_or("–".into(), |v| Metric::of(c).format.text(v))
                    }));
                    row
                })
                .collect();
        body.push_str(&table(&head, &body_rows, 2));
    }
    let names: Vec<&str> = SweepDataFile::ALL.iter().map(|f| f.name()).collect();
    body.push_str(&plots_and_files(rendered, dir, out, &names));
    let path = out.join(REPORT);
    let html = page(&header.experiment, &body);
    write_atomic(&path, html.as_bytes()).map_err(|source| ReportError {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes `out/report.html` for the run in `dir` with its rendered plots.
pub fn write_run_report(
    dir: &Path,
    out: &Path,
    settings: &str,
    faults: &[super::plot::FaultWindow],
    rendered: &[Rendered],
) -> Result<PathBuf, ReportError> {
    let path = RunDataFile::Summary.path(dir);
    let text = std::fs::read_to_string(&path).map_err(|source| ReportError {
        path: path.clone(),
        source,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let name = v["model"].as_str().unwrap_or("cachestorm run").to_string();
    let mut body = format!("<h1>{}</h1>\n", esc(&name));
    let _ = writeln!(
        body,
        "<p class=\"question\">What does this system do under its faults?</p>\n<p>{}</p>",
        esc(settings)
    );
    body.push_str("<h2>The model's assumptions</h2>\n<ul>\n");
    if let Some(p) = v["parameters"].as_object() {
        for (k, val) in p {
            let _ = writeln!(
                body,
                "<li>{}: <b>{}</b> <code class=\"key\">{}</code></li>",
                esc(&key_name(k)),
                esc(val.as_str().unwrap_or_default()),
                esc(k)
            );
        }
    }
    body.push_str("</ul>\n");
    if faults.is_empty() {
        body.push_str("<p>No fault.</p>\n");
    } else {
        body.push_str("<p>Faults:</p>\n<ul>\n");
        for f in faults {
            let _ = writeln!(
                body,
                "<li><b>{}</b> from {} s to {} s</li>",
                esc(&f.label),
                f.start_s,
                f.end_s
            );
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<h2>Results by window</h2>\n");
    let keys = [
        "offered",
        "success_ratio",
        "timed_out_ratio",
        "rejected_ratio",
        "cache_timeout_ratio",
        "latency_ms.p99",
    ];
    let mut head = vec!["window".to_string()];
    head.extend(
        keys.iter()
            .map(|k| axis_label(&format!("windows.fault.{k}")).replace(" in the fault window", "")),
    );
    let mut rows = Vec::new();
    for w in crate::output::metric::WINDOWS {
        let mut row = vec![w.to_string()];
        for k in keys {
            let full = format!("windows.{w}.{k}");
            let mut x = &v["windows"][w];
            for part in k.split('.') {
                x = &x[part];
            }
            row.push(
                x.as_f64()
                    .map_or("–".into(), |x| Metric::of(&full).format.text(x)),
            );
        }
        rows.push(row);
    }
    body.push_str(&table(&head, &rows, 1));
    let names: Vec<&str> = RunDataFile::ALL.iter().map(|f| f.name()).collect();
    body.push_str(&plots_and_files(rendered, dir, out, &names));
    let out_path = out.join(REPORT);
    write_atomic(&out_path, page(&name, &body).as_bytes()).map_err(|source| ReportError {
        path: out_path.clone(),
        source,
    })?;
    Ok(out_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_reads_the_question() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let q = question("# Which change would\n# keep it under 1 %?\n#\n# More.\nname = \"x\"\n");
        assert_eq!(q, "Which change would keep it under 1 %?");
        assert_eq!(question("name = 1\n# later"), "");
        let copy =
            "# The experiment as run by cachestorm 0.1.0: seed 42 (from `seed`).\n# Which one?\n";
        assert_eq!(question(copy), "Which one?");
    }
}
