//! The `generate` op: one AST token per request.
//!
//! | type | device fields | value fields |
//! |---|---|---|
//! | ADD_CREDIT, SET_CREDIT | `device_key_hex`, `device_id`, `key_rev`, `counter` | `value` 0..2^v−1 |
//! | UNLOCK_PERMANENT | as above | (`value`: 0) |
//! | COUNTER_SYNC | as above | (`value`: `(counter >> c) mod 2^v`) |
//! | SET_PARAM | as above | `param_id` 0-15 and `param_value` 0..2^(v−4)−1, or the packed `value` |
//! | TEST | — (the same code for every device) | `test_id` 0..2^v−1 |
//!
//! Parenthesised values follow from the type: optional, refused (`conflicting_field`) when they
//! disagree. A SET_PARAM request giving both forms must agree too.

use paylock::access::{
    self, Action, AstConfig, AstIssueError, AstSecret, PARAM_ID_BITS, Profile, Suite, Trace, Unit,
};
use paylock::{Key, TokenText};
use serde::{Deserialize, Serialize};

use super::{
    ProfileName, config_error, device_id, hex_bits, in_profile, key_rev, restated, suite,
    unavailable,
};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names};

names! {
    /// The AST token types.
    pub enum AstTokenType (ErrorKind::InvalidTokenType) {
        /// Adds `value` device units.
        AddCredit = "ADD_CREDIT",
        /// Sets the credit to `value` device units.
        SetCredit = "SET_CREDIT",
        /// Ends PAYG for good.
        UnlockPermanent = "UNLOCK_PERMANENT",
        /// Moves the device's counter forward.
        CounterSync = "COUNTER_SYNC",
        /// Sets a device parameter.
        SetParam = "SET_PARAM",
        /// A public test code.
        Test = "TEST",
    }
}

/// A `generate` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Generate {
    /// The PRF suite: 0, 1 or 2.
    pub suite: u64,
    /// The token profile.
    pub profile: ProfileName,
    /// What the token does.
    #[serde(rename = "type")]
    pub token_type: AstTokenType,
    /// The device key (not for TEST).
    #[serde(default, deserialize_with = "field::opt_key")]
    pub device_key_hex: Option<Key>,
    /// The device id (not for TEST).
    #[serde(default)]
    pub device_id: Option<u64>,
    /// The full key revision (not for TEST).
    #[serde(default)]
    pub key_rev: Option<u64>,
    /// The counter, from 1 (not for TEST).
    #[serde(default)]
    pub counter: Option<u32>,
    /// The value field.
    #[serde(default)]
    pub value: Option<u64>,
    /// SET_PARAM: the parameter.
    #[serde(default)]
    pub param_id: Option<u64>,
    /// SET_PARAM: its payload.
    #[serde(default)]
    pub param_value: Option<u64>,
    /// TEST: the test.
    #[serde(default)]
    pub test_id: Option<u64>,
    /// Add every intermediate.
    #[serde(default)]
    pub trace: Option<bool>,
}

/// The answer to a `generate` request.
#[derive(Clone, Debug, Serialize)]
pub struct Generated {
    /// Always `true`.
    pub ok: True,
    /// The token as printed.
    #[serde(serialize_with = "field::token")]
    pub text: TokenText,
    /// The digits alone.
    #[serde(serialize_with = "field::token")]
    pub digits: TokenText,
    /// With `"trace":true`: every intermediate, under the names of `ast_v1_vectors.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceFields>,
}

/// Every intermediate of a generation, under the names of `ast_v1_vectors.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TraceFields {
    #[serde(rename = "type")]
    token_type: u8,
    type_name: &'static str,
    counter: u32,
    value: u32,
    counter_field: u32,
    key_rev_field: u8,
    value_field: u32,
    mac_input_hex: String,
    mac_full_hex: String,
    mac_trunc: u64,
    mac_trunc_hex: String,
    body: u32,
    body_hex: String,
    whitening_input_hex: String,
    whitening_full_hex: String,
    keystream: u32,
    keystream_hex: String,
    body_whitened: u32,
    body_whitened_hex: String,
    frame: String,
    frame_hex: String,
}

/// The token `request` asks for.
///
/// # Errors
/// A field missing, out of range or contradicting the type, or the generator's refusal.
pub fn generate(request: &Generate) -> Result<Generated, Error> {
    let suite = suite(request.suite)?;
    let profile = request.profile.profile();
    let trace = if request.token_type == AstTokenType::Test {
        test(request, suite, profile)?
    } else {
        keyed(request, suite, profile)?
    };
    Ok(Generated {
        ok: True,
        text: trace.text,
        digits: trace.digits,
        trace: (request.trace == Some(true)).then(|| trace_fields(&trace, profile)),
    })
}

/// A public TEST code: no device fields.
fn test(r: &Generate, suite: Suite, profile: Profile) -> Result<Trace, Error> {
    let device_fields = [
        ("device_key_hex", r.device_key_hex.is_some()),
        ("device_id", r.device_id.is_some()),
        ("key_rev", r.key_rev.is_some()),
        ("counter", r.counter.is_some()),
    ];
    if let Some((name, _)) = device_fields.iter().find(|(_, given)| *given) {
        return Err(Error::at(
            ErrorKind::FieldNotAllowed,
            *name,
            "must be null or absent for TEST: the code is the same for every device",
        ));
    }
    let id =
        at_most(r.test_id, "test_id", profile.max_value()).map_err(|e| in_profile(e, profile))?;
    restated("value", r.value, id, "a TEST code")?;
    let id = u16::try_from(id).unwrap_or(u16::MAX);
    access::test_trace(suite, profile, id).map_err(refused)
}

/// A required field of at most `max`.
fn at_most(given: Option<u64>, name: &str, max: u32) -> Result<u32, Error> {
    let given = given.ok_or_else(|| Error::missing(name))?;
    u32::try_from(given)
        .ok()
        .filter(|v| *v <= max)
        .ok_or_else(|| Error::too_large(name, max))
}

/// A token for one device, bound to its key, id, key revision and counter.
fn keyed(r: &Generate, suite: Suite, profile: Profile) -> Result<Trace, Error> {
    let config = AstConfig {
        suite,
        profile,
        device_id: device_id(r.device_id.ok_or_else(|| Error::missing("device_id"))?)?,
        key_rev: key_rev(r.key_rev.ok_or_else(|| Error::missing("key_rev"))?)?,
        unit: Unit::Hours,
    };
    let key = r
        .device_key_hex
        .clone()
        .ok_or_else(|| Error::missing("device_key_hex"))?;
    let secret = AstSecret::new(key, config).map_err(config_error)?;
    let counter = r.counter.ok_or_else(|| Error::missing("counter"))?;
    let action = action(r, profile, counter)?;
    access::trace(&secret, counter, action).map_err(refused)
}

fn action(r: &Generate, profile: Profile, counter: u32) -> Result<Action, Error> {
    let value =
        || at_most(r.value, "value", profile.max_value()).map_err(|e| in_profile(e, profile));
    Ok(match r.token_type {
        AstTokenType::AddCredit => Action::AddCredit(value()?),
        AstTokenType::SetCredit => Action::SetCredit(value()?),
        AstTokenType::UnlockPermanent => {
            restated("value", r.value, 0, "UNLOCK_PERMANENT")?;
            Action::UnlockPermanent
        }
        AstTokenType::CounterSync => {
            let derived = (counter >> profile.counter_bits()) & profile.max_value();
            let why = format!("COUNTER_SYNC at this counter in profile {profile}");
            restated("value", r.value, derived, &why)?;
            Action::CounterSync
        }
        _ => set_param(r, profile)?,
    })
}

/// SET_PARAM: `param_id` and `param_value`, or the packed `value`; both forms must agree.
fn set_param(r: &Generate, profile: Profile) -> Result<Action, Error> {
    let read = |given: Option<u64>, name: &str, max: u32| {
        given
            .map(|v| at_most(Some(v), name, max))
            .transpose()
            .map_err(|e| in_profile(e, profile))
    };
    let bits = profile.param_value_bits();
    let packed = read(r.value, "value", profile.max_value())?;
    let id = r
        .param_id
        .map(|v| at_most(Some(v), "param_id", (1 << PARAM_ID_BITS) - 1))
        .transpose()?;
    let (id, payload) = match (
        id,
        read(r.param_value, "param_value", profile.max_param_value())?,
    ) {
        (Some(id), Some(payload)) => {
            let both = id << bits | payload;
            restated("value", r.value, both, "param_id and param_value")?;
            (id, payload)
        }
        (None, None) => {
            let packed = packed.ok_or_else(|| {
                Error::about(
                    ErrorKind::MissingField,
                    "param_id",
                    "fields \"param_id\" and \"param_value\" (or the packed \"value\") are \
                     required for SET_PARAM",
                )
            })?;
            (packed >> bits, packed & profile.max_param_value())
        }
        (Some(_), None) => return Err(missing("param_value")),
        (None, Some(_)) => return Err(missing("param_id")),
    };
    Ok(Action::SetParam {
        id: u8::try_from(id).unwrap_or(u8::MAX),
        value: u16::try_from(payload).unwrap_or(u16::MAX),
    })
}

fn missing(name: &str) -> Error {
    Error::at(
        ErrorKind::MissingField,
        name,
        "is required for SET_PARAM with the other param field",
    )
}

/// The generator's refusal, naming the request field (the range checks above catch most).
fn refused(e: AstIssueError) -> Error {
    match e {
        AstIssueError::Suite(e) => unavailable(e),
        AstIssueError::CounterZero => Error::at(
            ErrorKind::OutOfRange,
            "counter",
            "is 0: counters start at 1",
        ),
        AstIssueError::OutOfRange { field, max, .. } => Error::too_large(field, max),
    }
}

/// Every intermediate, under the names of `ast_v1_vectors.json`.
fn trace_fields(t: &Trace, profile: Profile) -> TraceFields {
    let (b, mac_bits) = (profile.body_bits(), profile.mac_bits());
    TraceFields {
        token_type: t.token_type.code(),
        type_name: t.token_type.name(),
        counter: t.counter,
        value: t.value,
        counter_field: t.fields.counter_field,
        key_rev_field: t.fields.key_rev_field,
        value_field: t.fields.value_field,
        mac_input_hex: hex::encode(t.mac_input),
        mac_full_hex: hex::encode(t.mac_full.as_bytes()),
        mac_trunc: t.tag,
        mac_trunc_hex: hex_bits(t.tag, mac_bits),
        body: t.body,
        body_hex: hex_bits(t.body, b),
        whitening_input_hex: hex::encode(t.whitening_input),
        whitening_full_hex: hex::encode(t.whitening_full.as_bytes()),
        keystream: t.keystream,
        keystream_hex: hex_bits(t.keystream, b),
        body_whitened: t.body_whitened,
        body_whitened_hex: hex_bits(t.body_whitened, b),
        frame: t.frame.to_string(),
        frame_hex: hex_bits(t.frame, profile.frame_bits()),
    }
}
