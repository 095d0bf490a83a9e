//! The device (spec §9.3): the validation order, one MAC per entry, and the effects.
//!
//! Malformed input never reaches key-dependent code. The checks before the MAC (type, key
//! revision, counter) read only the public unwhitened fields, and the one MAC is compared in
//! constant time. The new state is computed whole and written back once, so a caller that
//! persists `state` after every call, before acting on the verdict, sees either all of an
//! entry's effect or none.

use super::frame::{self, Fields, mask};
use super::message::{Action, AstMessage, TokenType};
use super::message::{K_TEST, TEST_DEVICE_ID};
use super::profile::Profile;
use super::secret::AstSecret;
use super::state::{AstState, Mode};
use super::suite::{Suite, SuiteUnavailable};
use super::text;
use super::verdict::{AstVerdict, Diag, InvalidReason, Locked};
use super::{lockout, whiten, window};
use crate::key::Key;

/// Reads a frame's fields and tag without any key: whitening is public.
///
/// # Errors
/// [`SuiteUnavailable`] when the suite is not compiled in.
pub fn unwhiten(
    suite: Suite,
    profile: Profile,
    frame: u128,
) -> Result<(Fields, u64), SuiteUnavailable> {
    let (body_whitened, tag) = frame::split(profile, frame);
    let ks = whiten::keystream_bits(suite, profile, tag)?;
    Ok((Fields::from_body(profile, body_whitened ^ ks), tag))
}

/// Spec §9.3: checks `input` entered at monotonic time `now` (seconds) against the device of
/// `secret`, updating `state`. Only APPLIED changes credit, mode, params or the window; INVALID
/// changes `fails` and `lock_until` only; TEST changes only the TEST window.
pub fn verify(secret: &AstSecret, state: &mut AstState, input: &[u8], now: u32) -> AstVerdict {
    // 1. Locked out: nothing is read.
    if now < state.lock_until {
        return AstVerdict::Locked(Locked::Lockout {
            retry_at: state.lock_until,
        });
    }
    let config = secret.config();
    let (suite, profile) = (config.suite, config.profile);
    // 2. Parse: no key involved, nothing counted.
    let frame = match text::parse(profile, input) {
        Ok(frame) => frame,
        Err(e) => return AstVerdict::Malformed(e),
    };
    // 3. Unwhiten. An `AstSecret` always has a compiled-in suite; failing closed keeps this total.
    let Ok((fields, tag)) = unwhiten(suite, profile, frame) else {
        return invalid(state, now, InvalidReason::Mac, Diag::default());
    };
    let mut diag = Diag {
        fields,
        tag,
        counter: None,
    };
    let token_type = TokenType::from_code(fields.token_type);
    let value = fields.value_field;
    // 4. Reserved types.
    if matches!(token_type, TokenType::KeyChange | TokenType::Extension) {
        return invalid(state, now, InvalidReason::Type, diag);
    }
    // 5. Which key, id and counter the MAC must bind.
    let test_key;
    let (key, device_id, key_rev, counter) = if token_type == TokenType::Test {
        test_key = Key::new(K_TEST);
        (
            &test_key,
            TEST_DEVICE_ID,
            fields.key_rev_field,
            fields.counter_field,
        )
    } else {
        if u32::from(fields.key_rev_field)
            != u32::from(config.key_rev) & mask(profile.key_rev_bits())
        {
            return invalid(state, now, InvalidReason::KeyRev, diag);
        }
        let c = profile.counter_bits();
        let (low, k) = if token_type == TokenType::CounterSync {
            (
                u64::from(value) << c | u64::from(fields.counter_field),
                c + profile.value_bits(),
            )
        } else {
            (u64::from(fields.counter_field), c)
        };
        let n = window::reconstruct(state.max_counter, profile.back_window(), low, k);
        diag.counter = Some(n);
        let n = match u32::try_from(n) {
            Ok(n) if n != 0 => n,
            _ => return invalid(state, now, InvalidReason::Counter, diag),
        };
        (secret.key(), config.device_id, config.key_rev, n)
    };
    // 6. One MAC, compared in constant time.
    let m = frame::mac_input(
        suite,
        profile,
        token_type.code(),
        key_rev,
        device_id,
        counter,
        value,
    );
    let Ok(expected) = suite.prf_leftbits(key, &m, profile.mac_bits()) else {
        return invalid(state, now, InvalidReason::Mac, diag);
    };
    if !ct_equal(expected, tag, profile.tag_bytes()) {
        return invalid(state, now, InvalidReason::Mac, diag);
    }
    let message = AstMessage {
        action: action(profile, token_type, value),
        counter,
        value,
    };
    // 7. TEST: rate limited; changes nothing else and does not reset `fails`.
    if token_type == TokenType::Test {
        return match lockout::charge_test(state, now) {
            Ok(()) => AstVerdict::Applied(message),
            Err(retry_at) => AstVerdict::Locked(Locked::TestRate { message, retry_at }),
        };
    }
    // 8. Replay.
    if let Some(reason) = window::replay(state.max_counter, state.used, token_type, counter) {
        return AstVerdict::Duplicate { message, reason };
    }
    // 9. Window and effect together, then one write.
    let mut next = *state;
    (next.max_counter, next.used) =
        window::accept(profile, state.max_counter, state.used, token_type, counter);
    match message.action {
        Action::AddCredit(v) => next.credit = next.credit.saturating_add(v),
        Action::SetCredit(v) => {
            next.credit = v;
            next.mode = Mode::Payg;
        }
        Action::UnlockPermanent => next.mode = Mode::Unlocked,
        Action::SetParam { id, value } => next.params.set(id, value),
        Action::CounterSync | Action::Test(_) => {}
    }
    next.fails = 0;
    *state = next;
    AstVerdict::Applied(message)
}

/// The meaning of an authenticated type and value.
fn action(profile: Profile, token_type: TokenType, value: u32) -> Action {
    let payload_bits = profile.param_value_bits();
    let narrow = |x: u32| u16::try_from(x).unwrap_or(u16::MAX);
    match token_type {
        TokenType::AddCredit => Action::AddCredit(value),
        TokenType::SetCredit => Action::SetCredit(value),
        TokenType::UnlockPermanent => Action::UnlockPermanent,
        TokenType::CounterSync => Action::CounterSync,
        TokenType::SetParam => Action::SetParam {
            id: u8::try_from(value >> payload_bits).unwrap_or(u8::MAX),
            value: narrow(value & mask(payload_bits)),
        },
        // Types 6 and 7 never get here (step 4).
        TokenType::Test | TokenType::KeyChange | TokenType::Extension => {
            Action::Test(narrow(value))
        }
    }
}

/// Counts a failure and builds the INVALID verdict. Out of line on bare metal: five call sites.
#[cfg_attr(target_os = "none", inline(never))]
fn invalid(state: &mut AstState, now: u32, reason: InvalidReason, diag: Diag) -> AstVerdict {
    let lock_seconds = lockout::record_failure(state, now);
    AstVerdict::Invalid {
        reason,
        diag,
        lock_seconds,
    }
}

/// Compares the `len`-byte big-endian encodings of two tags with no early exit (OR of XORs).
fn ct_equal(a: u64, b: u64, len: usize) -> bool {
    let (a, b) = (a.to_be_bytes(), b.to_be_bytes());
    let skip = a.len().saturating_sub(len);
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(&b).skip(skip) {
        diff |= core::hint::black_box(x ^ y);
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_equal_compares_only_the_tag_bytes() {
        assert!(ct_equal(0x12_3456_789a, 0x12_3456_789a, 5));
        assert!(!ct_equal(0x12_3456_789a, 0x12_3456_789b, 5));
        assert!(!ct_equal(0x12_3456_789a, 0x02_3456_789a, 5));
    }
}
