//! The plots of one run, rendered from its files (`timeline.csv`,
//! `summary.json`, `node_events.csv`), so `cachestorm plot DIR` can redraw
//! them without rerunning: `timeline` (requests per second by outcome, p99,
//! fault windows) and `nodes` (queue depth and the share of clients that see
//! each node active).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::plot::Plot;
use super::plot::{
    AxisScale, FaultWindow, NodeSeries, NodesData, OutcomeRates, PlotError, Rendered,
    TimelineBucket, TimelineData, write_nodes, write_timeline,
};
use crate::config::client::PolicyKind;
use crate::output::files::{FAULT_END, FAULT_START};
use crate::output::{
    NodeColumn, NodeEventsColumn, ReadError, RunChart, RunDataFile, TimelineColumn, TimelineTable,
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
    /// `report.html` could not be written.
    #[error(transparent)]
    Report(#[from] super::html::ReportError),
}

fn input(path: &Path, message: impl ToString) -> RunPlotError {
    RunPlotError::Input {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

impl From<ReadError> for RunPlotError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Invalid { path, message } => RunPlotError::Input { path, message },
            ReadError::MissingColumn { path, column } => RunPlotError::Input {
                path,
                message: format!("no column `{column}`"),
            },
        }
    }
}

/// Fault windows from `node_events.csv`, labelled `<kind> <node name>`
/// (the name the model gives the node, `names[i]`; `node <i>` when it has
/// none).
pub fn fault_windows(dir: &Path, names: &[String]) -> Result<Vec<FaultWindow>, RunPlotError> {
    let path = RunDataFile::NodeEvents.path(dir);
    let mut r = csv::Reader::from_path(&path).map_err(|e| input(&path, e))?;
    let headers = r.headers().map_err(|e| input(&path, e))?.clone();
    let index = |c: NodeEventsColumn| {
        headers
            .iter()
            .position(|h| h == c.name())
            .ok_or_else(|| ReadError::MissingColumn {
                path: path.clone(),
                column: c.name().to_string(),
            })
    };
    let at = [
        index(NodeEventsColumn::Time)?,
        index(NodeEventsColumn::Node)?,
        index(NodeEventsColumn::Event)?,
        index(NodeEventsColumn::Detail)?,
    ];
    let mut open: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| input(&path, e))?;
        let cell = |i: usize| {
            rec.get(i).ok_or_else(|| {
                input(
                    &path,
                    format!(
                        "line {}: too few fields",
                        rec.position().map_or(0, |p| p.line())
                    ),
                )
            })
        };
        let (t, node, event, kind) = (cell(at[0])?, cell(at[1])?, cell(at[2])?, cell(at[3])?);
        let t: f64 = t
            .parse()
            .map_err(|_| input(&path, format!("bad time `{t}`")))?;
        match event {
            FAULT_START => {
                open.insert((node.to_string(), kind.to_string()), t);
            }
            FAULT_END => {
                if let Some(start) = open.remove(&(node.to_string(), kind.to_string()))
                    && kind != "none"
                {
                    out.push(FaultWindow {
                        start_s: start,
                        end_s: t,
                        label: format!("{kind} {}", node_name(names, node)),
                    });
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(out)
}

/// A node's name for people: the model's (`10.0.1.4:11211`), else
/// `node <i>`.
fn node_name(names: &[String], node: &str) -> String {
    node.parse::<usize>()
        .ok()
        .and_then(|i| names.get(i))
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("node {node}"))
}

/// What the charts of a run say about it, from `summary.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// The model's name.
    pub title: String,
    /// The settings in force, those of the active client policy only.
    pub subtitle: String,
    /// Each node's name as the model gives it (empty when it has none).
    pub node_names: Vec<String>,
}

/// Title and subtitle from `summary.json` (see [`RunInfo`]).
pub fn titles(dir: &Path) -> Result<(String, String), RunPlotError> {
    let info = run_info(dir)?;
    Ok((info.title, info.subtitle))
}

/// Reads [`RunInfo`] from `summary.json`. The subtitle states the settings
/// the active client policy uses: `op timeout` only for the policies that
/// use `client.op_timeout`, and every `client.<policy>.*` setting by name
/// (`pymemcache timeout 25ms`).
pub fn run_info(dir: &Path) -> Result<RunInfo, RunPlotError> {
    let path = RunDataFile::Summary.path(dir);
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
    ];
    let policy_name = get("client.policy");
    parts.push(policy_name.clone());
    let policy = PolicyKind::ALL.iter().find(|k| k.name() == policy_name);
    if let Some(map) = p.as_object() {
        let prefix = format!("client.{policy_name}.");
        for (k, val) in map.iter().filter(|(k, _)| k.starts_with(&prefix)) {
            let val = val.as_str().unwrap_or("?");
            let setting = k[prefix.len()..].replace('_', " ");
            parts.push(match setting.as_str() {
                // A mode names itself (`redistribute`).
                "failure mode" => val.to_string(),
                _ => format!("{setting} {val}"),
            });
        }
    }
    if policy.is_none_or(|k| k.uses_op_timeout()) {
        parts.push(format!("op timeout {}", get("client.op_timeout")));
    }
    if let Some(b) = p["service.bulkhead"].as_str().filter(|b| *b != "off") {
        parts.push(format!("bulkhead {b}"));
    }
    parts.push(format!("seed {}", v["seed"]));
    let node_names = v["nodes"]
        .as_array()
        .map(|ns| {
            ns.iter()
                .map(|n| n["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(RunInfo {
        title,
        subtitle: parts.join(" · "),
        node_names,
    })
}

/// The timeline chart's data, or an error naming a column the file lacks.
pub fn timeline_data(
    t: &TimelineTable,
    title: String,
    subtitle: String,
    faults: Vec<FaultWindow>,
) -> Result<TimelineData, ReadError> {
    use TimelineColumn as C;
    let start = t.col(C::Start)?;
    let end = t.col(C::End)?;
    let width = |i: usize| (end[i] - start[i]).max(1e-9);
    let per_s = |c: TimelineColumn| -> Result<Vec<f64>, ReadError> {
        let values = t.col(c)?;
        Ok(values
            .iter()
            .enumerate()
            .map(|(i, v)| v / width(i))
            .collect())
    };
    let (sc, sd, late, rej, to, failed) = (
        per_s(C::SucceededCache)?,
        per_s(C::SucceededDb)?,
        per_s(C::Late)?,
        per_s(C::Rejected)?,
        per_s(C::TimedOut)?,
        per_s(C::Failed)?,
    );
    let p99 = t.col(C::P99Ms)?;
    let rows = t.rows();
    let answered: Vec<f64> = (0..rows)
        .map(|i| sc[i] + sd[i] + late[i] + failed[i])
        .collect();
    let buckets = (0..rows)
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
    Ok(TimelineData {
        title,
        subtitle,
        bucket_width_s: if rows > 0 { width(0) } else { 1.0 },
        buckets,
        faults,
    })
}

/// The per-node chart's data, or an error naming a column the file lacks.
pub fn nodes_data(
    t: &TimelineTable,
    title: String,
    subtitle: String,
    faults: Vec<FaultWindow>,
    names: &[String],
) -> Result<NodesData, ReadError> {
    let times = t.col(TimelineColumn::End)?.to_vec();
    let nodes = (0..t.nodes())
        .map(|i| {
            Ok(NodeSeries {
                name: node_name(names, &i.to_string()),
                queue_depth: t.node_col(i, NodeColumn::Queue)?.to_vec(),
                active_share: t.node_col(i, NodeColumn::Active)?.to_vec(),
            })
        })
        .collect::<Result<_, ReadError>>()?;
    Ok(NodesData {
        title,
        subtitle,
        times_s: times,
        nodes,
        faults,
        depth_scale: AxisScale::Auto,
    })
}

/// Renders every [`RunChart`] (PNG and SVG) into `dir` from its files.
pub fn render_run_plots(dir: &Path) -> Result<Vec<Rendered>, RunPlotError> {
    render_run_plots_to(dir, dir, None, RunChart::ALL)
}

/// Renders `charts` of the run in `dir` into `out`, with `title` instead of
/// the model's name when given. Every chart's data is read and checked
/// before the first file is written.
pub fn render_run_plots_to(
    dir: &Path,
    out: &Path,
    title: Option<&str>,
    charts: &[RunChart],
) -> Result<Vec<Rendered>, RunPlotError> {
    let table = TimelineTable::read(dir)?;
    let info = run_info(dir)?;
    let faults = fault_windows(dir, &info.node_names)?;
    let title = title.map_or(info.title.clone(), str::to_string);
    let subtitle = info.subtitle.clone();
    enum Drawn {
        Timeline(TimelineData),
        Nodes(NodesData),
    }
    let mut drawn = Vec::new();
    for &chart in charts {
        let (title, subtitle, faults) = (title.clone(), subtitle.clone(), faults.clone());
        drawn.push(match chart {
            RunChart::Timeline => Drawn::Timeline(timeline_data(&table, title, subtitle, faults)?),
            RunChart::Nodes => Drawn::Nodes(nodes_data(
                &table,
                title,
                subtitle,
                faults,
                &info.node_names,
            )?),
        });
    }
    for d in &drawn {
        match d {
            Drawn::Timeline(t) => t.validate()?,
            Drawn::Nodes(n) => n.validate()?,
        }
    }
    let mut rendered = Vec::new();
    for (d, &chart) in drawn.iter().zip(charts) {
        rendered.push(match d {
            Drawn::Timeline(t) => write_timeline(out, chart.stem(), t)?,
            Drawn::Nodes(n) => write_nodes(out, chart.stem(), n)?,
        });
    }
    super::html::write_run_report(dir, out, &info.subtitle, &faults, &rendered)?;
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::RunFile;

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
        let names: Vec<String> = out.summary.nodes.iter().map(|n| n.name.clone()).collect();
        let faults = fault_windows(dir.path(), &names).unwrap();
        assert_eq!(faults.len(), 1);
        // The fault is labelled with the node's name in the model.
        assert_eq!(faults[0].label, format!("frozen {}", names[1]));
        assert_eq!(run_info(dir.path()).unwrap().node_names, names);
        assert_eq!((faults[0].start_s, faults[0].end_s), (30.0, 70.0));
        let data = timeline_data(&table, "t".into(), "s".into(), faults.clone()).unwrap();
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
        let nodes = nodes_data(&table, "t".into(), "s".into(), faults, &names).unwrap();
        assert_eq!(nodes.nodes[1].name, names[1]);
        assert_eq!(nodes.nodes.len(), 4);
        // Node 1 is frozen from 30 s to 70 s: before the fault every client
        // sees every node active; while it is frozen, clients that tripped
        // on it see it inactive at some bucket end; the other nodes are seen
        // active throughout.
        assert!(out.summary.client.trips > 0);
        let at = |n: usize| nodes.times_s.iter().zip(&nodes.nodes[n].active_share);
        for n in 0..4 {
            for (t, &a) in at(n) {
                assert!(n == 1 && *t > 30.0 || a == 1.0, "node {n} at {t} s: {a}");
            }
        }
        assert!(
            at(1).any(|(t, &a)| *t > 30.0 && *t <= 70.0 && a < 1.0),
            "the frozen node is never seen inactive: {:?}",
            nodes.nodes[1].active_share
        );
        let (title, subtitle) = titles(dir.path()).unwrap();
        assert_eq!(title, "testbed: frozen node");
        assert!(
            subtitle.contains("redistribute") && subtitle.contains("2500ms"),
            "{subtitle}"
        );
        let rendered = render_run_plots(dir.path()).unwrap();
        assert_eq!(rendered.len(), RunChart::ALL.len());
        // A run with its plots leaves exactly the contract's run files (no
        // temporaries), and the `--force` cleanup removes every one of them.
        let listing = |d: &Path| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let declared: std::collections::BTreeSet<String> =
            RunFile::all().into_iter().map(RunFile::name).collect();
        assert_eq!(listing(dir.path()), declared);
        crate::output::remove_previous_run(dir.path()).unwrap();
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn a_run_folder_without_a_needed_column_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            RunDataFile::Timeline.path(dir.path()),
            "t_s,end_s,succeeded_cache,succeeded_db,late,rejected,timed_out,failed,node0_queue\n0,1,1,1,1,1,1,1,0\n",
        )
        .unwrap();
        std::fs::write(
            RunDataFile::NodeEvents.path(dir.path()),
            NodeEventsColumn::header() + "\n",
        )
        .unwrap();
        std::fs::write(
            RunDataFile::Summary.path(dir.path()),
            r#"{"model": "m", "parameters": {}, "seed": 1}"#,
        )
        .unwrap();
        let e = render_run_plots(dir.path()).unwrap_err().to_string();
        assert!(e.contains("timeline.csv") && e.contains("`p99_ms`"), "{e}");
        let t = TimelineTable::read(dir.path()).unwrap();
        let e = nodes_data(&t, "t".into(), "s".into(), vec![], &[])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("`node0_active`"), "{e}");
        // node_events.csv without its `event` column.
        std::fs::write(
            RunDataFile::NodeEvents.path(dir.path()),
            "t_s,client,node,detail\n",
        )
        .unwrap();
        let e = fault_windows(dir.path(), &[]).unwrap_err().to_string();
        assert!(
            e.contains("node_events.csv") && e.contains("`event`"),
            "{e}"
        );
    }
}
