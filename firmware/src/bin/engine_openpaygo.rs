//! The runtime plus the device-lock engine around the standard OpenPAYGO decoder: OpenPAYGO's
//! doubling lockout, a battery-backed RTC, the record in `RamFlash`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::device::{ClockModel, Config, Engine, OpenPaygoLockout};
use paylock_firmware::{RamFlash, StandardVerifier};

type Stub = Engine<StandardVerifier, RamFlash, OpenPaygoLockout>;

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
        StandardVerifier,
        paylock_firmware::openpaygo_secret(),
        Config::new(ClockModel::Rtc, OpenPaygoLockout),
        b"662486790",
    )
}
