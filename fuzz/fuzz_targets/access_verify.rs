//! Any entered bytes, any persisted state, any time, under every suite and profile: never
//! panics. MALFORMED, DUPLICATE and LOCKED change nothing; INVALID changes only `fails` and
//! `lock_until`; TEST changes only the TEST window; the same input is never APPLIED twice
//! (TEST codes excepted: they are rate limited, not used up). One input in two enters a real
//! token (generated for a counter near the state's window) with some bytes changed, so the
//! MAC check and the effects are reached, not only the parser.
#![no_main]

mod access_common;

use access_common::RawState;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::access::{self, Action, AstSecret, AstState, AstStatus, AstVerdict};

/// Byte layout (what `seeds.py` writes): the fields in order, integers little-endian, booleans
/// one byte (bit 0), the entered bytes last.
#[derive(Arbitrary, Debug)]
struct Input<'a> {
    key: [u8; 16],
    suite: u8,
    profile: u8,
    device_id: u32,
    /// The key revision; bit 7 also picks days as the unit.
    key_rev: u8,
    state: RawState,
    now: u32,
    /// Seconds between the first and the second entry.
    later: u16,
    /// Bit 0: enter a generated token (the counter `max_counter + offset - 64`, the type
    /// `kind % 6`), with `input`'s bytes XORed over its text.
    flags: u8,
    offset: u16,
    kind: u8,
    value: u16,
    input: &'a [u8],
}

/// Checks one entry's effect on the state against its verdict.
fn check(before: &AstState, after: &AstState, verdict: &AstVerdict) {
    match verdict.status() {
        AstStatus::Malformed | AstStatus::Duplicate | AstStatus::Locked => {
            assert_eq!(before, after, "{verdict:?}");
        }
        AstStatus::Invalid => {
            let kept = AstState {
                fails: before.fails,
                lock_until: before.lock_until,
                ..*after
            };
            assert_eq!(before, &kept, "{verdict:?}");
            assert_eq!(after.fails, before.fails.saturating_add(1));
        }
        AstStatus::Applied => {
            let message = verdict.message().expect("APPLIED carries its message");
            if let Action::Test(_) = message.action {
                let kept = AstState {
                    test_window_start: before.test_window_start,
                    test_count: before.test_count,
                    ..*after
                };
                assert_eq!(before, &kept, "{verdict:?}");
            } else {
                assert_ne!(message.counter, 0);
                assert_eq!(after.max_counter, before.max_counter.max(message.counter));
                assert_eq!(after.fails, 0);
                assert_eq!(
                    (after.lock_until, after.test_window_start, after.test_count),
                    (
                        before.lock_until,
                        before.test_window_start,
                        before.test_count
                    )
                );
            }
        }
    }
}

fn action(kind: u8, value: u16) -> Action {
    let v = u32::from(value);
    match kind % 6 {
        0 => Action::AddCredit(v),
        1 => Action::SetCredit(v),
        2 => Action::UnlockPermanent,
        3 => Action::CounterSync,
        4 => Action::SetParam {
            id: (value >> 12) as u8,
            value: value & 0xff,
        },
        _ => Action::Test(value),
    }
}

/// A real token near the window, with `noise` XORed over its text.
fn genuine(secret: &AstSecret, state: &AstState, input: &Input<'_>) -> Option<Vec<u8>> {
    let counter = state
        .max_counter
        .checked_add(u32::from(input.offset))?
        .checked_sub(64)?;
    let issued = access::generate(secret, counter, action(input.kind, input.value)).ok()?;
    let mut text = issued.token.as_bytes().to_vec();
    for (t, n) in text.iter_mut().zip(input.input) {
        *t ^= n;
    }
    Some(text)
}

fuzz_target!(|input: Input<'_>| {
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
    let entered = if input.flags & 1 == 1 {
        match genuine(&secret, &state, &input) {
            Some(text) => text,
            None => return,
        }
    } else {
        input.input.to_vec()
    };
    let first_at = input.now;
    let before = state;
    let first = access::verify(&secret, &mut state, &entered, first_at);
    check(&before, &state, &first);

    let second_at = first_at.saturating_add(u32::from(input.later));
    let middle = state;
    let second = access::verify(&secret, &mut state, &entered, second_at);
    check(&middle, &state, &second);
    if first.status() == AstStatus::Applied && second.status() == AstStatus::Applied {
        let message = second.message().expect("APPLIED carries its message");
        assert!(
            matches!(message.action, Action::Test(_)),
            "applied twice: {first:?}, {second:?}"
        );
    }
});
