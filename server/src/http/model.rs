//! The JSON shapes of both APIs (also the OpenAPI schemas).
//!
//! PaygOps shapes follow what PaygOps' own client reads and writes
//! (`payg_loan_system/devices/device_api/device_api_request_service.py` in PaygOps-Community,
//! `DeviceAPIHelperV2`, and `shared/api_helpers/client_helpers/` for the HTTP layer): every
//! success is a 200 with a JSON body, every error a JSON body with `error`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::mint::Wipe;

/// Every error: `error` is a stable code (or, for PaygOps validation errors, the message its
/// user sees), `message` says what is wrong, `field` names the input at fault.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorOut {
    /// `DEVICE_DOES_NOT_EXIST`, `IDEMPOTENCY_KEY_REUSED`, `API_AUTHORIZATION_ERROR`, …
    pub error: String,
    /// Human-readable detail (never a secret).
    pub message: String,
    /// The input field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A PaygOps credit update as stored and returned.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditUpdateOut {
    /// The UUID from the URL.
    pub uuid: String,
    /// The device.
    pub device_serial_number: String,
    /// When it was made (UTC, no zone).
    pub time: String,
    /// When it was committed (`null` while PENDING).
    pub commit_time: Option<String>,
    /// `PENDING` or `COMMITTED`.
    pub status: String,
    /// `["NO_TOKEN_NEEDED"]` when no token was needed.
    pub status_details: Vec<String>,
    /// As requested (default `ABSOLUTE_TIME`).
    pub credit_unit: String,
    /// As requested; a time is normalized to UTC without zone.
    pub credit_value: Value,
    /// As requested.
    pub credit_update_type: String,
    /// As requested (default `AUTO`).
    pub credit_update_mode: String,
    /// What the device will have: the new expiry (`ABSOLUTE_TIME`), or the amount.
    pub effective_credit_value: Value,
    /// `ADD_CREDIT`, `SET_CREDIT` or `DISABLE_PAYG`: the token actually issued.
    pub effective_credit_update_type: String,
    /// Always `TOKEN`.
    pub effective_credit_update_mode: String,
    /// The token grouped for SMS (`662 486 790`, Nexus `*…#`), `""` when none was needed.
    pub token: String,
    /// The token's count (OpenPAYGO), message ID (Nexus) or counter (AST).
    pub token_count: Option<i64>,
    /// The device's scheme: `openpaygo`, `nexus_full`, `nexus_small`, `ast1`, or a scheme
    /// registered with the service.
    pub token_scheme: String,
}

/// A device as `GET /devices/{serial}` returns it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceOut {
    /// Serial number.
    pub serial_number: String,
    /// Hardware model.
    pub model: Option<String>,
    /// 1 time-based, 3 PAYG disabled (PaygOps' `DeviceMode`).
    pub payg_mode: i64,
    /// Always `ABSOLUTE_TIME`.
    pub credit_unit: String,
    /// Recorded expiry (UTC, no zone), `null` if never credited.
    pub credit_value: Option<String>,
    /// Same as `credit_value`.
    pub effective_credit_value: Option<String>,
    /// `ABSOLUTE_TIME`, `DAYS` (and `HOURS` where the device counts hours).
    pub supported_credit_units: Vec<String>,
    /// `ADD_CREDIT`, `SET_CREDIT`, `DISABLE_PAYG` (what the scheme carries).
    pub supported_credit_update_types: Vec<String>,
    /// `TOKEN`, `AUTO`.
    pub supported_credit_update_modes: Vec<String>,
    /// Offline tokens PaygOps may keep pending.
    pub pending_token_limit: i64,
    /// The device's current counter.
    pub token_count: i64,
    /// The device's scheme: `openpaygo`, `nexus_full`, `nexus_small`, `ast1`, or a scheme
    /// registered with the service.
    pub token_scheme: String,
}

/// `GET /support`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SupportOut {
    /// Unit code → label.
    #[schema(value_type = Object)]
    pub supported_credit_units: serde_json::Map<String, Value>,
}

/// `PUT /credit_updates/{uuid}`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct CommitIn {
    /// Must be `COMMITTED`.
    pub status: String,
    /// When the offline token was used (ignored beyond being echoed).
    pub commit_time: Option<Value>,
}

/// A native issue request.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueIn {
    /// `add_credit`, `set_credit`, `unlock`, `counter_sync`, `wipe` (Nexus), `set_param`,
    /// `test` (AST).
    pub command: String,
    /// Credit amount for `add_credit` / `set_credit`.
    pub amount: Option<u32>,
    /// Unit of `amount`: `days`, `hours`, or `units` (the device's own; default).
    pub unit: Option<String>,
    /// The payment this is for (required for `add_credit`, `set_credit`, `unlock`).
    pub payment_ref: Option<String>,
    /// Why (required for the other commands).
    pub reason: Option<String>,
    /// Nexus wipe target.
    pub target: Option<Wipe>,
    /// AST parameter id.
    pub param_id: Option<u16>,
    /// AST parameter value.
    pub param_value: Option<u32>,
    /// AST test id.
    pub test_id: Option<u16>,
}

/// A native issuance.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IssueOut {
    /// Serial number.
    pub serial_number: String,
    /// The device's scheme: `openpaygo`, `nexus_full`, `nexus_small`, `ast1`, or a scheme
    /// registered with the service.
    pub token_scheme: String,
    /// The command issued.
    pub command: String,
    /// The token for an SMS.
    pub token: String,
    /// The keys to press.
    pub keys: String,
    /// The token's count / message ID / counter (`null` for codes without one).
    pub sequence: Option<i64>,
    /// The device's counter after it.
    pub counter: i64,
    /// When (RFC 3339).
    pub issued_at: String,
    /// The `Idempotency-Key`.
    pub idempotency_key: String,
    /// Payment reference.
    pub payment_ref: Option<String>,
    /// Reason.
    pub reason: Option<String>,
}

/// One entry of a device's token history.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenOut {
    /// The token (`null` for a credit update that needed none).
    pub token: Option<String>,
    /// Its sequence.
    pub sequence: Option<i64>,
    /// `COMMITTED`, `PENDING`, `NO_TOKEN`.
    pub status: String,
    /// The order, as issued.
    pub command: Option<Value>,
    /// `paygops` or `v1`.
    pub api: String,
    /// The idempotency key or PaygOps UUID.
    pub idempotency_key: String,
    /// Payment reference.
    pub payment_ref: Option<String>,
    /// Reason.
    pub reason: Option<String>,
    /// When (RFC 3339).
    pub issued_at: String,
}

/// A device's token history, oldest first ("resend my code").
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokensOut {
    /// Serial.
    pub serial_number: String,
    /// Tokens.
    pub tokens: Vec<TokenOut>,
}

/// A device in the native API.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceV1 {
    /// Serial.
    pub serial_number: String,
    /// The device's scheme: `openpaygo`, `nexus_full`, `nexus_small`, `ast1`, or a scheme
    /// registered with the service.
    pub token_scheme: String,
    /// Model.
    pub model: Option<String>,
    /// Current counter.
    pub counter: i64,
    /// Counter it was provisioned with.
    pub imported_counter: i64,
    /// Recorded expiry (RFC 3339).
    pub active_until: Option<String>,
    /// PAYG disabled.
    pub payg_disabled: bool,
    /// OpenPAYGO Metrics: the data format provisioned for the device's reports, `null` if none.
    #[schema(value_type = Option<Object>)]
    pub metrics_data_format: Option<Value>,
    /// OpenPAYGO Metrics: the one auth method provisioned for the device, `null` if none
    /// (`da` and `ra` accepted).
    pub metrics_auth_method: Option<String>,
}

/// `GET /v1/audit/verify`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditOut {
    /// Streams checked.
    pub streams: usize,
    /// Events checked.
    pub events: usize,
    /// Problems found (empty when intact).
    pub problems: Vec<String>,
}
