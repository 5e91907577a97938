//! `[[workload.flow]]`: the request types, chosen by weight, and their
//! steps. The simulator's twin is `sim::world::flow` (which runs the steps).

use serde::Deserialize;

use super::{MAX_VALUE, WorkloadFile};
use crate::config::check::{Check, MAX_U16, U16_WHY};
use crate::config::cluster::{PoolConfig, pool_index};
use crate::config::dist::{Dist, DistSpec};
use crate::config::error::ConfigError;
use crate::config::units::Bytes;

/// Most keys one multi_get may ask for: far past any real bulk get, so a
/// larger count is a typo; each key costs three events and a slot.
const MAX_MULTI_GET: u32 = 100_000;
/// Keys of a multi_get that gives no `count`.
const DEFAULT_MULTI_GET_COUNT: u32 = 10;

/// One `[[workload.flow]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Its name in reports.
    pub name: String,
    /// Relative weight. Default 1.
    #[serde(default = "one")]
    pub weight: f64,
    /// The steps, run in order on the request's thread. At least one.
    pub steps: Vec<StepFile>,
}

fn one() -> f64 {
    1.0
}

/// What a step does.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepOp {
    /// Cache get of one key.
    Get,
    /// Cache set of one key (value of `size` bytes).
    Set,
    /// Cache touch of one key.
    Touch,
    /// Cache delete of one key.
    Delete,
    /// Cache bulk get of `count` keys.
    MultiGet,
    /// A database read (holds the thread while it waits).
    DbRead,
    /// A database write: bumps the key's version in the database.
    DbWrite,
    /// CPU time on the executor thread.
    Work,
}

/// When a step runs, judged on the last awaited get or multi-get.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Always (default).
    #[default]
    Always,
    /// Only after a hit.
    Hit,
    /// Only after a miss.
    Miss,
    /// Only after a cache error (timeout, cancellation, rejection, error).
    Error,
    /// After a miss or a cache error: the read-through fallback.
    MissOrError,
}

/// Which key a cache step uses.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyChoice {
    /// The request's current key (the first cache step draws one). Default.
    #[default]
    Same,
    /// Draw a new key and make it the current one.
    New,
}

/// Which keys a step iterates over.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Each {
    /// Each key whose earlier awaited `get` of this request missed or failed,
    /// in step order: the per-key fallback after several gets ("get k1, get
    /// k2, then for each key that missed: database read, set"). An awaited
    /// `multi_get` contributes each of its keys that missed, in the order it
    /// asked for them, or all of them when the call failed (a bulk get that
    /// throws loses every key's result).
    Missed,
}

/// Most steps a flow with an `each` loop may have: the keys that missed are
/// kept as a bit per step in a `u64`.
pub const MAX_STEPS_WITH_EACH: usize = 64;
/// Most keys of the awaited multi_get of a flow with an `each` loop: its
/// keys that missed are kept as a bit per key in a `u64`.
pub const MAX_MULTI_GET_WITH_EACH: u32 = 64;
/// Who fills the cache after a database read (`db_read`'s `fill`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Look-aside: the database read fills nothing by itself; the flow's own
    /// `set` step fills, so only a read that returned to its caller in time
    /// fills (the default: the flows' behaviour before the key existed).
    #[default]
    LookAside,
    /// Read-through: when the query ends, its answer is set into the step's
    /// pool (fire-and-forget, by the instance's client), whether or not its
    /// caller still waits.
    ReadThrough,
}

impl Fill {
    /// Every policy, in the order of the documentation.
    pub const ALL: [Fill; 2] = [Fill::LookAside, Fill::ReadThrough];

    /// Its name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            Fill::LookAside => "look_aside",
            Fill::ReadThrough => "read_through",
        }
    }
}

/// One step of a flow.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// `get`, `set`, `touch`, `delete`, `multi_get`, `db_read`, `db_write` or `work`.
    pub op: StepOp,
    /// When the step runs. Default `always`.
    #[serde(default)]
    pub on: Condition,
    /// Wait for the result (default true); `false` fires and forgets (cache
    /// steps only).
    #[serde(default = "yes")]
    pub wait: bool,
    /// `same` (default) or `new`.
    #[serde(default)]
    pub key: KeyChoice,
    /// multi_get: number of keys (default `DEFAULT_MULTI_GET_COUNT`).
    pub count: Option<u32>,
    /// multi_get: draw `count` distinct keys (default false: each key drawn
    /// on its own, so a key may repeat).
    pub distinct: Option<bool>,
    /// work: CPU time distribution. Required for `work`.
    pub time: Option<DistSpec>,
    /// set: value size; default `workload.value_size`.
    pub size: Option<Bytes>,
    /// The cache pool (functional cache groups); default the first pool.
    pub pool: Option<String>,
    /// `missed`: run this step once per key whose earlier awaited `get`
    /// missed or failed, with that key as the current key. Consecutive steps
    /// with `each` form one loop body, run key after key. Default: none.
    pub each: Option<Each>,
    /// db_read: `look_aside` (default) or `read_through`.
    pub fill: Option<Fill>,
}

fn yes() -> bool {
    true
}

impl StepOp {
    /// Every step op, in the order of the file's documentation.
    pub const ALL: [StepOp; 8] = [
        StepOp::Get,
        StepOp::Set,
        StepOp::Touch,
        StepOp::Delete,
        StepOp::MultiGet,
        StepOp::DbRead,
        StepOp::DbWrite,
        StepOp::Work,
    ];

    /// The op's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            StepOp::Get => "get",
            StepOp::Set => "set",
            StepOp::Touch => "touch",
            StepOp::Delete => "delete",
            StepOp::MultiGet => "multi_get",
            StepOp::DbRead => "db_read",
            StepOp::DbWrite => "db_write",
            StepOp::Work => "work",
        }
    }

    /// True for the gets, single and bulk: the ops whose result a later
    /// step's condition (`on`) judges.
    pub fn is_get(self) -> bool {
        match self {
            StepOp::Get | StepOp::MultiGet => true,
            StepOp::Set
            | StepOp::Touch
            | StepOp::Delete
            | StepOp::DbRead
            | StepOp::DbWrite
            | StepOp::Work => false,
        }
    }

    /// True for the ops that go to the cache.
    pub fn is_cache(self) -> bool {
        match self {
            StepOp::Get | StepOp::Set | StepOp::Touch | StepOp::Delete | StepOp::MultiGet => true,
            StepOp::DbRead | StepOp::DbWrite | StepOp::Work => false,
        }
    }
}

/// A request type, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowConfig {
    /// Name.
    pub name: String,
    /// Relative weight.
    pub weight: f64,
    /// Steps.
    pub steps: Vec<StepConfig>,
}

/// One step, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct StepConfig {
    /// What it does.
    pub op: StepOp,
    /// When it runs.
    pub on: Condition,
    /// Whether the request waits for it.
    pub wait: bool,
    /// Which key.
    pub key: KeyChoice,
    /// multi_get: keys per call.
    pub count: u32,
    /// multi_get: the keys are distinct.
    pub distinct: bool,
    /// work: CPU time.
    pub time: Option<Dist>,
    /// set: bytes of the value.
    pub size: u32,
    /// Cache pool index.
    pub pool: usize,
    /// Part of a per-key loop: the body's first step and one past its last.
    pub each: Option<(u16, u16)>,
    /// db_read: who fills the cache.
    pub fill: Fill,
}

/// The flows of `[workload]`.
pub(super) fn validate(
    v: &Check,
    w: &WorkloadFile,
    pools: &[PoolConfig],
) -> Result<Vec<FlowConfig>, ConfigError> {
    if w.flow.is_empty() {
        return Err(v.err_allowed(
            path!["workload", "flow"],
            "no flows",
            "at least one [[workload.flow]] with steps",
        ));
    }
    if w.flow.len() > MAX_U16 as usize {
        return Err(v.err_allowed(
            path!["workload", "flow"],
            format!("found {} flows", w.flow.len()),
            format!("at most {MAX_U16} flows{U16_WHY}"),
        ));
    }
    let mut flows = Vec::new();
    let mut total_weight = 0.0;
    for (fi, f) in w.flow.iter().enumerate() {
        let weight = v.finite_positive(path!["workload", "flow", fi, "weight"], f.weight)?;
        total_weight += weight;
        if !total_weight.is_finite() {
            return Err(v.err_allowed(
                path!["workload", "flow", fi, "weight"],
                format!("the weights add up to more than {:e}", f64::MAX),
                "weights whose sum is a finite number, e.g. 0.7 and 0.3",
            ));
        }
        if f.steps.is_empty() {
            return Err(v.err(
                path!["workload", "flow", fi, "steps"],
                "a flow needs at least one step",
            ));
        }
        if f.steps.len() > MAX_U16 as usize {
            return Err(v.err_allowed(
                path!["workload", "flow", fi, "steps"],
                format!("found {} steps", f.steps.len()),
                format!("at most {MAX_U16} steps{U16_WHY}"),
            ));
        }
        let mut steps: Vec<StepConfig> = Vec::new();
        let has_each = f.steps.iter().any(|s| s.each.is_some());
        let mut seen_multi_get = false;
        let mut seen_get = false;
        for (si, s) in f.steps.iter().enumerate() {
            let at = |k: &str| path!["workload", "flow", fi, "steps", si, k];
            if !s.wait && !s.op.is_cache() {
                return Err(v.err_allowed(
                    at("wait"),
                    "only cache steps can be fire-and-forget",
                    "wait = true here",
                ));
            }
            if s.on != Condition::Always && !seen_get {
                return Err(v.err_allowed(
                    at("on"),
                    "this condition refers to an earlier get or multi_get, and there is none",
                    "on = \"always\", or put a get before it",
                ));
            }
            let time = match (s.op, &s.time) {
                (StepOp::Work, Some(t)) => Some(v.dist(at("time"), t)?),
                (StepOp::Work, None) => {
                    return Err(v.err_allowed(
                        at("time"),
                        "a work step needs a time",
                        "e.g. time = { dist = \"exponential\", mean = \"1ms\" }",
                    ));
                }
                (_, Some(_)) => return Err(v.err(at("time"), "only work steps take a time")),
                (_, None) => None,
            };
            let count = match (s.op, s.count) {
                (StepOp::MultiGet, Some(c)) => v.in_range(at("count"), c, 1, MAX_MULTI_GET, "")?,
                (StepOp::MultiGet, None) => DEFAULT_MULTI_GET_COUNT,
                (_, Some(_)) => return Err(v.err(at("count"), "only multi_get steps take a count")),
                (_, None) => 1,
            };
            let distinct = match (s.op, s.distinct) {
                (StepOp::MultiGet, Some(true)) if u64::from(count) > w.keys.count => {
                    return Err(v.err_allowed(
                        at("distinct"),
                        format!(
                            "{count} distinct keys asked for, the key space has {}",
                            w.keys.count
                        ),
                        "a count of at most workload.keys.count, or distinct = false",
                    ));
                }
                (StepOp::MultiGet, d) => d.unwrap_or(false),
                (_, Some(_)) => {
                    return Err(v.err_allowed(
                        at("distinct"),
                        "only multi_get steps take `distinct`",
                        "no `distinct` here, or op = \"multi_get\"",
                    ));
                }
                (_, None) => false,
            };
            if has_each && s.op == StepOp::MultiGet && s.wait {
                if seen_multi_get {
                    return Err(v.err_allowed(
                        at("op"),
                        "a flow with `each` may have one awaited multi_get: its keys that missed are tracked one by one",
                        "one awaited multi_get in this flow, or no `each`",
                    ));
                }
                if count > MAX_MULTI_GET_WITH_EACH {
                    return Err(v.err_allowed(
                        at("count"),
                        format!("{count} keys in the multi_get of a flow with `each`"),
                        format!("at most {MAX_MULTI_GET_WITH_EACH}"),
                    ));
                }
                seen_multi_get = true;
            }
            let size = match (s.op, s.size) {
                (StepOp::Set, Some(b)) if b.0 > MAX_VALUE => {
                    return Err(v.err_allowed(
                        at("size"),
                        "over memcached's 1 MiB item limit",
                        "at most 1048576",
                    ));
                }
                (StepOp::Set, Some(b)) => b.0 as u32,
                (_, Some(_)) => return Err(v.err(at("size"), "only set steps take a size")),
                (_, None) => w.value_size.0 as u32,
            };
            let pool = match &s.pool {
                None => 0,
                Some(name) => pool_index(v, at("pool"), pools, name)?,
            };
            if let Some(Each::Missed) = s.each {
                if !seen_get {
                    return Err(v.err_allowed(
                        at("each"),
                        "`each = \"missed\"` loops over the keys of earlier awaited gets, and there is none",
                        "an awaited `get` or `multi_get` step before it",
                    ));
                }
                if s.on != Condition::Always {
                    return Err(v.err_allowed(
                        at("on"),
                        "a step of a per-key loop runs for each missed key: it takes no condition",
                        "on = \"always\" (the default) with `each`",
                    ));
                }
                if s.op.is_get() && s.wait {
                    return Err(v.err_allowed(
                        at("op"),
                        "an awaited get inside a per-key loop would change the keys it loops over",
                        "db_read, db_write, work, a set/touch/delete, or a get with wait = false",
                    ));
                }
                if f.steps.len() > MAX_STEPS_WITH_EACH {
                    return Err(v.err_allowed(
                        at("each"),
                        format!("the flow has {} steps", f.steps.len()),
                        format!("at most {MAX_STEPS_WITH_EACH} steps in a flow with `each`"),
                    ));
                }
            }
            let fill = match (s.op, s.fill) {
                (StepOp::DbRead, f) => f.unwrap_or_default(),
                (_, Some(_)) => {
                    return Err(v.err_allowed(
                        at("fill"),
                        "only db_read steps take a fill policy",
                        "no `fill` here, or op = \"db_read\"",
                    ));
                }
                (_, None) => Fill::LookAside,
            };
            if s.op.is_get() && s.wait {
                seen_get = true;
            }
            let each = match s.each {
                None => None,
                Some(Each::Missed) => match steps.last().and_then(|p| p.each) {
                    // Continues the loop body begun by the previous step.
                    Some((start, _)) => Some((start, si as u16 + 1)),
                    None => Some((si as u16, si as u16 + 1)),
                },
            };
            if let Some((start, end)) = each {
                for p in &mut steps[start as usize..] {
                    p.each = Some((start, end));
                }
            }
            steps.push(StepConfig {
                op: s.op,
                on: s.on,
                wait: s.wait,
                key: s.key,
                count,
                distinct,
                time,
                size,
                pool,
                each,
                fill,
            });
        }
        flows.push(FlowConfig {
            name: f.name.clone(),
            weight,
            steps,
        });
    }
    Ok(flows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};

    #[test]
    fn all_lists_every_op_the_file_accepts() {
        assert_allowed("workload.flow.0.steps.0.op", StepOp::ALL.map(StepOp::name));
    }

    #[test]
    fn all_lists_every_fill_the_file_accepts() {
        assert_allowed("workload.flow.0.steps.0.fill", Fill::ALL.map(Fill::name));
    }

    #[test]
    fn only_database_reads_take_a_fill() {
        let read = [
            "workload.flow.0.steps.0.op=db_read",
            "workload.flow.0.steps.0.fill=read_through",
        ];
        let m = model(&read).unwrap();
        assert_eq!(m.workload.flows[0].steps[0].fill, Fill::ReadThrough);
        let e = model(&["workload.flow.0.steps.0.fill=read_through"]).unwrap_err();
        assert!(e.to_string().contains("only db_read"), "{e}");
    }

    #[test]
    fn every_op_validates_as_a_step() {
        for op in StepOp::ALL {
            let mut sets = vec![
                "workload.flow.0.steps.1.op=get".to_string(),
                format!("workload.flow.0.steps.0.op={}", op.name()),
            ];
            if op == StepOp::Work {
                sets.push(
                    "workload.flow.0.steps.0.time={ dist = \"constant\", value = \"1ms\" }".into(),
                );
            }
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            let m = model(&sets).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            let step = &m.workload.flows[0].steps[0];
            assert_eq!(step.op, op);
            assert_eq!(step.time.is_some(), op == StepOp::Work);
            let count = if op == StepOp::MultiGet {
                DEFAULT_MULTI_GET_COUNT
            } else {
                1
            };
            assert_eq!(step.count, count, "{op:?}");
            // Only cache steps may be fire-and-forget.
            let forget = [&sets[..], &["workload.flow.0.steps.0.wait=false"]].concat();
            assert_eq!(model(&forget).is_ok(), op.is_cache(), "{op:?}");
        }
    }

    /// Consecutive `each` steps form one loop body: each knows the body's
    /// bounds; a step without `each` ends it.
    #[test]
    fn consecutive_each_steps_form_one_body() {
        let m = model(&[
            "workload.flow.0.steps.0.op=get",
            "workload.flow.0.steps.1.op=db_read",
            "workload.flow.0.steps.1.on=always",
            "workload.flow.0.steps.1.each=missed",
            "workload.flow.0.steps.2.op=set",
            "workload.flow.0.steps.2.on=always",
            "workload.flow.0.steps.2.each=missed",
            "workload.flow.0.steps.3.op=work",
            "workload.flow.0.steps.3.time={ dist = \"constant\", value = \"1ms\" }",
        ])
        .unwrap();
        let each: Vec<_> = m.workload.flows[0].steps.iter().map(|s| s.each).collect();
        assert_eq!(each, [None, Some((1, 3)), Some((1, 3)), None]);
    }

    /// A multi_get may draw distinct keys (not more than the key space
    /// holds); no other step takes `distinct`; a flow with `each` tracks one
    /// awaited multi_get of at most 64 keys, key by key.
    #[test]
    fn distinct_and_each_limits_of_multi_get() {
        let bulk = [
            "workload.flow.0.steps.0.op=multi_get",
            "workload.flow.0.steps.0.count=5",
            "workload.flow.0.steps.0.distinct=true",
            "workload.flow.0.steps.1.op=db_read",
            "workload.flow.0.steps.1.each=missed",
        ];
        let m = model(&bulk).unwrap();
        assert!(m.workload.flows[0].steps[0].distinct);
        assert_eq!(m.workload.flows[0].steps[1].each, Some((1, 2)));
        let e = model(&[&bulk[..], &["workload.keys.count=4"]].concat()).unwrap_err();
        assert!(e.to_string().contains("key space has 4"), "{e}");
        let e = model(&["workload.flow.0.steps.0.distinct=true"]).unwrap_err();
        assert!(e.to_string().contains("only multi_get"), "{e}");
        let big = [&bulk[..], &["workload.flow.0.steps.0.count=65"]].concat();
        let e = model(&big).unwrap_err();
        assert!(e.to_string().contains("at most 64"), "{e}");
        let at_64 = [&bulk[..], &["workload.flow.0.steps.0.count=64"]].concat();
        assert!(model(&at_64).is_ok());
    }
}
