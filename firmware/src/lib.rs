//! Shared body of the size-measurement stubs: a device loop that verifies one entered token.
//!
//! Every input goes through [`black_box`], so the optimiser must keep the whole decoder for the
//! given form, and nothing else of the crate.

#![no_std]
#![forbid(unsafe_code)]

use core::hint::black_box;

use paylock::Key;
use paylock::openpaygo::{Decoder, DeviceState, Form, Secret};

/// The factory key and starting code, as a device would read them from its provisioning data.
const KEY: [u8; 16] = *b"\xa2\x9a\xb8\x2e\xdc\x5f\xbb\xc4\x1e\xc9\x53\x0f\x6d\xac\x86\xb1";
const STARTING_CODE: u32 = 123_456_789;

/// Verifies `token` forever. `form` must be a constant at the call site: inlining it lets the
/// optimiser drop the paths of the other forms, as in a real build for one product.
#[inline(always)]
pub fn verify_forever(form: Form, token: &[u8]) -> ! {
    let Ok(secret) = Secret::new(Key::new(black_box(KEY)), black_box(STARTING_CODE)) else {
        halt()
    };
    let decoder = Decoder::new(form);
    let mut state = black_box(DeviceState::default());
    loop {
        // An opaque slice: its bytes and its length are unknown at compile time, like a keypad's.
        let verdict = decoder.decode(&secret, &mut state, black_box(token));
        let _ = black_box(verdict);
    }
}

/// Where a device without a valid provisioning would stop.
fn halt() -> ! {
    loop {
        black_box(());
    }
}
