//! The runtime plus the AST v1 verifier (SipHash-2-4, profile L) called through the `Verifier`
//! trait, its lockout left to the caller: what `engine_access` is measured against. Only
//! paylock's `ast-siphash` suite is built in.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;
use paylock::access::{AstVerifier, Suite};

/// An entered token (the digits of the spec's first example).
const TOKEN: &[u8] = b"3359 3381 3865 7142 9876";

#[entry]
fn main() -> ! {
    let secret = paylock_firmware::access_secret(Suite::SipHash24);
    paylock_firmware::verifier_forever(AstVerifier::without_lockout(), &secret, TOKEN)
}
