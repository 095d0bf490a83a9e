//! Nexus properties over arbitrary inputs: the device never panics, a refused code changes no
//! state, issued codes apply exactly once, the verifier survives any input and keeps the
//! `Verifier` contract.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::nexus::{
    Feedback, FullIssuer, KIND_NO_CREDIT_CHANGE, KeycodeProcessor, NexusConfig, NexusIssueError,
    NexusState, NexusVerifier, PaygState, Platform, Processed, Protocol, RateLimit, Response,
    SetTarget, SmallIssuer, Window, WipeTarget, small,
};
use paylock::{
    Command, Context, Credit, IssueError, Issuer, Key, Outcome, Payg, TimeUnit, Verifier,
};
use proptest::prelude::*;

/// A product that accepts every passthrough and counts credit calls.
#[derive(Debug, Default)]
struct Product {
    credit: u64,
    unlocked: bool,
    credit_calls: Vec<(char, u32)>,
    passthrough_ok: bool,
}

impl Platform for Product {
    fn payg_state(&self) -> PaygState {
        if self.unlocked {
            PaygState::Unlocked
        } else if self.credit > 0 {
            PaygState::Enabled
        } else {
            PaygState::Disabled
        }
    }
    fn add_credit(&mut self, seconds: u32) {
        self.credit_calls.push(('a', seconds));
        self.credit += u64::from(seconds);
    }
    fn set_credit(&mut self, seconds: u32) {
        self.credit_calls.push(('s', seconds));
        self.credit = u64::from(seconds);
        self.unlocked = false;
    }
    fn unlock(&mut self) {
        self.credit_calls.push(('u', 0));
        self.unlocked = true;
    }
    fn passthrough(&mut self, _digits: &[u8]) -> bool {
        self.passthrough_ok
    }
    fn user_facing_id(&self) -> u32 {
        123_456_789
    }
    fn feedback(&mut self, _feedback: Feedback) {}
}

fn protocols() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Full), Just(Protocol::Small)]
}

fn states() -> impl Strategy<Value = NexusState> {
    (
        prop_oneof![23..200u32, any::<u32>(), (u32::MAX - 100)..=u32::MAX],
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(
            |(pd_index, received, qs, ql, restricted, grace)| NexusState {
                window: Window { pd_index, received },
                qc_short_count: qs,
                qc_long_count: ql,
                restricted,
                grace_keycodes: grace,
            },
        )
}

/// Keys from the keypad most of the time, anything sometimes.
fn key_runs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(b"0123456789*#12345".to_vec()), 0..48),
        1 => proptest::collection::vec(any::<u8>(), 0..48),
    ]
}

fn keys() -> impl Strategy<Value = Key> {
    any::<[u8; 16]>().prop_map(Key::new)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn whole_codes_never_panic_and_refusals_change_nothing(
        protocol in protocols(),
        key in keys(),
        mut state in states(),
        input in key_runs(),
        credit in prop_oneof![Just(0u64), 1..1_000_000u64],
        unlocked in any::<bool>(),
        passthrough_ok in any::<bool>(),
    ) {
        let mut product = Product { credit, unlocked, passthrough_ok, ..Product::default() };
        let before = state;
        let mut device = KeycodeProcessor::new(NexusConfig::new(protocol).without_rate_limit(), &state);
        let got = device.enter_keycode(&input, 0, &key, &mut state, &mut product);
        if got.response == Response::Invalid {
            prop_assert_eq!(state, before);
            prop_assert!(product.credit_calls.is_empty());
        }
        if got.response == Response::None && got.message_id.is_none() {
            prop_assert_eq!(state, before);
        }
    }

    #[test]
    fn key_by_key_never_panics_and_refusals_change_nothing(
        protocol in protocols(),
        key in keys(),
        mut state in states(),
        input in key_runs(),
        steps in proptest::collection::vec(0..40u32, 48),
        limited in any::<bool>(),
    ) {
        let mut product = Product::default();
        let config = if limited {
            NexusConfig::new(protocol)
        } else {
            NexusConfig::new(protocol).without_rate_limit()
        };
        let mut device = KeycodeProcessor::new(config, &state);
        let mut now = 0u32;
        for (&k, &step) in input.iter().zip(&steps) {
            now = now.saturating_add(step);
            let window = state.window;
            let qc = (state.qc_short_count, state.qc_long_count, state.restricted);
            if let Some(Processed { response: Response::Invalid, .. }) =
                device.press_key(k, now, &key, &mut state, &mut product)
            {
                prop_assert_eq!(state.window, window);
                prop_assert_eq!((state.qc_short_count, state.qc_long_count, state.restricted), qc);
            }
        }
        device.tick(now.saturating_add(1_000), &mut state);
        if limited {
            prop_assert!(state.grace_keycodes <= RateLimit::DEFAULT.initial_attempts);
        }
    }

    #[test]
    fn issued_full_codes_apply_exactly_once(
        key in keys(),
        pd in 23..65_000u32,
        offset in -23i64..=40,
        hours in 0..=99_999u32,
    ) {
        let id = u32::try_from(i64::from(pd) + offset).unwrap();
        let code = FullIssuer::new().add_credit(&key, id, hours).unwrap();
        let mut state = NexusState::FRESH;
        state.window.pd_index = pd;
        let mut product = Product::default();
        let mut device = KeycodeProcessor::new(NexusConfig::full().without_rate_limit(), &state);
        let first = device.enter_keycode(code.keys().as_bytes(), 0, &key, &mut state, &mut product);
        prop_assert_eq!(first, Processed { response: Response::ValidApplied, message_id: Some(id) });
        prop_assert_eq!(&product.credit_calls, &vec![('a', hours * 3_600)]);
        let again = device.enter_keycode(code.keys().as_bytes(), 1, &key, &mut state, &mut product);
        prop_assert_eq!(again.response, Response::ValidDuplicate);
        prop_assert_eq!(product.credit_calls.len(), 1);
    }

    #[test]
    fn issued_small_codes_apply_exactly_once(
        key in keys(),
        pd in 23..65_000u32,
        offset in -23i64..=40,
        days in 1..=405u16,
    ) {
        let id = u32::try_from(i64::from(pd) + offset).unwrap();
        let code = SmallIssuer::new().add_credit(&key, id, days).unwrap();
        let mut state = NexusState::FRESH;
        state.window.pd_index = pd;
        let mut product = Product::default();
        let mut device = KeycodeProcessor::new(NexusConfig::small().without_rate_limit(), &state);
        let first = device.enter_keycode(code.keys().as_bytes(), 0, &key, &mut state, &mut product);
        prop_assert_eq!(first, Processed { response: Response::ValidApplied, message_id: Some(id) });
        let applied = u32::from(small::add_credit_days(small::add_credit_increment(days).unwrap()).unwrap());
        prop_assert_eq!(&product.credit_calls, &vec![('a', applied * 86_400)]);
        let again = device.enter_keycode(code.keys().as_bytes(), 1, &key, &mut state, &mut product);
        prop_assert_eq!(again.response, Response::ValidDuplicate);
    }

    /// An extended code issued at the window's centre is taken under its own ID, once.
    #[test]
    fn issued_extended_codes_apply_under_their_id(
        key in keys(),
        pd in 23..65_000u32,
        days in 0..=960u16,
    ) {
        let issuer = SmallIssuer::new();
        let id = issuer.next_extended_id(&key, pd, SetTarget::Days(days)).unwrap();
        prop_assume!(id == pd);
        let code = issuer.extended_set_credit_wipe_restricted(&key, id, SetTarget::Days(days)).unwrap();
        let mut state = NexusState::FRESH;
        state.window.pd_index = pd;
        state.restricted = true;
        let mut product = Product::default();
        let mut device = KeycodeProcessor::new(NexusConfig::small().without_rate_limit(), &state);
        let first = device.enter_keycode(code.keys().as_bytes(), 0, &key, &mut state, &mut product);
        prop_assert_eq!(first, Processed { response: Response::None, message_id: Some(id) });
        prop_assert!(!state.restricted);
        let again = device.enter_keycode(code.keys().as_bytes(), 1, &key, &mut state, &mut product);
        prop_assert_eq!(again, Processed { response: Response::None, message_id: None });
    }

    #[test]
    fn verifier_takes_any_input(
        key in keys(),
        input in proptest::collection::vec(any::<u8>(), 0..200),
        nexus in states(),
        small_protocol in any::<bool>(),
    ) {
        let verifier = if small_protocol { NexusVerifier::small() } else { NexusVerifier::full(1) };
        let mut state = nexus;
        let at = Context { now: 0, payg: Payg::Enabled, active: true };
        match verifier.verify(&key, &mut state, &input, &at) {
            Outcome::Applied { .. } => {}
            Outcome::Duplicate | Outcome::Rejected(_) => prop_assert_eq!(state, nexus),
        }
    }
}

/// A full-protocol code of every kind the verifier treats differently: spent codes (ADD, SET,
/// UNLOCK and wipes at `id`) and reusable ones (demo, factory and device-ID codes).
fn full_code(key: &Key, id: u32, which: u8, amount: u32) -> String {
    let issuer = FullIssuer::new().allowing_ids_above_65534();
    let code = match which {
        0 => issuer.add_credit(key, id, amount),
        1 => issuer.set_credit(key, id, amount),
        2 => issuer.unlock(key, id),
        3 => issuer.wipe_state(
            key,
            id,
            WipeTarget::from_digit(u8::try_from(amount % 4).unwrap()).unwrap(),
        ),
        4 => issuer.allowing_demo_codes().demo(key, id, amount),
        5 => Ok(FullIssuer::allow_test()),
        6 => FullIssuer::oqc_test(if amount.is_multiple_of(2) { 60 } else { 5 }),
        _ => Ok(FullIssuer::device_id_confirmation(1)),
    };
    code.unwrap().keys().as_str().to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The `Verifier` contract, for every kind of code in every PAYG state: a spent code leaves
    /// its ID recorded and never applies again; a reusable one records nothing; any other
    /// outcome leaves the state as it was. An ADD
    /// entered while unlocked is `Applied` with no credit change: it spends its ID.
    #[test]
    fn the_verifier_keeps_the_contract(
        key in keys(),
        nexus in states(),
        offset in -23i64..=40,
        which in 0..8u8,
        amount in 0..1_000u32,
        payg in prop_oneof![Just(Payg::Enabled), Just(Payg::Unlocked)],
        active in any::<bool>(),
    ) {
        let Ok(id) = u32::try_from(i64::from(nexus.window.pd_index) + offset) else { return Ok(()) };
        let code = full_code(&key, id, which, amount);
        let verifier = NexusVerifier::full(1);
        let at = Context { now: 0, payg, active };
        let mut state = nexus;
        match verifier.verify(&key, &mut state, code.as_bytes(), &at) {
            Outcome::Applied { sequence, spent: true, command } => {
                prop_assert_eq!(sequence, id);
                prop_assert!(state.window.is_received(id));
                if which == 0 && payg == Payg::Unlocked {
                    prop_assert_eq!(command, Command::Scheme { kind: KIND_NO_CREDIT_CHANGE, arg: 0 });
                }
                let mut again = state;
                let replay = verifier.verify(&key, &mut again, code.as_bytes(), &at);
                prop_assert!(
                    !matches!(replay, Outcome::Applied { spent: true, .. }) && again == state,
                    "{:?} {:?}", replay, again
                );
            }
            Outcome::Applied { spent: false, .. } => {
                prop_assert!(which >= 3, "a credit code spent no ID");
                prop_assert!(!state.window.is_received(id) || nexus.window.is_received(id));
            }
            Outcome::Duplicate | Outcome::Rejected(_) => prop_assert_eq!(state, nexus),
        }
    }
}

/// Message IDs around the edges of 16 and 32 bits, where counters could wrap.
fn edge_ids() -> impl Strategy<Value = u32> {
    prop_oneof![
        65_470..=65_600u32,
        (u32::MAX - 130)..=u32::MAX,
        Just(u32::MAX),
        Just(65_534),
        Just(65_535),
        Just(65_536),
    ]
}

/// ADD, SET (1 day, which skips IDs ending in 63, among them) and UNLOCK for either protocol.
fn edge_commands() -> impl Strategy<Value = Command> {
    prop_oneof![
        (1..=180u32).prop_map(|d| Command::AddCredit(Credit::new(d, TimeUnit::Days))),
        (0..=90u32).prop_map(|d| Command::SetCredit(Credit::new(d, TimeUnit::Days))),
        Just(Command::SetCredit(Credit::new(1, TimeUnit::Days))),
        Just(Command::Unlock),
    ]
}

/// Issues through the trait and checks the counter rules: it only grows, an error leaves it
/// alone, and the last ID (the issuer's limit, or `u32::MAX`) ends in `CounterExhausted`.
/// Returns the ID the code carries.
fn issue_checked<I: Issuer<Secret = Key, Counter = u32>>(
    issuer: &I,
    max_id: u32,
    key: &Key,
    counter: u32,
    command: &Command,
) -> Result<Option<(I::Token, u32)>, TestCaseError> {
    let mut next = counter;
    match issuer.issue(key, &mut next, command) {
        Ok(code) => {
            prop_assert!(next > counter, "{counter} -> {next}");
            prop_assert!(next - counter <= 2, "{counter} -> {next}");
            prop_assert!(next - 1 <= max_id);
            Ok(Some((code, next - 1)))
        }
        Err(e) => {
            prop_assert_eq!(next, counter);
            // The counter an issuer hands back after its last ID, or `u32::MAX` itself.
            let last =
                Some(counter) == max_id.checked_add(1) || (counter, max_id) == (u32::MAX, u32::MAX);
            let skip_63 = *command == Command::SetCredit(Credit::new(1, TimeUnit::Days))
                && counter & 63 == 63
                && counter == max_id;
            if last || skip_63 {
                prop_assert_eq!(
                    e,
                    IssueError::CounterExhausted {
                        field: "message ID",
                        counter
                    }
                );
            } else {
                prop_assert!(
                    counter > max_id && matches!(e, IssueError::OutOfRange { .. }),
                    "{counter}: {e:?}"
                );
            }
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// At 65534 / 65535 and near `u32::MAX`, the trait issuers never wrap the counter and the
    /// code they issue carries the ID they say, which a device with its window there applies.
    #[test]
    fn issuers_never_wrap_at_the_edges(
        key in keys(),
        counter in edge_ids(),
        command in edge_commands(),
        high in any::<bool>(),
        small_protocol in any::<bool>(),
    ) {
        let max_id = if high { u32::MAX } else { 65_534 };
        let issued = if small_protocol {
            let issuer = if high { SmallIssuer::new().allowing_ids_above_65534() } else { SmallIssuer::new() };
            issue_checked(&issuer, max_id, &key, counter, &command)?
                .map(|(code, id)| (code.keys().as_str().to_owned(), id))
        } else {
            let issuer = if high { FullIssuer::new().allowing_ids_above_65534() } else { FullIssuer::new() };
            issue_checked(&issuer, max_id, &key, counter, &command)?
                .map(|(code, id)| (code.keys().as_str().to_owned(), id))
        };
        let Some((keys, id)) = issued else { return Ok(()) };
        prop_assert!(id >= counter);
        let verifier = if small_protocol { NexusVerifier::small() } else { NexusVerifier::full(1) };
        let mut state = NexusState::FRESH;
        state.window.pd_index = counter;
        let at = Context::at(0);
        match verifier.verify(&key, &mut state, keys.as_bytes(), &at) {
            Outcome::Applied { sequence, spent, .. } => prop_assert_eq!((sequence, spent), (id, true)),
            other => prop_assert!(false, "{other:?} for ID {id} at Pd {counter}"),
        }
        prop_assert_eq!(verifier.verify(&key, &mut state, keys.as_bytes(), &at), Outcome::Duplicate);
    }

    /// Devices with their window around 65535 or `u32::MAX` take each code once, under its
    /// own ID, whether the ID is below, at or above the centre.
    #[test]
    fn devices_apply_codes_once_at_the_edges(
        key in keys(),
        pd in edge_ids(),
        offset in -23i64..=40,
        amount in 1..=180u16,
        small_protocol in any::<bool>(),
    ) {
        let Ok(id) = u32::try_from(i64::from(pd) + offset) else { return Ok(()) };
        let (code, config) = if small_protocol {
            let issuer = SmallIssuer::new().allowing_ids_above_65534();
            (issuer.add_credit(&key, id, amount).unwrap(), NexusConfig::small())
        } else {
            let issuer = FullIssuer::new().allowing_ids_above_65534();
            (issuer.add_credit(&key, id, u32::from(amount)).unwrap(), NexusConfig::full())
        };
        let mut state = NexusState::FRESH;
        state.window.pd_index = pd;
        let mut product = Product::default();
        let mut device = KeycodeProcessor::new(config.without_rate_limit(), &state);
        let first = device.enter_keycode(code.keys().as_bytes(), 0, &key, &mut state, &mut product);
        prop_assert_eq!(first, Processed { response: Response::ValidApplied, message_id: Some(id) });
        prop_assert_eq!(state.window.pd_index, pd.max(id));
        let again = device.enter_keycode(code.keys().as_bytes(), 1, &key, &mut state, &mut product);
        prop_assert_eq!(again, Processed { response: Response::ValidDuplicate, message_id: Some(id) });
        prop_assert_eq!(product.credit_calls.len(), 1);
    }

    /// The native small SET of 1 day at an ID ending in 63 names a later ID, never 0.
    #[test]
    fn set_one_day_names_a_later_id_or_none(key in keys(), id in edge_ids(), high in any::<bool>()) {
        let issuer = if high { SmallIssuer::new().allowing_ids_above_65534() } else { SmallIssuer::new() };
        match issuer.set_credit(&key, id, SetTarget::Days(1)) {
            Ok(_) => prop_assert!(id & 63 != 63 && id <= issuer.max_id()),
            Err(NexusIssueError::SetCreditId63 { id: given, next }) => {
                prop_assert_eq!(given, id);
                prop_assert_eq!(Some(next), id.checked_add(1));
                prop_assert!(next <= issuer.max_id());
            }
            Err(NexusIssueError::CounterExhausted { id: given }) => {
                prop_assert_eq!((given, id & 63), (id, 63));
                prop_assert!(id == u32::MAX || id == issuer.max_id());
            }
            Err(NexusIssueError::IdTooHigh { id: given, max }) => {
                prop_assert_eq!((given, max), (id, issuer.max_id()));
                prop_assert!(id > max);
            }
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }
}

/// The case that made `.ci/run` fail: `SET_CREDIT` of 1 day at the last `u32` ID, whose next
/// ID wrapped to 0 and was issued there (the device refuses it, the counter went back to 1).
#[test]
fn a_one_day_set_at_the_last_id_is_counter_exhausted() {
    let key = Key::from_hex("2fb360bf2cfea6becb2ae0414062878b").unwrap();
    let issuer = SmallIssuer::new().allowing_ids_above_65534();
    let mut counter = u32::MAX;
    let day = Command::SetCredit(Credit::new(1, TimeUnit::Days));
    assert_eq!(
        issuer.issue(&key, &mut counter, &day),
        Err(IssueError::CounterExhausted {
            field: "message ID",
            counter: u32::MAX
        })
    );
    assert_eq!(counter, u32::MAX);
    // The default issuer's counter after its last ID, 65534, is exhausted the same way.
    let mut counter = 65_534;
    SmallIssuer::new().issue(&key, &mut counter, &day).unwrap();
    assert_eq!(counter, 65_535);
    for unlock in [&day, &Command::Unlock] {
        assert_eq!(
            SmallIssuer::new().issue(&key, &mut counter, unlock),
            Err(IssueError::CounterExhausted {
                field: "message ID",
                counter: 65_535
            })
        );
        assert_eq!(
            FullIssuer::new().issue(&key, &mut counter, unlock),
            Err(IssueError::CounterExhausted {
                field: "message ID",
                counter: 65_535
            })
        );
    }
}
