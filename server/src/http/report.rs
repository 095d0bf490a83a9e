//! `POST /dd`: OpenPAYGO Metrics reports from devices (or relays: a phone, an NFC tag), the
//! path `openpaygo`'s examples post to. No API key: the report's own signature, checked against
//! the device's stored key, is its authentication. `GET /v1/devices/{serial}/reports` reads a
//! device's stored reports back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::model::ErrorOut;
use super::paygops::body_error;
use super::{AppState, BODY_LIMIT, credential, error, json_response, store_error};
use crate::apikey::Scope;
use crate::metrics::ReportLabel;
use crate::report::{self, Refused};
use crate::store::{Api, StoreError};
use crate::time;

/// The device-facing route (`/dd`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dd", post(device_data))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

/// The native routes (under `/v1`).
pub fn v1_routes() -> Router<AppState> {
    Router::new().route("/devices/{serial}/reports", get(reports))
}

/// A signed answer (keys condensed as `openpaygo` 0.6.3 writes them; present when asked for).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportAnswer {
    /// The device's pending tokens, oldest first (when the report carried `token_count`).
    pub tkl: Option<Vec<String>>,
    /// When its credit runs out, Unix seconds (0: none), when it asked
    /// `active_until_timestamp_requested`.
    pub auts: Option<i64>,
    /// Seconds of credit left, when it asked `active_seconds_left_requested`.
    pub asl: Option<i64>,
    /// The `da` signature over the answer, the serial number, timestamp and count.
    pub a: String,
}

#[utoipa::path(post, path = "/dd", tag = "metrics",
    request_body(content = String, content_type = "application/json",
        description = "An OpenPAYGO Metrics report, simple or condensed, signed da or ra with the device key"),
    responses((status = 200, body = ReportAnswer, description = "Accepted and stored; the answer, signed"),
        (status = 400, body = ErrorOut, description = "MALFORMED_REPORT or INVALID_DATA_FORMAT"),
        (status = 403, body = ErrorOut, description = "INVALID_AUTHENTICATION, or METRICS_NOT_PROVISIONED (a registered scheme's device provisioned without a Metrics profile)"),
        (status = 404, body = ErrorOut, description = "DEVICE_DOES_NOT_EXIST"),
        (status = 409, body = ErrorOut, description = "REPLAYED_REPORT (count or timestamp not above the last accepted), SERIAL_NOT_UNIQUE"),
        (status = 413, body = ErrorOut), (status = 503, body = ErrorOut)))]
/// A device's report: verified, stored, answered with its pending tokens and credit time.
pub async fn device_data(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return refused(&state, "INVALID_BODY", body_error(&e)),
    };
    let (request, serial, raw) = match report::parse(&body) {
        Ok(parsed) => parsed,
        Err(r) => return refuse(&state, &r),
    };
    let decide = report::decide(state.kek.clone(), request, raw, time::now());
    match state.store.report(serial.clone(), decide).await {
        Ok(stored) => {
            count(&state, "accepted", "");
            tracing::info!(serial = %serial, "device report accepted");
            json_response(StatusCode::OK, stored.body)
        }
        Err(StoreError::NoDevice) => refused(
            &state,
            "DEVICE_DOES_NOT_EXIST",
            error(
                StatusCode::NOT_FOUND,
                "DEVICE_DOES_NOT_EXIST",
                "no device with this serial number",
                Some("serial_number"),
            ),
        ),
        Err(StoreError::Refused(r)) => {
            let code = serde_json::from_slice::<ErrorOut>(&r.0.body)
                .map(|e| e.error)
                .unwrap_or_default();
            tracing::info!(serial = %serial, reason = %code, "device report refused");
            count(&state, "refused", &code);
            store_error(&state, &StoreError::Refused(r), Api::V1)
        }
        Err(e) => store_error(&state, &e, Api::V1),
    }
}

fn count(state: &AppState, outcome: &str, reason: &str) {
    state
        .metrics
        .reports
        .get_or_create(&ReportLabel {
            outcome: outcome.to_owned(),
            reason: reason.to_owned(),
        })
        .inc();
}

fn refused(state: &AppState, code: &str, response: Response) -> Response {
    tracing::info!(reason = %code, "device report refused");
    count(state, "refused", code);
    response
}

fn refuse(state: &AppState, r: &Refused) -> Response {
    refused(state, r.code, error(r.status, r.code, &r.message, r.field))
}

/// A stored report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportOut {
    /// When it was received (UTC).
    pub received_at: String,
    /// Its request count (`null`: none).
    pub request_count: Option<i64>,
    /// Its timestamp (`null`: none).
    pub timestamp: Option<i64>,
    /// `da` or `ra`.
    pub auth_method: String,
    /// The report as received.
    pub raw: String,
    /// The report expanded (`openpaygo`'s `get_simple_metrics()`).
    pub metrics: Value,
    /// The answer sent.
    pub answer: String,
    /// Tokens in the answer.
    pub tokens: i64,
}

/// A device's stored reports.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportsOut {
    /// Serial.
    pub serial_number: String,
    /// Oldest first.
    pub reports: Vec<ReportOut>,
}

#[utoipa::path(get, path = "/v1/devices/{serial}/reports", tag = "native",
    params(("serial" = String, Path, description = "Serial number")),
    responses((status = 200, body = ReportsOut), (status = 401, body = ErrorOut), (status = 404, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// A device's accepted reports, oldest first. The API key is checked by the statement that
/// finds the device.
pub async fn reports(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    headers: HeaderMap,
) -> Response {
    let who = match credential(&headers, Scope::Read) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let tenant = match state.store.device_for(who, serial.clone()).await {
        Ok(Some(d)) => d.tenant_id,
        Ok(None) => return store_error(&state, &StoreError::NoDevice, Api::V1),
        Err(e) => return store_error(&state, &e, Api::V1),
    };
    match state.store.reports(tenant, serial.clone()).await {
        Ok(rows) => {
            let reports = rows
                .into_iter()
                .map(|r| ReportOut {
                    received_at: time::rfc3339(r.received_at / 1_000_000),
                    request_count: r.request_count,
                    timestamp: r.timestamp,
                    auth_method: r.auth_method,
                    raw: r.raw,
                    metrics: serde_json::from_str(&r.metrics).unwrap_or(Value::Null),
                    answer: r.answer,
                    tokens: r.tokens,
                })
                .collect();
            let out = ReportsOut {
                serial_number: serial,
                reports,
            };
            json_response(StatusCode::OK, serde_json::to_vec(&out).unwrap_or_default())
        }
        Err(e) => store_error(&state, &e, Api::V1),
    }
}
