//! The `metrics_respond` op: a report verified, then answered with tokens, time and settings,
//! signed with the device's key.

use alloc::borrow::Cow;

use paylock::Key;
use paylock_metrics::{Answer, DataFormat, MetricsError, VerifiedReport};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::verify::{CompatName, DialectName, MethodName, MetricsVerify, Reason};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True};

/// A `metrics_respond` request: a `metrics_verify` request and what to answer.
#[derive(Clone, Debug)]
pub struct MetricsRespond<'a> {
    /// The report and the device, as for `metrics_verify`.
    pub verify: MetricsVerify<'a>,
    /// The server's clock (Unix seconds), for `active_seconds_left`; 0 when absent.
    pub now: Option<i64>,
    /// The answer's parts, in the order they are added.
    pub calls: Vec<Call>,
    /// Sign the answer (default `true`; 0.6.3 signs whenever it knows the key).
    pub signed: Option<bool>,
}

/// The request as it is on the wire: one flat object, read in one pass (serde's `flatten`
/// would buffer every field first).
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, deserialize_with = "field::text")]
    text: Cow<'a, str>,
    #[serde(deserialize_with = "field::key")]
    key: Key,
    #[serde(default, deserialize_with = "field::opt_object")]
    data_format: Option<DataFormat>,
    #[serde(default)]
    last_request_count: Option<u64>,
    #[serde(default)]
    last_timestamp: Option<u64>,
    #[serde(default)]
    received_at: Option<i64>,
    #[serde(default)]
    compat: Option<CompatName>,
    #[serde(default)]
    dialect: Option<DialectName>,
    #[serde(default)]
    method: Option<MethodName>,
    #[serde(default)]
    now: Option<i64>,
    #[serde(default)]
    calls: Vec<Call>,
    #[serde(default)]
    signed: Option<bool>,
}

impl<'de: 'a, 'a> Deserialize<'de> for MetricsRespond<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(Self {
            verify: MetricsVerify {
                text: w.text,
                key: w.key,
                data_format: w.data_format,
                last_request_count: w.last_request_count,
                last_timestamp: w.last_timestamp,
                received_at: w.received_at,
                compat: w.compat,
                dialect: w.dialect,
                method: w.method,
            },
            now: w.now,
            calls: w.calls,
            signed: w.signed,
        })
    }
}

/// One part of the answer, as 0.6.3's `add_…_to_answer` calls: `["tokens",[…]]`,
/// `["time",target|null]`, `["settings",{…}]`, `["base_url",url]`, `["extra_data",{…}]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// The tokens for the device, oldest first.
    Tokens(Vec<Value>),
    /// When the device's credit runs out (Unix seconds), `None` for no credit.
    Time(Option<i64>),
    /// Settings, merged into those already added.
    Settings(Map<String, Value>),
    /// A new server address.
    BaseUrl(String),
    /// Extra data, merged into what was already added.
    ExtraData(Map<String, Value>),
}

/// The call names, in the order messages list them.
const CALLS: [&str; 5] = ["tokens", "time", "settings", "base_url", "extra_data"];

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pair;
        impl<'de> Visitor<'de> for Pair {
            type Value = Call;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a [name, argument] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Call, A::Error> {
                let pair =
                    || field::refuse(ErrorKind::WrongType, "must be a [name, argument] pair");
                let name: Value = seq.next_element()?.ok_or_else(pair)?;
                let argument: Value = seq.next_element()?.ok_or_else(pair)?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(pair());
                }
                let wrong = |what: &str| {
                    field::refuse(
                        ErrorKind::WrongType,
                        format_args!("has an argument that must be {what}"),
                    )
                };
                match (name.as_str(), argument) {
                    (Some("tokens"), Value::Array(tokens)) => Ok(Call::Tokens(tokens)),
                    (Some("tokens"), _) => Err(wrong("an array")),
                    (Some("time"), Value::Null) => Ok(Call::Time(None)),
                    (Some("time"), t) => t
                        .as_i64()
                        .map(|t| Call::Time(Some(t)))
                        .ok_or_else(|| wrong("an integer number of seconds or null")),
                    (Some("settings"), Value::Object(m)) => Ok(Call::Settings(m)),
                    (Some("extra_data"), Value::Object(m)) => Ok(Call::ExtraData(m)),
                    (Some("settings" | "extra_data"), _) => Err(wrong("an object")),
                    (Some("base_url"), Value::String(url)) => Ok(Call::BaseUrl(url)),
                    (Some("base_url"), _) => Err(wrong("a string")),
                    _ => Err(field::refuse(
                        ErrorKind::WrongType,
                        format_args!("must name one of: {}", CALLS.join(", ")),
                    )),
                }
            }
        }
        d.deserialize_seq(Pair)
    }
}

/// The answer to `metrics_respond`.
#[derive(Clone, Debug, Serialize)]
pub struct Responded {
    /// Always `true`: the request was read.
    pub ok: True,
    /// Whether the report is authentic and fresh (only then is there an answer).
    pub valid: bool,
    /// Why the report is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The answer's text, to send to the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Verifies `request`'s report and answers it.
///
/// # Errors
/// `conflicting_field` on `calls[i]` for a time answer to a report that asked for none.
pub fn respond(request: &MetricsRespond<'_>) -> Result<Responded, Error> {
    let report = match request.verify.check() {
        Ok(report) => report,
        Err(e) => {
            return Ok(Responded {
                ok: True,
                valid: false,
                reason: Some((&e).into()),
                text: None,
            });
        }
    };
    let answer = answer(request, &report)?;
    let key = request
        .signed
        .unwrap_or(true)
        .then_some(&request.verify.key);
    Ok(Responded {
        ok: True,
        valid: true,
        reason: None,
        text: Some(paylock_metrics::respond(&report, key, &answer)),
    })
}

/// The answer's fields, added in the order of `calls`.
fn answer(request: &MetricsRespond<'_>, report: &VerifiedReport) -> Result<Answer, Error> {
    let now = request.now.unwrap_or(0);
    let compat = request.verify.compat();
    let mut answer = Answer::new();
    for (index, call) in request.calls.iter().enumerate() {
        match call {
            Call::Tokens(tokens) => {
                answer.tokens(tokens.clone());
            }
            Call::Time(target) => {
                answer
                    .time(report, *target, now, compat)
                    .map_err(|e| no_time(index, &e))?;
            }
            Call::Settings(settings) => {
                answer.settings(settings.clone());
            }
            Call::BaseUrl(url) => {
                answer.base_url(url);
            }
            Call::ExtraData(extra) => {
                answer.extra_data(extra.clone());
            }
        }
    }
    Ok(answer)
}

/// A time answer to a report that asked for none (0.6.3 raises "No time requested").
fn no_time(index: usize, e: &MetricsError) -> Error {
    let field = format!("calls[{index}]");
    let message = format!("field {field:?} answers a time the report did not ask for ({e})");
    Error::about(ErrorKind::ConflictingField, field, message)
}
