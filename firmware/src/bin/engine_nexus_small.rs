//! The runtime plus the device-lock engine around the small-protocol (`1-5` keypad) Nexus
//! verifier: Nexus's token-bucket lockout, a runtime clock (credit used only while on), the
//! record in `RamFlash`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::device::{ClockModel, Config, Engine, NexusLockout};
use paylock::nexus::NexusVerifier;
use paylock_firmware::RamFlash;

/// The keys of `135 242 422 455 244` (ID 42, 7 days under the stub key).
const KEYS: &[u8] = b"135242422455244";
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
    core::hint::black_box(&RECORD_BYTES);
    paylock_firmware::engine_forever(
        NexusVerifier::small(),
        paylock_firmware::nexus_key(),
        Config::new(ClockModel::Runtime, NexusLockout),
        KEYS,
    )
}
