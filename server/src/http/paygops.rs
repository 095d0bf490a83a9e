//! The PaygOps Device API v2, as PaygOps' own client uses it.
//!
//! Shapes, paging, the PENDING → COMMITTED `PUT`, error bodies and retries follow
//! `payg_loan_system/devices/device_api/device_api_request_service.py` (`DeviceAPIHelperV2`,
//! `list_devices`) and `shared/api_helpers/client_helpers/api_helper_object.py` /
//! `http_errors_helpers.py` in PaygOps-Community: success is 200 with a JSON body; 400 bodies
//! are `{"error": …}` shown to the user; 401 and 403 carry JSON too; 503 is retried with the
//! same UUID; `GET /devices` without `include_objects` is a list of serial numbers, paged by
//! `page` (from 1) and `page_size`, and without `page` the whole list (older clients).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{CommitIn, CreditUpdateOut, DeviceOut, ErrorOut, SupportOut};
use super::{
    AppState, BODY_LIMIT, Prepared, answer, authorize, check_key, credential, error,
    idempotent_issue, json_response, refusal, refuse_checked, request_hash, store_error,
};
use crate::apikey::Scope;
use crate::credit;
use crate::device::{Params, ProvisionInput};
use crate::kek::Kek;
use crate::mint;
use crate::store::{
    Api, CommitPlan, Decide, DecideCommit, DeviceRow, IssuanceRow, Plan, Refusal, Stored,
};
use crate::time;

/// The routes under `/paygops`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/credit_updates/{uuid}",
            post(create_credit_update).put(commit_credit_update),
        )
        .route("/credit_updates", get(list_credit_updates))
        .route("/devices", get(list_devices).post(create_device))
        .route("/devices/{serial}", get(get_device).put(update_device))
        .route("/support", get(support))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

/// A body that could not be read: too large, or cut short.
#[must_use]
pub fn body_error(e: &BytesRejection) -> Response {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        error(
            status,
            "BODY_TOO_LARGE",
            &format!("the body is larger than the {BODY_LIMIT}-byte limit"),
            None,
        )
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
            "the body could not be read",
            None,
        )
    }
}

/// The body as JSON.
///
/// # Errors
/// 413 / 400 with a JSON error.
pub fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, Response> {
    let bytes = body.map_err(|e| body_error(&e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let msg = format!("malformed JSON: {e}");
        error(StatusCode::BAD_REQUEST, &msg, &msg, None)
    })
}

fn bad(msg: &str, field: Option<&str>) -> Response {
    error(StatusCode::BAD_REQUEST, msg, msg, field)
}

/// The device's secret, opened with the KEK (a failure is an internal error, never detail).
///
/// # Errors
/// A 500 refusal.
pub fn open_secret(kek: &Kek, device: &DeviceRow) -> Result<crate::device::Secret, Refusal> {
    kek.open(
        device.tenant_id,
        &device.serial,
        device.params.scheme(),
        &device.sealed,
    )
    .ok()
    .and_then(|b| crate::device::Secret::from_bytes(&b))
    .ok_or_else(|| {
        tracing::error!(
            device = device.id,
            "device secret does not open under this KEK"
        );
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "device secret unavailable",
            None,
        )
    })
}

fn counter_u32(device: &DeviceRow) -> Result<u32, Refusal> {
    u32::try_from(device.counter).map_err(|_| {
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "stored counter out of range",
            None,
        )
    })
}

#[utoipa::path(post, path = "/paygops/credit_updates/{uuid}", tag = "paygops",
    params(("uuid" = String, Path, description = "PaygOps' request UUID: the idempotency key")),
    request_body = Object,
    responses(
        (status = 200, body = CreditUpdateOut, description = "Issued, or replayed (header Idempotent-Replayed: true)"),
        (status = 400, body = ErrorOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
        (status = 404, body = ErrorOut), (status = 413, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Issues the token for a credit update (idempotent on the UUID).
pub async fn create_credit_update(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prepared = check_credit_update(&state, uuid, body);
    idempotent_issue(&state, &headers, Scope::Issue, Api::Paygops, prepared).await
}

/// The UUID, request hash, serial and planner of a credit update.
fn check_credit_update(
    state: &AppState,
    uuid: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<Prepared, Response> {
    check_key(&uuid, "uuid")?;
    let value = json_body(body)?;
    let request = credit::Request::parse(&value).map_err(|msg| bad(&msg, None))?;
    let hash = request_hash(&json!(["paygops.credit_update", request.canonical()]));
    let serial = request.serial.clone();
    let (kek, minter) = (state.kek.clone(), state.minter.clone());
    let key = uuid.clone();
    let decide: Decide = Box::new(move |device| plan(&kek, &minter, device, &request, &key));
    Ok((uuid, hash, serial, decide))
}

fn plan(
    kek: &Kek,
    minter: &mint::Minter,
    device: &DeviceRow,
    request: &credit::Request,
    uuid: &str,
) -> Result<Plan, Refusal> {
    if let Params::Registered { name, .. } = &device.params {
        // PaygOps' shapes name OpenPAYGO's credit types only; a registered scheme's commands go
        // through the native API, which names them.
        let m = format!(
            "token_scheme {name:?} is a registered scheme: issue its tokens through /v1/devices/{{serial}}/issue"
        );
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            &m,
            &m,
            Some("device_serial_number"),
        ));
    }
    let now = time::now();
    let decision = credit::decide(request, &device.params, device.expiry, now)
        .map_err(|m| refusal(StatusCode::BAD_REQUEST, &m, &m, Some("credit_value")))?;
    let minted = match decision.order {
        Some(order) => {
            let secret = open_secret(kek, device)?;
            Some(
                minter
                    .mint(
                        &device.params,
                        &secret,
                        counter_u32(device)?,
                        &device.state,
                        order,
                    )
                    .map_err(|e| {
                        refusal(StatusCode::BAD_REQUEST, &e.0, &e.0, Some("credit_value"))
                    })?,
            )
        }
        None => None,
    };
    let unit = device.params.unit_seconds();
    let (expiry, payg_disabled) = match (&decision.order, request.pending) {
        (Some(order), false) => {
            credit::apply(order, unit, device.expiry, device.payg_disabled, now)
        }
        _ => (device.expiry, device.payg_disabled),
    };
    let status = match (&minted, request.pending) {
        (None, _) => "NO_TOKEN",
        (Some(_), true) => "PENDING",
        (Some(_), false) => "COMMITTED",
    };
    let out = CreditUpdateOut {
        uuid: uuid.to_owned(),
        device_serial_number: device.serial.clone(),
        time: time::naive(now),
        commit_time: (!request.pending).then(|| time::naive(now)),
        status: if request.pending {
            "PENDING"
        } else {
            "COMMITTED"
        }
        .to_owned(),
        status_details: if minted.is_none() {
            vec!["NO_TOKEN_NEEDED".to_owned()]
        } else {
            Vec::new()
        },
        credit_unit: request.unit.clone(),
        credit_value: request.value_echo.clone(),
        credit_update_type: request.kind.name().to_owned(),
        credit_update_mode: request.mode.clone(),
        effective_credit_value: decision.effective_value.clone(),
        effective_credit_update_type: decision.effective_type.name().to_owned(),
        effective_credit_update_mode: "TOKEN".to_owned(),
        token: minted.as_ref().map(|m| m.token.clone()).unwrap_or_default(),
        token_count: minted.as_ref().and_then(|m| m.sequence).map(i64::from),
        token_scheme: device.params.scheme().to_owned(),
    };
    let command = decision
        .order
        .map(|o| serde_json::to_string(&o).unwrap_or_default());
    let event = IssuedEvent {
        api: "paygops",
        key: uuid,
        sequence: minted.as_ref().and_then(|m| m.sequence),
        command: decision.order.as_ref(),
        status,
        counter_before: device.counter,
    };
    Ok(Plan {
        sequence: minted.as_ref().and_then(|m| m.sequence).map(i64::from),
        token: minted.as_ref().map(|m| m.token.clone()),
        command,
        status: status.to_owned(),
        payment_ref: None,
        reason: None,
        response: Stored {
            status: 200,
            body: serde_json::to_vec(&out).unwrap_or_default(),
        },
        counter: minted
            .as_ref()
            .map_or(device.counter, |m| i64::from(m.counter)),
        state: minted.map_or_else(|| device.state.clone(), |m| m.state),
        expiry,
        payg_disabled,
        event: (
            "issuance".to_owned(),
            serde_json::to_string(&event).unwrap_or_default(),
        ),
    })
}

/// The audit body of a credit update, serialized straight from its fields (in this order).
#[derive(Serialize)]
struct IssuedEvent<'a> {
    api: &'static str,
    key: &'a str,
    sequence: Option<u32>,
    command: Option<&'a mint::Order>,
    status: &'a str,
    counter_before: i64,
}

#[utoipa::path(put, path = "/paygops/credit_updates/{uuid}", tag = "paygops",
    params(("uuid" = String, Path, description = "The credit update's UUID")),
    request_body = CommitIn,
    responses((status = 200, body = CreditUpdateOut), (status = 400, body = ErrorOut),
        (status = 401, body = ErrorOut), (status = 404, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Marks a PENDING (offline) credit update COMMITTED; repeating it replays the answer.
pub async fn commit_credit_update(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The API key is checked by the store, in the commit's transaction; a request refused
    // before that gets the key's refusal first, as on every route.
    let commit_time = match check_commit(&uuid, body) {
        Ok(t) => t,
        Err(refused) => return refuse_checked(&state, &headers, Scope::Issue, refused).await,
    };
    let who = match credential(&headers, Scope::Issue) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let decide: DecideCommit =
        Box::new(move |device, issuance| commit_plan(device, issuance, commit_time));
    match state.store.commit(who, uuid, decide).await {
        Ok(outcome) => answer(&state, Api::Paygops, outcome),
        Err(crate::store::StoreError::NotFound) => error(
            StatusCode::NOT_FOUND,
            "CREDIT_UPDATE_DOES_NOT_EXIST",
            "no credit update with this uuid",
            Some("uuid"),
        ),
        Err(e) => store_error(&state, &e, Api::Paygops),
    }
}

/// A commit's UUID and body: its commit time, if it gives one.
fn check_commit(uuid: &str, body: Result<Bytes, BytesRejection>) -> Result<Option<i64>, Response> {
    check_key(uuid, "uuid")?;
    let input: CommitIn = serde_json::from_value(json_body(body)?)
        .map_err(|e| bad(&format!("invalid body: {e}"), None))?;
    if input.status != "COMMITTED" {
        return Err(bad("field \"status\" must be COMMITTED", Some("status")));
    }
    let when = || {
        bad(
            "field \"commit_time\" must be a date and time (ISO 8601)",
            Some("commit_time"),
        )
    };
    match &input.commit_time {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => time::parse(s).map(Some).ok_or_else(when),
        Some(_) => Err(when()),
    }
}

fn commit_plan(
    device: &DeviceRow,
    issuance: &IssuanceRow,
    commit_time: Option<i64>,
) -> Result<CommitPlan, Refusal> {
    let now = time::now();
    let internal = || {
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "stored credit update unreadable",
            None,
        )
    };
    let mut out: CreditUpdateOut =
        serde_json::from_slice(&issuance.response).map_err(|_| internal())?;
    let (expiry, payg_disabled) = match (&issuance.command, issuance.status.as_str()) {
        (Some(command), "PENDING") => {
            let order: mint::Order = serde_json::from_str(command).map_err(|_| internal())?;
            credit::apply(
                &order,
                device.params.unit_seconds(),
                device.expiry,
                device.payg_disabled,
                now,
            )
        }
        _ => (device.expiry, device.payg_disabled),
    };
    out.status = "COMMITTED".to_owned();
    out.commit_time = Some(time::naive(commit_time.unwrap_or(now)));
    let event = json!({"api": "paygops", "key": issuance.idem_key, "sequence": issuance.sequence});
    Ok(CommitPlan {
        expiry,
        payg_disabled,
        response: serde_json::to_vec(&out).unwrap_or_default(),
        event: ("credit_update.committed".to_owned(), event.to_string()),
    })
}

/// `?device_serial_number=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListCreditUpdates {
    /// The device.
    pub device_serial_number: Option<String>,
}

#[utoipa::path(get, path = "/paygops/credit_updates", tag = "paygops", params(ListCreditUpdates),
    responses((status = 200, body = [CreditUpdateOut]), (status = 400, body = ErrorOut),
        (status = 401, body = ErrorOut), (status = 404, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// A device's credit updates, oldest first, in their current state. The API key is checked by
/// the statement that finds the device.
pub async fn list_credit_updates(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListCreditUpdates>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(serial) = query.ok().and_then(|q| q.0.device_serial_number) else {
        let refused = bad(
            "query parameter \"device_serial_number\" is required",
            Some("device_serial_number"),
        );
        return refuse_checked(&state, &headers, Scope::Read, refused).await;
    };
    let who = match credential(&headers, Scope::Read) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let tenant = match state.store.device_for(who, serial.clone()).await {
        Ok(Some(d)) => d.tenant_id,
        Ok(None) => return store_error(&state, &crate::store::StoreError::NoDevice, Api::Paygops),
        Err(e) => return store_error(&state, &e, Api::Paygops),
    };
    match state.store.issuances(tenant, Some(serial), None).await {
        Ok(rows) => {
            let list: Vec<Value> = rows
                .iter()
                .filter(|r| r.api == "paygops")
                .filter_map(|r| {
                    serde_json::from_slice(r.commit_response.as_ref().unwrap_or(&r.response)).ok()
                })
                .collect();
            json_response(
                StatusCode::OK,
                serde_json::to_vec(&list).unwrap_or_default(),
            )
        }
        Err(e) => store_error(&state, &e, Api::Paygops),
    }
}

/// `?page=&page_size=&include_objects=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListDevices {
    /// Page number from 1; without it, every device.
    pub page: Option<i64>,
    /// Devices per page (1-10,000; default 1,000).
    pub page_size: Option<i64>,
    /// `true` for device objects instead of serial numbers.
    pub include_objects: Option<String>,
}

/// A device as PaygOps reads it.
#[must_use]
pub fn device_out(d: &DeviceRow) -> DeviceOut {
    let expiry = d.expiry.map(time::naive);
    let mut units = vec!["ABSOLUTE_TIME".to_owned()];
    units.extend(d.params.relative_units().iter().map(|u| (*u).to_owned()));
    let types: &[&str] = match &d.params {
        Params::Openpaygo {
            extended_token: true,
            ..
        } => &["ADD_CREDIT", "SET_CREDIT"],
        // Refused by the credit updates (native API only).
        Params::Registered { .. } => &[],
        _ => &["ADD_CREDIT", "SET_CREDIT", "DISABLE_PAYG"],
    };
    DeviceOut {
        serial_number: d.serial.clone(),
        model: d.model.clone(),
        payg_mode: if d.payg_disabled { 3 } else { 1 },
        credit_unit: "ABSOLUTE_TIME".to_owned(),
        credit_value: expiry.clone(),
        effective_credit_value: expiry,
        supported_credit_units: units,
        supported_credit_update_types: types.iter().map(|t| (*t).to_owned()).collect(),
        supported_credit_update_modes: vec!["TOKEN".to_owned(), "AUTO".to_owned()],
        pending_token_limit: 5,
        token_count: d.counter,
        token_scheme: d.params.scheme().to_owned(),
    }
}

#[utoipa::path(get, path = "/paygops/devices", tag = "paygops", params(ListDevices),
    responses((status = 200, description = "Serial numbers, or device objects with include_objects=true", body = [String]),
        (status = 400, body = ErrorOut), (status = 401, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// The tenant's devices, by serial number.
pub async fn list_devices(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListDevices>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let caller = match authorize(&state, &headers, Scope::Read).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(Query(q)) = query else {
        return bad(
            "query parameters page and page_size must be whole numbers",
            Some("page"),
        );
    };
    let (offset, limit) = match q.page {
        None => (0, i64::MAX),
        Some(page) => {
            let size = q.page_size.unwrap_or(1_000);
            if page < 1 || !(1..=10_000).contains(&size) {
                return bad(
                    "page must be 1 or more and page_size 1-10000",
                    Some("page_size"),
                );
            }
            ((page - 1).saturating_mul(size), size)
        }
    };
    let objects = q
        .include_objects
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    match state.store.devices(caller.tenant_id, offset, limit).await {
        Ok(rows) => {
            let body = if objects {
                serde_json::to_vec(&rows.iter().map(device_out).collect::<Vec<_>>())
            } else {
                serde_json::to_vec(&rows.iter().map(|d| d.serial.as_str()).collect::<Vec<_>>())
            };
            json_response(StatusCode::OK, body.unwrap_or_default())
        }
        Err(e) => store_error(&state, &e, Api::Paygops),
    }
}

#[utoipa::path(get, path = "/paygops/devices/{serial}", tag = "paygops",
    params(("serial" = String, Path, description = "Serial number")),
    responses((status = 200, body = DeviceOut), (status = 401, body = ErrorOut), (status = 404, body = ErrorOut),
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
            serde_json::to_vec(&device_out(&d)).unwrap_or_default(),
        ),
        Ok(None) => store_error(&state, &crate::store::StoreError::NoDevice, Api::Paygops),
        Err(e) => store_error(&state, &e, Api::Paygops),
    }
}

#[utoipa::path(post, path = "/paygops/devices", tag = "paygops", request_body = ProvisionInput,
    responses((status = 200, body = DeviceOut), (status = 400, body = ErrorOut), (status = 401, body = ErrorOut),
        (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Provisions one device (repeating the same body is harmless; a different key is refused).
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
            serde_json::to_vec(&device_out(&d)).unwrap_or_default(),
        ),
        Err(r) => r,
    }
}

#[utoipa::path(put, path = "/paygops/devices/{serial}", tag = "paygops",
    params(("serial" = String, Path, description = "Serial number")), request_body = Object,
    responses((status = 200, body = DeviceOut), (status = 400, body = ErrorOut), (status = 401, body = ErrorOut),
        (status = 404, body = ErrorOut), (status = 503, body = ErrorOut)),
    security(("bearer" = [])))]
/// Updates a device's model; provisioning fields (key, counter, scheme) never change.
pub async fn update_device(
    State(state): State<AppState>,
    Path(serial): Path<String>,
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
    let Some(fields) = value.as_object() else {
        return bad("the body must be a JSON object", None);
    };
    if let Some(f) = fields.keys().find(|k| {
        !["model", "serial_number", "payg_mode", "pending_token_limit"].contains(&k.as_str())
    }) {
        return bad(
            &format!(
                "field {f:?} cannot be changed: provisioning fields are fixed once a device exists"
            ),
            Some(f),
        );
    }
    let model = match fields.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if m.len() <= 64 => Some(m.clone()),
        Some(_) => {
            return bad(
                "field \"model\" must be a string of at most 64 characters",
                Some("model"),
            );
        }
    };
    match state
        .store
        .set_model(caller.tenant_id, serial.clone(), model)
        .await
    {
        Ok(()) => get_device(State(state), Path(serial), headers).await,
        Err(e) => store_error(&state, &e, Api::Paygops),
    }
}

#[utoipa::path(get, path = "/paygops/support", tag = "paygops",
    responses((status = 200, body = SupportOut)))]
/// The credit units this service understands.
pub async fn support() -> Response {
    let out = json!({"supported_credit_units": {
        "ABSOLUTE_TIME": "Expiration Date", "DAYS": "Days", "HOURS": "Hours"}});
    json_response(StatusCode::OK, out.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed audit body is the text the `json!` object it replaced gave, so that the
    /// bodies of one device's chain keep one shape.
    #[test]
    fn issued_event_keeps_the_json_object_text() {
        let orders = [
            None,
            Some(mint::Order::AddCredit { units: 7 }),
            Some(mint::Order::Unlock),
        ];
        for (order, sequence) in orders.iter().zip([None, Some(3), Some(u32::MAX)]) {
            let typed = IssuedEvent {
                api: "paygops",
                key: "k-\"1\"",
                sequence,
                command: order.as_ref(),
                status: "COMMITTED",
                counter_before: -4,
            };
            let object = json!({
                "api": "paygops",
                "key": "k-\"1\"",
                "sequence": sequence,
                "command": order,
                "status": "COMMITTED",
                "counter_before": -4,
            });
            assert_eq!(serde_json::to_string(&typed).unwrap(), object.to_string());
        }
    }

    /// The request hash streams the JSON text into SHA-256: the digest of `to_string`.
    #[test]
    fn request_hash_is_the_digest_of_the_text() {
        use sha2::{Digest, Sha256};
        let v = json!([
            "paygops.credit_update",
            ["S-1", "ADD_CREDIT", "DAYS", 86_400.5, "AUTO", false]
        ]);
        assert_eq!(
            request_hash(&v),
            Sha256::digest(v.to_string().as_bytes()).to_vec()
        );
    }
}
