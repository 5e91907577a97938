//! The discrete-event engine: simulated time, the event queue and random
//! streams. It knows nothing about caches.
