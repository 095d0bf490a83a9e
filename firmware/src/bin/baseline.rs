//! The runtime alone (vector table, reset handler, panic handler): subtracted from the others.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;

#[entry]
fn main() -> ! {
    loop {
        core::hint::black_box(());
    }
}
