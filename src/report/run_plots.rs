//! The plots of one run, rendered from its files (`timeline.csv`,
//! `summary.json`, `node_events.csv`), so `cachestorm plot DIR` can redraw
//! them without rerunning: `timeline` (requests per second by outcome, p99,
//! fault windows) and `nodes` (queue depth and the share of clients that see
//! each node active).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::plot::{
    AxisScale, FaultWindow, NodeSeries, NodesData, OutcomeRates, PlotError, Rendered,
    TimelineBucket, TimelineData, write_nodes, write_timeline,
};

/// Why a run's plots could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RunPlotError {
    /// A file of the run is missing or unreadable.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Drawing failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

fn input(path: &Path, message: impl ToString) -> RunPlotError {
    RunPlotError::Input {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// A timeline read back from `timeline.csv`: column name → values.
pub struct TimelineTable {
    columns: BTreeMap<String, Vec<f64>>,
    rows: usize,
}

impl TimelineTable {
    /// Reads `dir/timeline.csv`.
    pub fn read(dir: &Path) -> Result<Self, RunPlotError> {
        let path = dir.join("timeline.csv");
        let mut r = csv::Reader::from_path(&path).map_err(|e| input(&path, e))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| input(&path, e))?
            .iter()
            .map(String::from)
            .collect();
        let mut columns: BTreeMap<String, Vec<f64>> =
            headers.iter().map(|h| (h.clone(), Vec::new())).collect();
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.map_err(|e| input(&path, e))?;
            for (h, v) in headers.iter().zip(rec.iter()) {
                let x = v
                    .parse::<f64>()
                    .map_err(|_| input(&path, format!("column {h}: `{v}` is not a number")))?;
                columns.get_mut(h).expect("header").push(x);
            }
            rows += 1;
        }
        Ok(TimelineTable { columns, rows })
    }

    /// A column, or zeros if the file has none of that name.
    pub fn col(&self, name: &str) -> Vec<f64> {
        self.columns
            .get(name)
            .cloned()
            .unwrap_or_else(|| vec![0.0; self.rows])
    }

    /// Number of nodes (from the `node<i>_queue` columns).
    pub fn nodes(&self) -> usize {
        (0..)
            .take_while(|i| self.columns.contains_key(&format!("node{i}_queue")))
            .count()
    }
}

/// Fault windows from `node_events.csv`, labelled "<kind> node <i>".
pub fn fault_windows(dir: &Path) -> Result<Vec<FaultWindow>, RunPlotError> {
    let path = dir.join("node_events.csv");
    let mut r = csv::Reader::from_path(&path).map_err(|e| input(&path, e))?;
    let mut open: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| input(&path, e))?;
        let (t, node, event, kind) = (&rec[0], &rec[2], &rec[3], &rec[4]);
        let t: f64 = t
            .parse()
            .map_err(|_| input(&path, format!("bad time `{t}`")))?;
        match event {
            "fault_start" => {
                open.insert((node.to_string(), kind.to_string()), t);
            }
            "fault_end" => {
                if let Some(start) = open.remove(&(node.to_string(), kind.to_string()))
                    && kind != "none"
                {
                    out.push(FaultWindow {
                        start_s: start,
                        end_s: t,
                        label: format!("{kind} node {node}"),
                    });
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(out)
}

/// Title and subtitle from `summary.json`.
pub fn titles(dir: &Path) -> Result<(String, String), RunPlotError> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| input(&path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| input(&path, e))?;
    let title = v["model"].as_str().unwrap_or("cachestorm run").to_string();
    let p = &v["parameters"];
    let get = |k: &str| p[k].as_str().unwrap_or("?").to_string();
    let mut parts = vec![
        format!("{} req/s", get("workload.rate")),
        format!(
            "{} x {} {}",
            get("service.instances"),
            get("service.threads"),
            get("service.executor").replace('_', " ")
        ),
        format!("{} nodes", get("cluster.nodes")),
        get("client.policy"),
    ];
    if let Some(m) = p["client.spymemcached.failure_mode"].as_str() {
        parts.push(m.to_string());
    }
    parts.push(format!("op timeout {}", get("client.op_timeout")));
    if let Some(b) = p["service.bulkhead"].as_str().filter(|b| *b != "off") {
        parts.push(format!("bulkhead {b}"));
    }
    parts.push(format!("seed {}", v["seed"]));
    Ok((title, parts.join(" · ")))
}

/// The timeline chart's data.
pub fn timeline_data(
    t: &TimelineTable,
    title: String,
    subtitle: String,
    faults: Vec<FaultWindow>,
) -> TimelineData {
    let start = t.col("t_s");
    let end = t.col("end_s");
    let width = |i: usize| (end[i] - start[i]).max(1e-9);
    let per_s = |name: &str| -> Vec<f64> {
        let c = t.col(name);
        c.iter().enumerate().map(|(i, v)| v / width(i)).collect()
    };
    let (sc, sd, late, rej, to, failed) = (
        per_s("succeeded_cache"),
        per_s("succeeded_db"),
        per_s("late"),
        per_s("rejected"),
        per_s("timed_out"),
        per_s("failed"),
    );
    let p99 = t.col("p99_ms");
    let answered: Vec<f64> = (0..t.rows)
        .map(|i| sc[i] + sd[i] + late[i] + failed[i])
        .collect();
    let buckets = (0..t.rows)
        .map(|i| TimelineBucket {
            start_s: start[i],
            rates: OutcomeRates {
                succeeded_cache: sc[i],
                succeeded_database: sd[i],
                late: late[i],
                rejected: rej[i],
                timed_out: to[i],
                failed: failed[i],
            },
            p99_latency_ms: (answered[i] > 0.0).then_some(p99[i]),
        })
        .collect();
    TimelineData {
        title,
        subtitle,
        bucket_width_s: if t.rows > 0 { width(0) } else { 1.0 },
        buckets,
        faults,
    }
}

/// The per-node chart's data.
pub fn nodes_data(
    t: &TimelineTable,
    title: String,
    subtitle: String,
    faults: Vec<FaultWindow>,
) -> NodesData {
    let times = t.col("end_s");
    let nodes = (0..t.nodes())
        .map(|i| NodeSeries {
            name: format!("node {i}"),
            queue_depth: t.col(&format!("node{i}_queue")),
            active_share: t.col(&format!("node{i}_active")),
        })
        .collect();
    NodesData {
        title,
        subtitle,
        times_s: times,
        nodes,
        faults,
        depth_scale: AxisScale::Auto,
    }
}

/// Renders `timeline` and `nodes` (PNG and SVG) into `dir` from its files.
pub fn render_run_plots(dir: &Path) -> Result<Vec<Rendered>, RunPlotError> {
    let table = TimelineTable::read(dir)?;
    let faults = fault_windows(dir)?;
    let (title, subtitle) = titles(dir)?;
    let timeline = timeline_data(&table, title.clone(), subtitle.clone(), faults.clone());
    let nodes = nodes_data(&table, title, subtitle, faults);
    Ok(vec![
        write_timeline(dir, "timeline", &timeline)?,
        write_nodes(dir, "nodes", &nodes)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_data_come_from_the_run_files() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/testbed/frozen.toml"
        ))
        .unwrap();
        let model = crate::config::model_from_str(Path::new("frozen.toml"), &text, &[]).unwrap();
        let out = crate::run::write_run(dir.path(), &model, true).unwrap();
        let table = TimelineTable::read(dir.path()).unwrap();
        let faults = fault_windows(dir.path()).unwrap();
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].label, "frozen node 1");
        assert_eq!((faults[0].start_s, faults[0].end_s), (30.0, 70.0));
        let data = timeline_data(&table, "t".into(), "s".into(), faults.clone());
        // The stacked rates add up to every request that ended.
        let total: f64 = data
            .buckets
            .iter()
            .map(|b| {
                let r = &b.rates;
                r.succeeded_cache
                    + r.succeeded_database
                    + r.late
                    + r.rejected
                    + r.timed_out
                    + r.failed
            })
            .sum();
        let s = &out.summary.requests;
        assert_eq!(total as u64, s.offered - s.unfinished);
        let nodes = nodes_data(&table, "t".into(), "s".into(), faults);
        assert_eq!(nodes.nodes.len(), 4);
        // The frozen node is seen inactive at some bucket end after a trip.
        assert!(
            nodes.nodes[1].active_share.iter().any(|&a| a < 1.0) || out.summary.client.trips > 0
        );
        let (title, subtitle) = titles(dir.path()).unwrap();
        assert_eq!(title, "testbed: frozen node");
        assert!(
            subtitle.contains("redistribute") && subtitle.contains("2500ms"),
            "{subtitle}"
        );
        let rendered = render_run_plots(dir.path()).unwrap();
        assert_eq!(rendered.len(), 2);
        assert!(dir.path().join("timeline.png").exists() && dir.path().join("nodes.svg").exists());
    }
}
