//! OpenPAYGO-HW's decoder interface (`src/opaygo_decoder.h` and
//! `src/extended/opaygo_decoder_extended.h`), answered by paylock's decoder. Declared for C by
//! the hand-written `ffi/include/opaygo_decoder.h`, which keeps OpenPAYGO-HW's names, types and
//! constants so that its firmware compiles and links unchanged.
//!
//! paylock's decoder differs where OpenPAYGO-HW is wrong (the header and `docs/openpaygo.md`
//! list it): a count-0 token gives no credit, a counter sync never lowers the count, and the
//! used-counts mask is shifted correctly. As in OpenPAYGO-HW these entry points walk the chain
//! from the starting code on every call (the native API keeps a chain point instead).
#![allow(non_snake_case)] // OpenPAYGO-HW's names

use core::ffi::c_int;

use paylock::Key;
use paylock::openpaygo::{
    ExtendedForm, OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
    OpenPaygoWindow, StandardForm, StandardRestrictedForm, TokenForm,
};

use crate::status::guard;

/// OpenPAYGO-HW's answer: `Value` is the activation value, -1 for an invalid token, -2 for a
/// spent one; `Count` the token's count, or the stored maximum on -1 / -2.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenDataStruct {
    /// The value, -1 (invalid) or -2 (already used).
    pub Value: c_int,
    /// The token's count; `*MaxCount` on a refusal.
    pub Count: u16,
}

const INVALID: c_int = -1;
const ALREADY_USED: c_int = -2;

/// The ASCII digits of `token`, zero-padded to `len` (at most 20, a u64's digits); `None` when
/// it has more digits.
fn digits(mut token: u64, len: usize) -> Option<([u8; 20], usize)> {
    let mut buf = [b'0'; 20];
    let field = buf.get_mut(..len)?;
    for d in field.iter_mut().rev() {
        *d = b'0' + u8::try_from(token % 10).ok()?;
        token /= 10;
    }
    (token == 0).then_some((buf, len))
}

/// Decodes `token` (the number the keypad assembled) on OpenPAYGO-HW's 16-bit counts.
fn decode<F: TokenForm>(
    form: F,
    token: u64,
    counts: &mut OpenPaygoState,
    starting_code: u32,
    key: [u8; 16],
) -> Option<OpenPaygoVerdict> {
    let secret = OpenPaygoSecret::new(Key::new(key), starting_code).ok()?;
    // Counts live in 16 bits: no count above 65,535 is accepted.
    let window = OpenPaygoWindow {
        count_ceiling: u32::from(u16::MAX),
        ..OpenPaygoWindow::default()
    };
    let verifier = OpenPaygoVerifier::new(form).with_window(window);
    let (text, len) = digits(token, form.form().token_len())?;
    verifier.decode(&secret, counts, text.get(..len)?).ok()
}

/// The shared body of the standard entry points.
///
/// # Safety
/// As [`GetDataFromToken`].
unsafe fn get_data<F: TokenForm>(
    form: F,
    input_token: u64,
    max_count: *mut u16,
    used_counts: *mut u16,
    starting_code: u32,
    secret_key: *const u8,
) -> TokenDataStruct {
    let refused = TokenDataStruct {
        Value: INVALID,
        Count: 0,
    };
    if max_count.is_null() || used_counts.is_null() || secret_key.is_null() {
        return refused;
    }
    // SAFETY: non-null, and the caller guarantees 16 readable bytes at `secret_key`.
    let key = unsafe { secret_key.cast::<[u8; 16]>().read_unaligned() };
    // SAFETY: non-null, and the caller guarantees a readable and writable u16 there that
    // nothing else accesses during the call.
    let max = unsafe { &mut *max_count };
    // SAFETY: as for `max_count`.
    let used = unsafe { &mut *used_counts };
    let mut counts = OpenPaygoState {
        max_count: u32::from(*max),
        used_counts: *used,
    };
    let verdict = guard(None, || {
        decode(form, input_token, &mut counts, starting_code, key)
    });
    match verdict {
        Some(OpenPaygoVerdict::Valid(a)) => match (
            c_int::try_from(a.value),
            u16::try_from(a.count),
            u16::try_from(counts.max_count),
        ) {
            (Ok(value), Ok(count), Ok(new_max)) => {
                *max = new_max;
                *used = counts.used_counts;
                TokenDataStruct {
                    Value: value,
                    Count: count,
                }
            }
            _ => TokenDataStruct {
                Value: INVALID,
                Count: *max,
            },
        },
        Some(OpenPaygoVerdict::AlreadyUsed) => TokenDataStruct {
            Value: ALREADY_USED,
            Count: *max,
        },
        _ => TokenDataStruct {
            Value: INVALID,
            Count: *max,
        },
    }
}

/// OpenPAYGO-HW's standard decoder: `InputToken` is the 9-digit token as a number.
///
/// # Safety
/// `MaxCount` and `UsedCounts` must be null or point to readable and writable `uint16_t`s,
/// `SECRET_KEY` null or to 16 readable bytes, none of them accessed by anything else during
/// the call. Null pointers answer `Value` -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetDataFromToken(
    InputToken: u64,
    MaxCount: *mut u16,
    UsedCounts: *mut u16,
    StartingCode: u32,
    SECRET_KEY: *const u8,
) -> TokenDataStruct {
    // SAFETY: the caller upholds this function's contract, which is `get_data`'s.
    unsafe {
        get_data(
            StandardForm,
            InputToken,
            MaxCount,
            UsedCounts,
            StartingCode,
            SECRET_KEY,
        )
    }
}

/// `GetDataFromToken` as OpenPAYGO-HW builds it with `RESTRICTED_DIGIT_SET_MODE`:
/// `InputToken` is the 15-digit token (digits 1-4) as a decimal number. The compatibility
/// header maps `GetDataFromToken` to this when that macro is defined.
///
/// # Safety
/// As [`GetDataFromToken`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_hw_GetDataFromRestrictedToken(
    InputToken: u64,
    MaxCount: *mut u16,
    UsedCounts: *mut u16,
    StartingCode: u32,
    SECRET_KEY: *const u8,
) -> TokenDataStruct {
    // SAFETY: the caller upholds this function's contract, which is `get_data`'s.
    unsafe {
        get_data(
            StandardRestrictedForm,
            InputToken,
            MaxCount,
            UsedCounts,
            StartingCode,
            SECRET_KEY,
        )
    }
}

/// OpenPAYGO-HW's extended decoder: `InputToken` is the 12-digit token as a number; returns
/// the value, or -1 (invalid or spent: the extended decoder keeps no used counts, so only a
/// count above `*MaxCount` is accepted).
///
/// # Safety
/// `MaxCount` must be null or point to a readable and writable `uint16_t`, `SECRET_KEY` null or
/// to 16 readable bytes, neither accessed by anything else during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetActivationValueFromExtendedToken(
    InputToken: u64,
    MaxCount: *mut u16,
    StartingCode: u32,
    SECRET_KEY: *const u8,
) -> i32 {
    let mut used = u16::MAX; // every older count spent: only counts above the max
    // SAFETY: the caller upholds `get_data`'s contract for `MaxCount` and `SECRET_KEY`; `used`
    // is a local.
    let data = unsafe {
        get_data(
            ExtendedForm,
            InputToken,
            MaxCount,
            &mut used,
            StartingCode,
            SECRET_KEY,
        )
    };
    if data.Value < 0 { INVALID } else { data.Value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_zero_padded_digits_or_nothing() {
        let (buf, len) = digits(42, 9).unwrap_or_default();
        assert_eq!(buf.get(..len), Some(&b"000000042"[..]));
        assert!(digits(1_000_000_000, 9).is_none());
        assert!(digits(u64::MAX, 20).is_some());
        assert!(digits(0, 21).is_none());
    }

    #[test]
    fn null_pointers_answer_invalid_and_write_nothing() {
        let (mut max, mut used, key) = (7u16, 3u16, [0u8; 16]);
        // SAFETY: every pointer is null or points to a local of the right type and size.
        let data =
            unsafe { GetDataFromToken(1, core::ptr::null_mut(), &mut used, 1, key.as_ptr()) };
        assert_eq!(data.Value, -1);
        // SAFETY: as above.
        let data = unsafe { GetDataFromToken(1, &mut max, &mut used, 1, core::ptr::null()) };
        assert_eq!((data.Value, max, used), (-1, 7, 3));
        // SAFETY: as above.
        let value =
            unsafe { GetActivationValueFromExtendedToken(1, &mut max, 1, core::ptr::null()) };
        assert_eq!(value, -1);
    }
}
