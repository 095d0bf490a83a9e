//! Device reports (OpenPAYGO Metrics, `POST /dd`): what the store reads for one report and
//! what it writes once the report is accepted, in one transaction under the device's lock.
//!
//! The device is found by its serial number alone (a device has no API key; its report's
//! signature is its authentication). The planner ([`DecideReport`]) verifies the report
//! against the device's key and its last accepted request count and timestamp, read in the same
//! transaction; the store then appends the report, moves the last count and timestamp, and
//! appends an audit event to the device's chain. Two copies of one report meet at the device's
//! lock: the second sees the first's count and is refused. A refusal stores nothing.

use super::{DeviceRow, Refusal, Store, StoreError, Stored};

/// How many of a device's latest tokens a report is answered from.
pub const RECENT_TOKENS: i64 = 64;

/// The last report accepted from a device (`None`: never, or not carried).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportState {
    /// Its request count.
    pub last_request_count: Option<i64>,
    /// Its timestamp.
    pub last_timestamp: Option<i64>,
}

/// A committed token of the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerToken {
    /// Its sequence (count, message ID, counter).
    pub sequence: Option<i64>,
    /// The token text as issued.
    pub token: String,
}

/// What a report is planned from: the locked device, its last accepted report, and its
/// latest committed tokens (oldest first, at most [`RECENT_TOKENS`]).
#[derive(Clone, Debug)]
pub struct ReportContext {
    /// The device, locked.
    pub device: DeviceRow,
    /// Its last accepted report.
    pub state: ReportState,
    /// Its latest committed tokens, oldest first.
    pub tokens: Vec<LedgerToken>,
    /// Its OpenPAYGO Metrics profile, JSON, as provisioned.
    pub profile: Option<String>,
}

/// What an accepted report stores.
#[derive(Clone, Debug)]
pub struct ReportPlan {
    /// The report's request count (`None`: not carried).
    pub request_count: Option<i64>,
    /// The report's timestamp (`None`: not carried).
    pub timestamp: Option<i64>,
    /// Its auth method (`da`, `ra`…).
    pub auth_method: String,
    /// The report as received.
    pub raw: String,
    /// The report expanded (0.6.3's `get_simple_metrics()`), JSON.
    pub metrics: String,
    /// The signed answer.
    pub answer: String,
    /// How many tokens the answer carries.
    pub tokens: i64,
    /// The device's last accepted report after this one.
    pub state: ReportState,
    /// Audit event kind and JSON body.
    pub event: (String, String),
}

/// Plans a report from the locked device (called once).
pub type DecideReport = Box<dyn FnOnce(&ReportContext) -> Result<ReportPlan, Refusal> + Send>;

/// A stored report, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// Row id.
    pub id: i64,
    /// The device.
    pub device_id: i64,
    /// Unix microseconds.
    pub received_at: i64,
    /// Request count.
    pub request_count: Option<i64>,
    /// Timestamp.
    pub timestamp: Option<i64>,
    /// Auth method.
    pub auth_method: String,
    /// As received.
    pub raw: String,
    /// Expanded, JSON.
    pub metrics: String,
    /// The answer sent.
    pub answer: String,
    /// Tokens in the answer.
    pub tokens: i64,
}

impl Store {
    /// Finds the device by `serial` (in any tenant), locks it, lets `decide` verify the report,
    /// and stores it with the device's new last count and an audit event, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NoDevice`] for an unknown serial, [`StoreError::Refused`] for a refused
    /// report (nothing stored), [`StoreError::Unavailable`].
    pub async fn report(&self, serial: String, decide: DecideReport) -> Result<Stored, StoreError> {
        match self {
            Self::Sqlite(s) => s.report(serial, decide).await,
            Self::Postgres(s) => s.report(serial, decide).await,
        }
    }

    /// A device's stored reports, oldest first (tenant-scoped).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn reports(&self, tenant: i64, serial: String) -> Result<Vec<ReportRow>, StoreError> {
        match self {
            Self::Sqlite(s) => s.reports(tenant, serial).await,
            Self::Postgres(s) => s.reports(tenant, serial).await,
        }
    }
}

/// The one device with this serial: none is [`StoreError::NoDevice`], several (one per
/// tenant) a refusal, since the report cannot say whose it is.
///
/// # Errors
/// As said.
pub fn only_device(mut found: Vec<DeviceRow>) -> Result<DeviceRow, StoreError> {
    match found.len() {
        0 => Err(StoreError::NoDevice),
        1 => found.pop().ok_or(StoreError::NoDevice),
        _ => Err(StoreError::Refused(crate::http::refusal(
            axum::http::StatusCode::CONFLICT,
            "SERIAL_NOT_UNIQUE",
            "several tenants have a device with this serial number; a report cannot say whose it is",
            Some("serial_number"),
        ))),
    }
}
