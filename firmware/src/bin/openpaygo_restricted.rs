//! The runtime plus the standard decoder for a 1-4 keypad (15 digits).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::openpaygo::Form;

#[entry]
fn main() -> ! {
    paylock_firmware::verify_forever(Form::STANDARD_RESTRICTED, b"324244134441123")
}
