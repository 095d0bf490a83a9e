//! The `metrics_verify` op: a device report checked against the device's key, last request and
//! data format, and expanded.

use alloc::borrow::Cow;

use paylock::Key;
use paylock::metrics::{AuthMethod, Dialect};
use paylock_metrics::tree::Value;
use paylock_metrics::{
    Compat, DataFormat, Device, MetricsError, Options, TimeRequest, VerifiedReport,
};
use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::field::{self, True, names};

names! {
    /// Where paylock fixes `openpaygo` 0.6.3, whose behaviour to follow.
    pub enum CompatName (ErrorKind::WrongType) {
        /// paylock's fixes (docs/openpaygo.md, "paylock decisions").
        Paylock = "paylock",
        /// 0.6.3 byte for byte.
        Openpaygo063 = "openpaygo_0_6_3",
    }
}

names! {
    /// What the device's firmware hashes.
    pub enum DialectName (ErrorKind::WrongType) {
        /// The specification's text.
        Standard = "standard",
        /// OpenPAYGO-HDK's, with a trailing NUL.
        HdkTrailingNul = "hdk_trailing_nul",
    }
}

names! {
    /// The auth method a device is pinned to.
    pub enum MethodName (ErrorKind::WrongType) {
        /// Simple auth.
        Sa = "sa",
        /// Timestamp auth.
        Ta = "ta",
        /// Count auth.
        Ca = "ca",
        /// Data auth.
        Da = "da",
        /// Recursive data auth.
        Ra = "ra",
    }
}

/// A `metrics_verify` request: the report as received and what the CRM knows of the device.
#[derive(Clone, Debug, Deserialize)]
pub struct MetricsVerify<'a> {
    /// The report's JSON text, as the device sent it.
    #[serde(borrow, deserialize_with = "field::text")]
    pub text: Cow<'a, str>,
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub key: Key,
    /// The data format registered for the device (else the one the report embeds, unsigned).
    #[serde(default, deserialize_with = "field::opt_object")]
    pub data_format: Option<DataFormat>,
    /// The count of the last report accepted from the device.
    #[serde(default)]
    pub last_request_count: Option<u64>,
    /// The timestamp of the last report accepted from the device.
    #[serde(default)]
    pub last_timestamp: Option<u64>,
    /// The server's clock at reception (Unix seconds): rows of a report without a time start
    /// there. 0 when absent.
    #[serde(default)]
    pub received_at: Option<i64>,
    /// `paylock` (default) or `openpaygo_0_6_3`.
    #[serde(default)]
    pub compat: Option<CompatName>,
    /// `standard` (default) or `hdk_trailing_nul`.
    #[serde(default)]
    pub dialect: Option<DialectName>,
    /// The one method the device signs with, when known.
    #[serde(default)]
    pub method: Option<MethodName>,
}

impl MetricsVerify<'_> {
    /// The compatibility switch.
    #[must_use]
    pub fn compat(&self) -> Compat {
        match self.compat {
            Some(CompatName::Openpaygo063) => Compat::Openpaygo063,
            _ => Compat::Paylock,
        }
    }

    /// The verification options.
    #[must_use]
    pub fn options(&self) -> Options {
        Options {
            received_at: self.received_at.unwrap_or(0),
            compat: self.compat(),
        }
    }

    /// Parses, authenticates and expands the report.
    ///
    /// # Errors
    /// The report's fault, as paylock-metrics names it.
    pub fn check(&self) -> Result<VerifiedReport, MetricsError> {
        let device = Device {
            key: &self.key,
            data_format: self.data_format.as_ref(),
            last_request_count: self.last_request_count,
            last_timestamp: self.last_timestamp,
            dialect: match self.dialect {
                Some(DialectName::HdkTrailingNul) => Dialect::HdkTrailingNul,
                _ => Dialect::Standard,
            },
            method: self
                .method
                .and_then(|m| AuthMethod::from_prefix(m.name().as_bytes())),
        };
        paylock_metrics::verify(&self.text, &device, &self.options())
    }
}

/// Why a report is refused: `kind` (paylock-metrics' names: `auth_mismatch`, `replayed`,
/// `repeated`, `data_format`, `json`…), the field at fault, and a message that repeats no
/// value of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The stable name of the fault.
    pub kind: &'static str,
    /// The report's field at fault, when there is one.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl From<&MetricsError> for Reason {
    fn from(e: &MetricsError) -> Self {
        let message = match e {
            // serde_json's words may quote the text; only the position is kept.
            MetricsError::Json { line, column, .. } => {
                format!("the report is not JSON (line {line}, column {column})")
            }
            _ => e.to_string(),
        };
        Self {
            kind: e.kind(),
            field: e.field(),
            message,
        }
    }
}

/// The answer to `metrics_verify`.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// Always `true`: the request was read.
    pub ok: True,
    /// Whether the report is authentic, fresh and expanded.
    pub valid: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The report (store its `timestamp` and `request_count` as the device's last ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<VerifiedReport>,
    /// The token count the device reports, when it expects tokens back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_count: Option<Value>,
    /// The time answer the device asked for (`active_until` or `seconds_left`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_requested: Option<TimeRequest>,
}

impl Verified {
    /// The verdict on a checked report.
    #[must_use]
    pub fn of(checked: Result<VerifiedReport, MetricsError>) -> Self {
        match checked {
            Ok(report) => Self {
                ok: True,
                valid: true,
                reason: None,
                token_count: report.token_count().cloned(),
                time_requested: report.time_requested(),
                report: Some(report),
            },
            Err(e) => Self::refused(&e),
        }
    }

    /// A refused report.
    #[must_use]
    pub fn refused(e: &MetricsError) -> Self {
        Self {
            ok: True,
            valid: false,
            reason: Some(e.into()),
            report: None,
            token_count: None,
            time_requested: None,
        }
    }
}

/// The verdict on `request.text`.
#[must_use]
pub fn verify(request: &MetricsVerify<'_>) -> Verified {
    Verified::of(request.check())
}
