//! Typed ids of the simulated system. A leaf: it imports nothing.
