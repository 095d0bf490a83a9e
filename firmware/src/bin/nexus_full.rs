//! The runtime plus a full-protocol (`0-9*#` keypad) Nexus keycode device: keys one at a time
//! from the keypad, rate limiting on, the default QC limits, a product with a seconds counter.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::Key;
use paylock::nexus::{Config, Device, Feedback, NexusState, PaygState, Platform};

/// The device key, as a device would read it from its provisioning data.
const KEY: [u8; 16] = *b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef";
/// The keys of `*599 791 493 194 43#` (ID 42, 168 hours under `KEY`).
const KEYS: &[u8] = b"*59979149319443#";
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

#[entry]
fn main() -> ! {
    let key = Key::new(black_box(KEY));
    // Read from non-volatile memory at boot; written back whenever a call changed it.
    let mut state = black_box(NexusState::FRESH);
    let mut product = black_box(Product {
        credit: 0,
        unlocked: false,
    });
    #[cfg(nexus_state_probe)]
    black_box(&NEXUS_STATE_BYTES);
    let mut device = Device::new(Config::full(), &state);
    let mut now = 0u32;
    loop {
        // A key press and the uptime in seconds, both unknown at compile time.
        now = black_box(now);
        for &k in black_box(KEYS) {
            let outcome = device.press_key(black_box(k), now, &key, &mut state, &mut product);
            black_box(outcome);
        }
        device.tick(now, &mut state);
        black_box(&state);
    }
}
