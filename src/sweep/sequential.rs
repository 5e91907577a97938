//! Sequential stopping: `replications = { min, max, until = "±X pp" }`.
//!
//! Every point runs `min` replications; then, one replication at a time, a
//! point stops as soon as the 95 % interval (Student t, [`super::stats`]) of
//! the ranking metric over its replications so far has a half-width within
//! ±X percentage points, or when it has `max`. The decision after n
//! replications reads only replications 0..n of that point, in replication
//! order, and each replication's seed is fixed by the plan, so which runs a
//! point makes — and therefore every output file — is the same at any thread
//! count, and a resumed sweep continues exactly where it stopped.
//!
//! The rule is applied per point: with common random numbers, two points that
//! stop at different n are compared over different replications (their
//! intervals stay valid; the pairing of their runs is lost beyond the
//! shorter). Optional stopping also lowers an interval's coverage a little
//! below 95 % (the stop is chosen where the sample spread happened to be
//! small); `min` ≥ 3 limits that.

use std::collections::BTreeMap;

use super::journal::Header;
use super::record::Record;
use super::stats::summarize;
use crate::config::experiment::Sequential;

/// True when a point whose ranking metric took `values` (replications 0..n,
/// in order; `None` where a run has no value) needs replication n.
pub fn wants_more(rule: &Sequential, max: u32, values: &[Option<f64>]) -> bool {
    let n = values.len() as u32;
    if n >= max {
        return false;
    }
    if n < rule.min {
        return true;
    }
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let s = summarize(&present);
    match (s.low, s.high) {
        (Some(low), Some(high)) if s.n >= 2 => (high - low) / 2.0 > rule.half_width(),
        _ => true,
    }
}

/// The runs to make next: for each point of `points` still going, its next
/// replications (up to `min` at first, then one at a time). A point's
/// records are taken in replication order up to the first gap.
pub fn next_runs(
    header: &Header,
    rule: &Sequential,
    points: &[usize],
    records: &[Record],
) -> Vec<(usize, u32)> {
    next_runs_of(header, rule, points, &rank_values(header, records))
}

/// The ranking metric of every run: (point, replication) → value, all a
/// sequential sweep keeps of its runs while it runs (not the records).
pub type RankValues = BTreeMap<(usize, u32), Option<f64>>;

/// [`RankValues`] of `records`.
pub fn rank_values(header: &Header, records: &[Record]) -> RankValues {
    records
        .iter()
        .map(|r| ((r.point, r.replication), r.number(&header.rank_by)))
        .collect()
}

/// [`next_runs`] from the runs' ranking metric.
pub fn next_runs_of(
    header: &Header,
    rule: &Sequential,
    points: &[usize],
    values: &RankValues,
) -> Vec<(usize, u32)> {
    let mut by_point: BTreeMap<usize, BTreeMap<u32, Option<f64>>> = BTreeMap::new();
    for (&(p, r), &v) in values {
        by_point.entry(p).or_default().insert(r, v);
    }
    let mut todo = Vec::new();
    for &p in points {
        let mut values = Vec::new();
        if let Some(reps) = by_point.get(&p) {
            for (i, (&r, &v)) in reps.iter().enumerate() {
                if r != i as u32 {
                    break;
                }
                values.push(v);
            }
        }
        // The first replication at which the rule says stop ends the point,
        // whatever a journal may hold beyond it.
        let mut n = 0;
        while n < values.len() && wants_more(rule, header.replications, &values[..n]) {
            n += 1;
        }
        if n < values.len() || !wants_more(rule, header.replications, &values[..n]) {
            continue;
        }
        let upto = (rule.min.max(n as u32 + 1)).min(header.replications);
        todo.extend((n as u32..upto).map(|r| (p, r)));
    }
    todo
}

/// Keeps, of each point's records, those up to where the rule stopped it.
pub fn retain_decided(header: &Header, rule: &Sequential, records: &mut Vec<Record>) {
    let keep = decided(header, rule, &rank_values(header, records));
    records.retain(|r| r.replication < keep[&r.point]);
}

/// For each point with runs, how many of its replications the rule keeps
/// (those up to where it stopped the point).
pub fn decided(header: &Header, rule: &Sequential, values: &RankValues) -> BTreeMap<usize, u32> {
    let mut by_point: BTreeMap<usize, Vec<(u32, Option<f64>)>> = BTreeMap::new();
    for (&(p, r), &v) in values {
        by_point.entry(p).or_default().push((r, v));
    }
    let mut keep: BTreeMap<usize, u32> = BTreeMap::new();
    for (p, mut reps) in by_point {
        reps.sort_by_key(|x| x.0);
        let mut values = Vec::new();
        for (i, (r, v)) in reps.into_iter().enumerate() {
            if r != i as u32 || !wants_more(rule, header.replications, &values) {
                break;
            }
            values.push(v);
        }
        keep.insert(p, values.len() as u32);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(min: u32, until: &str) -> Sequential {
        Sequential {
            min,
            until: until.into(),
        }
    }

    #[test]
    fn until_reads_percentage_points() {
        assert_eq!(Sequential::parse_until("±1 pp"), Some(0.01));
        assert_eq!(Sequential::parse_until("+-0.5pp"), Some(0.005));
        for bad in ["1 pp", "±1 %", "±0 pp", "±x pp", "±-1 pp", ""] {
            assert_eq!(Sequential::parse_until(bad), None, "{bad}");
        }
    }

    #[test]
    fn stops_when_the_interval_is_tight_and_never_beyond_max() {
        let r = rule(3, "±1 pp");
        let v = |xs: &[f64]| xs.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        // Fewer than min: always more.
        assert!(wants_more(&r, 10, &v(&[0.5, 0.5])));
        // Identical values: zero width, stop at min.
        assert!(!wants_more(&r, 10, &v(&[0.5, 0.5, 0.5])));
        // Spread of ±10 pp: the half-width t(2)·s/√3 is far above 1 pp.
        let wide = v(&[0.4, 0.5, 0.6]);
        let s = summarize(&[0.4, 0.5, 0.6]);
        assert!((s.high.unwrap() - s.low.unwrap()) / 2.0 > 0.01);
        assert!(wants_more(&r, 10, &wide));
        assert!(!wants_more(&r, 3, &wide));
        // A run without a value does not count towards the interval: one
        // value is no interval, two equal ones are a tight one.
        assert!(wants_more(&r, 10, &[None, None, Some(0.5)]));
        assert!(!wants_more(&r, 10, &[Some(0.5), None, Some(0.5)]));
    }
}
