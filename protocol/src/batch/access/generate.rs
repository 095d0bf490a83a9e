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

use alloc::format;
use alloc::string::{String, ToString};

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    config_error, device_id, hex_bits, in_profile, key_rev, profile, restated, suite, traced,
};
use crate::batch::fields::{one_of, optional, too_large};
use crate::batch::{BatchError, Fields, to_json};
use paylock::access::{
    self, Action, AstConfig, AstIssueError, AstSecret, PARAM_ID_BITS, Profile, Suite, Trace, Unit,
};

const TYPES: [&str; 6] = [
    "ADD_CREDIT",
    "SET_CREDIT",
    "UNLOCK_PERMANENT",
    "COUNTER_SYNC",
    "SET_PARAM",
    "TEST",
];

#[derive(Serialize)]
struct Generated<'a> {
    ok: bool,
    text: &'a str,
    digits: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<Value>,
}

pub(super) fn generate(f: &Fields<'_>) -> Result<String, BatchError> {
    let suite = suite(f)?;
    let profile = profile(f)?;
    let kind = one_of(f, "type", &TYPES, "invalid_token_type")?;
    let trace = if kind == "TEST" {
        test(f, suite, profile)?
    } else {
        keyed(f, suite, profile, kind)?
    };
    Ok(to_json(&Generated {
        ok: true,
        text: trace.text.as_str(),
        digits: trace.digits.as_str(),
        trace: traced(f)?.then(|| trace_json(&trace, profile)),
    }))
}

/// A public TEST code: no device fields.
fn test(f: &Fields<'_>, suite: Suite, profile: Profile) -> Result<Trace, BatchError> {
    for name in ["device_key_hex", "device_id", "key_rev", "counter"] {
        if f.get(name).is_some() {
            return Err(BatchError::new(
                "field_not_allowed",
                format!(
                    "field {name:?} must be null or absent for TEST: the code is the same for \
                     every device"
                ),
            ));
        }
    }
    let id = f
        .u32("test_id", profile.max_value())
        .map_err(|e| in_profile(e, profile))?;
    restated(f, "value", id, "a TEST code")?;
    let id = u16::try_from(id).unwrap_or(u16::MAX);
    access::test_trace(suite, profile, id).map_err(refused)
}

/// A token for one device, bound to its key, id, key revision and counter.
fn keyed(f: &Fields<'_>, suite: Suite, profile: Profile, kind: &str) -> Result<Trace, BatchError> {
    let config = AstConfig {
        suite,
        profile,
        device_id: device_id(f)?,
        key_rev: key_rev(f)?,
        unit: Unit::Hours,
    };
    let secret = AstSecret::new(f.key("device_key_hex")?, config).map_err(config_error)?;
    let counter = f.u32("counter", u32::MAX)?;
    let action = action(f, profile, kind, counter)?;
    access::trace(&secret, counter, action).map_err(refused)
}

fn action(
    f: &Fields<'_>,
    profile: Profile,
    kind: &str,
    counter: u32,
) -> Result<Action, BatchError> {
    let value = || {
        f.u32("value", profile.max_value())
            .map_err(|e| in_profile(e, profile))
    };
    Ok(match kind {
        "ADD_CREDIT" => Action::AddCredit(value()?),
        "SET_CREDIT" => Action::SetCredit(value()?),
        "UNLOCK_PERMANENT" => {
            restated(f, "value", 0, "UNLOCK_PERMANENT")?;
            Action::UnlockPermanent
        }
        "COUNTER_SYNC" => {
            let derived = (counter >> profile.counter_bits()) & profile.max_value();
            let why = format!("COUNTER_SYNC at this counter in profile {profile}");
            restated(f, "value", derived, &why)?;
            Action::CounterSync
        }
        _ => set_param(f, profile)?,
    })
}

/// SET_PARAM: `param_id` and `param_value`, or the packed `value`; both forms must agree.
fn set_param(f: &Fields<'_>, profile: Profile) -> Result<Action, BatchError> {
    let read = |name: &str, max: u32| {
        optional(f, name, |f, n| f.u32(n, max)).map_err(|e| in_profile(e, profile))
    };
    let bits = profile.param_value_bits();
    let packed = read("value", profile.max_value())?;
    let id = optional(f, "param_id", |f, n| f.u32(n, (1 << PARAM_ID_BITS) - 1))?;
    let (id, payload) = match (id, read("param_value", profile.max_param_value())?) {
        (Some(id), Some(payload)) => {
            let both = id << bits | payload;
            restated(f, "value", both, "param_id and param_value")?;
            (id, payload)
        }
        (None, None) => {
            let packed = packed.ok_or_else(|| {
                BatchError::new(
                    "missing_field",
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

fn missing(name: &str) -> BatchError {
    BatchError::new(
        "missing_field",
        format!("field {name:?} is required for SET_PARAM with the other param field"),
    )
}

/// The generator's refusal, naming the request field (the range checks above catch most).
fn refused(e: AstIssueError) -> BatchError {
    match e {
        AstIssueError::Suite(e) => super::unavailable(e),
        AstIssueError::CounterZero => BatchError::new(
            "out_of_range",
            "field \"counter\" is 0: counters start at 1",
        ),
        AstIssueError::OutOfRange { field, max, .. } => too_large(field, max),
    }
}

/// Every intermediate, under the names of `ast_v1_vectors.json`.
fn trace_json(t: &Trace, profile: Profile) -> Value {
    let (b, mac_bits) = (profile.body_bits(), profile.mac_bits());
    json!({
        "type": t.token_type.code(),
        "type_name": t.token_type.name(),
        "counter": t.counter,
        "value": t.value,
        "counter_field": t.fields.counter_field,
        "key_rev_field": t.fields.key_rev_field,
        "value_field": t.fields.value_field,
        "mac_input_hex": hex::encode(t.mac_input),
        "mac_full_hex": hex::encode(t.mac_full.as_bytes()),
        "mac_trunc": t.tag,
        "mac_trunc_hex": hex_bits(t.tag, mac_bits),
        "body": t.body,
        "body_hex": hex_bits(t.body, b),
        "whitening_input_hex": hex::encode(t.whitening_input),
        "whitening_full_hex": hex::encode(t.whitening_full.as_bytes()),
        "keystream": t.keystream,
        "keystream_hex": hex_bits(t.keystream, b),
        "body_whitened": t.body_whitened,
        "body_whitened_hex": hex_bits(t.body_whitened, b),
        "frame": t.frame.to_string(),
        "frame_hex": hex_bits(t.frame, profile.frame_bits()),
    })
}
