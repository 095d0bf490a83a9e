//! The runtime plus the small-protocol Nexus verifier (whole codes, no rate limiter) called
//! through the `Verifier` trait: what `engine_nexus_small` is measured against.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::nexus::NexusVerifier;

/// The keys of `135 242 422 455 244` (ID 42, 7 days under the stub key).
const KEYS: &[u8] = b"135242422455244";

#[entry]
fn main() -> ! {
    let key = paylock_firmware::nexus_key();
    paylock_firmware::verifier_forever(NexusVerifier::small(), &key, KEYS)
}
