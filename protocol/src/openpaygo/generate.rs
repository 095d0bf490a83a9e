//! The `generate` op: the token following a device's count.

use paylock::openpaygo::{COUNT_CEILING, OpenPaygoIssueError, OpenPaygoIssuer, OpenPaygoMessage};
use paylock::{Key, TokenText};
use serde::{Deserialize, Serialize};

use super::{form, secret};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names};

names! {
    /// What a token does, with `openpaygo`'s names.
    pub enum TokenType (ErrorKind::InvalidTokenType) {
        /// Adds `value` to the credit.
        AddTime = "ADD_TIME",
        /// Sets the credit to `value`.
        SetTime = "SET_TIME",
        /// Ends pay-as-you-go.
        DisablePayg = "DISABLE_PAYG",
        /// Moves the device's count forward.
        CounterSync = "COUNTER_SYNC",
    }
}

/// A `generate` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Generate {
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub key: Key,
    /// The device's starting code (0-999,999,999).
    pub starting_code: u64,
    /// Keypad with only the digits 1-4.
    pub restricted_digit_set: bool,
    /// 12-digit extended tokens.
    pub extended_token: bool,
    /// The count of the device's last token.
    pub count: u32,
    /// What the token does.
    pub token_type: TokenType,
    /// The raw value (days × time divider) of ADD_TIME and SET_TIME; absent otherwise.
    #[serde(default)]
    pub value: Option<u64>,
}

/// The answer to a `generate` request.
#[derive(Clone, Debug, Serialize)]
pub struct Generated {
    /// Always `true`.
    pub ok: True,
    /// The token, ungrouped.
    #[serde(serialize_with = "field::token")]
    pub token: TokenText,
    /// The token's count: the device's count once it is entered.
    pub count: u32,
}

/// The token `request` asks for.
///
/// # Errors
/// A field out of range or contradicting the token type, or a count past the ceiling.
pub fn generate(request: &Generate) -> Result<Generated, Error> {
    let secret = secret(request.key.clone(), request.starting_code)?;
    let form = form(request.restricted_digit_set, request.extended_token);
    let out = OpenPaygoIssuer::new(form)
        .generate(&secret, request.count, message(request)?)
        .map_err(|e| match e {
            OpenPaygoIssueError::ValueTooLarge { max, .. } => {
                for_form(Error::too_large("value", max))
            }
            OpenPaygoIssueError::CountTooHigh { .. } => Error::at(
                ErrorKind::OutOfRange,
                "count",
                format_args!("is above the count ceiling {COUNT_CEILING}"),
            ),
            OpenPaygoIssueError::CounterExhausted { .. } => Error::at(
                ErrorKind::CounterExhausted,
                "count",
                format_args!(
                    "is too high: the next token of this type would pass the count ceiling \
                     {COUNT_CEILING}, which no device accepts (the device's count is exhausted)"
                ),
            ),
        })?;
    Ok(Generated {
        ok: True,
        token: out.token,
        count: out.count,
    })
}

/// The token type and its value: required for ADD/SET, refused for DISABLE/SYNC (upstream
/// silently accepts a falsy one, which hides caller bugs).
fn message(request: &Generate) -> Result<OpenPaygoMessage, Error> {
    let max = form(request.restricted_digit_set, request.extended_token).max_value();
    let value = || match request.value {
        None => Err(Error::missing("value")),
        Some(v) => u32::try_from(v)
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| for_form(Error::too_large("value", max))),
    };
    let none = |m| match request.value {
        None => Ok(m),
        Some(_) => Err(Error::at(
            ErrorKind::ValueNotAllowed,
            "value",
            format_args!(
                "must be absent for token_type {}",
                request.token_type.name()
            ),
        )),
    };
    match request.token_type {
        TokenType::AddTime => Ok(OpenPaygoMessage::AddTime(value()?)),
        TokenType::SetTime => Ok(OpenPaygoMessage::SetTime(value()?)),
        TokenType::DisablePayg => none(OpenPaygoMessage::DisablePayg),
        TokenType::CounterSync => none(OpenPaygoMessage::CounterSync),
    }
}

/// A range error of `value`, saying the limit is the token form's.
fn for_form(e: Error) -> Error {
    e.and(" for this token form")
}
