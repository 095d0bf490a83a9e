//! The native API for CRMs that are not PaygOps: issue any command of a device's scheme with an
//! `Idempotency-Key` and a `payment_ref` (credit) or a `reason` (everything else), read a
//! device's token history, provision and import devices, verify the audit chain.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use super::model::{AuditOut, DeviceV1, ErrorOut, IssueIn, IssueOut, TokenOut, TokensOut};
use super::paygops::{body_error, json_body, open_secret};
use super::{
    AppState, BODY_LIMIT, IMPORT_LIMIT, Prepared, authorize, check_key, credential, error,
    idempotent_issue, json_response, refusal, request_hash, store_error,
};
use crate::apikey::Scope;
use crate::mint::{self, Order};
use crate::store::{Api, Decide, DeviceRow, ImportReport, Plan, Refusal, StoreError, Stored};
use crate::time;

/// The routes under `/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices", post(create_device))
        .route("/devices/{serial}", get(get_device))
        .route("/devices/{serial}/issue", post(issue))
        .route("/devices/{serial}/tokens", get(tokens))
        .route(
            "/imports",
            post(import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/audit/verify", get(audit_verify))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

fn bad(code: &str, msg: &str, field: &str) -> Response {
    error(StatusCode::BAD_REQUEST, code, msg, Some(field))
}

fn device_v1(d: &DeviceRow) -> DeviceV1 {
    // Stored by provisioning from a checked profile; an unreadable one shows as none.
    let profile: crate::report::Profile = d
        .metrics
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    DeviceV1 {
        serial_number: d.serial.clone(),
        token_scheme: d.params.scheme().to_owned(),
        model: d.model.clone(),
        counter: d.counter,
        imported_counter: d.imported_counter,
        active_until: d.expiry.map(time::rfc3339),
        payg_disabled: d.payg_disabled,
        metrics_data_format: profile
            .data_format
            .and_then(|f| serde_json::to_value(f).ok()),
        metrics_auth_method: profile.auth_method,
    }
}

/// A checked native request: the order, with the amount still in its given unit.
#[derive(Clone)]
struct Checked {
    command: String,
    amount: Option<(u32, i64)>,
    order: Order,
    payment_ref: Option<String>,
    reason: Option<String>,
}

fn text_field(v: Option<&String>, field: &str) -> Result<Option<String>, Response> {
    match v.map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(s) if s.len() <= 200 => Ok(Some(s.to_owned())),
        Some(_) => Err(bad(
            "VALIDATION",
            &format!("field {field:?} is longer than 200 characters"),
            field,
        )),
    }
}

fn check(input: &IssueIn) -> Result<Checked, Response> {
    let payment_ref = text_field(input.payment_ref.as_ref(), "payment_ref")?;
    let reason = text_field(input.reason.as_ref(), "reason")?;
    let unit_seconds = match input.unit.as_deref() {
        None | Some("units") => 0,
        Some("days") => 86_400,
        Some("hours") => 3_600,
        Some(other) => {
            return Err(bad(
                "VALIDATION",
                &format!("field \"unit\" is {other:?}, not one of days, hours, units"),
                "unit",
            ));
        }
    };
    let amount = || {
        input.amount.map(|a| (a, unit_seconds)).ok_or_else(|| {
            bad(
                "VALIDATION",
                "field \"amount\" is required for this command",
                "amount",
            )
        })
    };
    let (order, amount, payment) = match input.command.as_str() {
        "add_credit" => (Order::AddCredit { units: 0 }, Some(amount()?), true),
        "set_credit" => (Order::SetCredit { units: 0 }, Some(amount()?), true),
        "unlock" => (Order::Unlock, None, true),
        "counter_sync" => (Order::CounterSync, None, false),
        "wipe" => (
            Order::Wipe {
                target: input.target.ok_or_else(|| {
                    bad(
                        "VALIDATION",
                        "field \"target\" is required for wipe",
                        "target",
                    )
                })?,
            },
            None,
            false,
        ),
        "set_param" => (
            Order::SetParam {
                id: input.param_id.ok_or_else(|| {
                    bad(
                        "VALIDATION",
                        "field \"param_id\" is required for set_param",
                        "param_id",
                    )
                })?,
                value: input.param_value.ok_or_else(|| {
                    bad(
                        "VALIDATION",
                        "field \"param_value\" is required for set_param",
                        "param_value",
                    )
                })?,
            },
            None,
            false,
        ),
        "test" => (
            Order::Test {
                id: input.test_id.ok_or_else(|| {
                    bad(
                        "VALIDATION",
                        "field \"test_id\" is required for test",
                        "test_id",
                    )
                })?,
            },
            None,
            false,
        ),
        other => {
            return Err(bad(
                "VALIDATION",
                &format!(
                    "field \"command\" is {other:?}, not one of add_credit, set_credit, unlock, counter_sync, wipe, set_param, test"
                ),
                "command",
            ));
        }
    };
    if payment && payment_ref.is_none() {
        return Err(bad(
            "VALIDATION",
            &format!("field \"payment_ref\" is required for {}", input.command),
            "payment_ref",
        ));
    }
    if !payment && reason.is_none() {
        return Err(bad(
            "VALIDATION",
            &format!("field \"reason\" is required for {}", input.command),
            "reason",
        ));
    }
    Ok(Checked {
        command: input.command.clone(),
        amount,
        order,
        payment_ref,
        reason,
    })
}

#[utoipa::path(post, path = "/v1/devices/{serial}/issue", tag = "native",
    params(("serial" = String, Path, description = "Serial number"),
        ("Idempotency-Key" = String, Header, description = "One key per intended token")),
    request_body = IssueIn,
    responses((status = 200, body = IssueOut, description = "Issued, or replayed (header Idempotent-Replayed: true)"),
        (status = 400, body = ErrorOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
        (status = 404, body = ErrorOut), (status = 413, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Issues a command's token (idempotent on `Idempotency-Key`).
pub async fn issue(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prepared = check_issue(&state, serial, &headers, body);
    idempotent_issue(&state, &headers, Scope::Issue, Api::V1, prepared).await
}

/// The idempotency key, request hash, serial and planner of an issue request.
fn check_issue(
    state: &AppState,
    serial: String,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Prepared, Response> {
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return Err(bad(
            "VALIDATION",
            "header Idempotency-Key is required",
            "Idempotency-Key",
        ));
    };
    check_key(&key, "Idempotency-Key")?;
    let value = json_body(body)?;
    let input: IssueIn = serde_json::from_value(value)
        .map_err(|e| bad("VALIDATION", &format!("invalid body: {e}"), "body"))?;
    let checked = check(&input)?;
    let canonical = json!([
        "v1.issue",
        serial,
        checked.command,
        checked.amount,
        serde_json::to_value(checked.order).ok(),
        checked.payment_ref,
        checked.reason
    ]);
    let hash = request_hash(&canonical);
    let (kek, minter) = (state.kek.clone(), state.minter.clone());
    let k = key.clone();
    let decide: Decide = Box::new(move |device| plan(&kek, &minter, device, checked.clone(), &k));
    Ok((key, hash, serial, decide))
}

fn plan(
    kek: &crate::kek::Kek,
    minter: &mint::Minter,
    device: &DeviceRow,
    checked: Checked,
    key: &str,
) -> Result<Plan, Refusal> {
    minter.serves(&device.params).map_err(|m| {
        refusal(
            StatusCode::BAD_REQUEST,
            "SCHEME_NOT_REGISTERED",
            &m,
            Some("token_scheme"),
        )
    })?;
    let now = time::now();
    let unit = device.params.unit_seconds();
    let order = match (checked.order, checked.amount) {
        (Order::AddCredit { .. } | Order::SetCredit { .. }, Some((amount, given))) => {
            let units = if given == 0 {
                i64::from(amount)
            } else {
                let seconds = i64::from(amount) * given;
                if seconds % unit != 0 {
                    let m = format!(
                        "{amount} {} is not a whole number of this device's {unit}-second credit units",
                        if given == 86_400 { "days" } else { "hours" }
                    );
                    return Err(refusal(
                        StatusCode::BAD_REQUEST,
                        "VALIDATION",
                        &m,
                        Some("amount"),
                    ));
                }
                seconds / unit
            };
            let units = u32::try_from(units).map_err(|_| {
                refusal(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION",
                    "amount too large",
                    Some("amount"),
                )
            })?;
            if matches!(checked.order, Order::AddCredit { .. }) {
                Order::AddCredit { units }
            } else {
                Order::SetCredit { units }
            }
        }
        (o, _) => o,
    };
    let secret = open_secret(kek, device)?;
    let counter = u32::try_from(device.counter).map_err(|_| {
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "stored counter out of range",
            None,
        )
    })?;
    let minted = minter
        .mint(&device.params, &secret, counter, &device.state, order)
        .map_err(|e| {
            refusal(
                StatusCode::BAD_REQUEST,
                "UNSUPPORTED_COMMAND",
                &e.0,
                Some("command"),
            )
        })?;
    let (expiry, payg_disabled) =
        crate::credit::apply(&order, unit, device.expiry, device.payg_disabled, now);
    let out = IssueOut {
        serial_number: device.serial.clone(),
        token_scheme: device.params.scheme().to_owned(),
        command: checked.command.clone(),
        token: minted.token.clone(),
        keys: minted.keys.clone(),
        sequence: minted.sequence.map(i64::from),
        counter: i64::from(minted.counter),
        issued_at: time::rfc3339(now),
        idempotency_key: key.to_owned(),
        payment_ref: checked.payment_ref.clone(),
        reason: checked.reason.clone(),
    };
    let event = IssuedEvent {
        api: "v1",
        key,
        sequence: minted.sequence,
        command: &order,
        counter_before: device.counter,
        payment_ref: checked.payment_ref.as_deref(),
        reason: checked.reason.as_deref(),
    };
    let event = serde_json::to_string(&event).unwrap_or_default();
    Ok(Plan {
        sequence: minted.sequence.map(i64::from),
        token: Some(minted.token),
        command: serde_json::to_string(&order).ok(),
        status: "COMMITTED".to_owned(),
        payment_ref: checked.payment_ref,
        reason: checked.reason,
        response: Stored {
            status: 200,
            body: serde_json::to_vec(&out).unwrap_or_default(),
        },
        counter: i64::from(minted.counter),
        state: minted.state,
        expiry,
        payg_disabled,
        event: ("issuance".to_owned(), event),
    })
}

/// The audit body of an issuance, serialized straight from its fields (in this order).
#[derive(serde::Serialize)]
struct IssuedEvent<'a> {
    api: &'static str,
    key: &'a str,
    sequence: Option<u32>,
    command: &'a Order,
    counter_before: i64,
    payment_ref: Option<&'a str>,
    reason: Option<&'a str>,
}

#[utoipa::path(get, path = "/v1/devices/{serial}/tokens", tag = "native",
    params(("serial" = String, Path, description = "Serial number")),
    responses((status = 200, body = TokensOut), (status = 401, body = ErrorOut), (status = 404, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// A device's tokens, oldest first: to resend a code. The API key is checked by the statement
/// that finds the device.
pub async fn tokens(
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
    match state
        .store
        .issuances(tenant, Some(serial.clone()), None)
        .await
    {
        Ok(rows) => {
            let tokens = rows
                .into_iter()
                .map(|r| TokenOut {
                    token: r.token,
                    sequence: r.sequence,
                    status: r.status,
                    command: r.command.and_then(|c| serde_json::from_str(&c).ok()),
                    api: r.api,
                    idempotency_key: r.idem_key,
                    payment_ref: r.payment_ref,
                    reason: r.reason,
                    issued_at: time::rfc3339(r.created_at / 1_000_000),
                })
                .collect();
            let out = TokensOut {
                serial_number: serial,
                tokens,
            };
            json_response(StatusCode::OK, serde_json::to_vec(&out).unwrap_or_default())
        }
        Err(e) => store_error(&state, &e, Api::V1),
    }
}

#[utoipa::path(get, path = "/v1/devices/{serial}", tag = "native",
    params(("serial" = String, Path, description = "Serial number")),
    responses((status = 200, body = DeviceV1), (status = 401, body = ErrorOut), (status = 404, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// One device (never its key); the API key checked by the statement that reads it.
pub async fn get_device(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    headers: HeaderMap,
) -> Response {
    let who = match credential(&headers, Scope::Read) {
        Ok(who) => who,
        Err(r) => return r,
    };
    match state.store.device_for(who, serial).await {
        Ok(Some(d)) => json_response(
            StatusCode::OK,
            serde_json::to_vec(&device_v1(&d)).unwrap_or_default(),
        ),
        Ok(None) => store_error(&state, &StoreError::NoDevice, Api::V1),
        Err(e) => store_error(&state, &e, Api::V1),
    }
}

#[utoipa::path(post, path = "/v1/devices", tag = "native", request_body = crate::device::ProvisionInput,
    responses((status = 200, body = DeviceV1), (status = 400, body = ErrorOut), (status = 401, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Provisions one device.
pub async fn create_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let caller = match authorize(&state, &headers, Scope::Provision).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let value = match json_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match crate::import::provision_one(&state, caller.tenant_id, value).await {
        Ok(d) => json_response(
            StatusCode::OK,
            serde_json::to_vec(&device_v1(&d)).unwrap_or_default(),
        ),
        Err(r) => r,
    }
}

#[utoipa::path(post, path = "/v1/imports", tag = "native",
    request_body(content = String, content_type = "text/csv", description = "An OpenPAYGO, Nexus or AST device CSV (docs/server.md)"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorOut), (status = 401, body = ErrorOut),
        (status = 413, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Imports a device CSV in one transaction: identical rows are skipped, conflicts reported.
pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let caller = match authorize(&state, &headers, Scope::Provision).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bytes = match body {
        Ok(b) => b,
        Err(e) => return body_error(&e),
    };
    match crate::import::import_csv(
        &state.store,
        &state.kek,
        &state.minter,
        caller.tenant_id,
        &bytes,
        "api import",
    )
    .await
    {
        Ok(report) => json_response(
            StatusCode::OK,
            serde_json::to_vec(&report).unwrap_or_default(),
        ),
        Err(crate::import::ImportError::Rows(problems)) => error(
            StatusCode::BAD_REQUEST,
            "INVALID_CSV",
            &problems.join("; "),
            None,
        ),
        Err(crate::import::ImportError::Store(e)) => store_error(&state, &e, Api::V1),
    }
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "native",
    responses((status = 200, body = AuditOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Recomputes every audit chain (scope `audit`).
pub async fn audit_verify(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers, Scope::Audit).await {
        return r;
    }
    match state.store.audit_dump().await {
        Ok((events, heads)) => {
            let report = crate::audit::verify(events, &heads);
            let out = AuditOut {
                streams: report.streams,
                events: report.events,
                problems: report.problems,
            };
            json_response(StatusCode::OK, serde_json::to_vec(&out).unwrap_or_default())
        }
        Err(e) => store_error(&state, &e, Api::V1),
    }
}
