//! The runtime plus the device-lock engine around the full-protocol (`0-9*#` keypad) Nexus
//! verifier: Nexus's token-bucket lockout, a runtime clock (credit used only while on), the
//! record in `RamFlash`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::device::{ClockModel, Config, Engine, NexusLockout};
use paylock::nexus::NexusVerifier;
use paylock_firmware::RamFlash;

/// The keys of `*599 791 493 194 43#` (ID 42, 168 hours under the stub key).
const KEYS: &[u8] = b"*59979149319443#";
type Stub = Engine<NexusVerifier, RamFlash, NexusLockout>;

/// The persisted record fits the 64-byte budget.
const _: () = assert!(Stub::record_len() <= 64);

/// As long as the persisted record: `size.sh` reads its size from the measuring build, the only
/// one that links it (`--cfg size_probe`).
#[cfg(size_probe)]
static RECORD_BYTES: [u8; Stub::record_len()] = [0; Stub::record_len()];

#[entry]
fn main() -> ! {
    #[cfg(size_probe)]
    black_box(&RECORD_BYTES);
    paylock_firmware::engine_forever(
        NexusVerifier::full(black_box(123_456_789)),
        paylock_firmware::nexus_key(),
        Config::new(ClockModel::Runtime, NexusLockout),
        KEYS,
    )
}
