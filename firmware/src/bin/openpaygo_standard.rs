//! The runtime plus the standard (9 decimal digits) OpenPAYGO decoder.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::openpaygo::Form;

#[entry]
fn main() -> ! {
    paylock_firmware::verify_forever(Form::STANDARD, b"662486790")
}
