//! The `decode` op: one token entered on paylock's device model, from the state it persisted.

use alloc::borrow::Cow;

use paylock::Key;
use paylock::openpaygo::{Form, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier};
use paylock::token::ParseError;
use serde::{Deserialize, Serialize};

use super::{describe, form, secret};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True};

/// A `decode` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Decode<'a> {
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub key: Key,
    /// The device's starting code (0-999,999,999).
    pub starting_code: u64,
    /// Keypad with only the digits 1-4.
    pub restricted_digit_set: bool,
    /// 12-digit extended tokens.
    pub extended_token: bool,
    /// The token as entered.
    #[serde(borrow, deserialize_with = "field::text")]
    pub token: Cow<'a, str>,
    /// The device's state before the token.
    #[serde(deserialize_with = "field::object")]
    pub state: DecodeState,
    /// The model of the vectors and of upstream: a sync at or below the count is VALID again.
    #[serde(default)]
    pub allow_sync_replays: Option<bool>,
}

/// What an OpenPAYGO device persists, in the request's and the answer's form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct DecodeState {
    /// The highest count accepted.
    pub max_count: u32,
    /// The used-count bitmask of the 16 counts below it.
    pub used_counts_bitmask: u16,
}

/// The answer to a `decode` request: the verdict and the state to persist.
#[derive(Clone, Debug, Serialize)]
pub struct Decoded {
    /// Always `true`.
    pub ok: True,
    /// `VALID`, `ALREADY_USED` or `INVALID`.
    pub status: &'static str,
    /// A valid token's raw value.
    pub value: Option<u32>,
    /// A valid token's count.
    pub count: Option<u32>,
    /// A valid token's meaning (`ADD_TIME`, …).
    pub meaning: Option<&'static str>,
    /// The state to persist.
    pub state: DecodeState,
}

/// The device's verdict on `request.token`.
///
/// # Errors
/// A field out of range, or `malformed_token` for text that is not a token of the form.
pub fn decode(request: &Decode<'_>) -> Result<Decoded, Error> {
    let secret = secret(request.key.clone(), request.starting_code)?;
    let form = form(request.restricted_digit_set, request.extended_token);
    let mut state = OpenPaygoState {
        max_count: request.state.max_count,
        used_counts: request.state.used_counts_bitmask,
    };
    let decoder = OpenPaygoVerifier::new(form);
    let decoder = if request.allow_sync_replays == Some(true) {
        decoder.allowing_sync_replays()
    } else {
        decoder
    };
    let verdict = decoder
        .decode(&secret, &mut state, request.token.as_bytes())
        .map_err(|e| malformed(&e, form))?;
    let (status, valid) = match verdict {
        OpenPaygoVerdict::Valid(a) => ("VALID", Some(a)),
        OpenPaygoVerdict::AlreadyUsed => ("ALREADY_USED", None),
        OpenPaygoVerdict::Invalid => ("INVALID", None),
    };
    Ok(Decoded {
        ok: True,
        status,
        value: valid.map(|a| a.value),
        count: valid.map(|a| a.count),
        meaning: valid.map(|a| a.meaning.name()),
        state: DecodeState {
            max_count: state.max_count,
            used_counts_bitmask: state.used_counts,
        },
    })
}

fn malformed(e: &ParseError, form: Form) -> Error {
    let why = match *e {
        ParseError::Length { found, expected } => format!(
            "has {found} characters; a {} token has {expected}",
            describe(form)
        ),
        _ => e.to_string(),
    };
    Error::at(ErrorKind::MalformedToken, "token", why)
}
