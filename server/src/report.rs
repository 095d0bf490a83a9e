//! OpenPAYGO Metrics reports (`POST /dd`): a device's report verified against its stored key
//! and its last accepted request count and timestamp, answered with its pending tokens and its
//! credit time, signed as `paylock-metrics` signs (`da`).
//!
//! Decisions (docs/server.md, "Device reports"): the report's signature is the device's only
//! authentication; reports are accepted under `da` or `ra` only (the methods whose signature
//! covers the data); a token is pending until the device reports a `token_count` at or above
//! its sequence, and an answer carries at most [`MAX_TOKENS`] of them, oldest first.

use std::sync::Arc;

use axum::http::StatusCode;
use paylock_metrics::{
    Answer, AuthError, AuthMethod, Compat, DataFormat, Device, MetricsError, Options, Request,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::device::FieldError;
use crate::http::paygops::open_secret;
use crate::http::refusal;
use crate::kek::Kek;
use crate::store::Refusal;
use crate::store::report::{DecideReport, LedgerToken, ReportContext, ReportPlan, ReportState};

/// Most tokens one answer carries (an OpenPAYGO device takes an unused token at most 16 counts
/// below its highest one; the rest follow in the next answer).
pub const MAX_TOKENS: usize = 16;

/// A device's OpenPAYGO Metrics profile, provisioned with it (`metrics_data_format`,
/// `metrics_auth_method`; CSV `Metrics Data Format`, `Metrics Auth Method`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The data format its reports use (else the one a report embeds, as `openpaygo` 0.6.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_format: Option<DataFormat>,
    /// The one method it signs with (else `da` or `ra`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
}

impl Profile {
    /// Checks the provisioning fields; `None` when neither is given.
    ///
    /// # Errors
    /// A data format that is not an object of the data format's shape, an unknown method.
    pub fn check(
        data_format: Option<&Value>,
        auth_method: Option<&str>,
    ) -> Result<Option<String>, FieldError> {
        let data_format = data_format
            .filter(|v| !v.is_null())
            .map(|v| {
                if !v.is_object() {
                    return Err(FieldError::new(
                        "metrics_data_format",
                        "field \"metrics_data_format\" must be a JSON object",
                    ));
                }
                DataFormat::deserialize(v).map_err(|e| {
                    FieldError::new(
                        "metrics_data_format",
                        format!("field \"metrics_data_format\" is not a data format: {e}"),
                    )
                })
            })
            .transpose()?;
        let auth_method = auth_method.map(str::trim).filter(|m| !m.is_empty());
        if let Some(m) = auth_method
            && AuthMethod::from_prefix(m.as_bytes()).is_none_or(|a| a.prefix() != m)
        {
            return Err(FieldError::new(
                "metrics_auth_method",
                format!("field \"metrics_auth_method\" is {m:?}, not one of sa, ta, ca, da, ra"),
            ));
        }
        if data_format.is_none() && auth_method.is_none() {
            return Ok(None);
        }
        let profile = Self {
            data_format,
            auth_method: auth_method.map(str::to_owned),
        };
        Ok(Some(serde_json::to_string(&profile).unwrap_or_default()))
    }

    fn read(text: Option<&str>) -> Result<Self, Refused> {
        text.map_or(Ok(Self::default()), |t| {
            serde_json::from_str(t).map_err(|_| {
                Refused::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "the device's metrics profile is unreadable",
                    None,
                )
            })
        })
    }

    fn method(&self) -> Option<AuthMethod> {
        self.auth_method
            .as_deref()
            .and_then(|m| AuthMethod::from_prefix(m.as_bytes()))
    }
}

/// Why a report is refused: HTTP status, stable code, message, field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`MALFORMED_REPORT`, `INVALID_AUTHENTICATION`, `REPLAYED_REPORT`…).
    pub code: &'static str,
    /// What is wrong (never a key, a signature or a token).
    pub message: String,
    /// The report field at fault.
    pub field: Option<&'static str>,
}

impl Refused {
    /// The response body, as a planner refusal.
    #[must_use]
    pub fn refusal(&self) -> Refusal {
        refusal(self.status, self.code, &self.message, self.field)
    }

    fn new(
        status: StatusCode,
        code: &'static str,
        message: &str,
        field: Option<&'static str>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
            field,
        }
    }
}

/// The refusal for a report `paylock-metrics` refused.
#[must_use]
pub fn refused(e: &MetricsError) -> Refused {
    let message = e.to_string();
    let (status, code) = match e {
        MetricsError::Auth(AuthError::Replayed { .. } | AuthError::Repeated { .. }) => {
            (StatusCode::CONFLICT, "REPLAYED_REPORT")
        }
        MetricsError::Auth(_) => (StatusCode::FORBIDDEN, "INVALID_AUTHENTICATION"),
        MetricsError::DataFormat(_) | MetricsError::Row { .. } => {
            (StatusCode::BAD_REQUEST, "INVALID_DATA_FORMAT")
        }
        _ => (StatusCode::BAD_REQUEST, "MALFORMED_REPORT"),
    };
    Refused {
        status,
        code,
        message,
        field: e.field(),
    }
}

/// Parses a report's text and reads its serial number (unauthenticated: it only finds the
/// device whose key must have signed it).
///
/// # Errors
/// 400 `MALFORMED_REPORT` for a body that is not UTF-8 JSON, or has no string `serial_number`.
pub fn parse(body: &[u8]) -> Result<(Request, String, String), Refused> {
    let text = std::str::from_utf8(body).map_err(|_| {
        Refused::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REPORT",
            "the report is not UTF-8 text",
            None,
        )
    })?;
    let request = Request::parse(text).map_err(|e| refused(&e))?;
    let serial = request.serial_number().map(str::to_owned).ok_or_else(|| {
        Refused::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REPORT",
            "serial_number (sn) is missing or not a string",
            Some("serial_number"),
        )
    })?;
    Ok((request, serial, text.to_owned()))
}

/// The planner for one report: opens the device key, verifies the report, picks the pending
/// tokens and the credit time, signs the answer. `now` is the server's clock (Unix seconds).
#[must_use]
pub fn decide(kek: Arc<Kek>, request: Request, raw: String, now: i64) -> DecideReport {
    Box::new(move |ctx| plan(&kek, request, raw, now, ctx).map_err(|r| r.refusal()))
}

fn plan(
    kek: &Kek,
    request: Request,
    raw: String,
    now: i64,
    ctx: &ReportContext,
) -> Result<ReportPlan, Refused> {
    let secret = open_secret(kek, &ctx.device).map_err(|_| {
        Refused::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "device secret unavailable",
            None,
        )
    })?;
    let profile = Profile::read(ctx.profile.as_deref())?;
    let last = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    let device = Device {
        last_request_count: last(ctx.state.last_request_count),
        last_timestamp: last(ctx.state.last_timestamp),
        data_format: profile.data_format.as_ref(),
        method: profile.method(),
        ..Device::new(&secret.key)
    };
    let options = Options {
        received_at: now,
        compat: Compat::Paylock,
    };
    let report = request.verify(&device, &options).map_err(|e| refused(&e))?;
    if let crate::device::Params::Registered { name, .. } = &ctx.device.params
        && ctx.profile.is_none()
    {
        // A registered scheme's firmware reports through OpenPAYGO Metrics only if the device
        // was provisioned with a profile: that is where its tokens were checked to fit an
        // answer, and its key was declared a Metrics key too.
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "METRICS_NOT_PROVISIONED",
            &format!(
                "the device's token_scheme {name:?} is a registered scheme and the device was \
                 provisioned without a Metrics profile (metrics_auth_method, \
                 metrics_data_format): it takes no reports"
            ),
            Some("serial_number"),
        ));
    }
    if device.method.is_none() && !report.auth_method.covers_data() {
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "INVALID_AUTHENTICATION",
            "the report must be signed with da or ra (sa, ta and ca do not cover its data)",
            Some("auth"),
        ));
    }
    let request_count = stored_int(report.request_count, "request_count")?;
    let timestamp = stored_int(report.timestamp, "timestamp")?;
    let mut answer = Answer::new();
    let mut sent: Vec<i64> = Vec::new();
    if let Some(count) = report.token_count() {
        let count = count.as_u64().ok_or_else(|| {
            Refused::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_REPORT",
                "data.token_count is not a non-negative integer",
                Some("token_count"),
            )
        })?;
        let pending = pending(&ctx.tokens, count);
        sent = pending.iter().filter_map(|t| t.sequence).collect();
        answer.tokens(
            pending
                .iter()
                .map(|t| Value::from(digits(&t.token)))
                .collect(),
        );
    }
    if report.time_requested().is_some() {
        answer
            .time(&report, ctx.device.expiry, now, Compat::Paylock)
            .map_err(|e| refused(&e))?;
    }
    let text = paylock_metrics::respond(&report, Some(&secret.key), &answer);
    let state = ReportState {
        last_request_count: request_count.or(ctx.state.last_request_count),
        last_timestamp: timestamp.or(ctx.state.last_timestamp),
    };
    let event = json!({
        "request_count": request_count,
        "timestamp": timestamp,
        "auth_method": report.auth_method.prefix(),
        "report_sha256": hex::encode(Sha256::digest(raw.as_bytes())),
        "token_sequences": sent,
    })
    .to_string();
    Ok(ReportPlan {
        request_count,
        timestamp,
        auth_method: report.auth_method.prefix().to_owned(),
        metrics: report.metrics_json(),
        raw,
        answer: text,
        tokens: i64::try_from(sent.len()).unwrap_or(i64::MAX),
        state,
        event: ("metrics.report".to_owned(), event),
    })
}

/// A token as a Metrics answer carries it: its digits only (a `tkl` item is 1 to 48 digits),
/// without the SMS grouping spaces or the `*`…`#` frame of a Nexus keycode, which the device's
/// keypad handling adds back.
fn digits(token: &str) -> String {
    token.chars().filter(char::is_ascii_digit).collect()
}

/// A count or timestamp as stored: 0 is "not carried"; above 2^63 - 1 is refused.
fn stored_int(value: u64, field: &'static str) -> Result<Option<i64>, Refused> {
    if value == 0 {
        return Ok(None);
    }
    i64::try_from(value).map(Some).map_err(|_| {
        Refused::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REPORT",
            &format!("{field} is above 2^63 - 1"),
            Some(field),
        )
    })
}

/// The tokens a device reporting `token_count` has not entered yet: those of a higher
/// sequence, oldest first, at most [`MAX_TOKENS`].
#[must_use]
pub fn pending(tokens: &[LedgerToken], token_count: u64) -> Vec<&LedgerToken> {
    tokens
        .iter()
        .filter(|t| {
            t.sequence
                .and_then(|s| u64::try_from(s).ok())
                .is_some_and(|s| s > token_count)
        })
        .take(MAX_TOKENS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(sequence: Option<i64>, text: &str) -> LedgerToken {
        LedgerToken {
            sequence,
            token: text.to_owned(),
        }
    }

    #[test]
    fn answer_tokens_are_digits_only() {
        assert_eq!(digits("*599 791 493 194 43#"), "59979149319443");
        assert_eq!(digits("123 456 789"), "123456789");
    }

    #[test]
    fn pending_tokens_are_those_above_the_reported_count_oldest_first() {
        let tokens = [
            token(Some(2), "a"),
            token(Some(3), "b"),
            token(None, "c"),
            token(Some(5), "d"),
        ];
        let texts = |count| {
            pending(&tokens, count)
                .iter()
                .map(|t| t.token.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(0), ["a", "b", "d"]);
        assert_eq!(texts(2), ["b", "d"]);
        assert_eq!(texts(5), Vec::<&str>::new());
        let many: Vec<_> = (1..=40).map(|s| token(Some(s), "t")).collect();
        let sent = pending(&many, 3);
        assert_eq!(sent.len(), MAX_TOKENS);
        assert_eq!(sent[0].sequence, Some(4));
    }
}
