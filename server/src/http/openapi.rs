//! `GET /openapi.json`: both APIs, generated from the handlers and shapes.

use axum::http::StatusCode;
use axum::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::json_response;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "paylock issuer ledger", description = "PaygOps Device API v2 under /paygops, the native API under /v1, OpenPAYGO Metrics reports at /dd"),
    paths(
        super::paygops::create_credit_update, super::paygops::commit_credit_update,
        super::paygops::list_credit_updates, super::paygops::list_devices, super::paygops::get_device,
        super::paygops::create_device, super::paygops::update_device, super::paygops::support,
        super::native::issue, super::native::tokens, super::native::get_device, super::native::create_device,
        super::native::import, super::native::audit_verify,
        super::report::device_data, super::report::reports,
    ),
    modifiers(&Bearer)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Serves the document.
pub async fn serve() -> Response {
    json_response(
        StatusCode::OK,
        ApiDoc::openapi().to_json().unwrap_or_default().into_bytes(),
    )
}
