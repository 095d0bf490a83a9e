//! Any bytes entered on any device state: no panic, a refused entry leaves the state untouched,
//! an accepted one is a real token of the chain and cannot be applied twice.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::openpaygo::{
    Form, Meaning, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier, OpenPaygoWindow,
};

/// Byte layout (what `seeds.py` writes): form, key, starting code, max count, used counts
/// (integers little-endian), window (an even byte for none), then the entered token.
#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// The form in the low 2 bits; bit 7 allows sync replays (the vectors' model).
    form: u8,
    key: [u8; 16],
    starting_code: u32,
    max_count: u32,
    used_counts: u16,
    /// Max jump, max sync jump, older, ceiling.
    window: Option<[u32; 4]>,
    token: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let form = common::form(input.form);
    let secret = common::secret(input.key, input.starting_code);
    // A decode costs one SipHash step per count up to `max_count + max_jump_sync`, capped by the
    // window's ceiling: the reference window keeps the count below 2048; any other window may
    // have any count, with a ceiling below 4096.
    let (window, max_count) = match input.window {
        None => (OpenPaygoWindow::default(), input.max_count % 2048),
        Some([max_jump, max_jump_sync, older, ceiling]) => {
            let count_ceiling = ceiling % 4096;
            (
                OpenPaygoWindow {
                    max_jump,
                    max_jump_sync,
                    older,
                    count_ceiling,
                },
                input.max_count,
            )
        }
    };
    let decoder = OpenPaygoVerifier::new(form).with_window(window);
    let decoder = if input.form & 0x80 == 0 {
        decoder
    } else {
        decoder.allowing_sync_replays()
    };
    let before = OpenPaygoState {
        max_count,
        used_counts: input.used_counts,
    };
    let mut state = before;
    let Ok(OpenPaygoVerdict::Valid(first)) = decoder.decode(&secret, &mut state, input.token)
    else {
        assert_eq!(state, before, "a refused entry changed the state");
        return;
    };
    assert!(
        common::is_chain_token(form, &secret, first, input.token),
        "forged token accepted: {first:?}"
    );
    assert_eq!(first.meaning, meaning(form, first.value, first.count));
    assert!(first.count <= window.count_ceiling);
    assert_eq!(state.max_count, before.max_count.max(first.count));

    let after = state;
    match decoder.decode(&secret, &mut state, input.token) {
        // Another count of the chain carrying the same digits (about 1 in 10^6 per count).
        Ok(OpenPaygoVerdict::Valid(again)) if again.count > first.count => {
            assert!(common::is_chain_token(form, &secret, again, input.token));
        }
        // Only when allowed: a counter sync taken again while in the window (the reference
        // behaviour the vectors' counter_sync scenario pins), and it must change nothing.
        Ok(OpenPaygoVerdict::Valid(again)) => {
            assert!(
                again == first
                    && first.meaning == Meaning::CounterSync
                    && decoder.allows_sync_replays(),
                "replayed: {again:?}"
            );
            assert_eq!(state, after, "a replayed counter sync changed the state");
        }
        other => {
            assert_eq!(other, Ok(OpenPaygoVerdict::AlreadyUsed));
            assert_eq!(state, after);
        }
    }
});

/// Spec: 999 / 998 / 996-997 are special in standard tokens, otherwise the count's parity decides.
fn meaning(form: Form, value: u32, count: u32) -> Meaning {
    match value {
        999 if !form.extended => Meaning::CounterSync,
        998 if !form.extended => Meaning::DisablePayg,
        996 | 997 if !form.extended => Meaning::Reserved,
        _ if count % 2 == 1 => Meaning::SetTime,
        _ => Meaning::AddTime,
    }
}
