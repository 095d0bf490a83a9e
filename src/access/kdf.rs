//! Per-device keys from a batch key (spec §4): NIST SP 800-108r1 counter mode with the suite's
//! own PRF, so a device that knows one primitive needs no second one for provisioning.

use super::suite::{Suite, SuiteUnavailable};
use crate::key::Key;
use zeroize::Zeroize;

/// `KDF_LABEL`: ASCII `AST1 device key`.
pub const KDF_LABEL: &[u8; 15] = b"AST1 device key";

/// Bytes of one KDF block input `X_i`.
pub const KDF_INPUT_LEN: usize = 30;

/// Output length in bits, `L = 128`, bound in every `X_i`.
const OUTPUT_BITS: u32 = 128;

/// `X_i = u32(i) ‖ KDF_LABEL ‖ 0x00 ‖ u8(suite) ‖ u32(device_id) ‖ u8(key_rev) ‖ u32(128)`.
#[must_use]
pub fn kdf_input(i: u32, suite: Suite, device_id: u32, key_rev: u8) -> [u8; KDF_INPUT_LEN] {
    let mut x = [0u8; KDF_INPUT_LEN];
    let parts: [&[u8]; 7] = [
        &i.to_be_bytes(),
        KDF_LABEL,
        &[0],
        &[suite.code()],
        &device_id.to_be_bytes(),
        &[key_rev],
        &OUTPUT_BITS.to_be_bytes(),
    ];
    let mut at = x.iter_mut();
    for &b in parts.iter().flat_map(|p| p.iter()) {
        if let Some(slot) = at.next() {
            *slot = b;
        }
    }
    x
}

/// PRF calls needed for 16 bytes: one, or two for SipHash's 8-byte output.
#[must_use]
pub const fn kdf_blocks(suite: Suite) -> u32 {
    match suite {
        Suite::AesCmac | Suite::HmacSha256 => 1,
        Suite::SipHash24 => 2,
    }
}

/// `device_key = KDF_s(batch_key, device_id, key_rev)`.
///
/// # Errors
/// [`SuiteUnavailable`] when the suite is not compiled in.
pub fn derive_device_key(
    suite: Suite,
    batch_key: &Key,
    device_id: u32,
    key_rev: u8,
) -> Result<Key, SuiteUnavailable> {
    let mut key = [0u8; 16];
    let mut slots = key.iter_mut();
    for i in 1..=kdf_blocks(suite) {
        let block = suite.prf(batch_key, &kdf_input(i, suite, device_id, key_rev))?;
        // The block goes first: `zip` then never takes a slot it cannot fill.
        for (&b, slot) in block.as_bytes().iter().zip(&mut slots) {
            *slot = b;
        }
    }
    let out = Key::new(key);
    key.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_layout_of_example_1() {
        let x = kdf_input(1, Suite::AesCmac, 123_456_789, 0);
        let mut want = [0u8; KDF_INPUT_LEN];
        hex::decode_to_slice(
            "000000014153543120646576696365206b65790000075bcd150000000080",
            &mut want,
        )
        .unwrap();
        assert_eq!(x, want);
        assert_eq!(kdf_blocks(Suite::SipHash24), 2);
        assert_eq!(kdf_blocks(Suite::HmacSha256), 1);
    }

    #[cfg(feature = "ast-cmac")]
    #[test]
    fn example_1_device_key() {
        let batch = Key::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let key = derive_device_key(Suite::AesCmac, &batch, 123_456_789, 0).unwrap();
        let want = Key::from_hex("fe1f7d36faeb962c0f941cedc93646f5").unwrap();
        assert_eq!(key.as_bytes(), want.as_bytes());
    }

    #[cfg(feature = "ast-siphash")]
    #[test]
    fn example_3_device_key_takes_two_blocks() {
        let batch = Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        let key = derive_device_key(Suite::SipHash24, &batch, 42, 0).unwrap();
        let want = Key::from_hex("3f6f3492b2937c9a568896eff1e962b7").unwrap();
        assert_eq!(key.as_bytes(), want.as_bytes());
    }
}
