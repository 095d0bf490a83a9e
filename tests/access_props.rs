//! AST properties over arbitrary inputs and states: no panic, refusals change only what the
//! spec lets them change, genuine tokens apply exactly once, the trait adapters round-trip.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::access::{
    self, Action, AstConfig, AstIssueError, AstIssuer, AstSecret, AstState, AstVerdict,
    AstVerifier, DuplicateReason, InvalidReason, Locked, Mode, Params, Profile, Suite, Unit,
};
use paylock::{Command, Context, Credit, IssueError, Issuer, Key, Outcome, TimeUnit, Verifier};
use proptest::prelude::*;

fn configs() -> impl Strategy<Value = AstConfig> {
    (
        prop::sample::select(Suite::ALL.to_vec()),
        prop::sample::select(Profile::ALL.to_vec()),
        0..u32::MAX,
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(suite, profile, device_id, key_rev, days)| AstConfig {
            suite,
            profile,
            device_id,
            key_rev,
            unit: if days { Unit::Days } else { Unit::Hours },
        })
}

fn secrets() -> impl Strategy<Value = AstSecret> {
    (configs(), any::<[u8; 16]>()).prop_map(|(c, k)| AstSecret::new(Key::new(k), c).unwrap())
}

fn params() -> impl Strategy<Value = Params> {
    proptest::collection::vec((0..16u8, any::<u16>()), 0..4).prop_map(|set| {
        let mut p = Params::EMPTY;
        for (id, v) in set {
            p.set(id, v);
        }
        p
    })
}

/// Any state, with the clocks near `now`'s range so both locked and unlocked cases occur.
fn states() -> impl Strategy<Value = AstState> {
    (
        (
            prop_oneof![0..300u32, any::<u32>()],
            any::<u64>(),
            any::<bool>(),
            any::<u32>(),
        ),
        params(),
        (
            any::<u8>(),
            prop_oneof![Just(0u32), 0..4_000u32, any::<u32>()],
        ),
        (0..4_000u32, 0..8u8),
    )
        .prop_map(
            |((max_counter, used, unlocked, credit), params, (fails, lock_until), (tws, tc))| {
                AstState {
                    max_counter,
                    used,
                    mode: if unlocked { Mode::Unlocked } else { Mode::Payg },
                    credit,
                    params,
                    fails,
                    lock_until,
                    test_window_start: tws,
                    test_count: tc,
                }
            },
        )
}

/// Entered text: keypad-like digit strings with separators, or any bytes.
fn inputs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![8 => b'0'..=b'9', 1 => Just(b' '), 1 => Just(b'-')],
            0..28
        ),
        proptest::collection::vec(prop_oneof![9 => b'1'..=b'4', 1 => Just(b' ')], 18..24),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn actions(profile: Profile) -> impl Strategy<Value = Action> {
    let v = profile.max_value();
    let pv = u16::try_from(profile.max_param_value()).unwrap();
    prop_oneof![
        (0..=v).prop_map(Action::AddCredit),
        (0..=v).prop_map(Action::SetCredit),
        Just(Action::UnlockPermanent),
        Just(Action::CounterSync),
        (0..16u8, 0..=pv).prop_map(|(id, value)| Action::SetParam { id, value }),
    ]
}

/// The state a verdict may leave, given the state before (spec §9.6, §10).
fn check_transition(
    before: &AstState,
    after: &AstState,
    verdict: &AstVerdict,
    now: u32,
) -> Result<(), TestCaseError> {
    match verdict {
        AstVerdict::Malformed(_) | AstVerdict::Duplicate { .. } | AstVerdict::Locked(_) => {
            prop_assert_eq!(after, before);
        }
        AstVerdict::Invalid { lock_seconds, .. } => {
            let expected_fails = before.fails.saturating_add(1);
            prop_assert_eq!(after.fails, expected_fails);
            prop_assert_eq!(*lock_seconds, access::lock_seconds(expected_fails));
            let lock_until = if *lock_seconds > 0 {
                now.saturating_add(*lock_seconds)
            } else {
                before.lock_until
            };
            prop_assert_eq!(
                *after,
                AstState {
                    fails: expected_fails,
                    lock_until,
                    ..*before
                }
            );
        }
        AstVerdict::Applied(m) if m.token_type() == access::TokenType::Test => {
            prop_assert_eq!(
                *after,
                AstState {
                    test_window_start: after.test_window_start,
                    test_count: after.test_count,
                    ..*before
                }
            );
            prop_assert!(after.test_count >= 1 && after.test_count <= access::TEST_RATE_MAX);
        }
        AstVerdict::Applied(m) => {
            prop_assert_eq!(after.fails, 0);
            prop_assert!(after.max_counter >= before.max_counter);
            prop_assert!(after.max_counter >= m.counter);
            prop_assert_eq!(
                (after.lock_until, after.test_window_start, after.test_count),
                (
                    before.lock_until,
                    before.test_window_start,
                    before.test_count
                )
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_input_any_state_is_total(secret in secrets(), state in states(), input in inputs(), now in 0..5_000u32) {
        let mut after = state;
        let verdict = access::verify(&secret, &mut after, &input, now);
        check_transition(&state, &after, &verdict, now)?;
        if now < state.lock_until {
            prop_assert_eq!(verdict, AstVerdict::Locked(Locked::Lockout { retry_at: state.lock_until }));
        }
    }

    #[test]
    fn typos_only_count_a_failure(secret in secrets(), state in states(), action_seed in any::<u32>(),
                                  position in any::<prop::sample::Index>(), digit in 0..10u8) {
        let profile = secret.config().profile;
        let counter = state.max_counter.saturating_add(1).max(1);
        let action = Action::AddCredit(action_seed % (profile.max_value() + 1));
        let token = access::generate(&secret, counter, action).unwrap().token;
        let mut typo = token.as_bytes().to_vec();
        let at = position.index(typo.len());
        typo[at] = if profile.is_base4() { b'1' + digit % 4 } else { b'0' + digit };
        let mut after = state;
        let now = state.lock_until;
        let verdict = access::verify(&secret, &mut after, &typo, now);
        check_transition(&state, &after, &verdict, now)?;
        if typo != token.as_bytes() {
            // A changed digit is caught unless it forges a 24-bit or longer tag (odds ≤ 2^-24).
            prop_assert!(!matches!(verdict, AstVerdict::Applied(_)), "{:?}", verdict);
        }
    }

    #[test]
    fn genuine_tokens_apply_exactly_once((secret, action) in secrets().prop_flat_map(|s| {
                                             let p = s.config().profile;
                                             (Just(s), actions(p))
                                         }),
                                         state in states(), ahead in 1..=191u32, now in 0..5_000u32) {
        let profile = secret.config().profile;
        let mut state = AstState { lock_until: 0, ..state };
        state.max_counter = state.max_counter.min(u32::MAX - 200);
        let counter = state.max_counter + 1 + (ahead - 1) % profile.forward_window();
        let issued = access::generate(&secret, counter, action).unwrap();
        let before = state;
        let verdict = access::verify(&secret, &mut state, issued.token.as_bytes(), now);
        let AstVerdict::Applied(m) = verdict else {
            return Err(TestCaseError::fail(format!("{verdict:?}")));
        };
        check_transition(&before, &state, &verdict, now)?;
        prop_assert_eq!((m.action, m.counter, m.value), (action, counter, issued.value));
        prop_assert_eq!(state.max_counter, counter);
        match action {
            Action::AddCredit(v) => prop_assert_eq!(state.credit, before.credit.saturating_add(v)),
            Action::SetCredit(v) => prop_assert_eq!((state.credit, state.mode), (v, Mode::Payg)),
            Action::UnlockPermanent => prop_assert_eq!((state.credit, state.mode), (before.credit, Mode::Unlocked)),
            Action::SetParam { id, value } => prop_assert_eq!(state.params.get(id), Some(value)),
            Action::CounterSync | Action::Test(_) => prop_assert_eq!(state.credit, before.credit),
        }
        if action.token_type().is_barrier() {
            prop_assert_eq!(state.used, profile.used_mask());
        }
        let applied = state;
        let again = access::verify(&secret, &mut state, issued.token.as_bytes(), now);
        prop_assert!(
            matches!(again, AstVerdict::Duplicate { reason: DuplicateReason::Used, .. }),
            "{:?}",
            again
        );
        prop_assert_eq!(state, applied);
    }

    #[test]
    fn older_adds_in_the_back_window_apply_once(secret in secrets(), max in 70..100_000u32, used in any::<u64>(), back in 1..=64u32, value in 0..256u32) {
        let profile = secret.config().profile;
        let back = 1 + (back - 1) % profile.back_window();
        let counter = max - back;
        let bit = 1u64 << (back - 1);
        let mut state = AstState { max_counter: max, used: used & profile.used_mask(), ..AstState::FRESH };
        let token = access::generate(&secret, counter, Action::AddCredit(value)).unwrap().token;
        let first = access::verify(&secret, &mut state, token.as_bytes(), 0);
        if used & bit == 0 {
            prop_assert!(matches!(first, AstVerdict::Applied(_)), "{:?}", first);
            prop_assert_eq!(state.used & bit, bit);
            prop_assert_eq!(state.credit, value);
        } else {
            prop_assert!(matches!(first, AstVerdict::Duplicate { reason: DuplicateReason::Used, .. }), "{:?}", first);
        }
        let again = access::verify(&secret, &mut state, token.as_bytes(), 0);
        prop_assert!(matches!(again, AstVerdict::Duplicate { reason: DuplicateReason::Used, .. }), "{:?}", again);
    }

    #[test]
    fn counter_sync_reaches_far_and_never_lowers(secret in secrets(), max in 0..1_000_000u32, ahead in 1..1_000_000u32) {
        let profile = secret.config().profile;
        let reach = (1u32 << (profile.counter_bits() + profile.value_bits())) - profile.back_window() - 1;
        let counter = max + 1 + (ahead - 1) % reach;
        let token = access::generate(&secret, counter, Action::CounterSync).unwrap().token;
        let mut state = AstState { max_counter: max, ..AstState::FRESH };
        let verdict = access::verify(&secret, &mut state, token.as_bytes(), 0);
        prop_assert!(matches!(verdict, AstVerdict::Applied(m) if m.counter == counter), "{:?}", verdict);
        prop_assert_eq!((state.max_counter, state.used), (counter, profile.used_mask()));
    }

    #[test]
    fn adapters_round_trip(secret in secrets(), amount in 0..=255u32, start in 1..1_000u32, which in 0..6u8, now in 0..10_000u32) {
        let unit = match secret.config().unit {
            Unit::Hours => TimeUnit::Hours,
            Unit::Days => TimeUnit::Days,
        };
        let command = match which {
            0 => Command::AddCredit(Credit::new(amount, unit)),
            1 => Command::SetCredit(Credit::new(amount, unit)),
            2 => Command::Unlock,
            3 => Command::CounterSync,
            4 => Command::SetParam { id: u16::from(access::PARAM_MAX_LOAD_W), value: amount % 16 },
            _ => Command::Test(access::TEST_SHOW_INFO),
        };
        let mut counter = start;
        let token = AstIssuer.issue(&secret, &mut counter, &command).unwrap();
        let is_test = matches!(command, Command::Test(_));
        prop_assert_eq!(counter, if is_test { start } else { start + 1 });
        let mut state = AstState { max_counter: start - 1, ..AstState::FRESH };
        let at = Context::at(now);
        let outcome = AstVerifier::new().verify(&secret, &mut state, token.as_bytes(), &at);
        let sequence = if is_test { 0 } else { start };
        prop_assert_eq!(outcome, Outcome::Applied { command, sequence, spent: !is_test });
        if !is_test {
            prop_assert_eq!(AstVerifier::new().verify(&secret, &mut state, token.as_bytes(), &at), Outcome::Duplicate);
        }
    }

    #[test]
    fn bad_requests_are_typed_errors(secret in secrets(), extra in 1..1_000u32, counter in 1..1_000u32) {
        let profile = secret.config().profile;
        let too_big = profile.max_value() + extra;
        prop_assert_eq!(
            access::generate(&secret, counter, Action::AddCredit(too_big)),
            Err(AstIssueError::OutOfRange { field: "value", found: too_big, max: profile.max_value() })
        );
        prop_assert_eq!(access::generate(&secret, 0, Action::SetCredit(1)), Err(AstIssueError::CounterZero));
        let param = access::generate(&secret, counter, Action::SetParam { id: 16, value: 0 });
        prop_assert!(param.is_err(), "{:?}", param);
        prop_assert!(matches!(
            AstIssuer.issue(&secret, &mut 5, &Command::AddCredit(Credit::new(90, TimeUnit::Minutes))),
            Err(IssueError::Unit)
        ));
        let scheme = AstIssuer.issue(&secret, &mut 5, &Command::Scheme { kind: 1, arg: 2 });
        prop_assert_eq!(scheme, Err(IssueError::Unsupported));
    }
}

#[test]
fn hours_and_days_convert_exactly() {
    let config = AstConfig {
        suite: Suite::SipHash24,
        profile: Profile::L,
        device_id: 1,
        key_rev: 0,
        unit: Unit::Hours,
    };
    let secret = AstSecret::new(Key::new([1; 16]), config).unwrap();
    let mut counter = 1;
    let day = Command::AddCredit(Credit::new(2, TimeUnit::Days));
    let token = AstIssuer.issue(&secret, &mut counter, &day).unwrap();
    let mut state = AstState::default();
    assert_eq!(
        AstVerifier::new().verify(&secret, &mut state, token.as_bytes(), &Context::at(0)),
        Outcome::Applied {
            command: Command::AddCredit(Credit::new(48, TimeUnit::Hours)),
            sequence: 1,
            spent: true,
        }
    );
    let third = Command::AddCredit(Credit::new(1, TimeUnit::DayFraction(3)));
    assert_eq!(
        AstIssuer.issue(&secret, &mut counter, &third),
        Ok(access::generate(&secret, 2, Action::AddCredit(8))
            .unwrap()
            .token)
    );
    let seventh = Command::AddCredit(Credit::new(1, TimeUnit::DayFraction(7)));
    assert_eq!(
        AstIssuer.issue(&secret, &mut counter, &seventh),
        Err(IssueError::Unit)
    );
    assert_eq!(counter, 3);
    let mut last = u32::MAX;
    assert_eq!(
        AstIssuer.issue(&secret, &mut last, &Command::Unlock),
        Err(IssueError::CounterExhausted {
            field: "counter",
            counter: u32::MAX
        })
    );
    assert_eq!(last, u32::MAX);
    assert_eq!(
        AstSecret::new(
            Key::new([1; 16]),
            AstConfig {
                device_id: access::TEST_DEVICE_ID,
                ..config
            }
        )
        .unwrap_err(),
        access::AstConfigError::TestDeviceId
    );
}

/// Lockout: failures past the grace lock the keypad, the lock refuses even genuine codes, and
/// only an applied device-key token clears the count, never a duplicate or a TEST code.
#[test]
fn lockout_is_not_cleared_by_free_codes() {
    let config = AstConfig {
        suite: Suite::SipHash24,
        profile: Profile::S,
        device_id: 42,
        key_rev: 0,
        unit: Unit::Days,
    };
    let secret = AstSecret::new(Key::new([5; 16]), config).unwrap();
    let good = access::generate(&secret, 1, Action::AddCredit(3))
        .unwrap()
        .token;
    let test = access::test_code(Suite::SipHash24, Profile::S, 0).unwrap();
    let mut state = AstState::FRESH;
    let mut now = 10_000;
    assert!(matches!(
        access::verify(&secret, &mut state, good.as_bytes(), now),
        AstVerdict::Applied(_)
    ));
    let bad = b"1111 1111 1111 1111 1111";
    for k in 1..=4u8 {
        let v = access::verify(&secret, &mut state, bad, now);
        assert!(matches!(v, AstVerdict::Invalid { .. }), "{v:?}");
        assert_eq!(state.fails, k);
    }
    assert_eq!(state.lock_until, now + 60);
    let v = access::verify(&secret, &mut state, test.as_bytes(), now + 59);
    assert_eq!(
        v,
        AstVerdict::Locked(Locked::Lockout { retry_at: now + 60 })
    );
    now += 60;
    // Neither the duplicate nor the public TEST code resets `fails`.
    assert!(matches!(
        access::verify(&secret, &mut state, good.as_bytes(), now),
        AstVerdict::Duplicate { .. }
    ));
    assert!(matches!(
        access::verify(&secret, &mut state, test.as_bytes(), now),
        AstVerdict::Applied(_)
    ));
    assert_eq!(state.fails, 4);
    let v = access::verify(&secret, &mut state, bad, now);
    assert!(
        matches!(
            v,
            AstVerdict::Invalid {
                lock_seconds: 120,
                ..
            }
        ),
        "{v:?}"
    );
    now += 120;
    let next = access::generate(&secret, 2, Action::AddCredit(1))
        .unwrap()
        .token;
    assert!(matches!(
        access::verify(&secret, &mut state, next.as_bytes(), now),
        AstVerdict::Applied(_)
    ));
    assert_eq!((state.fails, state.credit), (0, 4));
}

/// Counters around 16 bits and the top of the `u32` range.
fn edge_counters() -> impl Strategy<Value = u32> {
    prop_oneof![
        65_500..=65_600u32,
        (u32::MAX - 300)..=u32::MAX,
        Just(u32::MAX),
        Just(u32::MAX - 1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The trait issuer's counter only grows; at `u32::MAX` it is `CounterExhausted` and the
    /// counter stays. TEST codes carry no counter and issue anywhere.
    #[test]
    fn issuer_counters_never_wrap((secret, action) in secrets().prop_flat_map(|s| {
                                      let p = s.config().profile;
                                      (Just(s), actions(p))
                                  }),
                                  start in edge_counters()) {
        let command = match action {
            Action::AddCredit(v) => Command::AddCredit(Credit::new(v, unit_of(&secret))),
            Action::SetCredit(v) => Command::SetCredit(Credit::new(v, unit_of(&secret))),
            Action::UnlockPermanent => Command::Unlock,
            Action::CounterSync => Command::CounterSync,
            Action::SetParam { id, value } => Command::SetParam { id: id.into(), value: value.into() },
            Action::Test(id) => Command::Test(id),
        };
        let mut counter = start;
        match AstIssuer.issue(&secret, &mut counter, &command) {
            Ok(token) => {
                prop_assert_eq!(Some(counter), start.checked_add(1));
                prop_assert_eq!(token, access::generate(&secret, start, action).unwrap().token);
            }
            Err(e) => {
                prop_assert_eq!(start, u32::MAX);
                prop_assert_eq!(e, IssueError::CounterExhausted { field: "counter", counter: start });
                prop_assert_eq!(counter, start);
            }
        }
    }

    /// A device whose counter is near 65535 or `u32::MAX` applies a token ahead of it once,
    /// and a token whose counter would lie past `u32::MAX` (issued at the wrapped-around
    /// counter, with the same low bits) is INVALID, never taken as a low counter.
    #[test]
    fn device_counters_never_wrap((secret, action) in secrets().prop_flat_map(|s| {
                                      let p = s.config().profile;
                                      (Just(s), actions(p))
                                  }),
                                  max in edge_counters(), ahead in 1..=191u32, used in any::<u64>()) {
        let profile = secret.config().profile;
        let mask = profile.used_mask();
        let before = AstState { max_counter: max, used: used & mask, ..AstState::FRESH };
        let mut state = before;
        let ahead = 1 + (ahead - 1) % profile.forward_window();
        if let Some(counter) = max.checked_add(ahead) {
            let token = access::generate(&secret, counter, action).unwrap().token;
            let verdict = access::verify(&secret, &mut state, token.as_bytes(), 0);
            prop_assert!(matches!(verdict, AstVerdict::Applied(m) if m.counter == counter), "{:?}", verdict);
            check_transition(&before, &state, &verdict, 0)?;
            prop_assert_eq!(state.max_counter, counter);
            let applied = state;
            let again = access::verify(&secret, &mut state, token.as_bytes(), 0);
            prop_assert!(matches!(again, AstVerdict::Duplicate { .. }), "{:?}", again);
            prop_assert_eq!(state, applied);
        } else {
            let wrapped = max.wrapping_add(ahead);
            prop_assume!(wrapped != 0);
            let token = access::generate(&secret, wrapped, action).unwrap().token;
            let verdict = access::verify(&secret, &mut state, token.as_bytes(), 0);
            prop_assert!(
                matches!(verdict, AstVerdict::Invalid { reason: InvalidReason::Counter, .. }),
                "{:?}", verdict
            );
            check_transition(&before, &state, &verdict, 0)?;
        }
    }
}

fn unit_of(secret: &AstSecret) -> TimeUnit {
    match secret.config().unit {
        Unit::Hours => TimeUnit::Hours,
        Unit::Days => TimeUnit::Days,
    }
}
