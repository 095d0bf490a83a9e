//! `"scheme":"openpaygo"` requests: `generate` and `decode`.
//!
//! `decode` runs paylock's device model: a counter sync at or below the stored count is
//! `ALREADY_USED`, unless the request says `"allow_sync_replays":true`, the model of the
//! published vectors and of upstream (the sync is VALID again and spends every older count).

use alloc::format;
use alloc::string::{String, ToString};

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{not_one_of, optional, too_large};
use super::{BatchError, Fields, to_json};
use paylock::openpaygo::{
    COUNT_CEILING, Form, MAX_STARTING_CODE, OpenPaygoIssueError, OpenPaygoIssuer, OpenPaygoMessage,
    OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
};
use paylock::token::ParseError;

pub(super) fn handle(f: &Fields<'_>) -> Result<String, BatchError> {
    match f.str("op")? {
        "generate" => generate(f),
        "decode" => decode(f),
        _ => Err(super::unknown_op("openpaygo", &["generate", "decode"])),
    }
}

pub(super) fn secret(f: &Fields<'_>) -> Result<OpenPaygoSecret, BatchError> {
    let key = f.key("key")?;
    let starting_code = f.u32("starting_code", MAX_STARTING_CODE)?;
    OpenPaygoSecret::new(key, starting_code)
        .map_err(|_| too_large("starting_code", MAX_STARTING_CODE))
}

pub(super) fn form(f: &Fields<'_>) -> Result<Form, BatchError> {
    Ok(Form {
        extended: f.bool("extended_token")?,
        restricted_digit_set: f.bool("restricted_digit_set")?,
    })
}

#[derive(Serialize)]
struct Generated<'a> {
    ok: bool,
    token: &'a str,
    count: u32,
}

fn generate(f: &Fields<'_>) -> Result<String, BatchError> {
    let secret = secret(f)?;
    let form = form(f)?;
    let count = f.u32("count", u32::MAX)?;
    let message = message(f, form)?;
    let out = OpenPaygoIssuer::new(form)
        .generate(&secret, count, message)
        .map_err(|e| match e {
            OpenPaygoIssueError::ValueTooLarge { max, .. } => for_form(too_large("value", max)),
            OpenPaygoIssueError::CountTooHigh { .. } => BatchError::new(
                "out_of_range",
                format!("field \"count\" is above the count ceiling {COUNT_CEILING}"),
            ),
            OpenPaygoIssueError::CounterExhausted { .. } => BatchError::new(
                "counter_exhausted",
                format!(
                    "field \"count\" is too high: the next token of this type would pass the count \
                     ceiling {COUNT_CEILING}, which no device accepts (the device's count is exhausted)"
                ),
            ),
        })?;
    Ok(to_json(&Generated {
        ok: true,
        token: out.token.as_str(),
        count: out.count,
    }))
}

/// The token type and its value: required for ADD/SET, refused for DISABLE/SYNC (upstream
/// silently accepts a falsy one, which hides caller bugs).
fn message(f: &Fields<'_>, form: Form) -> Result<OpenPaygoMessage, BatchError> {
    let kind = f.str("token_type")?;
    let value = || f.u32("value", form.max_value()).map_err(for_form);
    let no_value = |m: OpenPaygoMessage| match f.get("value") {
        None => Ok(m),
        Some(_) => Err(BatchError::new(
            "value_not_allowed",
            format!("field \"value\" must be absent for token_type {kind}"),
        )),
    };
    match kind {
        "ADD_TIME" => Ok(OpenPaygoMessage::AddTime(value()?)),
        "SET_TIME" => Ok(OpenPaygoMessage::SetTime(value()?)),
        "DISABLE_PAYG" => no_value(OpenPaygoMessage::DisablePayg),
        "COUNTER_SYNC" => no_value(OpenPaygoMessage::CounterSync),
        _ => Err(not_one_of(
            "token_type",
            &["ADD_TIME", "SET_TIME", "DISABLE_PAYG", "COUNTER_SYNC"],
            "invalid_token_type",
        )),
    }
}

/// A range error of `value`, saying the limit is the token form's.
fn for_form(mut e: BatchError) -> BatchError {
    if e.kind == "out_of_range" {
        e.message.push_str(" for this token form");
    }
    e
}

fn decode(f: &Fields<'_>) -> Result<String, BatchError> {
    let secret = secret(f)?;
    let form = form(f)?;
    let token = f.str("token")?;
    let s = f.object("state")?;
    let mut state = OpenPaygoState {
        max_count: s.u32("max_count", u32::MAX)?,
        used_counts: u16::try_from(s.uint("used_counts_bitmask", u64::from(u16::MAX))?)
            .unwrap_or(u16::MAX),
    };
    let decoder = OpenPaygoVerifier::new(form);
    let decoder = match optional(f, "allow_sync_replays", Fields::bool)? {
        Some(true) => decoder.allowing_sync_replays(),
        _ => decoder,
    };
    let verdict = decoder
        .decode(&secret, &mut state, token.as_bytes())
        .map_err(|e| malformed(&e, form))?;
    let (status, value, count, meaning) = match verdict {
        OpenPaygoVerdict::Valid(a) => (
            "VALID",
            json!(a.value),
            json!(a.count),
            json!(a.meaning.name()),
        ),
        OpenPaygoVerdict::AlreadyUsed => ("ALREADY_USED", Value::Null, Value::Null, Value::Null),
        OpenPaygoVerdict::Invalid => ("INVALID", Value::Null, Value::Null, Value::Null),
    };
    Ok(to_json(&json!({
        "ok": true,
        "status": status,
        "value": value,
        "count": count,
        "meaning": meaning,
        "state": { "max_count": state.max_count, "used_counts_bitmask": state.used_counts },
    })))
}

fn malformed(e: &ParseError, form: Form) -> BatchError {
    let why = match *e {
        ParseError::Length { found, expected } => format!(
            "has {found} characters; a {} token has {expected}",
            describe(form)
        ),
        _ => e.to_string(),
    };
    BatchError::new("malformed_token", format!("field \"token\" {why}"))
}

fn describe(form: Form) -> &'static str {
    match (form.extended, form.restricted_digit_set) {
        (false, false) => "standard",
        (false, true) => "standard restricted-digit",
        (true, false) => "extended",
        (true, true) => "extended restricted-digit",
    }
}
