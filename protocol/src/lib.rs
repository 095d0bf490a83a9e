//! paylock's std shell under every other one: the JSON Lines batch protocol, the scheme
//! registry, parallel batches and the device simulator.

extern crate alloc;

pub mod batch;
pub mod registry;
