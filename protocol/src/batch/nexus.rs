//! `"scheme":"nexus"` requests: `generate` and `enter`.
//!
//! Both use the names and shapes of `test-vectors/nexus/nexus_keycode_vectors.json`.
//!
//! `generate` issues one keycode:
//! `{"scheme":"nexus","op":"generate","protocol":"full","message_type":"ADD_CREDIT",
//! "secret_key_hex":"…","message_id":42,"params":{"hours":168}}`
//! → `{"ok":true,"keycode":"*599 791 493 194 43#","keycode_keys":"*59979149319443#"}`.
//! `protocol` is `full`, `small` or `full/channel_origin`; see [`generate`] for every
//! `message_type` and its `params`. Universal codes take no `secret_key_hex`, codes without an
//! ID no `message_id` (null, and 0 for `message_id`, count as absent). Message IDs above 65534
//! are refused (`out_of_range`) unless the request says `"allow_ids_above_65534":true`, for
//! devices known not to run nexus-embedded 2.0.1 (which lets such codes be replayed). DEMO
//! codes add credit each time they are entered, so they are refused (`unsupported_command`)
//! unless the request says `"allow_demo_codes":true`. A refused ID with a known way out
//! (`id_collision`, `id_reserved`) carries `next_valid_id` in `error`; an ID with no later one
//! left is `counter_exhausted`.
//!
//! `enter` types a whole code on a simulated product (a credit counter in seconds), with rate
//! limiting off as in the vectors:
//! `{"scheme":"nexus","op":"enter","protocol":"small","device_key_hex":"…",
//! "keycode_keys":"135242422455244","state":{"pd_index":23,"received_flags":"000000",
//! "credit_seconds":0,"unlocked":false}}`
//! → `{"ok":true,"response":"VALID_APPLIED","feedback":["MESSAGE_APPLIED"],
//! "platform_calls":["add:604800"],"state":{…}}`. `state` also takes `qc_short_count`,
//! `qc_long_count` (default 0), `restricted_flag` (default false), `payg_state` (checked
//! against `credit_seconds` and `unlocked`), and the device's build: `user_facing_id`
//! (default 0), `qc_short_max` and `qc_long_max` (default 5), which the answer echoes.

mod generate;

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Value, json};

use super::fields::{conflicting, one_of, optional, within};
use super::{BatchError, Fields, to_json};
use paylock::nexus::sim::{SimProduct, payg_state_name};
use paylock::nexus::{KeycodeProcessor, NexusConfig, NexusState, Platform, Protocol, Window};

pub(super) fn handle(f: &Fields<'_>) -> Result<String, BatchError> {
    match f.str("op")? {
        "generate" => generate::generate(f),
        "enter" => enter(f),
        _ => Err(super::unknown_op("nexus", &["generate", "enter"])),
    }
}

/// The fields of `state` that describe how the device is built; the answer echoes them.
const BUILD_FIELDS: [&str; 3] = ["user_facing_id", "qc_short_max", "qc_long_max"];

fn enter(f: &Fields<'_>) -> Result<String, BatchError> {
    let protocol = match one_of(f, "protocol", &["full", "small"], "invalid_protocol")? {
        "full" => Protocol::Full,
        _ => Protocol::Small,
    };
    let key = f.key("device_key_hex")?;
    let keys = f.str("keycode_keys")?;
    let s = f.object("state")?;
    let in_state = |e| within("state", e);
    let mut state = nexus_state(&s).map_err(in_state)?;
    let mut product = product(&s).map_err(in_state)?;
    let mut device = KeycodeProcessor::new(config(&s, protocol).map_err(in_state)?, &state);
    let processed = device.enter_keycode(keys.as_bytes(), 0, &key, &mut state, &mut product);
    let (calls, feedback) = product.take();
    let mut after = state_json(&state, &product);
    if let Some(fields) = after.as_object_mut() {
        for name in BUILD_FIELDS {
            if let Some(v) = s.get(name) {
                fields.insert(name.to_string(), v.clone());
            }
        }
    }
    Ok(to_json(&json!({
        "ok": true,
        "response": processed.response.name(),
        "feedback": feedback,
        "platform_calls": calls,
        "state": after,
    })))
}

/// An optional counter or limit of the QC codes (0-15).
fn qc_field(s: &Fields<'_>, name: &str, default: u8) -> Result<u8, BatchError> {
    let v = s.opt_uint(name, 15)?;
    Ok(v.map_or(default, |v| u8::try_from(v).unwrap_or(15)))
}

/// What the keycode engine persists, as `state` gives it.
fn nexus_state(s: &Fields<'_>) -> Result<NexusState, BatchError> {
    Ok(NexusState {
        window: Window {
            pd_index: s.u32("pd_index", u32::MAX)?,
            received: received_flags(s)?,
        },
        qc_short_count: qc_field(s, "qc_short_count", 0)?,
        qc_long_count: qc_field(s, "qc_long_count", 0)?,
        restricted: optional(s, "restricted_flag", Fields::bool)?.unwrap_or(false),
        ..NexusState::FRESH
    })
}

/// The product: credit, lock state and printed ID (`payg_state`, if given, must agree).
fn product(s: &Fields<'_>) -> Result<SimProduct, BatchError> {
    let user_facing_id = optional(s, "user_facing_id", |f, n| f.u32(n, u32::MAX))?;
    let product = SimProduct::new(
        s.uint("credit_seconds", u64::MAX)?,
        s.bool("unlocked")?,
        user_facing_id.unwrap_or(0),
    );
    let derived = payg_state_name(product.payg_state());
    match optional(s, "payg_state", Fields::str)? {
        Some(given) if given != derived => Err(conflicting(
            "payg_state",
            &format!("credit_seconds and unlocked, which make it {derived:?}"),
        )),
        _ => Ok(product),
    }
}

/// The vectors' device: rate limiting off, QC limits 5/5 unless `state` says otherwise.
fn config(s: &Fields<'_>, protocol: Protocol) -> Result<NexusConfig, BatchError> {
    Ok(NexusConfig::new(protocol)
        .without_rate_limit()
        .with_qc_limits(
            qc_field(s, "qc_short_max", 5)?,
            qc_field(s, "qc_long_max", 5)?,
        ))
}

/// `received_flags`: up to 6 hex digits (24 bits; bit i is ID `pd_index - 23 + i`).
fn received_flags(s: &Fields<'_>) -> Result<u32, BatchError> {
    let text = s.str("received_flags")?;
    match u32::from_str_radix(text, 16) {
        Ok(v) if text.len() <= 6 && !text.starts_with('+') => Ok(v),
        _ => Err(BatchError::new(
            "wrong_type",
            "field \"received_flags\" must be up to 6 hex digits (24 bits)",
        )),
    }
}

/// The state after the code, in the vectors' `after` form.
fn state_json(state: &NexusState, product: &SimProduct) -> Value {
    json!({
        "pd_index": state.window.pd_index,
        "received_flags": format!("{:06x}", state.window.received & 0x00FF_FFFF),
        "credit_seconds": product.credit_seconds,
        "unlocked": product.unlocked,
        "payg_state": payg_state_name(product.payg_state()),
        "qc_short_count": state.qc_short_count,
        "qc_long_count": state.qc_long_count,
        "restricted_flag": state.restricted,
    })
}
