//! The three PRF suites (spec §3). One primitive per device does the KDF, the MAC and the
//! whitening, so firmware compiles in only the suite its devices are provisioned with.

use crate::key::Key;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A device's PRF, fixed at provisioning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// 0: AES-128-CMAC, 16-byte output (feature `ast-cmac`).
    AesCmac,
    /// 1: HMAC-SHA-256 with a 16-byte key, 32-byte output (feature `ast-hmac`).
    HmacSha256,
    /// 2: SipHash-2-4, the 64-bit result as 8 little-endian bytes (feature `ast-siphash`).
    SipHash24,
}

/// The suite was left out of this build by its Cargo feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AST suite {} ({}) is not compiled in", .0.code(), .0.name())]
pub struct SuiteUnavailable(pub Suite);

impl Suite {
    /// All suites, in code order.
    pub const ALL: [Self; 3] = [Self::AesCmac, Self::HmacSha256, Self::SipHash24];

    /// The suite number carried in every MAC, whitening and KDF input.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::AesCmac => 0,
            Self::HmacSha256 => 1,
            Self::SipHash24 => 2,
        }
    }

    /// The suite with number `code`, if there is one.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::AesCmac),
            1 => Some(Self::HmacSha256),
            2 => Some(Self::SipHash24),
            _ => None,
        }
    }

    /// The primitive's name, as in the vector files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AesCmac => "AES-128-CMAC",
            Self::HmacSha256 => "HMAC-SHA-256",
            Self::SipHash24 => "SipHash-2-4",
        }
    }

    /// Whether this build carries the primitive.
    #[must_use]
    pub const fn is_available(self) -> bool {
        match self {
            Self::AesCmac => cfg!(feature = "ast-cmac"),
            Self::HmacSha256 => cfg!(feature = "ast-hmac"),
            Self::SipHash24 => cfg!(feature = "ast-siphash"),
        }
    }

    /// Refuses a suite this build does not carry.
    ///
    /// # Errors
    /// [`SuiteUnavailable`] when the suite's feature is off.
    pub const fn check(self) -> Result<Self, SuiteUnavailable> {
        if self.is_available() {
            Ok(self)
        } else {
            Err(SuiteUnavailable(self))
        }
    }

    /// Bytes of PRF output: 16, 32 or 8.
    #[must_use]
    pub const fn output_len(self) -> usize {
        match self {
            Self::AesCmac => 16,
            Self::HmacSha256 => 32,
            Self::SipHash24 => 8,
        }
    }

    /// `PRF_s(key, msg)`.
    ///
    /// # Errors
    /// [`SuiteUnavailable`] when the suite's feature is off.
    #[cfg_attr(
        not(any(feature = "ast-cmac", feature = "ast-hmac", feature = "ast-siphash")),
        allow(unused_variables)
    )]
    pub fn prf(self, key: &Key, msg: &[u8]) -> Result<PrfOutput, SuiteUnavailable> {
        let mut out = PrfOutput {
            bytes: [0; 32],
            len: 0,
        };
        let written = self.prf_into(key, msg, &mut out.bytes)?;
        out.len = u8::try_from(written).unwrap_or(0);
        Ok(out)
    }

    /// `leftbits(PRF_s(key, msg), n)` for `n ≤ 64`: what the device needs of a PRF output,
    /// without moving a whole [`PrfOutput`] around (its copies link `memcpy` into firmware).
    #[cfg_attr(
        not(any(feature = "ast-cmac", feature = "ast-hmac", feature = "ast-siphash")),
        allow(unused_variables, unreachable_code)
    )]
    pub(crate) fn prf_leftbits(
        self,
        key: &Key,
        msg: &[u8],
        n: u32,
    ) -> Result<u64, SuiteUnavailable> {
        let first: [u8; 8] = match self {
            // SipHash's 8 bytes directly: no 32-byte buffer to clear.
            #[cfg(feature = "ast-siphash")]
            Self::SipHash24 => crate::siphash::SipHash24::new(key).hash(msg).to_le_bytes(),
            #[cfg(any(feature = "ast-cmac", feature = "ast-hmac"))]
            _ => {
                let mut bytes = [0u8; 32];
                self.prf_into(key, msg, &mut bytes)?;
                first8(&bytes)
            }
            #[allow(unreachable_patterns)]
            _ => return Err(SuiteUnavailable(self)),
        };
        Ok(leftbits(first, n))
    }

    /// Writes `PRF_s(key, msg)` to the front of `out`, returning its length. One call path for
    /// every PRF use, kept out of line on bare metal.
    #[cfg_attr(target_os = "none", inline(never))]
    #[cfg_attr(
        not(any(feature = "ast-cmac", feature = "ast-hmac", feature = "ast-siphash")),
        allow(unused_variables, clippy::needless_pass_by_ref_mut)
    )]
    fn prf_into(
        self,
        key: &Key,
        msg: &[u8],
        out: &mut [u8; 32],
    ) -> Result<usize, SuiteUnavailable> {
        match self {
            #[cfg(feature = "ast-cmac")]
            Self::AesCmac => Ok(cmac(key, msg, out)),
            #[cfg(feature = "ast-hmac")]
            Self::HmacSha256 => Ok(hmac(key, msg, out)),
            #[cfg(feature = "ast-siphash")]
            Self::SipHash24 => {
                let h = crate::siphash::SipHash24::new(key).hash(msg);
                Ok(copy_into(out, &h.to_le_bytes()))
            }
            #[allow(unreachable_patterns)]
            _ => Err(SuiteUnavailable(self)),
        }
    }
}

/// The first 8 bytes of a PRF output buffer: a fixed-size read, so no variable-length copy.
#[cfg(any(feature = "ast-cmac", feature = "ast-hmac"))]
fn first8(bytes: &[u8; 32]) -> [u8; 8] {
    bytes.first_chunk::<8>().copied().unwrap_or_default()
}

/// `leftbits(output, n)` for `n ≤ 64` (spec §2), from the output's first 8 bytes.
fn leftbits(first: [u8; 8], n: u32) -> u64 {
    u64::from_be_bytes(first)
        .checked_shr(64 - n.min(64))
        .unwrap_or(0)
}

impl core::fmt::Display for Suite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Copies `src` to the front of `dst`, returning how many bytes were copied.
#[cfg(any(feature = "ast-cmac", feature = "ast-hmac", feature = "ast-siphash"))]
fn copy_into(dst: &mut [u8], src: &[u8]) -> usize {
    let mut n = 0;
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
        n += 1;
    }
    n
}

#[cfg(feature = "ast-cmac")]
fn cmac(key: &Key, msg: &[u8], out: &mut [u8]) -> usize {
    use cmac::{KeyInit, Mac};
    let mut mac = cmac::Cmac::<aes::Aes128>::new(key.as_bytes().into());
    mac.update(msg);
    copy_into(out, &mac.finalize().into_bytes())
}

#[cfg(feature = "ast-hmac")]
fn hmac(key: &Key, msg: &[u8], out: &mut [u8]) -> usize {
    use hmac::{KeyInit, Mac};
    // HMAC pads a short key with zeros to the block size; doing it here makes keying infallible.
    let mut block = [0u8; 64];
    copy_into(&mut block, key.as_bytes());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new((&block).into());
    block.zeroize();
    mac.update(msg);
    copy_into(out, &mac.finalize().into_bytes())
}

/// One PRF output (8 to 32 bytes). Zeroized on drop: KDF outputs are key material.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PrfOutput {
    bytes: [u8; 32],
    len: u8,
}

impl PrfOutput {
    /// The output bytes in wire order.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// `leftbits(output, n)` for `n ≤ 64` (spec §2): every suite outputs at least 8 bytes.
    #[must_use]
    pub(crate) fn leftbits(&self, n: u32) -> u64 {
        // Every suite outputs at least 8 bytes (and the bytes past `len` are zero).
        leftbits(
            self.bytes.first_chunk::<8>().copied().unwrap_or_default(),
            n,
        )
    }
}

impl core::fmt::Debug for PrfOutput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PrfOutput({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<const N: usize>(text: &str) -> [u8; N] {
        let mut out = [0; N];
        hex::decode_to_slice(text, &mut out).unwrap();
        out
    }

    #[cfg(feature = "ast-siphash")]
    #[test]
    fn siphash_check_value_is_little_endian() {
        let key = Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        let out = Suite::SipHash24.prf(&key, b"").unwrap();
        assert_eq!(
            out.as_bytes(),
            [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72]
        );
        assert_eq!(out.leftbits(24), 0x31_0e0e);
    }

    #[cfg(feature = "ast-cmac")]
    #[test]
    fn cmac_rfc4493_example_2() {
        let key = Key::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let msg: [u8; 16] = h("6bc1bee22e409f96e93d7e117393172a");
        let out = Suite::AesCmac.prf(&key, &msg).unwrap();
        assert_eq!(out.as_bytes(), h::<16>("070a16b46b4d4144f79bdd9dd04a287c"));
    }

    #[cfg(feature = "ast-hmac")]
    #[test]
    fn hmac_rfc4231_case_2_shape() {
        // RFC 4231 uses a 4-byte key; a 16-byte key padded with zeros is the same HMAC key.
        let mut k = [0u8; 16];
        k[..4].copy_from_slice(b"Jefe");
        let out = Suite::HmacSha256
            .prf(&Key::new(k), b"what do ya want for nothing?")
            .unwrap();
        assert_eq!(
            out.as_bytes(),
            h::<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in Suite::ALL {
            assert_eq!(Suite::from_code(s.code()), Some(s));
        }
        assert_eq!(Suite::from_code(3), None);
    }
}
