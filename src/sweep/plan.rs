//! A checked experiment ready to run: every point's model, each run's seed,
//! and the experiment's fingerprint.

use md5::{Digest, Md5};

use super::error::SweepError;
use super::journal::{FORMAT, Header, VERSION};
use super::options::{PlanOptions, SeedMode, SeedSource};
use crate::config::experiment::Experiment;
use crate::config::{ConfigError, Model};
use crate::engine::rng::derive;
use crate::guard::{self, RunLimits};
use crate::output::metric::{FieldKind, field_kind, summary_fields};

/// A checked experiment ready to run.
pub struct Plan {
    /// The experiment.
    pub experiment: Experiment,
    /// The options it was planned with.
    pub options: PlanOptions,
    /// The experiment seed in force.
    pub seed: u64,
    /// Where it came from.
    pub seed_source: SeedSource,
    /// The journal header (and fingerprint) of this sweep.
    pub header: Header,
    /// Per point: the run-time limits the guard gave it if this shard runs
    /// it (`None` for the others). Models are not kept: a grid of many
    /// points would hold them all; each run builds its point's again.
    limits: Vec<Option<RunLimits>>,
    /// Per point, the seed its replication seeds derive from.
    point_seeds: Vec<u64>,
}

/// The fingerprint of a sweep: MD5 (hex) of the cachestorm version, the
/// experiment text, the model text, the seed mode and seed, and every
/// point's canonical spelling.
pub(super) fn fingerprint(
    experiment: &str,
    model: &str,
    seed_mode: &str,
    seed: u64,
    canon: &[String],
) -> String {
    let mut h = Md5::new();
    let mut part = |name: &str, text: &str| {
        h.update(format!("{name} {}\n", text.len()).as_bytes());
        h.update(text.as_bytes());
        h.update(b"\n");
    };
    // The build, not only the version: two builds of one version can
    // compute different numbers.
    part("cachestorm", crate::VERSION_BUILD);
    part("experiment", experiment);
    part("model", model);
    part("seed_mode", seed_mode);
    part("seed", &seed.to_string());
    for (p, c) in canon.iter().enumerate() {
        part(&format!("point {p}"), c);
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// The experiment text with its top-level `replications = N` line's number
/// replaced by `k` (`None` when there is no such line).
fn with_replications(text: &str, k: u32) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done
            && let Some(rest) = line.trim_start().strip_prefix("replications")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let v = value.trim_start();
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                let at = line.len() - v.len();
                out.push_str(&line[..at]);
                out.push_str(&k.to_string());
                out.push_str(&line[at + digits.len()..]);
                done = true;
                continue;
            }
        }
        out.push_str(line);
    }
    done.then_some(out)
}

/// A stable 64-bit hash of text: the first 8 bytes of its MD5, little-endian.
pub fn stable_hash(text: &str) -> u64 {
    let d = Md5::digest(text.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("md5 has 16 bytes"))
}

impl Plan {
    /// Checks every point's model and the metrics, passes every point this
    /// shard runs through the runaway guard ([`guard::admit`], with
    /// `options.max_events`), fixes the seeds and the fingerprint. Nothing
    /// runs; the first point refused is named with its values.
    pub fn new(experiment: Experiment, options: PlanOptions) -> Result<Plan, SweepError> {
        if experiment.map.is_some() {
            return Err(SweepError::Refused(format!(
                "{}: an experiment with [map] is a vulnerability map, run by `cachestorm sweep` (sweep::vmap::run_map), not a grid",
                experiment.path.display()
            )));
        }
        let n = experiment.points.len();
        let mut limits = Vec::with_capacity(n);
        let mut max_nodes = 0;
        let mut model_seed = None;
        for p in 0..n {
            let m = experiment.model_for(p)?;
            max_nodes = max_nodes.max(m.node_count());
            model_seed.get_or_insert(m.seed);
            let ours = options.shard.is_none_or(|s| s.contains(p));
            limits.push(if ours {
                let what = format!(
                    "{}: sweep point {p} ({})",
                    experiment.path.display(),
                    experiment.point_label(p)
                );
                Some(guard::admit(&what, &m, options.max_events)?.limits)
            } else {
                None
            });
        }
        let (numeric, _) = summary_fields(max_nodes);
        for m in &experiment.metrics {
            match field_kind(&m.value, max_nodes) {
                FieldKind::Numeric => {}
                kind => {
                    let hint = crate::config::error::did_you_mean(
                        &m.value,
                        numeric.iter().map(String::as_str),
                    )
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                    return Err(SweepError::Config(ConfigError {
                        origin: m.origin.clone(),
                        key: "metrics".into(),
                        message: if kind == FieldKind::Text {
                            format!("`{}` is text, not a number", m.value)
                        } else {
                            format!("`{}` is not a field of the run summary{hint}", m.value)
                        },
                        allowed: Some(
                            "a numeric field of summary.json by dotted path, e.g. windows.fault.success_ratio, latency_ms.p99, db.peak_in_flight, nodes.0.utilization".into(),
                        ),
                    }));
                }
            }
        }
        let (seed, seed_source) = match (options.seed, &experiment.seed) {
            (Some(s), _) => (s, SeedSource::CommandLine),
            (None, Some(s)) => (s.value, SeedSource::Experiment),
            (None, None) => (model_seed.unwrap_or(1), SeedSource::Model),
        };
        let canon: Vec<String> = (0..n).map(|p| experiment.point_canonical(p)).collect();
        let point_seeds = canon
            .iter()
            .map(|c| match options.seed_mode {
                SeedMode::Common => seed,
                SeedMode::Independent => derive(seed, stable_hash(c)),
            })
            .collect();
        let metrics: Vec<String> = experiment.metrics.iter().map(|m| m.value.clone()).collect();
        let rank_by = experiment
            .rank_by
            .as_ref()
            .map_or_else(|| metrics[0].clone(), |r| r.value.clone());
        let version = crate::VERSION_BUILD;
        let fingerprint = fingerprint(
            &experiment.text,
            &experiment.model_text,
            options.seed_mode.name(),
            seed,
            &canon,
        );
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            cachestorm: version.into(),
            fingerprint,
            experiment: experiment.name.clone(),
            seed,
            seed_mode: options.seed_mode.name().into(),
            replications: experiment.replications.value,
            sequential: experiment.sequential.clone(),
            params: experiment.axes.iter().map(|a| a.key.clone()).collect(),
            points: (0..n)
                .map(|p| {
                    experiment
                        .point_values(p)
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                })
                .collect(),
            metrics,
            rank_by,
            shard: options.shard,
        };
        Ok(Plan {
            experiment,
            options,
            seed,
            seed_source,
            header,
            limits,
            point_seeds,
        })
    }

    /// Whether a journal with `fingerprint` and `replications` per point
    /// holds an earlier run of this very sweep with fewer replications:
    /// the experiment differs from it only in the number of its
    /// `replications` line, which grew (so `--resume` may add them).
    pub fn extends(&self, journal_fingerprint: &str, replications: u32) -> bool {
        if replications >= self.header.replications {
            return false;
        }
        let e = &self.experiment;
        let canon: Vec<String> = (0..e.points.len()).map(|p| e.point_canonical(p)).collect();
        with_replications(&e.text, replications).is_some_and(|old| {
            fingerprint(
                &old,
                &e.model_text,
                self.options.seed_mode.name(),
                self.seed,
                &canon,
            ) == journal_fingerprint
        })
    }

    /// The run-time limits of point `p` (for a point of another shard, only
    /// the state bounds).
    pub fn limits(&self, p: usize) -> RunLimits {
        self.limits
            .get(p)
            .cloned()
            .flatten()
            .unwrap_or_else(RunLimits::state_only)
    }

    /// The seed of replication `r` of point `p`.
    pub fn run_seed(&self, p: usize, r: u32) -> u64 {
        derive(self.point_seeds[p], r as u64)
    }

    /// The model of point `p` (checked by [`Plan::new`]).
    pub fn model(&self, p: usize) -> Result<Model, ConfigError> {
        self.experiment.model_for(p)
    }

    /// Whether this plan (its shard) runs point `p`.
    pub fn runs_point(&self, p: usize) -> bool {
        self.limits.get(p).is_some_and(Option::is_some)
    }

    /// The (point, replication) pairs this plan runs, in order.
    pub fn runs(&self) -> Vec<(usize, u32)> {
        let r = self.header.replications;
        (0..self.limits.len())
            .filter(|&p| self.limits[p].is_some())
            .flat_map(|p| (0..r).map(move |i| (p, i)))
            .collect()
    }

    /// The text of `experiment.toml`: the experiment as run, its `model`
    /// resolved to an absolute path, with a comment naming the seed.
    pub fn experiment_copy(&self) -> String {
        let e = &self.experiment;
        let resolved = std::path::absolute(&e.model_path).unwrap_or_else(|_| e.model_path.clone());
        let source = match self.seed_source {
            SeedSource::CommandLine => "--seed",
            SeedSource::Experiment => "the experiment's `seed`",
            SeedSource::Model => "the model's `seed`",
        };
        format!(
            "# The experiment as run by cachestorm {}: seed {} (from {source}), {} random numbers; `model` resolved.\n{}",
            self.header.cachestorm,
            self.seed,
            self.options.seed_mode.name(),
            e.text_with_model(&resolved)
        )
    }
}
