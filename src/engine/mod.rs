//! The discrete-event engine: simulated time, the event queue and random
//! streams. It knows nothing about caches: a model supplies its own event type
//! and handles each event it is given.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::{Lane, Scheduler, Timer};
pub use rng::{ChaCha8Rng, SplitMix64, stream};
pub use time::{Nanos, format_nanos};
