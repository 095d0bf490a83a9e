//! The `verify` op: one entry on a device, from the state it persisted.
//!
//! `config` is `{suite, profile, device_id, device_key, key_rev, unit}` (`unit`, `"hours"` or
//! `"days"`, is optional and changes nothing in the protocol). `state` has every field of the
//! vectors' state object: `max_counter`, `used` (the replay bitmap, up to B/4 hex digits: 16
//! for L, 4 for M, 2 for S), `mode` (`PAYG` / `UNLOCKED`), `credit`, `params`
//! (`{"<id 0-15>": payload}`), `fails`, `lock_until`, `test_window_start` and `test_count`.
//!
//! The answer's `result` is the vectors' result object: `status` and `reason`, then as the
//! verdict has them `retry_at`; `type`, `counter`, `value` and `param_id`/`param_value` or
//! `test_id`; `detail` (MALFORMED); `diag` and `lock_seconds` (INVALID). Its `state` is the
//! state to persist, in the input's form.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value, json};

use super::{config_error, device_id, key_rev, profile, suite};
use crate::batch::fields::{one_of, optional, within};
use crate::batch::{BatchError, Fields, to_json};
use paylock::access::{
    self, Action, AstConfig, AstMessage, AstParseError, AstSecret, AstState, AstVerdict, Diag,
    Locked, Mode, Params, Profile, Unit,
};

pub(super) fn verify(f: &Fields<'_>) -> Result<String, BatchError> {
    let secret = secret(&f.object("config")?).map_err(|e| within("config", e))?;
    let profile = secret.config().profile;
    let mut state = state(&f.object("state")?, profile).map_err(|e| within("state", e))?;
    let input = f.str("input")?;
    let now = f.u32("now", u32::MAX)?;
    let verdict = access::verify(&secret, &mut state, input.as_bytes(), now);
    Ok(to_json(&json!({
        "ok": true,
        "result": result_json(&verdict, input),
        "state": state_json(&state, profile),
    })))
}

/// The provisioned device: configuration and key.
pub(in crate::batch) fn secret(c: &Fields<'_>) -> Result<AstSecret, BatchError> {
    let unit = match optional(c, "unit", |c, n| {
        one_of(c, n, &["hours", "days"], "invalid_unit")
    })? {
        Some("days") => Unit::Days,
        _ => Unit::Hours,
    };
    let config = AstConfig {
        suite: suite(c)?,
        profile: profile(c)?,
        device_id: device_id(c)?,
        key_rev: key_rev(c)?,
        unit,
    };
    AstSecret::new(c.key("device_key")?, config).map_err(config_error)
}

/// The persisted state: every field required, so a forgotten `fails` cannot undo a lockout.
fn state(s: &Fields<'_>, profile: Profile) -> Result<AstState, BatchError> {
    let byte = |name: &str| -> Result<u8, BatchError> {
        Ok(u8::try_from(s.u32(name, u8::MAX.into())?).unwrap_or(u8::MAX))
    };
    Ok(AstState {
        max_counter: s.u32("max_counter", u32::MAX)?,
        used: used(s, profile)?,
        mode: match one_of(s, "mode", &["PAYG", "UNLOCKED"], "invalid_mode")? {
            "UNLOCKED" => Mode::Unlocked,
            _ => Mode::Payg,
        },
        credit: s.u32("credit", u32::MAX)?,
        params: params(s, profile)?,
        fails: byte("fails")?,
        lock_until: s.u32("lock_until", u32::MAX)?,
        test_window_start: s.u32("test_window_start", u32::MAX)?,
        test_count: byte("test_count")?,
    })
}

/// Hex digits in the `used` bitmap of `profile`.
fn used_width(profile: Profile) -> usize {
    usize::try_from(profile.back_window() / 4).unwrap_or(16)
}

/// `used`: up to B/4 hex digits.
fn used(s: &Fields<'_>, profile: Profile) -> Result<u64, BatchError> {
    let text = s.str("used")?;
    let width = used_width(profile);
    let hex =
        !text.is_empty() && text.len() <= width && text.bytes().all(|b| b.is_ascii_hexdigit());
    match u64::from_str_radix(text, 16) {
        Ok(bits) if hex => Ok(bits),
        _ => Err(BatchError::new(
            "wrong_type",
            format!(
                "field \"used\" must be 1 to {width} hex digits (the {}-bit window of profile \
                 {profile})",
                profile.back_window()
            ),
        )),
    }
}

/// `params`: `{"<id>": payload}` with ids 0-15 and payloads of `v − 4` bits.
fn params(s: &Fields<'_>, profile: Profile) -> Result<Params, BatchError> {
    let map = s
        .get("params")
        .ok_or_else(|| BatchError::new("missing_field", "field \"params\" is required"))?
        .as_object()
        .ok_or_else(|| BatchError::new("wrong_type", "field \"params\" must be an object"))?;
    let entries = Fields::new(map);
    let mut params = Params::EMPTY;
    for name in map.keys() {
        let id = param_id(name)?;
        let value = entries
            .u32(name, profile.max_param_value())
            .map_err(|e| within("params", e))?;
        params.set(id, u16::try_from(value).unwrap_or(u16::MAX));
    }
    Ok(params)
}

/// A key of `params`: a parameter id 0-15 in decimal.
fn param_id(name: &str) -> Result<u8, BatchError> {
    let canonical = name.parse::<u8>().ok().filter(|id| id.to_string() == name);
    match canonical {
        Some(id) if id <= 15 => Ok(id),
        Some(_) => Err(BatchError::new(
            "out_of_range",
            "field \"params\" has a key above 15: parameter ids are 0-15",
        )),
        None => Err(BatchError::new(
            "wrong_type",
            "field \"params\" has a key that is not a parameter id: keys are 0-15 in decimal",
        )),
    }
}

/// The vectors' result object, fields in their order.
fn result_json(v: &AstVerdict, input: &str) -> Value {
    let mut r = Map::new();
    r.insert("status".into(), json!(v.status().name()));
    r.insert("reason".into(), json!(v.reason_name()));
    if let AstVerdict::Locked(Locked::Lockout { retry_at } | Locked::TestRate { retry_at, .. }) = v
    {
        r.insert("retry_at".into(), json!(retry_at));
    }
    if let Some(m) = v.message() {
        message_fields(&mut r, m);
    }
    match v {
        AstVerdict::Malformed(e) => {
            r.insert("detail".into(), detail(e, input));
        }
        AstVerdict::Invalid {
            diag, lock_seconds, ..
        } => {
            r.insert("diag".into(), diag_json(diag));
            r.insert("lock_seconds".into(), json!(lock_seconds));
        }
        _ => {}
    }
    Value::Object(r)
}

fn message_fields(r: &mut Map<String, Value>, m: &AstMessage) {
    r.insert("type".into(), json!(m.token_type().name()));
    r.insert("counter".into(), json!(m.counter));
    r.insert("value".into(), json!(m.value));
    match m.action {
        Action::SetParam { id, value } => {
            r.insert("param_id".into(), json!(id));
            r.insert("param_value".into(), json!(value));
        }
        Action::Test(id) => {
            r.insert("test_id".into(), json!(id));
        }
        _ => {}
    }
}

/// Where and why the text is not a token.
fn detail(e: &AstParseError, input: &str) -> Value {
    match *e {
        AstParseError::BadChar { position, .. } | AstParseError::BadDigit { position, .. } => {
            let found = input.get(position..).and_then(|rest| rest.chars().next());
            json!({ "position": position, "char": found.map(String::from) })
        }
        AstParseError::BadLength { found, expected } => {
            json!({ "digits": found, "expected": expected })
        }
        AstParseError::FrameRange { frame } => json!({ "frame": frame.to_string() }),
    }
}

/// The unauthenticated fields of an INVALID entry.
fn diag_json(d: &Diag) -> Value {
    let mut diag = Map::new();
    diag.insert("type".into(), json!(d.fields.token_type));
    diag.insert("key_rev_field".into(), json!(d.fields.key_rev_field));
    diag.insert("value_field".into(), json!(d.fields.value_field));
    diag.insert("counter_field".into(), json!(d.fields.counter_field));
    diag.insert("tag".into(), json!(d.tag));
    if let Some(counter) = d.counter {
        diag.insert("counter".into(), json!(counter));
    }
    Value::Object(diag)
}

/// The state to persist, in the request's form.
fn state_json(s: &AstState, profile: Profile) -> Value {
    let params: Map<String, Value> = s
        .params
        .iter()
        .map(|(id, value)| (id.to_string(), json!(value)))
        .collect();
    json!({
        "max_counter": s.max_counter,
        "used": format!("{:0width$x}", s.used, width = used_width(profile)),
        "mode": s.mode.name(),
        "credit": s.credit,
        "params": params,
        "fails": s.fails,
        "lock_until": s.lock_until,
        "test_window_start": s.test_window_start,
        "test_count": s.test_count,
    })
}
