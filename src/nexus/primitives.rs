//! The building blocks both protocols share (spec §2): SipHash-2-4, the truncated checks, the
//! one-block PRNG and the two keyless obscuring schemes.
//!
//! Integers fed to SipHash are little-endian everywhere; the one exception is the small
//! protocol's PRNG seed, which is big-endian (spec §2.2, §4.4).

use crate::key::Key;
use crate::siphash::SipHash24;

/// The key of full-protocol factory codes and of the PRNG: sixteen zero bytes.
pub const ZERO_KEY: [u8; 16] = [0x00; 16];
/// The key of small-protocol test codes: sixteen `0xFF` bytes.
pub const FF_KEY: [u8; 16] = [0xFF; 16];

/// SipHash-2-4 of `msg` under `key`, as the integer both upstream libraries use.
#[must_use]
pub fn siphash24(key: &Key, msg: &[u8]) -> u64 {
    SipHash24::new(key).hash(msg)
}

/// SipHash-2-4 under a key given as bytes (the two universal keys).
pub(crate) fn siphash24_raw(key: [u8; 16], msg: &[u8]) -> u64 {
    siphash24(&Key::new(key), msg)
}

/// The full protocol's 6-digit check: the low 32 bits of the hash, mod 10^6.
#[must_use]
pub const fn full_check(hash: u64) -> u32 {
    (hash & 0xFFFF_FFFF) as u32 % 1_000_000
}

/// The small protocol's 12-bit MAC: the top 12 bits of the hash.
#[must_use]
#[allow(clippy::cast_possible_truncation)] // 12 bits left after the shift
pub const fn small_mac12(hash: u64) -> u16 {
    (hash >> 52) as u16
}

/// The obscuring PRNG: the first block of `H(ZERO_KEY, 0x00 ++ seed)` as little-endian bytes.
///
/// No message needs more than 8 bytes, so one block is the whole stream (upstream Python
/// computes 64 blocks and drops 63). Seeds are at most 4 bytes; longer ones are cut to 4.
#[must_use]
pub fn prng(seed: &[u8]) -> [u8; 8] {
    let mut input = [0u8; 5];
    let used = seed.len().min(4);
    for (slot, byte) in input.iter_mut().skip(1).zip(seed.iter().take(used)) {
        *slot = *byte;
    }
    let msg = input.get(..=used).unwrap_or(&input);
    siphash24_raw(ZERO_KEY, msg).to_le_bytes()
}

/// Obscures (`forward`) or de-obscures the first `count` (at most 8) of `digits` (values 0-9):
/// digit `i` moves by PRNG byte `i`, the whole byte, mod 10. The seed is `LE32(check)`.
pub fn obscure_digits(digits: &mut [u8], count: usize, check: u32, forward: bool) {
    let pr = prng(&check.to_le_bytes());
    for (d, p) in digits.iter_mut().take(count.min(8)).zip(pr) {
        let shift = p % 10;
        let back = 10 - shift;
        *d = (*d % 10 + if forward { shift } else { back }) % 10;
    }
}

/// The small protocol's 16-bit obscuring mask for a 12-bit MAC: the first two PRNG bytes,
/// most significant first, seeded with `BE16(mac12)`.
#[must_use]
pub fn small_mask16(mac12: u16) -> u16 {
    let [b0, b1, ..] = prng(&mac12.to_be_bytes());
    u16::from_be_bytes([b0, b1])
}

/// XORs the mask into the top 16 of the 28 frame bits (MSB-first bits 0..16); its own inverse.
#[must_use]
pub fn small_obscure(bits28: u32) -> u32 {
    let mac = u16::try_from(bits28 & 0xFFF).unwrap_or(0);
    (bits28 ^ (u32::from(small_mask16(mac)) << 12)) & 0x0FFF_FFFF
}

/// The bytes a MAC is computed over: `LE32(id) ++ [type] ++ body bytes`, at most 11 bytes
/// (Channel accessory commands); kept so that vectors can check them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacInput {
    bytes: [u8; 11],
    len: u8,
}

impl MacInput {
    /// `LE32(id) ++ [kind] ++ body` (a body longer than 6 bytes is cut).
    #[must_use]
    pub fn new(id: u32, kind: u8, body: &[u8]) -> Self {
        let mut bytes = [0u8; 11];
        let [i0, i1, i2, i3] = id.to_le_bytes();
        let head = [i0, i1, i2, i3, kind];
        let body = body.get(..body.len().min(6)).unwrap_or_default();
        for (slot, b) in bytes.iter_mut().zip(head.iter().chain(body)) {
            *slot = *b;
        }
        let len = u8::try_from(head.len() + body.len()).unwrap_or(11);
        Self { bytes, len }
    }

    /// `LE32(id) ++ [kind] ++ LE32(value)`: full activation, factory and Channel action codes.
    #[must_use]
    pub fn with_u32(id: u32, kind: u8, value: u32) -> Self {
        // Spelled out rather than through `new`: ~0.1 KB less flash in the full-protocol device.
        let [i0, i1, i2, i3] = id.to_le_bytes();
        let [v0, v1, v2, v3] = value.to_le_bytes();
        Self {
            bytes: [i0, i1, i2, i3, kind, v0, v1, v2, v3, 0, 0],
            len: 9,
        }
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// SipHash-2-4 of the bytes under `key`.
    #[must_use]
    pub fn hash(&self, key: &Key) -> u64 {
        siphash24(key, self.as_bytes())
    }
}

impl core::fmt::Debug for MacInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MacInput(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_worked_example() {
        let key = Key::new([0xde, 0xad, 0xbe, 0xef].repeat(4).try_into().unwrap());
        let input = MacInput::with_u32(42, 0, 168);
        assert_eq!(input.as_bytes(), [42, 0, 0, 0, 0, 168, 0, 0, 0]);
        let h = input.hash(&key);
        assert_eq!(h, 0x7236_3c48_1078_4cd3);
        assert_eq!(full_check(h), 319_443);
        assert_eq!(
            prng(&319_443u32.to_le_bytes()),
            [0xcd, 0x55, 0x4d, 0xe3, 0xb3, 0xaa, 0xee, 0x47]
        );
        let mut d = [0, 4, 2, 0, 0, 1, 6, 8, 3, 1, 9, 4, 4, 3];
        obscure_digits(&mut d, 8, 319_443, true);
        assert_eq!(d, [5, 9, 9, 7, 9, 1, 4, 9, 3, 1, 9, 4, 4, 3]);
        obscure_digits(&mut d, 8, 319_443, false);
        assert_eq!(d, [0, 4, 2, 0, 0, 1, 6, 8, 3, 1, 9, 4, 4, 3]);
    }

    #[test]
    fn small_mask_and_mac() {
        assert_eq!(small_mac12(0xbcab_5217_517e_70bc), 0xbca);
        assert_eq!(small_mask16(0xbca), 0xda26);
        let plain = 0b1010_1000_0000_0110_1011_1100_1010;
        let obscured = small_obscure(plain);
        assert_eq!(obscured, 0b0111_0010_0010_0000_1011_1100_1010);
        assert_eq!(small_obscure(obscured), plain);
    }

    #[test]
    fn long_seeds_are_cut() {
        assert_eq!(prng(&[1, 2, 3, 4, 5]), prng(&[1, 2, 3, 4]));
    }
}
