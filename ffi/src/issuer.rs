//! The issuer side for CRMs in other languages (feature `issuer`, hosted targets): the batch
//! protocol (one request, or a JSON Lines text of many, through the same protocol crate as
//! `paylock batch`) and direct generation for each scheme, all into caller-provided buffers.

use paylock::Key;
use paylock::access::{self, Action};
use paylock::nexus::{FullIssuer, Keycode, NexusIssueError, SetTarget, SmallIssuer, WipeTarget};
use paylock::openpaygo::{Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret};

use crate::access::{PaylockAstSecret, secret_of};
use crate::nexus::{PAYLOCK_NEXUS_FULL, PAYLOCK_NEXUS_SMALL};

use crate::openpaygo::{
    PAYLOCK_OPENPAYGO_EXTENDED, PAYLOCK_OPENPAYGO_EXTENDED_RESTRICTED, PAYLOCK_OPENPAYGO_STANDARD,
    PAYLOCK_OPENPAYGO_STANDARD_RESTRICTED, PaylockOpenPaygoSecret,
};
use crate::status::{PAYLOCK_ERR_ARGUMENT, PAYLOCK_ERR_INTERNAL, PAYLOCK_ERR_NULL, guard};

/// The output buffer is too small: `*written` holds the bytes needed; nothing was written.
pub const PAYLOCK_ERR_BUFFER: i32 = -6;

/// `paylock_openpaygo_generate`: add `value` activation units.
pub const PAYLOCK_OPENPAYGO_GENERATE_ADD_TIME: u32 = 1;
/// `paylock_openpaygo_generate`: set the time left to `value` units.
pub const PAYLOCK_OPENPAYGO_GENERATE_SET_TIME: u32 = 2;
/// `paylock_openpaygo_generate`: disable PAYG for good (`value` ignored).
pub const PAYLOCK_OPENPAYGO_GENERATE_DISABLE_PAYG: u32 = 3;
/// `paylock_openpaygo_generate`: counter sync (`value` ignored).
pub const PAYLOCK_OPENPAYGO_GENERATE_COUNTER_SYNC: u32 = 4;

/// Copies `text` into `out` (capacity `cap`) with a terminating NUL, `*written` = its length
/// without the NUL; `PAYLOCK_ERR_BUFFER` with `*written` = the length when it does not fit.
///
/// # Safety
/// `out` must be null or point to `cap` writable bytes, `written` null or writable.
unsafe fn deliver(text: &[u8], out: *mut u8, cap: usize, written: *mut usize) -> i32 {
    // SAFETY: the caller guarantees `written` is null or writable.
    if let Some(w) = unsafe { written.as_mut() } {
        *w = text.len();
    }
    if out.is_null() || cap <= text.len() {
        return PAYLOCK_ERR_BUFFER;
    }
    // SAFETY: `out` has `cap > text.len()` writable bytes (the caller's contract), and `text`
    // is a live slice that cannot overlap memory the caller lent us for writing.
    let dest = unsafe { core::slice::from_raw_parts_mut(out, cap) };
    if let Some(head) = dest.get_mut(..text.len()) {
        head.copy_from_slice(text);
    }
    if let Some(end) = dest.get_mut(text.len()) {
        *end = 0;
    }
    0
}

/// Reads `len` bytes at `ptr` as UTF-8.
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
unsafe fn text<'a>(ptr: *const u8, len: usize) -> Option<&'a str> {
    // SAFETY: the caller guarantees `len` readable bytes at the non-null `ptr`.
    core::str::from_utf8(unsafe { core::slice::from_raw_parts(ptr, len) }).ok()
}

/// Answers one batch-protocol request (a JSON object, as one line of the JSON Lines contract in
/// the README) with its answer line, NUL-terminated, into `out`. Returns 0 (the answer may be
/// `{"ok":false,...}`: a refused request is an answer, not an error), `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_FORMAT` (not UTF-8) or `PAYLOCK_ERR_BUFFER` (`*written` = bytes needed, not
/// counting the NUL).
///
/// # Safety
/// `request` must point to `request_len` readable bytes, `out` be null or point to `out_cap`
/// writable bytes not overlapping `request`, `written` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_batch(
    request: *const u8,
    request_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    if request.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees `request_len` readable bytes.
    let Some(line) = (unsafe { text(request, request_len) }) else {
        return crate::PAYLOCK_ERR_FORMAT;
    };
    let Some(answer) = guard(None, || Some(paylock_protocol::process_line(line))) else {
        return PAYLOCK_ERR_INTERNAL;
    };
    // SAFETY: the caller's contract for `out`, `out_cap` and `written` is `deliver`'s.
    unsafe { deliver(answer.as_bytes(), out, out_cap, written) }
}

/// Answers a JSON Lines text (one request per line) with one answer line per request, each
/// ending in `\n`, NUL-terminated, into `out`. Returns as [`paylock_batch`].
///
/// # Safety
/// As [`paylock_batch`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_batch_lines(
    requests: *const u8,
    requests_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    if requests.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees `requests_len` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(requests, requests_len) };
    let answers = guard(None, || {
        let mut answers = Vec::new();
        paylock_protocol::run(input, &mut answers)
            .ok()
            .map(|_| answers)
    });
    let Some(answers) = answers else {
        return PAYLOCK_ERR_INTERNAL;
    };
    // SAFETY: the caller's contract for `out`, `out_cap` and `written` is `deliver`'s.
    unsafe { deliver(&answers, out, out_cap, written) }
}

/// Generates the OpenPAYGO token after `count` (the device's last count the CRM issued) of
/// `form` (`PAYLOCK_OPENPAYGO_STANDARD` ...): `kind` `PAYLOCK_OPENPAYGO_GENERATE_ADD_TIME` ...
/// with `value` activation units. Writes the token's digits, NUL-terminated, into `out` and
/// the token's count (the CRM's new count) into `new_count`. Returns 0, `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_ARGUMENT` (an unknown form or kind, a value or count out of range, a starting
/// code above 999,999,999) or `PAYLOCK_ERR_BUFFER`.
///
/// # Safety
/// `secret` must point to a valid secret, `out` be null or point to `out_cap` writable bytes,
/// `written` and `new_count` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_generate(
    secret: *const PaylockOpenPaygoSecret,
    form: u32,
    count: u32,
    kind: u32,
    value: u32,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    new_count: *mut u32,
) -> i32 {
    if secret.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid secret there.
    let secret = unsafe { *secret };
    let form = match form {
        PAYLOCK_OPENPAYGO_STANDARD => Form::STANDARD,
        PAYLOCK_OPENPAYGO_STANDARD_RESTRICTED => Form::STANDARD_RESTRICTED,
        PAYLOCK_OPENPAYGO_EXTENDED => Form::EXTENDED,
        PAYLOCK_OPENPAYGO_EXTENDED_RESTRICTED => Form::EXTENDED_RESTRICTED,
        _ => return PAYLOCK_ERR_ARGUMENT,
    };
    let message = match kind {
        PAYLOCK_OPENPAYGO_GENERATE_ADD_TIME => OpenPaygoMessage::AddTime(value),
        PAYLOCK_OPENPAYGO_GENERATE_SET_TIME => OpenPaygoMessage::SetTime(value),
        PAYLOCK_OPENPAYGO_GENERATE_DISABLE_PAYG => OpenPaygoMessage::DisablePayg,
        PAYLOCK_OPENPAYGO_GENERATE_COUNTER_SYNC => OpenPaygoMessage::CounterSync,
        _ => return PAYLOCK_ERR_ARGUMENT,
    };
    let Ok(secret) = OpenPaygoSecret::new(Key::new(secret.key), secret.starting_code) else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let issued = guard(None, || {
        Some(OpenPaygoIssuer::new(form).generate(&secret, count, message))
    });
    let issued = match issued {
        None => return PAYLOCK_ERR_INTERNAL,
        Some(Err(_)) => return PAYLOCK_ERR_ARGUMENT,
        Some(Ok(issued)) => issued,
    };
    // SAFETY: the caller's contract for `out`, `out_cap` and `written` is `deliver`'s.
    let r = unsafe { deliver(issued.token.as_bytes(), out, out_cap, written) };
    if r == 0 {
        // SAFETY: the caller guarantees `new_count` is null or writable.
        if let Some(n) = unsafe { new_count.as_mut() } {
            *n = issued.count;
        }
    }
    r
}

/// `paylock_nexus_generate`: add `value` hours (full, 0-99,999) or days (small, 1-405).
pub const PAYLOCK_NEXUS_GENERATE_ADD_CREDIT: u32 = 1;
/// `paylock_nexus_generate`: set the credit to `value` hours (full, 0-99,998) or days (small,
/// 0-960; 0 locks).
pub const PAYLOCK_NEXUS_GENERATE_SET_CREDIT: u32 = 2;
/// `paylock_nexus_generate`: end PAYG for good (`value` ignored).
pub const PAYLOCK_NEXUS_GENERATE_UNLOCK: u32 = 3;
/// `paylock_nexus_generate`, full protocol: wipe target `value` (0 credit, 1 credit and the
/// used-ID window, 2 the window only (factory use), 3 the restricted flag).
pub const PAYLOCK_NEXUS_GENERATE_WIPE_STATE: u32 = 4;
/// `paylock_nexus_generate`, small protocol: clear the restricted flag (`value` ignored).
pub const PAYLOCK_NEXUS_GENERATE_WIPE_RESTRICTED_FLAG: u32 = 5;

/// Generates the Nexus keycode of `kind` (`PAYLOCK_NEXUS_GENERATE_ADD_CREDIT` ...) with
/// message ID `message_id` for the device with `key` (16 bytes), keypad `protocol`
/// (`PAYLOCK_NEXUS_FULL` or `PAYLOCK_NEXUS_SMALL`, standard keys). Writes the keycode as
/// nexus-keycode's `to_keycode()` prints it (`*599 791 493 194 43#`, `135 242 422 455 244`),
/// NUL-terminated, into `out`. IDs above 65,534 are refused (nexus-embedded 2.0.1 keeps IDs in
/// 16 bits), as are demo codes: the batch protocol issues those on request. Returns 0,
/// `PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_ARGUMENT` (an unknown protocol or kind, a kind the
/// protocol has not, an ID or value out of range, a small SET of 1 day at an ID ending in 63:
/// use the next ID) or `PAYLOCK_ERR_BUFFER`.
///
/// # Safety
/// `key` must point to 16 readable bytes, `out` be null or point to `out_cap` writable bytes,
/// `written` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_generate(
    key: *const u8,
    protocol: u32,
    kind: u32,
    message_id: u32,
    value: u32,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    if key.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees 16 readable bytes; `[u8; 16]` has no
    // alignment requirement.
    let key = Key::new(unsafe { key.cast::<[u8; 16]>().read() });
    let keycode = guard(None, || {
        Some(nexus_keycode(&key, protocol, kind, message_id, value))
    });
    let keycode = match keycode {
        None => return PAYLOCK_ERR_INTERNAL,
        Some(None | Some(Err(_))) => return PAYLOCK_ERR_ARGUMENT,
        Some(Some(Ok(keycode))) => keycode,
    };
    // SAFETY: the caller's contract for `out`, `out_cap` and `written` is `deliver`'s.
    unsafe { deliver(keycode.display().as_bytes(), out, out_cap, written) }
}

/// The keycode of [`paylock_nexus_generate`]; `None` for a protocol or kind it does not know,
/// or small days beyond 16 bits.
fn nexus_keycode(
    key: &Key,
    protocol: u32,
    kind: u32,
    id: u32,
    value: u32,
) -> Option<Result<Keycode, NexusIssueError>> {
    let days = u16::try_from(value);
    Some(match (u8::try_from(protocol).ok()?, kind) {
        (PAYLOCK_NEXUS_FULL, PAYLOCK_NEXUS_GENERATE_ADD_CREDIT) => {
            FullIssuer::new().add_credit(key, id, value)
        }
        (PAYLOCK_NEXUS_FULL, PAYLOCK_NEXUS_GENERATE_SET_CREDIT) => {
            FullIssuer::new().set_credit(key, id, value)
        }
        (PAYLOCK_NEXUS_FULL, PAYLOCK_NEXUS_GENERATE_UNLOCK) => FullIssuer::new().unlock(key, id),
        (PAYLOCK_NEXUS_FULL, PAYLOCK_NEXUS_GENERATE_WIPE_STATE) => {
            FullIssuer::new().wipe_state(key, id, wipe_target(value)?)
        }
        (PAYLOCK_NEXUS_SMALL, PAYLOCK_NEXUS_GENERATE_ADD_CREDIT) => {
            SmallIssuer::new().add_credit(key, id, days.ok()?)
        }
        (PAYLOCK_NEXUS_SMALL, PAYLOCK_NEXUS_GENERATE_SET_CREDIT) => {
            SmallIssuer::new().set_credit(key, id, SetTarget::Days(days.ok()?))
        }
        (PAYLOCK_NEXUS_SMALL, PAYLOCK_NEXUS_GENERATE_UNLOCK) => SmallIssuer::new().unlock(key, id),
        (PAYLOCK_NEXUS_SMALL, PAYLOCK_NEXUS_GENERATE_WIPE_RESTRICTED_FLAG) => {
            SmallIssuer::new().wipe_restricted_flag(key, id)
        }
        _ => return None,
    })
}

/// A full WIPE_STATE target by its number.
const fn wipe_target(value: u32) -> Option<WipeTarget> {
    Some(match value {
        0 => WipeTarget::Credit,
        1 => WipeTarget::CreditAndWindow,
        2 => WipeTarget::Window,
        3 => WipeTarget::RestrictedFlag,
        _ => return None,
    })
}

/// Generates the AST v1 token of `token_type` (the codes of `PaylockAstResult.token_type`:
/// 0 ADD_CREDIT, 1 SET_CREDIT, 2 UNLOCK_PERMANENT, 3 COUNTER_SYNC, 4 SET_PARAM, 5 TEST) at
/// `counter` (ignored by TEST) for the device of `secret`: `value` is the credit in the
/// device's unit, the parameter's value (SET_PARAM, whose id 0-15 is `param_id`) or the test
/// id (TEST); the other types ignore it. Writes the token (groups of four digits separated by
/// spaces, as the vectors print it), NUL-terminated, into `out`. Returns 0, `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_ARGUMENT` (a secret with an unknown suite, profile or unit, an unknown type,
/// counter 0, a value out of the profile's range) or `PAYLOCK_ERR_BUFFER`.
///
/// # Safety
/// `secret` must point to a valid secret, `out` be null or point to `out_cap` writable bytes,
/// `written` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_generate(
    secret: *const PaylockAstSecret,
    counter: u32,
    token_type: u32,
    value: u32,
    param_id: u32,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: the caller guarantees `secret` is null or points to a valid secret.
    let Some(secret) = (unsafe { secret.as_ref() }) else {
        return PAYLOCK_ERR_NULL;
    };
    let (Some(secret), Some(action)) = (secret_of(secret), ast_action(token_type, value, param_id))
    else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let issued = guard(None, || Some(access::generate(&secret, counter, action)));
    let issued = match issued {
        None => return PAYLOCK_ERR_INTERNAL,
        Some(Err(_)) => return PAYLOCK_ERR_ARGUMENT,
        Some(Ok(issued)) => issued,
    };
    // SAFETY: the caller's contract for `out`, `out_cap` and `written` is `deliver`'s.
    unsafe { deliver(issued.token.as_bytes(), out, out_cap, written) }
}

/// The action of [`paylock_ast_generate`]; `None` for an unknown type or a parameter id or
/// test id that does not fit its field.
fn ast_action(token_type: u32, value: u32, param_id: u32) -> Option<Action> {
    Some(match token_type {
        0 => Action::AddCredit(value),
        1 => Action::SetCredit(value),
        2 => Action::UnlockPermanent,
        3 => Action::CounterSync,
        4 => Action::SetParam {
            id: u8::try_from(param_id).ok()?,
            value: u16::try_from(value).ok()?,
        },
        5 => Action::Test(u16::try_from(value).ok()?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FULL-SET_CREDIT-001` of test-vectors/nexus/nexus_keycode_vectors.json.
    const KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const KEYCODE: &[u8] = b"*108 520 407 726 70#";

    fn nexus(key: *const u8, protocol: u32, kind: u32, id: u32, out: &mut [u8]) -> (i32, usize) {
        let mut written = 0;
        // SAFETY: `key` is null or 16 bytes, `out` is `out.len()` writable bytes.
        let r = unsafe {
            paylock_nexus_generate(
                key,
                protocol,
                kind,
                id,
                0,
                out.as_mut_ptr(),
                out.len(),
                &raw mut written,
            )
        };
        (r, written)
    }

    #[test]
    fn nexus_keycode_of_a_vector_and_each_refusal() {
        let mut out = [0xAA; 32];
        let set = PAYLOCK_NEXUS_GENERATE_SET_CREDIT;
        assert_eq!(nexus(KEY.as_ptr(), 0, set, 0, &mut out), (0, KEYCODE.len()));
        assert_eq!(&out[..KEYCODE.len()], KEYCODE);
        assert_eq!(out[KEYCODE.len()], 0, "NUL-terminated");
        let mut short = [0xAA; 20];
        assert_eq!(
            nexus(KEY.as_ptr(), 0, set, 0, &mut short),
            (PAYLOCK_ERR_BUFFER, KEYCODE.len())
        );
        assert!(
            short.iter().all(|b| *b == 0xAA),
            "nothing written into a short buffer"
        );
        assert_eq!(
            nexus(core::ptr::null(), 0, set, 0, &mut out).0,
            PAYLOCK_ERR_NULL
        );
        for (protocol, kind, id) in [
            (2, set, 0),
            (0, 9, 0),
            (1, PAYLOCK_NEXUS_GENERATE_WIPE_STATE, 0),
            (0, PAYLOCK_NEXUS_GENERATE_WIPE_RESTRICTED_FLAG, 0),
            (0, set, 65_535),
        ] {
            assert_eq!(
                nexus(KEY.as_ptr(), protocol, kind, id, &mut out).0,
                PAYLOCK_ERR_ARGUMENT
            );
        }
    }

    #[test]
    fn ast_refuses_null_unknown_types_and_counter_zero() {
        let secret = PaylockAstSecret {
            key: KEY,
            device_id: 7,
            suite: 2,
            profile: 0,
            key_rev: 1,
            unit: 0,
        };
        let mut out = [0; 32];
        let mut written = 0;
        let call = |secret: *const PaylockAstSecret,
                    counter,
                    kind,
                    out: &mut [u8],
                    written: &mut usize| {
            // SAFETY: `secret` is null or valid, `out` is `out.len()` writable bytes.
            unsafe {
                paylock_ast_generate(
                    secret,
                    counter,
                    kind,
                    1,
                    0,
                    out.as_mut_ptr(),
                    out.len(),
                    written,
                )
            }
        };
        assert_eq!(
            call(core::ptr::null(), 1, 0, &mut out, &mut written),
            PAYLOCK_ERR_NULL
        );
        assert_eq!(
            call(&secret, 1, 6, &mut out, &mut written),
            PAYLOCK_ERR_ARGUMENT
        );
        assert_eq!(
            call(&secret, 0, 0, &mut out, &mut written),
            PAYLOCK_ERR_ARGUMENT
        );
        assert_eq!(call(&secret, 1, 0, &mut out, &mut written), 0);
        assert_eq!(written, 24, "profile L: 20 digits in groups of four");
    }
}
