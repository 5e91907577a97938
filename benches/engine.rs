//! Raw engine speed: an M/M/1 queue (rho = 0.9) written directly against the
//! event queue, with no cache model around it. An event is one handler call.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp};

use cachestorm::engine::{ChaCha8Rng, Scheduler, stream};

#[derive(Clone, Copy)]
enum Ev {
    Arrival,
    Departure,
}

/// Runs `customers` arrivals; returns the events handled.
fn mm1(customers: u64) -> u64 {
    let mut rng: ChaCha8Rng = stream(1, "mm1");
    let gap = Exp::new(0.9e-6).unwrap();
    let service = Exp::new(1e-6).unwrap();
    let mut s = Scheduler::new();
    s.at(0, Ev::Arrival);
    let (mut queue, mut busy, mut arrived, mut events) = (0u64, false, 0u64, 0u64);
    while let Some((_, ev)) = s.pop() {
        events += 1;
        match ev {
            Ev::Arrival => {
                arrived += 1;
                if arrived < customers {
                    s.after(gap.sample(&mut rng) as u64, Ev::Arrival);
                }
                if busy {
                    queue += 1;
                } else {
                    busy = true;
                    s.after(service.sample(&mut rng) as u64, Ev::Departure);
                }
            }
            Ev::Departure => {
                if queue > 0 {
                    queue -= 1;
                    s.after(service.sample(&mut rng) as u64, Ev::Departure);
                } else {
                    busy = false;
                }
            }
        }
    }
    events
}

fn engine(c: &mut Criterion) {
    let events = mm1(100_000);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.bench_function("mm1_events", |b| b.iter(|| mm1(100_000)));
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts; the numbers are what matter.
    config = Criterion::default().without_plots();
    targets = engine
}
criterion_main!(benches);
