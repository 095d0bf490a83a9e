//! The native AST v1 verifier: the device's state in a published C struct, one call per
//! entered token (lockout, TEST quota and the window are in the state, spec §9).

use paylock::Key;
use paylock::access::{
    self, AstConfig, AstSecret, AstState, AstStatus, AstVerdict, Locked, Mode, Params, Profile,
    Suite, TokenType, Unit,
};

use crate::status::{PAYLOCK_ERR_ARGUMENT, PAYLOCK_ERR_INTERNAL, PAYLOCK_ERR_NULL, guard};

/// Verdict: accepted and recorded in the state.
pub const PAYLOCK_AST_APPLIED: i32 = 0;
/// Verdict: genuine but not new; nothing changed.
pub const PAYLOCK_AST_DUPLICATE: i32 = 1;
/// Verdict: refused and counted as a failed attempt (the state's lockout fields changed).
pub const PAYLOCK_AST_INVALID: i32 = 2;
/// Verdict: not a token of this profile; nothing changed.
pub const PAYLOCK_AST_MALFORMED: i32 = 3;
/// Verdict: refused unread (lockout) or over the TEST quota; nothing changed.
pub const PAYLOCK_AST_LOCKED: i32 = 4;

/// Bytes of [`PaylockAstState`]; the header checks it with a static assert.
pub const PAYLOCK_AST_STATE_SIZE: usize = 64;

/// What the factory provisions.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PaylockAstSecret {
    /// The device key (derived by the issuer from its master key).
    pub key: [u8; 16],
    /// The device id bound in every MAC (not 0xFFFFFFFF).
    pub device_id: u32,
    /// 0 AES-128-CMAC, 1 HMAC-SHA-256, 2 SipHash-2-4 (as compiled in: features `ast-*`).
    pub suite: u8,
    /// 0 L (20 digits), 1 M, 2 S.
    pub profile: u8,
    /// The key revision.
    pub key_rev: u8,
    /// 0 hours, 1 days.
    pub unit: u8,
}

impl core::fmt::Debug for PaylockAstSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PaylockAstSecret").finish_non_exhaustive()
    }
}

/// What the device persists after every entry that changed it (all zeros: a new device).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockAstState {
    /// Highest accepted counter.
    pub max_counter: u32,
    /// Credit register in device units.
    pub credit: u32,
    /// Bit `i`: counter `max_counter - 1 - i` is used.
    pub used: u64,
    /// Entries are refused while `now < lock_until`.
    pub lock_until: u32,
    /// Start of the TEST rate window.
    pub test_window_start: u32,
    /// Parameter values (ids 0-15).
    pub params: [u16; 16],
    /// Bit `id`: parameter `id` was set.
    pub params_set: u16,
    /// 0 PAYG, 1 unlocked.
    pub mode: u8,
    /// Consecutive counted failures.
    pub fails: u8,
    /// TEST codes accepted in the window.
    pub test_count: u8,
    /// Zero.
    pub reserved: [u8; 3],
}

const _: () = assert!(size_of::<PaylockAstState>() == PAYLOCK_AST_STATE_SIZE);

/// A verdict's content.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockAstResult {
    /// Token type (applied, duplicate, TEST over quota): 0 ADD_CREDIT, 1 SET_CREDIT,
    /// 2 UNLOCK_PERMANENT, 3 COUNTER_SYNC, 4 SET_PARAM, 5 TEST, 6 KEY_CHANGE, 7 EXTENSION.
    pub token_type: u32,
    /// The full counter.
    pub counter: u32,
    /// The raw value field.
    pub value: u32,
    /// When a lockout or the TEST window ends (locked), or the lock this failure started, in
    /// seconds (invalid).
    pub retry_at: u32,
}

fn state_in(s: &PaylockAstState) -> AstState {
    let mut params = Params::EMPTY;
    for (id, value) in (0u8..16).zip(s.params) {
        if s.params_set >> id & 1 == 1 {
            params.set(id, value);
        }
    }
    AstState {
        max_counter: s.max_counter,
        used: s.used,
        mode: if s.mode == 0 {
            Mode::Payg
        } else {
            Mode::Unlocked
        },
        credit: s.credit,
        params,
        fails: s.fails,
        lock_until: s.lock_until,
        test_window_start: s.test_window_start,
        test_count: s.test_count,
    }
}

fn state_out(s: &AstState) -> PaylockAstState {
    let mut out = PaylockAstState {
        max_counter: s.max_counter,
        credit: s.credit,
        used: s.used,
        lock_until: s.lock_until,
        test_window_start: s.test_window_start,
        mode: u8::from(s.mode == Mode::Unlocked),
        fails: s.fails,
        test_count: s.test_count,
        ..PaylockAstState::default()
    };
    for (id, value) in s.params.iter() {
        out.params_set |= 1 << id;
        if let Some(slot) = out.params.get_mut(usize::from(id)) {
            *slot = value;
        }
    }
    out
}

pub(crate) fn secret_of(s: &PaylockAstSecret) -> Option<AstSecret> {
    let suite = match s.suite {
        0 => Suite::AesCmac,
        1 => Suite::HmacSha256,
        2 => Suite::SipHash24,
        _ => return None,
    };
    let profile = *Profile::ALL.get(usize::from(s.profile))?;
    let unit = match s.unit {
        0 => Unit::Hours,
        1 => Unit::Days,
        _ => return None,
    };
    let config = AstConfig {
        suite,
        profile,
        device_id: s.device_id,
        key_rev: s.key_rev,
        unit,
    };
    AstSecret::new(Key::new(s.key), config).ok()
}

const fn type_code(t: TokenType) -> u32 {
    match t {
        TokenType::AddCredit => 0,
        TokenType::SetCredit => 1,
        TokenType::UnlockPermanent => 2,
        TokenType::CounterSync => 3,
        TokenType::SetParam => 4,
        TokenType::Test => 5,
        TokenType::KeyChange => 6,
        TokenType::Extension => 7,
    }
}

fn message_result(m: &access::AstMessage) -> PaylockAstResult {
    PaylockAstResult {
        token_type: type_code(m.token_type()),
        counter: m.counter,
        value: m.value,
        retry_at: 0,
    }
}

/// Checks an entered token (`len` characters as typed; spaces and dashes are ignored as the
/// profile allows) at device time `now`, updating `state` as the verdict says (persist it
/// whenever it changed). Returns `PAYLOCK_AST_APPLIED` ... `PAYLOCK_AST_LOCKED` with `out`
/// (may be null) filled, or `PAYLOCK_ERR_NULL` / `PAYLOCK_ERR_ARGUMENT` (a suite not compiled
/// in or unknown, an unknown profile or unit, the TEST device id).
///
/// # Safety
/// `secret` and `state` must be null or point to valid structs, `token` null or to `len`
/// readable bytes, `out` null or to a writable result; none accessed by anything else during
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_verify(
    secret: *const PaylockAstSecret,
    state: *mut PaylockAstState,
    token: *const u8,
    len: usize,
    now: u32,
    out: *mut PaylockAstResult,
) -> i32 {
    if secret.is_null() || state.is_null() || token.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid secret there.
    let Some(secret) = secret_of(unsafe { &*secret }) else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    // SAFETY: non-null, and the caller guarantees a state only this call accesses.
    let state = unsafe { &mut *state };
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    let token = unsafe { core::slice::from_raw_parts(token, len) };
    let mut core_state = state_in(state);
    let Some(verdict) = guard(None, || {
        Some(access::verify(&secret, &mut core_state, token, now))
    }) else {
        return PAYLOCK_ERR_INTERNAL;
    };
    *state = state_out(&core_state);
    let code = match verdict.status() {
        AstStatus::Applied => PAYLOCK_AST_APPLIED,
        AstStatus::Duplicate => PAYLOCK_AST_DUPLICATE,
        AstStatus::Invalid => PAYLOCK_AST_INVALID,
        AstStatus::Malformed => PAYLOCK_AST_MALFORMED,
        AstStatus::Locked => PAYLOCK_AST_LOCKED,
    };
    let result = match &verdict {
        AstVerdict::Applied(m) | AstVerdict::Duplicate { message: m, .. } => message_result(m),
        AstVerdict::Invalid { lock_seconds, .. } => PaylockAstResult {
            retry_at: *lock_seconds,
            ..PaylockAstResult::default()
        },
        AstVerdict::Locked(Locked::Lockout { retry_at }) => PaylockAstResult {
            retry_at: *retry_at,
            ..PaylockAstResult::default()
        },
        AstVerdict::Locked(Locked::TestRate { message, retry_at }) => PaylockAstResult {
            retry_at: *retry_at,
            ..message_result(message)
        },
        _ => PaylockAstResult::default(),
    };
    // SAFETY: the caller guarantees `out` is null or writable.
    if let Some(out) = unsafe { out.as_mut() } {
        *out = result;
    }
    code
}
