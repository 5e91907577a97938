//! Whole-model speed: one run of each model, single-threaded, timeline
//! discarded (as in a sweep). Throughput is in events (handler calls, stale
//! timers not counted); `cachestorm run` prints the same count.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use cachestorm::config::{Model, load_model};

fn load(path: &str) -> Model {
    load_model(std::path::Path::new(path), &[]).unwrap()
}

fn events(m: &Model) -> u64 {
    cachestorm::sim::run(m, &mut |_| {}).summary.events
}

fn models(c: &mut Criterion) {
    let mut g = c.benchmark_group("models");
    g.sample_size(10);
    for (name, path) in [
        ("mm1", "models/checks/mm1.toml"),
        ("incident", "models/incident.toml"),
        ("high_rate_50k", "models/bench/high-rate.toml"),
        ("peer", "models/peers/simpy-cache.toml"),
    ] {
        let m = load(path);
        g.throughput(Throughput::Elements(events(&m)));
        g.bench_function(name, |b| b.iter(|| events(&m)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts; the numbers are what matter.
    config = Criterion::default().without_plots();
    targets = models
}
criterion_main!(benches);
