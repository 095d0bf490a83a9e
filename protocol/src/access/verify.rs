//! The `verify` op: one entry on a device, from the state it persisted.
//!
//! `config` is `{suite, profile, device_id, device_key, key_rev, unit}` (`unit`, `"hours"` or
//! `"days"`, is optional and changes nothing in the protocol). `state` has every field of the
//! vectors' state object: `max_counter`, `used` (the replay bitmap, up to B/4 hex digits: 16
//! for L, 4 for M, 2 for S), `mode` (`PAYG` / `UNLOCKED`), `credit`, `params`
//! (`{"<id 0-15>": payload}`), `fails`, `lock_until`, `test_window_start` and `test_count`.
//!
//! The answer's `result` is the vectors' result object, [`VerdictRecord`]: `status` and
//! `reason`, then as the verdict has them `retry_at`; `type`, `counter`, `value` and
//! `param_id`/`param_value` or `test_id`; `detail` (MALFORMED); `diag` and `lock_seconds`
//! (INVALID). Its `state` is the state to persist, in the input's form.

use alloc::borrow::Cow;
use core::fmt;

use paylock::Key;
use paylock::access::{
    self, Action, AstConfig, AstParseError, AstSecret, AstState, AstVerdict, Diag, Locked, Mode,
    Params, Profile,
};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{DeviceUnit, ProfileName, config_error, device_id, key_rev, suite};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names, refuse};

names! {
    /// An AST device's mode.
    pub enum ModeName (ErrorKind::InvalidMode) {
        /// Pay-as-you-go.
        Payg = "PAYG",
        /// Unlocked for good.
        Unlocked = "UNLOCKED",
    }
}

/// A `verify` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Verify<'a> {
    /// The provisioned device.
    #[serde(deserialize_with = "field::object")]
    pub config: Provisioned,
    /// The state it persisted.
    #[serde(borrow, deserialize_with = "field::object")]
    pub state: VerifyState<'a>,
    /// The text entered.
    #[serde(borrow, deserialize_with = "field::text")]
    pub input: Cow<'a, str>,
    /// The device's monotonic clock, in seconds.
    pub now: u32,
}

/// A provisioned AST device: configuration and key (the `config` of `verify`).
#[derive(Clone, Debug, Deserialize)]
pub struct Provisioned {
    /// The PRF suite: 0, 1 or 2.
    pub suite: u64,
    /// The token profile.
    pub profile: ProfileName,
    /// The device id.
    pub device_id: u64,
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub device_key: Key,
    /// The full key revision.
    pub key_rev: u64,
    /// What credit values count (hours unless given).
    #[serde(default)]
    pub unit: Option<DeviceUnit>,
}

impl Provisioned {
    /// The device's secret.
    ///
    /// # Errors
    /// A field out of range, or a suite this build leaves out.
    pub fn secret(&self) -> Result<AstSecret, Error> {
        let config = AstConfig {
            suite: suite(self.suite)?,
            profile: self.profile.profile(),
            device_id: device_id(self.device_id)?,
            key_rev: key_rev(self.key_rev)?,
            unit: self.unit.unwrap_or(DeviceUnit::Hours).unit(),
        };
        AstSecret::new(self.device_key.clone(), config).map_err(config_error)
    }
}

/// What an AST device persists, in the vectors' form. Every field is required, so that a
/// forgotten `fails` cannot undo a lockout.
#[derive(Clone, Debug, Deserialize)]
pub struct VerifyState<'a> {
    /// The highest accepted counter.
    pub max_counter: u32,
    /// The replay bitmap in hex.
    #[serde(borrow, deserialize_with = "field::text")]
    pub used: Cow<'a, str>,
    /// `PAYG` or `UNLOCKED`.
    pub mode: ModeName,
    /// The credit register.
    pub credit: u32,
    /// `{"<id>": payload}`.
    #[serde(deserialize_with = "field::object")]
    pub params: ParamMap,
    /// Consecutive counted failures.
    pub fails: u8,
    /// Entries are refused while `now < lock_until`.
    pub lock_until: u32,
    /// Start of the TEST rate window.
    pub test_window_start: u32,
    /// TEST codes accepted in the window.
    pub test_count: u8,
}

/// The `params` of a state: parameter ids 0-15 (decimal keys) and their payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamMap(pub Vec<(u8, u64)>);

impl<'de> Deserialize<'de> for ParamMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = ParamMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamMap, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let id = param_id(&key)?;
                    entries.push((id, map.next_value::<u64>()?));
                }
                Ok(ParamMap(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// A key of `params`: a parameter id 0-15 in decimal.
fn param_id<E: de::Error>(name: &str) -> Result<u8, E> {
    let canonical = name.parse::<u8>().ok().filter(|id| id.to_string() == name);
    match canonical {
        Some(id) if id <= 15 => Ok(id),
        Some(_) => Err(refuse(
            ErrorKind::OutOfRange,
            "has a key above 15: parameter ids are 0-15",
        )),
        None => Err(refuse(
            ErrorKind::WrongType,
            "has a key that is not a parameter id: keys are 0-15 in decimal",
        )),
    }
}

/// The answer to a `verify` request.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// Always `true`.
    pub ok: True,
    /// The device's answer.
    pub result: VerdictRecord,
    /// The state to persist.
    pub state: VerifiedState,
}

/// A device's answer to one entry as a record: the vectors' result object, and the fields of
/// the Python `Verdict`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerdictRecord {
    /// `APPLIED`, `DUPLICATE`, `INVALID`, `MALFORMED` or `LOCKED`.
    pub status: &'static str,
    /// None for APPLIED, else the reason code.
    pub reason: Option<&'static str>,
    /// LOCKED: when entries are taken again or the TEST window ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<u32>,
    /// Once the MAC verified: the token type's name.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Once the MAC verified: the full counter (0 for TEST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<u32>,
    /// Once the MAC verified: the raw value field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    /// SET_PARAM: the parameter id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_id: Option<u8>,
    /// SET_PARAM: the payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_value: Option<u16>,
    /// TEST: the test id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_id: Option<u16>,
    /// MALFORMED: where and why the text is not a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
    /// INVALID: the unauthenticated fields, for support logs only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diag: Option<DiagRecord>,
    /// INVALID: the lock this failure started (0 for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_seconds: Option<u32>,
}

/// Where and why a text is not a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    /// A character that is not a key of the keypad.
    Position {
        /// Its byte offset.
        position: usize,
        /// The character.
        #[serde(rename = "char")]
        found: Option<String>,
    },
    /// The wrong number of digits.
    Length {
        /// Digits entered.
        digits: usize,
        /// Digits of the profile.
        expected: usize,
    },
    /// A number no frame encodes to.
    Frame {
        /// The number entered, in decimal.
        frame: String,
    },
}

/// The unauthenticated fields of an INVALID entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagRecord {
    /// The type code.
    #[serde(rename = "type")]
    pub token_type: u8,
    /// The key revision field.
    pub key_rev_field: u8,
    /// The value field.
    pub value_field: u32,
    /// The counter field.
    pub counter_field: u32,
    /// The tag as entered.
    pub tag: u64,
    /// The reconstructed counter, when reconstruction ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
}

impl VerdictRecord {
    /// The record of verdict `v` on the text `input`.
    #[must_use]
    pub fn of(v: &AstVerdict, input: &str) -> Self {
        let message = v.message();
        let (param_id, param_value, test_id) = match message.map(|m| m.action) {
            Some(Action::SetParam { id, value }) => (Some(id), Some(value), None),
            Some(Action::Test(id)) => (None, None, Some(id)),
            _ => (None, None, None),
        };
        let (diag, lock_seconds) = match v {
            AstVerdict::Invalid {
                diag, lock_seconds, ..
            } => (Some(diag_record(diag)), Some(*lock_seconds)),
            _ => (None, None),
        };
        Self {
            status: v.status().name(),
            reason: v.reason_name(),
            retry_at: match v {
                AstVerdict::Locked(
                    Locked::Lockout { retry_at } | Locked::TestRate { retry_at, .. },
                ) => Some(*retry_at),
                _ => None,
            },
            token_type: message.map(|m| m.token_type().name()),
            counter: message.map(|m| m.counter),
            value: message.map(|m| m.value),
            param_id,
            param_value,
            test_id,
            detail: match v {
                AstVerdict::Malformed(e) => Some(detail(e, input)),
                _ => None,
            },
            diag,
            lock_seconds,
        }
    }
}

/// Where and why the text is not a token.
fn detail(e: &AstParseError, input: &str) -> Detail {
    match *e {
        AstParseError::BadChar { position, .. } | AstParseError::BadDigit { position, .. } => {
            let found = input.get(position..).and_then(|rest| rest.chars().next());
            Detail::Position {
                position,
                found: found.map(String::from),
            }
        }
        AstParseError::BadLength { found, expected } => Detail::Length {
            digits: found,
            expected,
        },
        AstParseError::FrameRange { frame } => Detail::Frame {
            frame: frame.to_string(),
        },
    }
}

fn diag_record(d: &Diag) -> DiagRecord {
    DiagRecord {
        token_type: d.fields.token_type,
        key_rev_field: d.fields.key_rev_field,
        value_field: d.fields.value_field,
        counter_field: d.fields.counter_field,
        tag: d.tag,
        counter: d.counter,
    }
}

/// The state to persist, in the request's form.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedState {
    max_counter: u32,
    used: String,
    mode: &'static str,
    credit: u32,
    params: ParamsOut,
    fails: u8,
    lock_until: u32,
    test_window_start: u32,
    test_count: u8,
}

/// `params` as `{"<id>": payload}`.
#[derive(Clone, Debug)]
struct ParamsOut(Params);

impl Serialize for ParamsOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(id, value)| (id.to_string(), value)))
    }
}

/// The device's answer to `request.input`.
///
/// # Errors
/// A config or state field out of range, named `config.<field>` or `state.<field>`.
pub fn verify(request: &Verify<'_>) -> Result<Verified, Error> {
    let secret = request.config.secret().map_err(|e| e.within("config"))?;
    let profile = secret.config().profile;
    let mut state = state(&request.state, profile).map_err(|e| e.within("state"))?;
    let verdict = access::verify(&secret, &mut state, request.input.as_bytes(), request.now);
    Ok(Verified {
        ok: True,
        result: VerdictRecord::of(&verdict, &request.input),
        state: VerifiedState {
            max_counter: state.max_counter,
            used: format!("{:0width$x}", state.used, width = used_width(profile)),
            mode: state.mode.name(),
            credit: state.credit,
            params: ParamsOut(state.params),
            fails: state.fails,
            lock_until: state.lock_until,
            test_window_start: state.test_window_start,
            test_count: state.test_count,
        },
    })
}

/// The persisted state of a device of `profile`.
fn state(s: &VerifyState<'_>, profile: Profile) -> Result<AstState, Error> {
    Ok(AstState {
        max_counter: s.max_counter,
        used: used(&s.used, profile)?,
        mode: match s.mode {
            ModeName::Payg => Mode::Payg,
            ModeName::Unlocked => Mode::Unlocked,
        },
        credit: s.credit,
        params: params(&s.params, profile)?,
        fails: s.fails,
        lock_until: s.lock_until,
        test_window_start: s.test_window_start,
        test_count: s.test_count,
    })
}

/// Hex digits in the `used` bitmap of `profile`.
fn used_width(profile: Profile) -> usize {
    usize::try_from(profile.back_window() / 4).unwrap_or(16)
}

/// `used`: up to B/4 hex digits.
fn used(text: &str, profile: Profile) -> Result<u64, Error> {
    let width = used_width(profile);
    let hex =
        !text.is_empty() && text.len() <= width && text.bytes().all(|b| b.is_ascii_hexdigit());
    match u64::from_str_radix(text, 16) {
        Ok(bits) if hex => Ok(bits),
        _ => Err(Error::wrong_type(
            "used",
            &format!(
                "1 to {width} hex digits (the {}-bit window of profile {profile})",
                profile.back_window()
            ),
        )),
    }
}

/// `params`: payloads of `v − 4` bits.
fn params(map: &ParamMap, profile: Profile) -> Result<Params, Error> {
    let max = profile.max_param_value();
    let mut params = Params::EMPTY;
    for &(id, value) in &map.0 {
        let value = u16::try_from(value)
            .ok()
            .filter(|v| u32::from(*v) <= max)
            .ok_or_else(|| Error::too_large(format!("params.{id}"), max))?;
        params.set(id, value);
    }
    Ok(params)
}
