//! What an OpenPAYGO device persists, and how the device-lock engine stores it.

use super::chain::ChainPoint;
use super::secret::OpenPaygoSecret;
use crate::key::Key;
use crate::persist::{Persist, Reader, RecordKey, Writer, derive_record_key};

/// The replay counts: the C reference's two variables, and all that
/// [`OpenPaygoVerifier::decode`](super::OpenPaygoVerifier::decode) (the reference model, which
/// walks the chain from the starting code) needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OpenPaygoState {
    /// Highest count accepted so far. Never decreases.
    pub max_count: u32,
    /// Bit `i` set: count `max_count - 1 - i` is used. `max_count` itself and odd counts below it
    /// are always used.
    pub used_counts: u16,
}

/// What a device persists between tokens: the replay counts, and the chain point of the last
/// accepted token's value at the bottom of the window, so that the next token of that value
/// costs one window of chain steps (at most 100) instead of one per count since the starting
/// code ([`OpenPaygoVerifier::decode_from_point`](super::OpenPaygoVerifier::decode_from_point)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OpenPaygoDeviceState {
    /// The replay counts.
    pub counts: OpenPaygoState,
    /// Where the chain of the last accepted token's value stands; `None` on a new device.
    pub point: Option<ChainPoint>,
}

impl From<OpenPaygoState> for OpenPaygoDeviceState {
    /// The counts without a chain point (the next token walks from the starting code).
    fn from(counts: OpenPaygoState) -> Self {
        Self {
            counts,
            point: None,
        }
    }
}

/// Bits of a point's code (extended codes are below 10^12 < 2^40) and of its value (below
/// 10^6 < 2^20) in the packed form.
const CODE_BITS: u32 = 40;
const VALUE_BITS: u32 = 20;
/// The count of an absent point.
const NO_POINT: u32 = u32::MAX;

/// 18 bytes: the highest count, the used-count bits, then the point as its count
/// (`0xFFFF_FFFF`: none) and its code and value packed in 64 bits. A point no chain can reach
/// (a code of 2^40 or more, a value of 2^20 or more, a count of `0xFFFF_FFFF`) is stored as no
/// point.
impl Persist for OpenPaygoDeviceState {
    const TAG: u8 = 1;
    const LEN: usize = 18;
    const FRESH: Self = Self {
        counts: OpenPaygoState {
            max_count: 0,
            used_counts: 0,
        },
        point: None,
    };

    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.counts.max_count);
        out.u16(self.counts.used_counts);
        match self.point.filter(|p| packable(*p)) {
            Some(p) => {
                out.u32(p.count());
                out.u64(p.code() | u64::from(p.value()) << CODE_BITS);
            }
            None => {
                out.u32(NO_POINT);
                out.u64(0);
            }
        }
    }

    /// Inlined into the record's decoding, where the reader's length is a constant: each
    /// field's bounds check then folds away (out of line they stay, ~150 B on Cortex-M).
    #[inline(always)]
    fn load(input: &mut Reader<'_>) -> Option<Self> {
        let counts = OpenPaygoState {
            max_count: input.u32()?,
            used_counts: input.u16()?,
        };
        let (count, packed) = (input.u32()?, input.u64()?);
        let point = match count {
            NO_POINT if packed == 0 => None,
            NO_POINT => return None,
            _ => {
                let value = u32::try_from(packed >> CODE_BITS).ok()?;
                if value >> VALUE_BITS != 0 {
                    return None;
                }
                Some(ChainPoint::new(value, count, packed & mask(CODE_BITS)))
            }
        };
        Some(Self { counts, point })
    }
}

/// Whether the packed form holds `p` exactly.
fn packable(p: ChainPoint) -> bool {
    p.count() != NO_POINT && p.code() >> CODE_BITS == 0 && p.value() >> VALUE_BITS == 0
}

const fn mask(bits: u32) -> u64 {
    (1 << bits) - 1
}

/// From the key; the starting code adds nothing a 128-bit key lacks.
impl RecordKey for OpenPaygoSecret {
    fn record_key(&self) -> Key {
        derive_record_key(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_in_eighteen_bytes() {
        let counts = OpenPaygoState {
            max_count: 0xDEAD_BEEF,
            used_counts: 0xA5A5,
        };
        crate::persist::round_trip(OpenPaygoDeviceState::from(counts));
        crate::persist::round_trip(OpenPaygoDeviceState {
            counts,
            point: Some(ChainPoint::new(999_999, 131_072, 999_999_999_999)),
        });
        assert_eq!(OpenPaygoDeviceState::FRESH, OpenPaygoDeviceState::default());
    }

    #[test]
    fn a_point_no_chain_reaches_is_stored_as_none_and_never_read() {
        for p in [
            ChainPoint::new(1 << 20, 5, 7),
            ChainPoint::new(5, 5, 1 << 40),
            ChainPoint::new(5, u32::MAX, 7),
        ] {
            let mut buf = [0u8; 18];
            let mut w = Writer::new(&mut buf);
            OpenPaygoDeviceState {
                point: Some(p),
                ..OpenPaygoDeviceState::FRESH
            }
            .save(&mut w);
            let back = OpenPaygoDeviceState::load(&mut Reader::new(&buf)).unwrap();
            assert_eq!(back.point, None, "{p:?}");
        }
        // No point, but packed bits set; a value of 2^20 or more.
        let mut bytes = [0u8; 18];
        bytes[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
        bytes[10] = 1;
        assert_eq!(OpenPaygoDeviceState::load(&mut Reader::new(&bytes)), None);
        bytes[6..10].copy_from_slice(&3u32.to_le_bytes());
        bytes[10..18].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert_eq!(OpenPaygoDeviceState::load(&mut Reader::new(&bytes)), None);
    }
}
