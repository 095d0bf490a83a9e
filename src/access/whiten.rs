//! Whitening (spec §7): a keyless keystream over the body, derived from the tag, so that
//! consecutive tokens do not look sequential. Cosmetic only: anyone can undo it.

use super::frame::DOMAIN;
use super::profile::Profile;
use super::suite::{PrfOutput, Suite, SuiteUnavailable};
use crate::key::Key;

/// Usage byte of whitening inputs (`'W'`).
pub const USAGE_WHT: u8 = 0x57;
/// The public whitening key `K_WHT`.
pub const K_WHT: [u8; 16] = *b"AST1-whiten-key0";

/// Bytes of the whitening input `W`.
pub const WHITENING_INPUT_LEN: usize = 15;

/// `W = DOMAIN ‖ 0x57 ‖ suite ‖ P ‖ u64(tag)`.
#[must_use]
pub fn whitening_input(suite: Suite, profile: Profile, tag: u64) -> [u8; WHITENING_INPUT_LEN] {
    // Written out whole, as `mac_input` (no `memset` + `memcpy` in firmware).
    let [d0, d1, d2, d3] = DOMAIN;
    let [t0, t1, t2, t3, t4, t5, t6, t7] = tag.to_be_bytes();
    [
        d0,
        d1,
        d2,
        d3,
        USAGE_WHT,
        suite.code(),
        profile.byte(),
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        t6,
        t7,
    ]
}

/// `PRF_s(K_WHT, W(tag))` and its leftmost `b` bits, the keystream.
///
/// # Errors
/// [`SuiteUnavailable`] when the suite is not compiled in.
pub fn keystream(
    suite: Suite,
    profile: Profile,
    tag: u64,
) -> Result<(PrfOutput, u32), SuiteUnavailable> {
    let full = suite.prf(&Key::new(K_WHT), &whitening_input(suite, profile, tag))?;
    let ks = u32::try_from(full.leftbits(profile.body_bits())).unwrap_or(0);
    Ok((full, ks))
}

/// The keystream alone: the device's path, without the full output.
pub(crate) fn keystream_bits(
    suite: Suite,
    profile: Profile,
    tag: u64,
) -> Result<u32, SuiteUnavailable> {
    let w = whitening_input(suite, profile, tag);
    let bits = suite.prf_leftbits(&Key::new(K_WHT), &w, profile.body_bits())?;
    Ok(u32::try_from(bits).unwrap_or(0))
}
