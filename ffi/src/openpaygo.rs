//! The native OpenPAYGO device API: a decoder per token form, on a state that keeps the chain
//! point of the last accepted token's value (bounded work per entry, see
//! [`OpenPaygoVerifier::decode_from_point`]).
//!
//! One function per form ([`paylock_openpaygo_verify_standard`] and the others): firmware that
//! calls one links only that form's decoder. [`paylock_openpaygo_verify`] takes the form at run
//! time, for tools that serve every form, and links all four.

use paylock::Key;
use paylock::openpaygo::{
    ChainPoint, ExtendedForm, ExtendedRestrictedForm, Form, Meaning, OpenPaygoDeviceState,
    OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier, StandardForm,
    StandardRestrictedForm, TokenForm,
};

use crate::status::{
    PAYLOCK_ALREADY_USED, PAYLOCK_ERR_ARGUMENT, PAYLOCK_ERR_FORMAT, PAYLOCK_ERR_INTERNAL,
    PAYLOCK_ERR_NULL, PAYLOCK_INVALID, PAYLOCK_VALID, guard,
};

/// 9 decimal digits.
pub const PAYLOCK_OPENPAYGO_STANDARD: u32 = 0;
/// 15 digits 1-4.
pub const PAYLOCK_OPENPAYGO_STANDARD_RESTRICTED: u32 = 1;
/// 12 decimal digits.
pub const PAYLOCK_OPENPAYGO_EXTENDED: u32 = 2;
/// 20 digits 1-4.
pub const PAYLOCK_OPENPAYGO_EXTENDED_RESTRICTED: u32 = 3;

/// Add `value` units of time (an even count).
pub const PAYLOCK_OPENPAYGO_ADD_TIME: u32 = 1;
/// Set the time left to `value` units (an odd count); re-enables PAYG.
pub const PAYLOCK_OPENPAYGO_SET_TIME: u32 = 2;
/// PAYG off for good (value 998).
pub const PAYLOCK_OPENPAYGO_DISABLE_PAYG: u32 = 3;
/// Only the count moves (value 999).
pub const PAYLOCK_OPENPAYGO_COUNTER_SYNC: u32 = 4;
/// Values 996 and 997: consumed without effect.
pub const PAYLOCK_OPENPAYGO_RESERVED: u32 = 5;

/// Bytes of [`PaylockOpenPaygoState`]; the header checks it with a static assert.
pub const PAYLOCK_OPENPAYGO_STATE_SIZE: usize = 24;

/// What the factory provisions: the 16-byte key and the starting code (at most 999,999,999).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PaylockOpenPaygoSecret {
    /// The device's secret key.
    pub key: [u8; 16],
    /// The starting code.
    pub starting_code: u32,
}

impl core::fmt::Debug for PaylockOpenPaygoSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PaylockOpenPaygoSecret")
            .finish_non_exhaustive()
    }
}

/// What the device persists after every valid entry (refusals leave it unchanged). All zeros
/// is a new device; a device moving from OpenPAYGO-HW sets `max_count` and `used_counts` from
/// its two variables and leaves the rest zero. Keep it where the user cannot write it, as the
/// counts themselves must be (the device-lock engine authenticates it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockOpenPaygoState {
    /// Highest count accepted so far.
    pub max_count: u32,
    /// Bit `i`: count `max_count - 1 - i` is spent.
    pub used_counts: u16,
    /// 1 when the chain point below is set.
    pub has_point: u8,
    /// Zero.
    pub reserved: u8,
    /// The chain point: the count it stands at,
    pub point_count: u32,
    /// the token value whose chain it is,
    pub point_value: u32,
    /// and the chain code there.
    pub point_code: u64,
}

const _: () = assert!(size_of::<PaylockOpenPaygoState>() == PAYLOCK_OPENPAYGO_STATE_SIZE);

/// A valid token's content.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockOpenPaygoActivation {
    /// The raw value: activation units, or 998 / 999.
    pub value: u32,
    /// The token's count.
    pub count: u32,
    /// `PAYLOCK_OPENPAYGO_ADD_TIME` ... `PAYLOCK_OPENPAYGO_RESERVED`.
    pub meaning: u32,
}

impl From<PaylockOpenPaygoState> for OpenPaygoDeviceState {
    fn from(s: PaylockOpenPaygoState) -> Self {
        Self {
            counts: OpenPaygoState {
                max_count: s.max_count,
                used_counts: s.used_counts,
            },
            point: (s.has_point != 0)
                .then(|| ChainPoint::new(s.point_value, s.point_count, s.point_code)),
        }
    }
}

impl From<OpenPaygoDeviceState> for PaylockOpenPaygoState {
    fn from(s: OpenPaygoDeviceState) -> Self {
        let p = s.point;
        Self {
            max_count: s.counts.max_count,
            used_counts: s.counts.used_counts,
            has_point: u8::from(p.is_some()),
            reserved: 0,
            point_count: p.map_or(0, |p| p.count()),
            point_value: p.map_or(0, |p| p.value()),
            point_code: p.map_or(0, |p| p.code()),
        }
    }
}

pub(crate) const fn meaning_code(m: Meaning) -> u32 {
    match m {
        Meaning::AddTime => PAYLOCK_OPENPAYGO_ADD_TIME,
        Meaning::SetTime => PAYLOCK_OPENPAYGO_SET_TIME,
        Meaning::DisablePayg => PAYLOCK_OPENPAYGO_DISABLE_PAYG,
        Meaning::CounterSync => PAYLOCK_OPENPAYGO_COUNTER_SYNC,
        Meaning::Reserved => PAYLOCK_OPENPAYGO_RESERVED,
    }
}

/// The safe core of every entry point: decode `token` on `state`, write `out` when valid.
fn verify<F: TokenForm>(
    form: F,
    secret: &PaylockOpenPaygoSecret,
    state: &mut PaylockOpenPaygoState,
    token: &[u8],
    out: Option<&mut PaylockOpenPaygoActivation>,
) -> i32 {
    let Ok(secret) = OpenPaygoSecret::new(Key::new(secret.key), secret.starting_code) else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let mut device = OpenPaygoDeviceState::from(*state);
    match OpenPaygoVerifier::new(form).decode_from_point(&secret, &mut device, token) {
        Err(_) => PAYLOCK_ERR_FORMAT,
        Ok(OpenPaygoVerdict::Invalid) => PAYLOCK_INVALID,
        Ok(OpenPaygoVerdict::AlreadyUsed) => PAYLOCK_ALREADY_USED,
        Ok(OpenPaygoVerdict::Valid(a)) => {
            *state = device.into();
            if let Some(out) = out {
                *out = PaylockOpenPaygoActivation {
                    value: a.value,
                    count: a.count,
                    meaning: meaning_code(a.meaning),
                };
            }
            PAYLOCK_VALID
        }
    }
}

/// Reads the C arguments and runs [`verify`] behind the panic guard.
///
/// # Safety
/// As [`paylock_openpaygo_verify`].
unsafe fn verify_raw<F: TokenForm>(
    form: F,
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    if secret.is_null() || state.is_null() || token.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: `secret` is non-null, and the caller guarantees it points to a readable secret
    // that nothing writes during the call.
    let secret = unsafe { &*secret };
    // SAFETY: `state` is non-null, and the caller guarantees it points to a state that only
    // this call accesses until it returns.
    let state = unsafe { &mut *state };
    // SAFETY: `token` is non-null, and the caller guarantees `token_len` readable bytes there.
    let token = unsafe { core::slice::from_raw_parts(token, token_len) };
    // SAFETY: the caller guarantees `out` is null or points to a writable activation.
    let out = unsafe { out.as_mut() };
    guard(PAYLOCK_ERR_INTERNAL, || {
        verify(form, secret, state, token, out)
    })
}

/// Checks an entered token (`token_len` ASCII digits, as typed) of the standard form (9
/// digits) and, if valid, records it in `state` and describes it in `out` (which may be null).
///
/// Returns `PAYLOCK_VALID`, `PAYLOCK_INVALID`, `PAYLOCK_ALREADY_USED`, or an error code
/// (`PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_FORMAT`, `PAYLOCK_ERR_ARGUMENT`); only `PAYLOCK_VALID`
/// changes `state`.
///
/// # Safety
/// `secret` and `state` must be null or point to valid, properly aligned structs, `token`
/// null or to `token_len` readable bytes, `out` null or to a writable struct; `state` and
/// `out` must not be accessed by anything else during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_verify_standard(
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    // SAFETY: the caller upholds this function's contract, which is `verify_raw`'s.
    unsafe { verify_raw(StandardForm, secret, state, token, token_len, out) }
}

/// As [`paylock_openpaygo_verify_standard`], for the restricted-digit standard form (15
/// digits 1-4).
///
/// # Safety
/// As [`paylock_openpaygo_verify_standard`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_verify_standard_restricted(
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    // SAFETY: the caller upholds this function's contract, which is `verify_raw`'s.
    unsafe { verify_raw(StandardRestrictedForm, secret, state, token, token_len, out) }
}

/// As [`paylock_openpaygo_verify_standard`], for the extended form (12 digits).
///
/// # Safety
/// As [`paylock_openpaygo_verify_standard`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_verify_extended(
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    // SAFETY: the caller upholds this function's contract, which is `verify_raw`'s.
    unsafe { verify_raw(ExtendedForm, secret, state, token, token_len, out) }
}

/// As [`paylock_openpaygo_verify_standard`], for the restricted-digit extended form (20
/// digits 1-4).
///
/// # Safety
/// As [`paylock_openpaygo_verify_standard`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_verify_extended_restricted(
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    // SAFETY: the caller upholds this function's contract, which is `verify_raw`'s.
    unsafe { verify_raw(ExtendedRestrictedForm, secret, state, token, token_len, out) }
}

/// As [`paylock_openpaygo_verify_standard`], with the form chosen at run time
/// (`PAYLOCK_OPENPAYGO_STANDARD` ... `PAYLOCK_OPENPAYGO_EXTENDED_RESTRICTED`; another value is
/// `PAYLOCK_ERR_ARGUMENT`). Links the decoders of every form.
///
/// # Safety
/// As [`paylock_openpaygo_verify_standard`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_verify(
    form: u32,
    secret: *const PaylockOpenPaygoSecret,
    state: *mut PaylockOpenPaygoState,
    token: *const u8,
    token_len: usize,
    out: *mut PaylockOpenPaygoActivation,
) -> i32 {
    let form = match form {
        PAYLOCK_OPENPAYGO_STANDARD => Form::STANDARD,
        PAYLOCK_OPENPAYGO_STANDARD_RESTRICTED => Form::STANDARD_RESTRICTED,
        PAYLOCK_OPENPAYGO_EXTENDED => Form::EXTENDED,
        PAYLOCK_OPENPAYGO_EXTENDED_RESTRICTED => Form::EXTENDED_RESTRICTED,
        _ => return PAYLOCK_ERR_ARGUMENT,
    };
    // SAFETY: the caller upholds this function's contract, which is `verify_raw`'s.
    unsafe { verify_raw(form, secret, state, token, token_len, out) }
}
