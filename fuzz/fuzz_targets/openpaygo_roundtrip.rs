//! Generate a token, then enter it on a device that has seen the issuer's previous count: it is
//! accepted once with the value, count and meaning issued, then refused as already used.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::openpaygo::{
    COUNT_CEILING, Meaning, OpenPaygoActivation, OpenPaygoIssueError, OpenPaygoIssuer,
    OpenPaygoMessage, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
};

/// Byte layout (what `seeds.py` writes): form, key, starting code, count, used counts, message
/// kind, value (integers little-endian).
#[derive(Arbitrary, Debug)]
struct Input {
    form: u8,
    key: [u8; 16],
    starting_code: u32,
    count: u32,
    used_counts: u16,
    message: u8,
    value: u32,
}

fuzz_target!(|input: Input| {
    let form = common::form(input.form);
    let secret = common::secret(input.key, input.starting_code);
    // Generating and decoding cost one SipHash step per count: counts stay below 2048, except
    // one input in 256 (low byte 0xFF) whose count is at or past the ceiling, which generation
    // refuses before hashing.
    let count = match input.count {
        raw if raw & 0xFF == 0xFF => raw.max(COUNT_CEILING),
        raw => raw % 2048,
    };
    // One past the form's maximum checks the refusal.
    let value = input.value % (form.max_value() + 2);
    let (message, meaning) = match (input.message % 4, form.extended) {
        (0, _) => (OpenPaygoMessage::AddTime(value), Meaning::AddTime),
        (1, _) => (OpenPaygoMessage::SetTime(value), Meaning::SetTime),
        // Extended tokens have no special values: 998 and 999 are plain SET_TIME values.
        (2, false) => (OpenPaygoMessage::DisablePayg, Meaning::DisablePayg),
        (2, true) => (OpenPaygoMessage::DisablePayg, Meaning::SetTime),
        (_, false) => (OpenPaygoMessage::CounterSync, Meaning::CounterSync),
        (_, true) => (OpenPaygoMessage::CounterSync, Meaning::SetTime),
    };
    let generated = match OpenPaygoIssuer::new(form).generate(&secret, count, message) {
        Ok(generated) => generated,
        Err(OpenPaygoIssueError::ValueTooLarge { found, max }) => {
            assert!(found == value && value > form.max_value() && max == form.max_value());
            return;
        }
        Err(OpenPaygoIssueError::CountTooHigh { count: found }) => {
            assert!(found == count && count > COUNT_CEILING);
            return;
        }
        // At the ceiling: the next count of this type would pass it.
        Err(OpenPaygoIssueError::CounterExhausted { count: found }) => {
            assert!(found == count && count <= COUNT_CEILING && count + 2 > COUNT_CEILING);
            return;
        }
    };
    let step = generated.count - count;
    assert!(
        step == 1 || step == 2,
        "count {count} -> {}",
        generated.count
    );
    assert_eq!(
        generated.count % 2 == 0,
        matches!(message, OpenPaygoMessage::AddTime(_))
    );
    assert!(generated.count <= COUNT_CEILING);
    assert_eq!(generated.token.len(), form.token_len());

    let expected = OpenPaygoActivation {
        value: message.value(),
        count: generated.count,
        meaning,
    };
    let token = generated.token.as_bytes();
    let decoder = OpenPaygoVerifier::new(form);
    let mut state = OpenPaygoState {
        max_count: count,
        used_counts: input.used_counts,
    };
    match decoder.decode(&secret, &mut state, token) {
        Ok(OpenPaygoVerdict::Valid(a)) if a == expected => {}
        // An older unused count of the chain carrying the same digits (about 1 in 10^6 per count).
        Ok(OpenPaygoVerdict::Valid(a))
            if a.count < expected.count && common::is_chain_token(form, &secret, a, token) =>
        {
            return;
        }
        other => panic!("{other:?}, expected {expected:?}"),
    }
    assert_eq!(state.max_count, generated.count);

    let after = state;
    match decoder.decode(&secret, &mut state, token) {
        Ok(OpenPaygoVerdict::AlreadyUsed) => {}
        // A counter sync is accepted again by design, without effect.
        Ok(OpenPaygoVerdict::Valid(a)) if a == expected && meaning == Meaning::CounterSync => {}
        Ok(OpenPaygoVerdict::Valid(a))
            if a.count > expected.count && common::is_chain_token(form, &secret, a, token) =>
        {
            return;
        }
        other => panic!("replay gave {other:?}, issued {expected:?}"),
    }
    assert_eq!(state, after);
});
