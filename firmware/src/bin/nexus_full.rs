//! The runtime plus a full-protocol (`0-9*#` keypad) Nexus keycode device: keys one at a time
//! from the keypad, rate limiting on, the default QC limits, a product with a seconds counter.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::nexus::NexusConfig;

/// The keys of `*599 791 493 194 43#` (ID 42, 168 hours under the stub key).
const KEYS: &[u8] = b"*59979149319443#";

#[entry]
fn main() -> ! {
    paylock_firmware::nexus_forever(NexusConfig::full(), KEYS)
}
