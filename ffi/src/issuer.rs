//! The issuer side for CRMs in other languages (feature `issuer`, hosted targets): the batch
//! protocol (one request, or a JSON Lines text of many) and direct OpenPAYGO generation, all
//! into caller-provided buffers, through the same batch protocol crate as `paylock batch`.

use paylock::Key;
use paylock::openpaygo::{Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret};

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
