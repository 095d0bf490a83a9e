//! The runtime plus a small-protocol (`1-5` keypad) Nexus keycode device: keys one at a time
//! from the keypad, rate limiting on, the default QC limits, a product with a seconds counter.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::nexus::NexusConfig;

/// The keys of `135 242 422 455 244` (ID 42, 7 days under the stub key).
const KEYS: &[u8] = b"135242422455244";

#[entry]
fn main() -> ! {
    paylock_firmware::nexus_forever(NexusConfig::small(), KEYS)
}
