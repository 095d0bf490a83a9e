//! The runtime plus the full-protocol Nexus verifier (whole codes, no rate limiter) called
//! through the `Verifier` trait: what `engine_nexus_full` is measured against.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::nexus::NexusVerifier;

/// The keys of `*599 791 493 194 43#` (ID 42, 168 hours under the stub key).
const KEYS: &[u8] = b"*59979149319443#";

#[entry]
fn main() -> ! {
    let key = paylock_firmware::nexus_key();
    let verifier = NexusVerifier::full(black_box(123_456_789));
    paylock_firmware::verifier_forever(verifier, &key, KEYS)
}
