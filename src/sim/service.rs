//! The service: its instances (each an executor and, when enabled, a
//! bulkhead), the bulkhead tasks, the queue of requests made ready, and the
//! round robin over instances. The request's path through the service is
//! orchestrated in `world/flow.rs`.
