//! The runtime plus an AST v1 device verifying profile L tokens with SipHash-2-4 (suite 2).
//! Only paylock's `ast-siphash` suite is built in; `size.sh` picks the compact software backends.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::access::Suite;

/// An entered token (the digits of the spec's first example).
const TOKEN: &[u8] = b"3359 3381 3865 7142 9876";

#[entry]
fn main() -> ! {
    paylock_firmware::access_forever(Suite::SipHash24, TOKEN)
}
