//! The runtime plus the standard OpenPAYGO decoder called through the `Verifier` trait: what
//! `engine_openpaygo` is measured against.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock_firmware::StandardVerifier;

#[entry]
fn main() -> ! {
    let secret = paylock_firmware::openpaygo_secret();
    paylock_firmware::verifier_forever(StandardVerifier, &secret, b"662486790")
}
