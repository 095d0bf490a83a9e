//! The runtime plus the device-lock engine around the AST v1 verifier (SipHash-2-4, profile
//! L): the engine runs AST's lockout, a battery-backed RTC, the record in `RamFlash`. Only
//! paylock's `ast-siphash` suite is built in.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::access::{AstVerifier, Suite};
use paylock::device::{AstLockout, ClockModel, Config, Engine};
use paylock_firmware::{RamFlash, SLOT_LEN};

/// An entered token (the digits of the spec's first example).
const TOKEN: &[u8] = b"3359 3381 3865 7142 9876";
type Stub = Engine<AstVerifier, RamFlash, AstLockout>;

/// The persisted record fits a slot (AST's state, with the spec's 16 parameters, does not fit
/// 64 bytes).
const _: () = assert!(Stub::record_len() <= SLOT_LEN);

/// As long as the persisted record: `size.sh` reads its size from the measuring build, the only
/// one that links it (`--cfg size_probe`).
#[cfg(size_probe)]
static RECORD_BYTES: [u8; Stub::record_len()] = [0; Stub::record_len()];

#[entry]
fn main() -> ! {
    #[cfg(size_probe)]
    core::hint::black_box(&RECORD_BYTES);
    paylock_firmware::engine_forever(
        AstVerifier::without_lockout(),
        paylock_firmware::access_secret(Suite::SipHash24),
        Config::new(ClockModel::Rtc, AstLockout),
        TOKEN,
    )
}
