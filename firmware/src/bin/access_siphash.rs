//! The runtime plus an AST v1 device verifying profile L tokens with SipHash-2-4 (suite 2).
//! Only paylock's `ast-siphash` suite is built in; `size.sh` picks the compact software backends.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::Key;
use paylock::access::{self, Config, Profile, Secret, State, Suite, Unit};

/// The device key, as a device would read it from its provisioning data.
const KEY: [u8; 16] = *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c";
/// An entered token (the digits of the spec's first example).
const TOKEN: &[u8] = b"3359 3381 3865 7142 9876";

#[entry]
fn main() -> ! {
    let config = Config {
        suite: Suite::SipHash24,
        profile: Profile::L,
        device_id: black_box(123_456_789),
        key_rev: black_box(0),
        unit: Unit::Hours,
    };
    // Borrowed where it was made: moving it out would copy the key.
    let provisioned = Secret::new(Key::new(black_box(KEY)), config);
    let Ok(secret) = &provisioned else { halt() };
    // Read from non-volatile memory at boot; written back after every entry.
    let mut state = black_box(State::FRESH);
    let mut now = 0u32;
    loop {
        // The uptime in seconds and an entry: both unknown at compile time.
        now = black_box(now);
        let verdict = access::verify(secret, &mut state, black_box(TOKEN), now);
        let _ = black_box(verdict);
        black_box(&state);
    }
}

/// Where a device without a valid provisioning would stop.
fn halt() -> ! {
    loop {
        black_box(());
    }
}
