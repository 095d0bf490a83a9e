//! Shared bodies of the size-measurement stubs: device loops that verify entered tokens.
//!
//! Every input goes through [`black_box`], so the optimiser must keep the whole verifier for the
//! given scheme configuration, and nothing else of the crate. Each function is `inline(always)`
//! with its configuration a constant at the call site, as in a real build for one product.

#![no_std]
#![forbid(unsafe_code)]

use core::hint::black_box;

use paylock::Key;
use paylock::access::{self, Profile, State, Suite, Unit};
use paylock::nexus::{self, Device, Feedback, NexusState, PaygState, Platform};
use paylock::openpaygo::{Decoder, DeviceState, Form, Secret};

/// The AST device key, as a device would read it from its provisioning data.
const AST_KEY: [u8; 16] = *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c";
/// The Nexus device key.
const NEXUS_KEY: [u8; 16] = *b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef";

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

/// Feeds `keys` to a Nexus device one key at a time forever: rate limiting on, the default QC
/// limits, a product with a seconds counter. `config` must be a constant at the call site.
#[inline(always)]
pub fn nexus_forever(config: nexus::Config, keys: &[u8]) -> ! {
    let key = Key::new(black_box(NEXUS_KEY));
    // Read from non-volatile memory at boot; written back whenever a call changed it.
    let mut state = black_box(NexusState::FRESH);
    let mut product = black_box(Product {
        credit: 0,
        unlocked: false,
    });
    #[cfg(nexus_state_probe)]
    black_box(&NEXUS_STATE_BYTES);
    let mut device = Device::new(config, &state);
    let mut now = 0u32;
    loop {
        // A key press and the uptime in seconds, both unknown at compile time.
        now = black_box(now);
        for &k in black_box(keys) {
            let outcome = device.press_key(black_box(k), now, &key, &mut state, &mut product);
            black_box(outcome);
        }
        device.tick(now, &mut state);
        black_box(&state);
    }
}

/// Verifies `token` on an AST device with profile L forever. Only the paylock feature of `suite`
/// is built in; `size.sh` picks the compact software backends.
#[inline(always)]
pub fn access_forever(suite: Suite, token: &[u8]) -> ! {
    let config = access::Config {
        suite,
        profile: Profile::L,
        device_id: black_box(123_456_789),
        key_rev: black_box(0),
        unit: Unit::Hours,
    };
    // Borrowed where it was made: moving it out would copy the key (and link `memcpy`).
    let provisioned = access::Secret::new(Key::new(black_box(AST_KEY)), config);
    let Ok(secret) = &provisioned else { halt() };
    // Read from non-volatile memory at boot; written back after every entry.
    let mut state = black_box(State::FRESH);
    let mut now = 0u32;
    loop {
        // The uptime in seconds and an entry: both unknown at compile time.
        now = black_box(now);
        let verdict = access::verify(secret, &mut state, black_box(token), now);
        let _ = black_box(verdict);
        black_box(&state);
    }
}

/// What the engine persists must fit the product's 64-byte record.
const _: () = assert!(size_of::<NexusState>() <= 64);
/// `size.sh` reads `size_of::<NexusState>()` as the size of this symbol, which only its
/// measuring build (`--cfg nexus_state_probe`) links.
#[cfg(nexus_state_probe)]
static NEXUS_STATE_BYTES: [u8; size_of::<NexusState>()] = [0; size_of::<NexusState>()];

/// The product: a credit counter in seconds and the paid-off flag.
struct Product {
    credit: u32,
    unlocked: bool,
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
        self.credit = self.credit.saturating_add(seconds);
    }
    fn set_credit(&mut self, seconds: u32) {
        self.credit = seconds;
    }
    fn unlock(&mut self) {
        self.unlocked = true;
    }
    fn user_facing_id(&self) -> u32 {
        black_box(123_456_789)
    }
    fn feedback(&mut self, feedback: Feedback) {
        black_box(feedback);
    }
}

/// Where a device without a valid provisioning would stop.
fn halt() -> ! {
    loop {
        black_box(());
    }
}
