//! The `enter` op: a whole keycode typed on a simulated product, rate limiting off as in the
//! vectors.

use alloc::borrow::Cow;

use paylock::Key;
use paylock::nexus::sim::{SimProduct, payg_state_name};
use paylock::nexus::{KeycodeProcessor, NexusConfig, NexusState, Platform, Window};
use serde::{Deserialize, Serialize};

use super::DeviceProtocol;
use crate::error::{Error, ErrorKind};
use crate::field::{self, True};

/// An `enter` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Enter<'a> {
    /// The device's keypad protocol.
    pub protocol: DeviceProtocol,
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub device_key_hex: Key,
    /// The keys as typed.
    #[serde(borrow, deserialize_with = "field::text")]
    pub keycode_keys: Cow<'a, str>,
    /// The device before the code, in the vectors' `before` form.
    #[serde(borrow, deserialize_with = "field::object")]
    pub state: EnterState<'a>,
}

/// A Nexus device's state and build, in the vectors' form.
#[derive(Clone, Debug, Deserialize)]
pub struct EnterState<'a> {
    /// The window's newest ID slot.
    pub pd_index: u32,
    /// The window's received flags: up to 6 hex digits (bit i is ID `pd_index - 23 + i`).
    #[serde(borrow, deserialize_with = "field::text")]
    pub received_flags: Cow<'a, str>,
    /// Credit left, in seconds.
    pub credit_seconds: u64,
    /// Unlocked for good.
    pub unlocked: bool,
    /// QC codes of the short kind entered (0-15; default 0).
    #[serde(default)]
    pub qc_short_count: Option<u64>,
    /// QC codes of the long kind entered (0-15; default 0).
    #[serde(default)]
    pub qc_long_count: Option<u64>,
    /// The product's restricted flag (default false).
    #[serde(default)]
    pub restricted_flag: Option<bool>,
    /// `DISABLED`, `ENABLED` or `UNLOCKED`: checked against `credit_seconds` and `unlocked`.
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub payg_state: Option<Cow<'a, str>>,
    /// The device's printed ID (default 0); echoed.
    #[serde(default)]
    pub user_facing_id: Option<u32>,
    /// The device's QC limit of the short kind (0-15; default 5); echoed.
    #[serde(default)]
    pub qc_short_max: Option<u64>,
    /// The device's QC limit of the long kind (0-15; default 5); echoed.
    #[serde(default)]
    pub qc_long_max: Option<u64>,
}

/// The answer to an `enter` request.
#[derive(Clone, Debug, Serialize)]
pub struct Entered {
    /// Always `true`.
    pub ok: True,
    /// `INVALID`, `VALID_DUPLICATE`, `VALID_APPLIED`, `DISPLAY_DEVICE_ID` or `NONE`.
    pub response: &'static str,
    /// The feedback the product showed, in order.
    pub feedback: Vec<&'static str>,
    /// The product calls, in order (`add:<seconds>`, `set:<seconds>`, `unlock`, …).
    pub platform_calls: Vec<String>,
    /// The device after the code, in the vectors' `after` form.
    pub state: EnteredState,
}

/// A Nexus device's state after a code, in the vectors' `after` form; the build fields the
/// request gave are echoed.
#[derive(Clone, Debug, Serialize)]
pub struct EnteredState {
    /// The window's newest ID slot.
    pub pd_index: u32,
    /// 6 hex digits.
    pub received_flags: String,
    /// Credit left, in seconds.
    pub credit_seconds: u64,
    /// Unlocked for good.
    pub unlocked: bool,
    /// `DISABLED`, `ENABLED` or `UNLOCKED`.
    pub payg_state: &'static str,
    /// QC codes of the short kind entered.
    pub qc_short_count: u8,
    /// QC codes of the long kind entered.
    pub qc_long_count: u8,
    /// The restricted flag.
    pub restricted_flag: bool,
    /// Echoed build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_facing_id: Option<u32>,
    /// Echoed build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qc_short_max: Option<u64>,
    /// Echoed build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qc_long_max: Option<u64>,
}

/// What the device does with `request.keycode_keys`.
///
/// # Errors
/// A state field out of range or contradicting another, named `state.<field>`.
pub fn enter(request: &Enter<'_>) -> Result<Entered, Error> {
    let s = &request.state;
    let in_state = |e: Error| e.within("state");
    let mut state = nexus_state(s).map_err(in_state)?;
    let mut product = product(s).map_err(in_state)?;
    let config = NexusConfig::new(request.protocol.protocol())
        .without_rate_limit()
        .with_qc_limits(
            qc(s.qc_short_max, "qc_short_max", 5).map_err(in_state)?,
            qc(s.qc_long_max, "qc_long_max", 5).map_err(in_state)?,
        );
    let mut device = KeycodeProcessor::new(config, &state);
    let processed = device.enter_keycode(
        request.keycode_keys.as_bytes(),
        0,
        &request.device_key_hex,
        &mut state,
        &mut product,
    );
    let (platform_calls, feedback) = product.take();
    Ok(Entered {
        ok: True,
        response: processed.response.name(),
        feedback,
        platform_calls,
        state: EnteredState {
            pd_index: state.window.pd_index,
            received_flags: format!("{:06x}", state.window.received & 0x00FF_FFFF),
            credit_seconds: product.credit_seconds,
            unlocked: product.unlocked,
            payg_state: payg_state_name(product.payg_state()),
            qc_short_count: state.qc_short_count,
            qc_long_count: state.qc_long_count,
            restricted_flag: state.restricted,
            user_facing_id: s.user_facing_id,
            qc_short_max: s.qc_short_max,
            qc_long_max: s.qc_long_max,
        },
    })
}

/// A QC counter or limit (0-15), `default` when absent.
fn qc(value: Option<u64>, name: &str, default: u8) -> Result<u8, Error> {
    match value {
        None => Ok(default),
        Some(v) => u8::try_from(v)
            .ok()
            .filter(|v| *v <= 15)
            .ok_or_else(|| Error::too_large(name, 15)),
    }
}

/// What the keycode engine persists, as `state` gives it.
fn nexus_state(s: &EnterState<'_>) -> Result<NexusState, Error> {
    Ok(NexusState {
        window: Window {
            pd_index: s.pd_index,
            received: received_flags(&s.received_flags)?,
        },
        qc_short_count: qc(s.qc_short_count, "qc_short_count", 0)?,
        qc_long_count: qc(s.qc_long_count, "qc_long_count", 0)?,
        restricted: s.restricted_flag.unwrap_or(false),
        ..NexusState::FRESH
    })
}

/// The product: credit, lock state and printed ID (`payg_state`, if given, must agree).
fn product(s: &EnterState<'_>) -> Result<SimProduct, Error> {
    let product = SimProduct::new(s.credit_seconds, s.unlocked, s.user_facing_id.unwrap_or(0));
    let derived = payg_state_name(product.payg_state());
    match &s.payg_state {
        Some(given) if given != derived => Err(Error::conflicting(
            "payg_state",
            &format!("credit_seconds and unlocked, which make it {derived:?}"),
        )),
        _ => Ok(product),
    }
}

/// `received_flags`: up to 6 hex digits (24 bits).
fn received_flags(text: &str) -> Result<u32, Error> {
    match u32::from_str_radix(text, 16) {
        Ok(v) if text.len() <= 6 && !text.starts_with('+') => Ok(v),
        _ => Err(Error::at(
            ErrorKind::WrongType,
            "received_flags",
            "must be up to 6 hex digits (24 bits)",
        )),
    }
}
