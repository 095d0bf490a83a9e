//! HTTP: the router, authentication, errors, and the idempotent issuance flow shared by the
//! PaygOps and native APIs. Handlers only translate HTTP to a store call and back.

pub mod model;
pub mod native;
pub mod openapi;
pub mod paygops;
pub mod report;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::apikey::{self, Scope};
use crate::kek::Kek;
use crate::metrics::{Metrics, RouteLabel};
use crate::store::{Api, Caller, Credential, Decide, Outcome, Store, StoreError, Stored};

/// Largest request body (JSON): 64 KiB. Imports take up to [`IMPORT_LIMIT`].
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest import body: 8 MiB.
pub const IMPORT_LIMIT: usize = 8 * 1024 * 1024;
/// Seconds a client should wait after a 503.
pub const RETRY_AFTER: &str = "1";

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The ledger.
    pub store: Store,
    /// The KEK for device secrets.
    pub kek: Arc<Kek>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Computes tokens through the scheme registry.
    pub minter: Arc<crate::mint::Minter>,
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `{"error": code, "message": …, "field": …}` (PaygOps shows `error`; fields are additive).
pub fn error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let body = model::ErrorOut {
        error: code.to_owned(),
        message: message.to_owned(),
        field: field.map(str::to_owned),
    };
    let mut r = json_response(status, serde_json::to_vec(&body).unwrap_or_default());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
    }
    r
}

/// The answer to a store error.
pub fn store_error(state: &AppState, e: &StoreError, api: Api) -> Response {
    match e {
        StoreError::Unavailable(why) => {
            state.metrics.unavailable.inc();
            tracing::warn!(reason = %why, "database unavailable");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "DATABASE_UNAVAILABLE",
                "the database is unreachable: retry with the same key",
                None,
            )
        }
        StoreError::KeyReused => {
            state
                .metrics
                .conflicts
                .get_or_create(&Metrics::api(api.name()))
                .inc();
            error(
                StatusCode::BAD_REQUEST,
                "IDEMPOTENCY_KEY_REUSED",
                "this key was used for a different request",
                None,
            )
        }
        StoreError::NoDevice => error(
            StatusCode::NOT_FOUND,
            "DEVICE_DOES_NOT_EXIST",
            "no device with this serial number",
            Some("device_serial_number"),
        ),
        StoreError::NotFound => error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such record", None),
        StoreError::Unauthenticated => unauthenticated(),
        StoreError::Forbidden(scope) => forbidden(*scope),
        StoreError::Refused(r) => json_response(
            StatusCode::from_u16(r.0.status).unwrap_or(StatusCode::BAD_REQUEST),
            r.0.body.clone(),
        ),
        StoreError::Internal(why) => {
            tracing::error!(reason = %why, "internal error");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
                None,
            )
        }
    }
}

/// A stored response, marked as replayed when it is one.
#[must_use]
pub fn answer(state: &AppState, api: Api, outcome: Outcome) -> Response {
    let (stored, replayed) = match outcome {
        Outcome::Fresh(s) => (s, false),
        Outcome::Replayed(s) => (s, true),
    };
    let label = Metrics::api(api.name());
    let mut r = json_response(
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        stored.body,
    );
    if replayed {
        state.metrics.replays.get_or_create(&label).inc();
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    } else {
        state.metrics.issuances.get_or_create(&label).inc();
    }
    r
}

/// A refusal response planned inside a transaction (nothing is stored).
#[must_use]
pub fn refusal(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> crate::store::Refusal {
    let body = model::ErrorOut {
        error: code.to_owned(),
        message: message.to_owned(),
        field: field.map(str::to_owned),
    };
    crate::store::Refusal(Stored {
        status: status.as_u16(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

/// The key in `Authorization: Bearer …`.
///
/// # Errors
/// 401 when there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, Response> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "API_AUTHORIZATION_ERROR",
                "missing API key: send Authorization: Bearer <key>",
                None,
            )
        })
}

fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "API_AUTHORIZATION_ERROR",
        "unknown or revoked API key",
        None,
    )
}

fn forbidden(scope: Scope) -> Response {
    error(
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        &format!("this API key lacks the {} scope", scope.name()),
        None,
    )
}

/// The caller behind `Authorization: Bearer …`, with `scope`.
///
/// # Errors
/// 401 for a missing, unknown or revoked key; 403 without the scope; 503 when the database is
/// unreachable.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Caller, Response> {
    let key = bearer(headers)?;
    let caller = state
        .store
        .authenticate(apikey::hash(key))
        .await
        .map_err(|e| store_error(state, &e, Api::V1))?
        .ok_or_else(unauthenticated)?;
    if caller.scopes.allows(scope) {
        Ok(caller)
    } else {
        Err(forbidden(scope))
    }
}

/// The API key of a request (its hash) and the scope the route needs, for the store to check in
/// the route's own statement.
///
/// # Errors
/// 401 when there is none.
pub fn credential(headers: &HeaderMap, scope: Scope) -> Result<Credential, Response> {
    bearer(headers).map(|k| Credential {
        key_hash: apikey::hash(k),
        scope,
    })
}

/// A request refused before it reached the store: the API key's refusal if it has one (the
/// key is checked before the body), else `refused`.
pub async fn refuse_checked(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
    refused: Response,
) -> Response {
    authorize(state, headers, scope)
        .await
        .map_or_else(|r| r, |_| refused)
}

/// An idempotency key: 1-128 characters, letters, digits, `-`, `_`, `.`, `:`.
///
/// # Errors
/// 400 naming `field`.
pub fn check_key(key: &str, field: &str) -> Result<(), Response> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            "INVALID_IDEMPOTENCY_KEY",
            &format!("{field} must be 1-128 letters, digits or -_.:"),
            Some(field),
        ))
    }
}

/// SHA-256 of a canonical request.
#[must_use]
pub fn request_hash(canonical: &serde_json::Value) -> Vec<u8> {
    let mut h = Sha256::new();
    // The JSON text goes straight into the hash (the same bytes as `to_string`, without the
    // string).
    if serde_json::to_writer(Hashed(&mut h), canonical).is_err() {
        return Sha256::digest(canonical.to_string().as_bytes()).to_vec();
    }
    h.finalize().to_vec()
}

/// An [`std::io::Write`] into a SHA-256.
struct Hashed<'a>(&'a mut Sha256);

impl std::io::Write for Hashed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An issuance request, checked: idempotency key, request hash, serial, and its planner.
pub type Prepared = (String, Vec<u8>, String, Decide);

/// The idempotent issuance flow: the store checks the API key (in the same statement that reads
/// the device and the key), then replays a stored answer (or refuses the key), or issues under
/// the device lock, re-checking the key there. A request that fails its checks gets the answer
/// it got before the API key moved into the store: the key's refusal first, else the check's.
pub async fn idempotent_issue(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
    api: Api,
    prepared: Result<Prepared, Response>,
) -> Response {
    let (key, hash, serial, decide) = match prepared {
        Ok(prepared) => prepared,
        Err(refused) => return refuse_checked(state, headers, scope, refused).await,
    };
    let who = match credential(headers, scope) {
        Ok(who) => who,
        Err(r) => return r,
    };
    match state.store.issue(who, api, key, hash, serial, decide).await {
        Ok(outcome) => answer(state, api, outcome),
        Err(e) => store_error(state, &e, api),
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()),
        Err(e) => store_error(&state, &e, Api::V1),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut r = Response::new(Body::from(state.metrics.render()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn time_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .latency
        .get_or_create(&RouteLabel { route })
        .observe(start.elapsed().as_secs_f64());
    response
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint", None)
}

/// The whole service.
pub fn router(state: AppState) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::serve))
        .nest("/paygops", paygops::routes())
        .merge(report::routes())
        .nest("/v1", native::routes().merge(report::v1_routes()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), time_requests))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION]))
}
