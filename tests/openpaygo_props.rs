//! Properties over arbitrary inputs: no panic, refusals change nothing, no replay, round trips.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::openpaygo::{
    COUNT_CEILING, Form, OpenPaygoDeviceState, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret,
    OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
};
use paylock::{Command, Context, Credit, IssueError, Issuer, Key, Outcome, TimeUnit, Verifier};
use proptest::prelude::*;

fn forms() -> impl Strategy<Value = Form> {
    (any::<bool>(), any::<bool>()).prop_map(|(extended, restricted_digit_set)| Form {
        extended,
        restricted_digit_set,
    })
}

fn secrets() -> impl Strategy<Value = OpenPaygoSecret> {
    (any::<[u8; 16]>(), 0..=999_999_999u32)
        .prop_map(|(k, sc)| OpenPaygoSecret::new(Key::new(k), sc).unwrap())
}

fn states() -> impl Strategy<Value = OpenPaygoState> {
    (0..400u32, any::<u16>()).prop_map(|(max_count, used_counts)| OpenPaygoState {
        max_count,
        used_counts,
    })
}

fn messages(form: Form) -> impl Strategy<Value = OpenPaygoMessage> {
    let max = form.max_value();
    prop_oneof![
        (0..=max).prop_map(OpenPaygoMessage::AddTime),
        (0..=max).prop_map(OpenPaygoMessage::SetTime),
        Just(OpenPaygoMessage::DisablePayg),
        Just(OpenPaygoMessage::CounterSync),
    ]
}

/// Entered text: mostly keypad-like, sometimes anything.
fn inputs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(b'0'..=b'9', 0..24),
        proptest::collection::vec(b'1'..=b'4', 14..22),
        proptest::collection::vec(any::<u8>(), 0..32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn refusals_never_change_state(secret in secrets(), form in forms(), state in states(), input in inputs()) {
        let state = OpenPaygoDeviceState::from(state);
        let mut after = state;
        let outcome = OpenPaygoVerifier::new(form).verify(&secret, &mut after, &input, &Context::at(0));
        match outcome {
            Outcome::Applied { sequence, spent, .. } => {
                // Every applied OpenPAYGO token spends its count.
                prop_assert!(spent);
                prop_assert!(after.counts.max_count >= state.counts.max_count);
                prop_assert!(after.counts.max_count >= sequence);
                // Entering it again is refused and changes nothing.
                let mut again = after;
                let replay = OpenPaygoVerifier::new(form).verify(&secret, &mut again, &input, &Context::at(0));
                prop_assert!(
                    matches!(replay, Outcome::Duplicate | Outcome::Rejected(_)) && again == after,
                    "replay of {:?} gave {:?}", input, replay
                );
            }
            Outcome::Duplicate | Outcome::Rejected(_) => prop_assert_eq!(after, state),
        }
    }

    #[test]
    fn generated_tokens_apply_once((form, message) in forms().prop_flat_map(|f| (Just(f), messages(f))),
                                   secret in secrets(), count in 0..300u32, used in any::<u16>()) {
        let issued = OpenPaygoIssuer::new(form).generate(&secret, count, message).unwrap();
        prop_assert_eq!(issued.token.len(), form.token_len());
        let decoder = OpenPaygoVerifier::new(form);
        let mut state = OpenPaygoState { max_count: count, used_counts: used };
        let OpenPaygoVerdict::Valid(a) = decoder.decode(&secret, &mut state, issued.token.as_bytes()).unwrap() else {
            return Err(TestCaseError::fail("a fresh token must be valid"));
        };
        // A chance collision at a lower count (about 1e-6 per count) would show up here.
        prop_assert_eq!(a.count, issued.count);
        prop_assert_eq!(a.value, message.value());
        prop_assert_eq!(state.max_count, issued.count);
        let before = state;
        let again = decoder.decode(&secret, &mut state, issued.token.as_bytes()).unwrap();
        if let OpenPaygoVerdict::Valid(later) = again {
            // Only 6 digits of a token are authenticated: about 1 in 10^6 counts scanned also
            // carries this text. Then it is that count's own token, above the first one.
            if later.count > a.count {
                prop_assert!(is_token_at(&secret, form, issued.token.as_str(), later.count, later.value));
                return Ok(());
            }
        }
        prop_assert_eq!(again, OpenPaygoVerdict::AlreadyUsed);
        prop_assert_eq!(state, before);
        if message == OpenPaygoMessage::CounterSync && !form.extended {
            // The vectors' model takes a sync again inside the window ("replay COUNTER_SYNC"),
            // without moving the count.
            let replay = decoder.allowing_sync_replays().decode(&secret, &mut state, issued.token.as_bytes());
            prop_assert!(matches!(replay, Ok(OpenPaygoVerdict::Valid(_))), "{:?}", replay);
            prop_assert_eq!(state.max_count, before.max_count);
        }
    }

    #[test]
    fn out_of_range_requests_are_typed_errors(secret in secrets(), form in forms(), extra in 1..1000u32, count in 0..10u32) {
        let too_big = form.max_value() + extra;
        prop_assert!(OpenPaygoIssuer::new(form).generate(&secret, count, OpenPaygoMessage::AddTime(too_big)).is_err());
        prop_assert!(OpenPaygoIssuer::new(form).generate(&secret, u32::MAX - count % 2, OpenPaygoMessage::SetTime(1)).is_err());
    }
}

/// Whether `token` is the chain's own token for `value` at `count`.
fn is_token_at(secret: &OpenPaygoSecret, form: Form, token: &str, count: u32, value: u32) -> bool {
    OpenPaygoIssuer::new(form)
        .token_at(secret, count, value)
        .is_ok_and(|t| t.as_str() == token)
}

#[test]
fn starting_codes_above_nine_digits_are_refused() {
    let key = Key::new([7; 16]);
    assert!(OpenPaygoSecret::new(key.clone(), 999_999_999).is_ok());
    assert!(OpenPaygoSecret::new(key, 1_000_000_000).is_err());
}

/// Every unused even count in the 16 below the max is accepted exactly once, and a SET spends them.
#[test]
fn older_tokens_inside_the_window_once_each() {
    let secret = OpenPaygoSecret::new(Key::new([3; 16]), 555_444_001).unwrap();
    let (enc, dec) = (
        OpenPaygoIssuer::new(Form::STANDARD),
        OpenPaygoVerifier::new(Form::STANDARD),
    );
    let tokens: Vec<_> = (0..20)
        .map(|i| {
            enc.generate(&secret, 2 * i, OpenPaygoMessage::AddTime(i))
                .unwrap()
        })
        .collect();
    let mut state = OpenPaygoState::default();
    let newest = tokens.last().unwrap();
    assert!(matches!(
        dec.decode(&secret, &mut state, newest.token.as_bytes()),
        Ok(OpenPaygoVerdict::Valid(_))
    ));
    for t in tokens.iter().rev().skip(1) {
        let fresh = t.count + 16 > state.max_count;
        let first = dec.decode(&secret, &mut state, t.token.as_bytes()).unwrap();
        assert_eq!(
            matches!(first, OpenPaygoVerdict::Valid(_)),
            fresh,
            "count {}",
            t.count
        );
        assert_eq!(
            dec.decode(&secret, &mut state, t.token.as_bytes()).unwrap(),
            OpenPaygoVerdict::AlreadyUsed
        );
    }
    let set = enc
        .generate(&secret, newest.count, OpenPaygoMessage::SetTime(5))
        .unwrap();
    assert!(matches!(
        dec.decode(&secret, &mut state, set.token.as_bytes()),
        Ok(OpenPaygoVerdict::Valid(_))
    ));
    assert_eq!(state.used_counts, u16::MAX);
}

/// Counts around 16 bits (C devices keep the count in a `u16`), the ceiling and `u32::MAX`.
fn edge_counts() -> impl Strategy<Value = u32> {
    prop_oneof![
        65_530..=65_540u32,
        (COUNT_CEILING - 4)..=(COUNT_CEILING + 2),
        (u32::MAX - 2)..=u32::MAX,
    ]
}

/// A command the standard and extended issuers both carry, and one only standard ones do.
fn edge_commands() -> impl Strategy<Value = Command> {
    prop_oneof![
        (0..=995u32).prop_map(|d| Command::AddCredit(Credit::new(d, TimeUnit::Days))),
        (0..=995u32).prop_map(|d| Command::SetCredit(Credit::new(d, TimeUnit::Days))),
        Just(Command::Unlock),
        Just(Command::CounterSync),
    ]
}

proptest! {
    // A decode hashes up to ~2^17 chain steps here: few cases, every edge still drawn often.
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Near 65535 / 65536, the ceiling and `u32::MAX` the issuer's count only grows, stops
    /// with `CounterExhausted` at the ceiling, and the token applies once on a device there.
    #[test]
    fn counts_never_wrap_at_the_edges(
        secret in secrets(),
        form in forms(),
        count in edge_counts(),
        command in edge_commands(),
        used in any::<u16>(),
    ) {
        let encoder = OpenPaygoIssuer::new(form);
        let mut counter = count;
        let token = match encoder.issue(&secret, &mut counter, &command) {
            Ok(token) => token,
            Err(IssueError::Unsupported) => {
                prop_assert!(form.extended && !matches!(command, Command::AddCredit(_) | Command::SetCredit(_)));
                return Ok(());
            }
            Err(IssueError::CounterExhausted { field, counter: given }) => {
                prop_assert_eq!((field, given, counter), ("count", count, count));
                prop_assert!(count <= COUNT_CEILING && count + 2 > COUNT_CEILING);
                return Ok(());
            }
            Err(e) => {
                prop_assert!(matches!(e, IssueError::OutOfRange { field: "count", .. }), "{:?}", e);
                prop_assert!(count > COUNT_CEILING && counter == count);
                return Ok(());
            }
        };
        prop_assert!(counter > count && counter - count <= 2 && counter <= COUNT_CEILING);
        let decoder = OpenPaygoVerifier::new(form);
        let mut state = OpenPaygoState { max_count: count, used_counts: used };
        let OpenPaygoVerdict::Valid(a) = decoder.decode(&secret, &mut state, token.as_bytes()).unwrap() else {
            return Err(TestCaseError::fail("a fresh token must be valid"));
        };
        prop_assert_eq!((a.count, state.max_count), (counter, counter));
        let mut state = OpenPaygoDeviceState::from(state);
        let after = state;
        match OpenPaygoVerifier::new(form).verify(&secret, &mut state, token.as_bytes(), &Context::at(0)) {
            // A chance collision with a later count's token (see `generated_tokens_apply_once`).
            Outcome::Applied { sequence, command, .. } if sequence > counter => {
                let value = match command {
                    Command::AddCredit(c) | Command::SetCredit(c) => c.amount,
                    other => return Err(TestCaseError::fail(format!("{other:?}"))),
                };
                prop_assert!(is_token_at(&secret, form, token.as_str(), sequence, value));
            }
            again => prop_assert_eq!((again, state), (Outcome::Duplicate, after)),
        }
    }

    /// A device whose stored count is at or past the ceiling (or anywhere up to `u32::MAX`)
    /// takes no new count: at most an unused older ADD below its count, once.
    #[test]
    fn devices_past_the_ceiling_take_nothing(
        secret in secrets(),
        form in forms(),
        max_count in prop_oneof![COUNT_CEILING..=(COUNT_CEILING + 2), (u32::MAX - 2)..=u32::MAX],
        used in any::<u16>(),
        issued_at in (COUNT_CEILING - 70)..COUNT_CEILING,
    ) {
        let token = OpenPaygoIssuer::new(form).generate(&secret, issued_at - 1, OpenPaygoMessage::AddTime(1));
        let Ok(token) = token else { return Ok(()) };
        let before = OpenPaygoState { max_count, used_counts: used };
        let mut state = before;
        let decoder = OpenPaygoVerifier::new(form);
        match decoder.decode(&secret, &mut state, token.token.as_bytes()).unwrap() {
            OpenPaygoVerdict::Valid(a) => {
                prop_assert!(a.count < max_count && a.count + 16 > max_count);
                prop_assert_eq!(state.max_count, max_count);
                let after = state;
                let again = decoder.decode(&secret, &mut state, token.token.as_bytes()).unwrap();
                prop_assert_eq!((again, state), (OpenPaygoVerdict::AlreadyUsed, after));
            }
            _ => prop_assert_eq!(state, before),
        }
    }
}
