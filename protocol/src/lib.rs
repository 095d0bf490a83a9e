//! paylock's typed request/answer model: the std shell under every other one.
//!
//! - [`batch`]: the JSON Lines batch protocol (`paylock batch`), one typed request in and one
//!   typed answer out per line; [`many`]: the same on every core (Python's `issue_many` /
//!   `verify_many`);
//! - [`Registry`]: schemes by name, the one place a request's `scheme` is looked up, and
//!   device models for CRMs; [`openpaygo`], [`nexus`] and [`access`] are the built-in schemes,
//!   whose request and answer types the CLI and the bindings build and read directly;
//! - [`metrics`]: OpenPAYGO Metrics reports verified and answered (`metrics_verify`,
//!   `metrics_respond`, under the `openpaygo` scheme);
//! - [`simulate`]: a provisioned device of any scheme on the device-lock engine, run through
//!   timed events;
//! - [`Error`]: every refusal as data (`kind`, `field`, a message that never repeats a value
//!   given).
//!
//! The core (`paylock`) knows none of this: it stays `no_std`, without JSON.

extern crate alloc;

pub mod access;
pub mod batch;
mod error;
pub mod field;
mod lines;
pub mod many;
pub mod metrics;
pub mod nexus;
pub mod openpaygo;
pub mod read;
pub mod registry;
pub mod simulate;

pub use batch::{Ops, handle, process_line, run};
pub use error::{Error, ErrorKind};
pub use lines::MAX_LINE;
pub use read::Input;
pub use registry::{Model, Registry, Scheme};
