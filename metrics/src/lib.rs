#![doc = include_str!("../README.md")]

extern crate alloc;

mod error;
mod expand;
mod format;
pub mod keys;
pub mod python;
mod respond;
mod scan;
pub mod tree;
mod verify;

pub use error::{AuthError, FieldProblem, FormatError, MetricsError, NumberProblem, RowProblem};
pub use format::DataFormat;
pub use paylock::metrics::{AuthMethod, Dialect};
pub use respond::Answer;
pub use verify::{Authentic, Device, Options, Request, TimeRequest, VerifiedReport, verify};

use paylock::Key;
use serde::{Deserialize, Serialize};

/// Where `openpaygo` 0.6.3 is wrong, which behaviour to follow (docs/openpaygo.md, "paylock
/// decisions" for Metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compat {
    /// paylock's fixes: `active_seconds_left` is `target - now`, `active_until_timestamp` an
    /// integer, condensed values beyond the data format's order refused, historical rows
    /// without a data format expanded when they need none.
    #[default]
    Paylock,
    /// What 0.6.3 does in each of those places, byte for byte.
    Openpaygo063,
}

/// The answer's text for a verified report (`get_answer_payload`), signed when `key` is given.
#[must_use]
pub fn respond(report: &VerifiedReport, key: Option<&Key>, answer: &Answer) -> String {
    answer.to_text(report, key)
}
