//! Any key and configuration, any persisted state, a counter inside that state's window and an
//! action: `generate` then `verify` gives exactly what the window rules predict (APPLIED with
//! the action's effect for a fresh counter, DUPLICATE for a used or superseded one), and the same
//! token entered again is DUPLICATE. TEST codes are APPLIED or held by their rate limit.
#![no_main]

mod access_common;

use access_common::RawState;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::access::{self, Action, AstVerdict, DuplicateReason, Locked, Mode};

/// Byte layout (what `seeds.py` writes): the fields in order, integers little-endian, booleans
/// one byte (bit 0).
#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 16],
    suite: u8,
    profile: u8,
    device_id: u32,
    /// The key revision; bit 7 also picks days as the unit.
    key_rev: u8,
    state: RawState,
    now: u32,
    /// Where in the window: `max_counter - B + offset % 2^k` (`k` counter bits, more for a
    /// counter sync).
    offset: u32,
    /// The action: `kind % 6`.
    kind: u8,
    value: u32,
    param_id: u8,
}

fuzz_target!(|input: Input| {
    let Some(secret) = access_common::secret(
        input.key,
        input.suite,
        input.profile,
        input.device_id,
        input.key_rev,
    ) else {
        return;
    };
    let profile = secret.config().profile;
    let mut state = input.state.state(profile);
    let before = state;
    // Not locked out: the lockout is the verify target's business.
    let now = input.now.max(state.lock_until);
    let b = profile.back_window();
    let c = profile.counter_bits();
    let value = input.value % (profile.max_value() + 1);
    let (action, k) = match input.kind % 6 {
        0 => (Action::AddCredit(value), c),
        1 => (Action::SetCredit(value), c),
        2 => (Action::UnlockPermanent, c),
        3 => (Action::CounterSync, c + profile.value_bits()),
        4 => (
            Action::SetParam {
                id: input.param_id % 16,
                value: (value % (profile.max_param_value() + 1)) as u16,
            },
            c,
        ),
        _ => (Action::Test(value as u16), c),
    };
    let base = u64::from(state.max_counter.saturating_sub(b));
    let n = base + u64::from(input.offset) % (1u64 << k);
    let Ok(counter) = u32::try_from(n) else {
        return;
    };
    let issued = match access::generate(&secret, counter, action) {
        Ok(issued) => issued,
        Err(access::AstIssueError::CounterZero) if counter == 0 => return,
        Err(e) => panic!("{action:?} at {counter}: {e}"),
    };
    let first = access::verify(&secret, &mut state, issued.token.as_bytes(), now);

    if let Action::Test(id) = action {
        let message = match first {
            AstVerdict::Applied(m) | AstVerdict::Locked(Locked::TestRate { message: m, .. }) => m,
            other => panic!("TEST {id}: {other:?}"),
        };
        assert_eq!(message.action, Action::Test(id));
        return;
    }
    // The window's answer for this counter (spec §9.4).
    let max = before.max_counter;
    let used = counter < max && max - counter <= b && before.used >> (max - counter - 1) & 1 == 1;
    let expect_dup = if counter == max || used {
        Some(DuplicateReason::Used)
    } else if counter < max && !matches!(action, Action::AddCredit(_)) {
        Some(DuplicateReason::Superseded)
    } else {
        None
    };
    let message = match (first, expect_dup) {
        (AstVerdict::Duplicate { message, reason }, Some(want)) => {
            assert_eq!(reason, want);
            assert_eq!(state, before);
            message
        }
        (AstVerdict::Applied(message), None) => {
            let mut want = before;
            match action {
                Action::AddCredit(v) => want.credit = want.credit.saturating_add(v),
                Action::SetCredit(v) => {
                    want.credit = v;
                    want.mode = Mode::Payg;
                }
                Action::UnlockPermanent => want.mode = Mode::Unlocked,
                Action::SetParam { id, value } => want.params.set(id, value),
                Action::CounterSync | Action::Test(_) => {}
            }
            want.fails = 0;
            want.max_counter = max.max(counter);
            want.used = state.used;
            assert_eq!(state, want);
            let mut after = state;
            let again = access::verify(&secret, &mut after, issued.token.as_bytes(), now);
            assert!(
                matches!(again, AstVerdict::Duplicate { .. }),
                "{action:?} at {counter} again: {again:?}"
            );
            assert_eq!(after, state);
            message
        }
        (got, want) => panic!("{action:?} at {counter} on {before:?}: {got:?}, want {want:?}"),
    };
    let raw_value = match action {
        Action::UnlockPermanent => 0,
        _ => issued.value,
    };
    assert_eq!((message.counter, message.value), (counter, raw_value));
    if !matches!(action, Action::UnlockPermanent) {
        assert_eq!(message.action, action);
    }
    assert_eq!(issued.counter, counter);
});
