//! Whitening (spec §7): a keyless keystream over the body, derived from the tag, so that
//! consecutive tokens do not look sequential. Cosmetic only: anyone can undo it.

use super::profile::Profile;
use super::suite::{PrfOutput, Suite, SuiteUnavailable};
use super::{DOMAIN, K_WHT, USAGE_WHT};
use crate::key::Key;

/// Bytes of the whitening input `W`.
pub const WHITENING_INPUT_LEN: usize = 15;

/// `W = DOMAIN ‖ 0x57 ‖ suite ‖ P ‖ u64(tag)`.
#[must_use]
pub fn whitening_input(suite: Suite, profile: Profile, tag: u64) -> [u8; WHITENING_INPUT_LEN] {
    let head = [USAGE_WHT, suite.code(), profile.byte()];
    let parts: [&[u8]; 3] = [&DOMAIN, &head, &tag.to_be_bytes()];
    let mut w = [0u8; WHITENING_INPUT_LEN];
    for (slot, &b) in w.iter_mut().zip(parts.iter().flat_map(|p| p.iter())) {
        *slot = b;
    }
    w
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
