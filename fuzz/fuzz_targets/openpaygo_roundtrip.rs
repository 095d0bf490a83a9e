//! Generate a token, then enter it on a device that has seen the issuer's previous count: it is
//! accepted once with the value, count and meaning issued, then refused as already used.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::openpaygo::{
    Activation, COUNT_CEILING, Decoder, DeviceState, Encoder, GenerateError, Meaning, Message,
    Verdict,
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
        (0, _) => (Message::AddTime(value), Meaning::AddTime),
        (1, _) => (Message::SetTime(value), Meaning::SetTime),
        // Extended tokens have no special values: 998 and 999 are plain SET_TIME values.
        (2, false) => (Message::DisablePayg, Meaning::DisablePayg),
        (2, true) => (Message::DisablePayg, Meaning::SetTime),
        (_, false) => (Message::CounterSync, Meaning::CounterSync),
        (_, true) => (Message::CounterSync, Meaning::SetTime),
    };
    let generated = match Encoder::new(form).generate(&secret, count, message) {
        Ok(generated) => generated,
        Err(GenerateError::ValueTooLarge { found, max }) => {
            assert!(found == value && value > form.max_value() && max == form.max_value());
            return;
        }
        Err(GenerateError::CountTooHigh { count: found }) => {
            assert!(found == count && count > COUNT_CEILING);
            return;
        }
        // At the ceiling: the next count of this type would pass it.
        Err(GenerateError::CounterExhausted { count: found }) => {
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
        matches!(message, Message::AddTime(_))
    );
    assert!(generated.count <= COUNT_CEILING);
    assert_eq!(generated.token.len(), form.token_len());

    let expected = Activation {
        value: message.value(),
        count: generated.count,
        meaning,
    };
    let token = generated.token.as_bytes();
    let decoder = Decoder::new(form);
    let mut state = DeviceState {
        max_count: count,
        used_counts: input.used_counts,
    };
    match decoder.decode(&secret, &mut state, token) {
        Ok(Verdict::Valid(a)) if a == expected => {}
        // An older unused count of the chain carrying the same digits (about 1 in 10^6 per count).
        Ok(Verdict::Valid(a))
            if a.count < expected.count && common::is_chain_token(form, &secret, a, token) =>
        {
            return;
        }
        other => panic!("{other:?}, expected {expected:?}"),
    }
    assert_eq!(state.max_count, generated.count);

    let after = state;
    match decoder.decode(&secret, &mut state, token) {
        Ok(Verdict::AlreadyUsed) => {}
        // A counter sync is accepted again by design, without effect.
        Ok(Verdict::Valid(a)) if a == expected && meaning == Meaning::CounterSync => {}
        Ok(Verdict::Valid(a))
            if a.count > expected.count && common::is_chain_token(form, &secret, a, token) =>
        {
            return;
        }
        other => panic!("replay gave {other:?}, issued {expected:?}"),
    }
    assert_eq!(state, after);
});
