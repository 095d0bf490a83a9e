//! The SipHash-2-4 hash chains of standard (9-digit) and extended (12-digit) tokens.

use crate::key::Key;
use crate::siphash::SipHash24;

/// Highest count either side handles (`2^17`). It bounds the work per token: a decode hashes at
/// most this many steps plus the sync jump. C devices store the count in 16 bits, half of this.
pub const COUNT_CEILING: u32 = 1 << 17;

/// One link of a token chain. Codes are carried as `u64`; standard codes always fit 32 bits.
pub(crate) trait Chain {
    /// `10^3` (standard) or `10^6` (extended): the value lives in the code modulo this.
    const MODULUS: u64;
    /// Decimal digits of a token.
    const DIGITS: usize;
    /// `10^DIGITS`: every token reads as a number below this.
    const TOKENS: u64;
    /// Bits carried by a restricted-digit token (two per digit).
    const BITS: u32;
    /// The chain step.
    fn step(sip: &SipHash24, code: u64) -> u64;
    /// The part of a code above the value digits (`code / MODULUS`).
    fn high(code: u64) -> u64;
    /// The value digits of a code (`code % MODULUS`).
    fn low(code: u64) -> u64;
}

/// 9-digit tokens, 32-bit codes hashed as the code's 4 big-endian bytes written twice.
#[derive(Debug)]
pub(crate) struct Standard;

/// 12-digit tokens, 64-bit codes hashed as 8 big-endian bytes.
#[derive(Debug)]
pub(crate) struct Extended;

/// Standard codes are below 10^9 and extended ones below 10^12; the casts below only drop zero bits.
#[allow(clippy::cast_possible_truncation)]
const fn low32(code: u64) -> u32 {
    code as u32
}

impl Chain for Standard {
    const MODULUS: u64 = 1_000;
    const DIGITS: usize = 9;
    const TOKENS: u64 = 1_000_000_000;
    const BITS: u32 = 30;

    #[inline]
    fn step(sip: &SipHash24, code: u64) -> u64 {
        #[cfg(test)]
        tests::count_step();
        u64::from(next_standard_with(sip, low32(code)))
    }

    #[inline]
    fn high(code: u64) -> u64 {
        u64::from(low32(code) / 1_000)
    }

    #[inline]
    fn low(code: u64) -> u64 {
        u64::from(low32(code) % 1_000)
    }
}

impl Chain for Extended {
    const MODULUS: u64 = 1_000_000;
    const DIGITS: usize = 12;
    const TOKENS: u64 = 1_000_000_000_000;
    const BITS: u32 = 40;

    #[inline]
    fn step(sip: &SipHash24, code: u64) -> u64 {
        #[cfg(test)]
        tests::count_step();
        let y = sip.hash(&code.to_be_bytes()) >> 24;
        if y > 999_999_999_999 {
            y - 99_511_627_777
        } else {
            y
        }
    }

    #[inline]
    fn high(code: u64) -> u64 {
        code / Self::MODULUS
    }

    #[inline]
    fn low(code: u64) -> u64 {
        code % Self::MODULUS
    }
}

/// The keyed hasher every chain step uses.
pub(crate) fn hasher(key: &Key) -> SipHash24 {
    SipHash24::new(key)
}

/// Folds a hash to a standard code: XOR the halves, keep the top 30 bits, move below 10^9.
#[inline]
fn fold_standard(h: u64) -> u32 {
    let x = low32(h >> 32) ^ low32(h);
    let y = x >> 2;
    if y > 999_999_999 { y - 73_741_825 } else { y }
}

#[inline]
fn next_standard_with(sip: &SipHash24, code: u32) -> u32 {
    // The code's 4 big-endian bytes twice, built as one u64: a single 8-byte store that the hash's
    // 8-byte load can forward from (two 4-byte stores stall it, ~3 ns a step).
    let msg = (u64::from(code) * 0x1_0000_0001).to_be_bytes();
    fold_standard(sip.hash(&msg))
}

/// One step of the standard chain (spec §3.2).
#[must_use]
pub fn next_standard(key: &Key, code: u32) -> u32 {
    next_standard_with(&hasher(key), code)
}

/// One step of the extended chain (spec §3.3).
#[must_use]
pub fn next_extended(key: &Key, code: u64) -> u64 {
    Extended::step(&hasher(key), code)
}

/// The starting code `openpaygo` derives when none is provisioned: the key hashed under itself.
#[must_use]
pub fn starting_code_from_key(key: &Key) -> u32 {
    fold_standard(hasher(key).hash(key.as_bytes()))
}

/// SipHash-2-4 of `msg` under `key`, as the chain uses it.
#[must_use]
pub fn siphash24(key: &Key, msg: &[u8]) -> u64 {
    hasher(key).hash(msg)
}

/// Where one value's chain stands: the code after `count` links from the starting code with
/// the value folded in. Each value has its own chain, so an issuer that keeps the point of the
/// values it issues continues from there instead of re-hashing from the starting code: a token
/// at count 30,000 then costs the links since the point, not 30,000. A device keeps the point
/// of one value's chain at the bottom of its window for the same reason
/// ([`super::OpenPaygoDeviceState`]).
///
/// A point is only meaningful for the secret and form it came from. Its code is as secret as a
/// token, so `Debug` leaves it out.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainPoint {
    value: u32,
    count: u32,
    code: u64,
}

impl ChainPoint {
    /// A point read back from storage: `value`'s chain stood at `code` after `count` links.
    #[must_use]
    pub const fn new(value: u32, count: u32, code: u64) -> Self {
        Self { value, count, code }
    }

    /// The raw value whose chain this is.
    #[must_use]
    pub const fn value(&self) -> u32 {
        self.value
    }

    /// Links walked from the starting code.
    #[must_use]
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The chain code there, for storage.
    #[must_use]
    pub const fn code(&self) -> u64 {
        self.code
    }
}

impl core::fmt::Debug for ChainPoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChainPoint")
            .field("value", &self.value)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::cell::Cell;

    std::thread_local! {
        /// Chain steps hashed on this thread: what bounded-work tests count.
        static STEPS: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn count_step() {
        STEPS.with(|s| s.set(s.get() + 1));
    }

    /// Chain steps hashed on this thread so far.
    pub(crate) fn steps() -> u64 {
        STEPS.with(Cell::get)
    }

    fn key() -> Key {
        Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap()
    }

    #[test]
    fn siphash_paper_vector() {
        let key = Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        assert_eq!(siphash24(&key, b""), 0x726f_db47_dd0e_0e31);
    }

    #[test]
    fn spec_worked_examples() {
        assert_eq!(next_standard(&key(), 123_456_790), 643_134_301);
        assert_eq!(next_standard(&key(), 643_134_301), 662_486_357);
        assert_eq!(next_extended(&key(), 123_456_790), 398_808_483_237);
        assert_eq!(starting_code_from_key(&key()), 573_664_003);
    }
}
