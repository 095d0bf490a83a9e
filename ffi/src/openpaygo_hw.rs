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

/// `x / 10` and `x % 10` in 32-bit steps (16-bit limbs): a 64-bit division would link the
/// compiler's 64-bit divide routine (about 860 B on Cortex-M) into every OpenPAYGO-HW device.
fn div10(x: u64) -> (u64, u32) {
    let (mut q, mut rem) = (0u64, 0u32);
    for shift in [48u32, 32, 16, 0] {
        let cur = rem << 16 | (x >> shift & 0xFFFF) as u32;
        q = q << 16 | u64::from(cur / 10);
        rem = cur % 10;
    }
    (q, rem)
}

/// The number a restricted-digit token's decimal digits (1-4, `digits` of them) carry: two
/// bits per digit, as [`paylock::openpaygo::digits::parse`] reads the typed text. `None` for
/// another length or a digit outside 1-4.
fn restricted_bits(mut token: u64, digits: usize) -> Option<u64> {
    let mut bits = 0u64;
    for i in 0..digits {
        let (q, d) = div10(token);
        if !(1..=4).contains(&d) {
            return None;
        }
        bits |= u64::from(d - 1) << (2 * i);
        token = q;
    }
    (token == 0).then_some(bits)
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
    let f = form.form();
    let code = if f.restricted_digit_set {
        restricted_bits(token, f.token_len())?
    } else {
        token // a number of more digits than the form's is no token: `Invalid`
    };
    Some(verifier.decode_code(&secret, counts, code))
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
    let key = unsafe { crate::key::read(secret_key) };
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
    fn division_by_ten_in_limbs() {
        for x in [
            0,
            9,
            10,
            65_535,
            65_536,
            999_999_999_999,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(div10(x), (x / 10, u32::try_from(x % 10).unwrap_or(99)));
        }
    }

    #[test]
    fn restricted_numbers_read_as_the_typed_digits() {
        let text = b"324244134441123";
        let typed = paylock::openpaygo::digits::parse(text, 15, true).ok();
        assert_eq!(restricted_bits(324_244_134_441_123, 15), typed);
        assert_eq!(restricted_bits(324_244_134_441_120, 15), None); // a 0
        assert_eq!(restricted_bits(24_244_134_441_123, 15), None); // 14 digits
        assert_eq!(restricted_bits(1_324_244_134_441_123, 15), None); // 16 digits
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
