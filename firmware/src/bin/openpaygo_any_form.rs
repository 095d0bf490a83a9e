//! The decoder with the form only known at run time: all four forms' paths stay. Shows what a
//! constant form saves.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::openpaygo::Form;

#[entry]
fn main() -> ! {
    paylock_firmware::verify_forever(black_box(Form::STANDARD), b"662486790")
}
