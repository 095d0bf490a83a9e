//! OpenPAYGO Metrics in the batch protocol (`"scheme":"openpaygo"`): the CRM's side of a
//! device report, on `paylock-metrics`.
//!
//! `metrics_verify`: `{"text":"<report>","key":"…","data_format":{…}?,
//! "last_request_count":n?,"last_timestamp":n?,"received_at":n?,"compat":"paylock"?,
//! "dialect":"standard"?,"method":"ra"?}` → `{"ok":true,"valid":true,"report":{…},
//! "token_count":…,"time_requested":…}`, or `{"ok":true,"valid":false,"reason":{"kind",
//! "field","message"}}` for a report that is not authentic, not fresh or does not expand. A
//! refused report is a verdict, not a malformed request: `ok:false` is kept for requests the
//! protocol cannot read.
//!
//! `metrics_respond`: the same fields plus `"now"` and `"calls"` (`[["tokens",[…]],
//! ["time",target|null],["settings",{…}],["base_url",url],["extra_data",{…}]]`, in the order
//! the answer's fields are added) and `"signed"` (default `true`) → `{"ok":true,"valid":true,
//! "text":"<answer>"}`, or the same `valid:false` verdict.
//!
//! No message repeats the key or a value of the report.

mod respond;
mod verify;

pub use paylock_metrics::{DataFormat, VerifiedReport};
pub use respond::{Call, MetricsRespond, Responded, respond};
pub use verify::{CompatName, DialectName, MethodName, MetricsVerify, Reason, Verified, verify};
