//! A vulnerability map's chart and `report.html`, drawn from the files a
//! map wrote (`vmap.csv`, `vmap-steps.csv`, `experiment.toml`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::html::{ReportError, esc, file_links, inline_svg, page, question, table};
use super::plot::{Rendered, VmapColumn, VmapData, write_vmap};
use super::sweep_plots::SweepPlotError;
use crate::output::names::key_name;
use crate::output::vmap::{MapColumn, MapState, StepColumn, VmapChart, VmapDataFile};
use crate::output::{ReadError, write_atomic};

/// True when `dir` holds a vulnerability map.
pub fn is_vmap_dir(dir: &Path) -> bool {
    VmapDataFile::Map.path(dir).exists() || crate::sweep::vmap::is_map_journal(dir)
}

/// A CSV's rows as maps from column name to cell.
fn read_rows(path: &Path, need: &[&str]) -> Result<Vec<HashMap<String, String>>, ReadError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| ReadError::invalid(path, e))?;
    let head: Vec<String> = r
        .headers()
        .map_err(|e| ReadError::invalid(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(c) = need.iter().find(|c| !head.iter().any(|h| h == *c)) {
        return Err(ReadError::MissingColumn {
            path: path.to_path_buf(),
            column: c.to_string(),
        });
    }
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| ReadError::invalid(path, e))?;
            Ok(head
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect())
        })
        .collect()
}

fn number(path: &Path, s: &str, what: &str) -> Result<Option<f64>, ReadError> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .map(Some)
        .map_err(|_| ReadError::invalid(path, format!("{what} `{s}` is not a number")))
}

/// The map in `dir`: the chart's data and the rows of `vmap.csv`.
fn read(dir: &Path) -> Result<(VmapData, Vec<HashMap<String, String>>), ReadError> {
    let map_path = VmapDataFile::Map.path(dir);
    let steps_path = VmapDataFile::Steps.path(dir);
    let names: Vec<&str> = MapColumn::ALL.iter().map(|c| c.name()).collect();
    let rows = read_rows(&map_path, &names)?;
    let step_names: Vec<&str> = StepColumn::ALL.iter().map(|c| c.name()).collect();
    let steps = read_rows(&steps_path, &step_names)?;
    let cell = |r: &HashMap<String, String>, c: MapColumn| r[c.name()].clone();
    let first = rows
        .first()
        .ok_or_else(|| ReadError::invalid(&map_path, "no load values"))?;
    let (load_key, trigger_key, unit) = (
        cell(first, MapColumn::LoadKey),
        cell(first, MapColumn::TriggerKey),
        cell(first, MapColumn::TriggerUnit),
    );
    let mut columns = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, r) in rows.iter().enumerate() {
        let load = cell(r, MapColumn::Load);
        let x = number(&map_path, &load, "load")?.unwrap_or(i as f64);
        let state = MapState::parse(&cell(r, MapColumn::State)).ok_or_else(|| {
            ReadError::invalid(&map_path, format!("state `{}`", cell(r, MapColumn::State)))
        })?;
        let tried: Vec<(f64, bool)> = steps
            .iter()
            .filter(|s| s[StepColumn::Load.name()] == load)
            .map(|s| {
                Ok((
                    number(&steps_path, &s[StepColumn::Trigger.name()], "trigger")?
                        .unwrap_or(f64::NAN),
                    s[StepColumn::Stuck.name()] == "true",
                ))
            })
            .collect::<Result<_, ReadError>>()?;
        for &(y, _) in &tried {
            lo = lo.min(y);
            hi = hi.max(y);
        }
        columns.push(VmapColumn {
            x,
            state,
            stable_up_to: number(&map_path, &cell(r, MapColumn::StableUpTo), "stable_up_to")?,
            min_trigger: number(&map_path, &cell(r, MapColumn::MinTrigger), "min_trigger")?,
            tried,
        });
    }
    columns.sort_by(|a, b| a.x.total_cmp(&b.x));
    let unit_text = match unit.as_str() {
        "value" => String::new(),
        u => format!(" ({u})"),
    };
    let data = VmapData {
        title: format!(
            "Vulnerability map: {} against {}",
            key_name(&trigger_key),
            key_name(&load_key)
        ),
        subtitle: format!(
            "below the line the system recovers after the trigger, above it it stays stuck\n{load_key} across, {trigger_key} up; stuck = verdict.state is stuck"
        ),
        x_label: key_name(&load_key),
        y_label: format!("{}{unit_text}", key_name(&trigger_key)),
        y_range: (lo, hi),
        columns,
    };
    Ok((data, rows))
}

/// Draws `vmap.png`/`.svg` and writes `report.html` for the map in `dir`
/// into `out`.
pub fn render_vmap_to(dir: &Path, out: &Path) -> Result<Rendered, SweepPlotError> {
    let (data, rows) = read(dir).map_err(|e| SweepPlotError::Input(e.to_string()))?;
    let rendered = write_vmap(out, VmapChart::Map.stem(), &data)?;
    let exp_text = std::fs::read_to_string(VmapDataFile::Experiment.path(dir)).unwrap_or_default();
    let mut body = format!("<h1>{}</h1>\n", esc(&data.title));
    let q = question(&exp_text);
    if !q.is_empty() {
        let _ = writeln!(body, "<p class=\"question\">{}</p>", esc(&q));
    }
    body.push_str("<h2>The map</h2>\n");
    body.push_str(&inline_svg(&rendered, VmapChart::Map.stem()));
    let head: Vec<String> = MapColumn::ALL
        .iter()
        .filter(|c| !matches!(c, MapColumn::LoadKey | MapColumn::TriggerKey))
        .map(|c| c.name().to_string())
        .collect();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| head.iter().map(|h| r[h].clone()).collect())
        .collect();
    body.push_str("<h2>Smallest trigger that stays stuck, per load</h2>\n");
    body.push_str(&table(&head, &table_rows, 3));
    let names: Vec<&str> = VmapDataFile::ALL.iter().map(|f| f.name()).collect();
    body.push_str(&file_links(dir, out, &names));
    let path = out.join(super::html::REPORT);
    write_atomic(&path, page(&data.title, &body).as_bytes()).map_err(|source| ReportError {
        path: path.clone(),
        source,
    })?;
    Ok(rendered)
}

/// [`render_vmap_to`] into the map's own folder.
pub fn render_vmap(dir: &Path) -> Result<Rendered, SweepPlotError> {
    render_vmap_to(dir, dir)
}
