//! The persisted record: fixed size, versioned, authenticated with a MAC.
//!
//! Layout, little-endian: magic `PL`, format version, scheme tag, sequence number (u32), the
//! engine's fields (PAYG mode, expiry, clock checkpoint and correction, lockout), the scheme's
//! state, then a 64-bit SipHash-2-4 tag of everything before it under the record key, which
//! [`crate::persist::derive_record_key`] makes from the device secret. A torn write, a bit flip
//! and a record built without the secret all fail the tag (a CRC would catch only the first
//! two, and a MAC subsumes it); a record of another scheme or format fails the tag or version.

use super::credit::CreditState;
use super::lockout::LockoutState;
use crate::key::Key;
use crate::persist::{Persist, Reader, Writer, record_mac};
use crate::scheme::Payg;

/// Everything the engine persists for one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot<T> {
    /// Credit and PAYG mode.
    pub credit: CreditState,
    /// Wrong-code lockout.
    pub lockout: LockoutState,
    /// Device time of the last write: the clock never resumes below it.
    pub checkpoint: u32,
    /// Added to the firmware's clock to give device time (moves only to keep it monotonic).
    pub correction: u32,
    /// The scheme's replay state.
    pub scheme: T,
}

const MAGIC: [u8; 2] = *b"PL";
/// The record format's version; a record of another version is not read. Version 1 carried a
/// CRC-32 where version 2 carries the MAC; version 3 adds the chain point to the OpenPAYGO
/// state (18 bytes instead of 6).
pub const VERSION: u8 = 3;
const HEADER_LEN: usize = 8;
const ENGINE_LEN: usize = 26;
/// Bytes of the MAC: SipHash-2-4's whole 64-bit output.
pub const TAG_LEN: usize = 8;
/// Bytes a record takes beyond the scheme's state.
pub const OVERHEAD: usize = HEADER_LEN + ENGINE_LEN + TAG_LEN;
/// The largest record the engine writes; a scheme state must fit in `MAX_LEN - OVERHEAD`.
pub const MAX_LEN: usize = 128;

/// A record's bytes in RAM, zeroed when made, aligned as the scheme's state `T`. On Cortex-M
/// the zeroing then takes the routine the scheme's own zeroed buffers take (`__aeabi_memclr8`
/// for OpenPAYGO, whose state and recent-codes buffer hold `u64`s; `__aeabi_memclr4` for
/// Nexus) instead of linking the other one beside it: 174 B less for an OpenPAYGO device.
#[repr(C)]
pub(crate) struct RecordBuf<T> {
    align: [T; 0],
    pub(crate) bytes: [u8; MAX_LEN],
}

impl<T> RecordBuf<T> {
    pub(crate) const fn new() -> Self {
        Self {
            align: [],
            bytes: [0; MAX_LEN],
        }
    }
}

/// The record length for scheme state `T`.
#[must_use]
pub const fn len<T: Persist>() -> usize {
    OVERHEAD + T::LEN
}

/// Encodes `snapshot` with `sequence` into `buf`, authenticated under `key` (the record key),
/// with `clock`'s checkpoint and correction in place of the snapshot's (a checkpoint write then
/// needs no copy of the snapshot); returns the record length.
pub(crate) fn encode<T: Persist>(
    sequence: u32,
    snapshot: &Snapshot<T>,
    clock: (u32, u32),
    key: &Key,
    buf: &mut [u8; MAX_LEN],
) -> Option<usize> {
    let len = len::<T>();
    let mut w = Writer::new(buf);
    w.array(MAGIC);
    w.u8(VERSION);
    w.u8(T::TAG);
    w.u32(sequence);
    w.u8(match snapshot.credit.payg {
        Payg::Enabled => 0,
        Payg::Unlocked => 1,
    });
    w.u32(snapshot.credit.expiry);
    let (checkpoint, correction) = clock;
    w.u32(checkpoint);
    w.u32(correction);
    let l = &snapshot.lockout;
    w.u8(l.fails);
    w.u32(l.until);
    w.u32(l.bucket);
    w.u32(l.bucket_at);
    let start = w.position();
    snapshot.scheme.save(&mut w);
    if w.position() != start + T::LEN {
        return None;
    }
    let mac = record_mac(key, w.written()?);
    w.u64(mac);
    (w.written()?.len() == len).then_some(len)
}

/// No record of scheme `T` was ever completed in `record`: it is erased, or holds a write that
/// power loss cut short. Records are programmed from offset 0 into an erased slot, so a cut
/// leaves the start of this scheme's header and then erased bytes, the last one among them;
/// damage and other schemes' records do not look like that.
pub(crate) fn unwritten<T: Persist>(record: &[u8]) -> bool {
    let header = [MAGIC[0], MAGIC[1], VERSION, T::TAG];
    // One pass to the first byte that is not the header's, rather than a search backwards for
    // the last programmed byte and a second pass over the header.
    match record.iter().zip(header).position(|(&b, h)| b != h) {
        // The whole header: a write of this scheme's record, cut before its last byte.
        None => record.last() == Some(&0xFF),
        // Part of the header at most: erased from there to the end.
        Some(start) => record.iter().skip(start).all(|&b| b == 0xFF),
    }
}

/// Decodes a record of scheme `T` authenticated under `key` (the record key): `None` for a
/// torn, blank, damaged, forged, foreign or older-format record.
pub(crate) fn decode<T: Persist>(record: &[u8], key: &Key) -> Option<(u32, Snapshot<T>)> {
    let len = len::<T>();
    let body = record.get(..len - TAG_LEN)?;
    let mac = u64::from_le_bytes(record.get(len - TAG_LEN..len)?.try_into().ok()?);
    // One comparison of the whole tag (no early exit at the first differing byte).
    if record_mac(key, body) ^ mac != 0 {
        return None;
    }
    let mut r = Reader::new(body);
    if r.array::<2>()? != MAGIC || r.u8()? != VERSION || r.u8()? != T::TAG {
        return None;
    }
    let sequence = r.u32()?;
    let payg = match r.u8()? {
        0 => Payg::Enabled,
        1 => Payg::Unlocked,
        _ => return None,
    };
    let credit = CreditState {
        payg,
        expiry: r.u32()?,
    };
    let (checkpoint, correction) = (r.u32()?, r.u32()?);
    let lockout = LockoutState {
        fails: r.u8()?,
        until: r.u32()?,
        bucket: r.u32()?,
        bucket_at: r.u32()?,
    };
    let scheme = T::load(&mut r)?;
    r.is_empty().then_some((
        sequence,
        Snapshot {
            credit,
            lockout,
            checkpoint,
            correction,
            scheme,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Two(u16);

    impl Persist for Two {
        const TAG: u8 = 200;
        const LEN: usize = 2;
        const FRESH: Self = Self(0);
        fn save(&self, out: &mut Writer<'_>) {
            out.u16(self.0);
        }
        fn load(input: &mut Reader<'_>) -> Option<Self> {
            input.u16().map(Self)
        }
    }

    fn sample() -> Snapshot<Two> {
        Snapshot {
            credit: CreditState {
                payg: Payg::Unlocked,
                expiry: 0x0102_0304,
            },
            lockout: LockoutState {
                fails: 7,
                until: 9,
                bucket: 10,
                bucket_at: 11,
            },
            checkpoint: 12,
            correction: u32::MAX,
            scheme: Two(0xBEEF),
        }
    }

    fn key() -> Key {
        Key::new(*b"record key bytes")
    }

    #[test]
    fn round_trips_and_every_bit_flip_is_caught() {
        let mut buf = [0u8; MAX_LEN];
        let len = encode(77, &sample(), (12, u32::MAX), &key(), &mut buf).unwrap();
        assert_eq!(len, OVERHEAD + 2);
        assert_eq!(decode::<Two>(&buf[..len], &key()), Some((77, sample())));
        for bit in 0..len * 8 {
            let mut bad = buf;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode::<Two>(&bad[..len], &key()), None, "bit {bit}");
        }
        assert_eq!(decode::<Two>(&buf[..len - 1], &key()), None);
        assert_eq!(decode::<Two>(&[0xFF; MAX_LEN], &key()), None);
        // Under another key the same bytes are not a record.
        assert_eq!(decode::<Two>(&buf[..len], &Key::new([0; 16])), None);
    }

    #[test]
    fn the_tag_is_siphash_2_4_of_the_body_under_the_derived_key() {
        use siphasher::sip::SipHasher24;
        let device = Key::new(core::array::from_fn(|i| u8::try_from(i * 11 + 5).unwrap()));
        let sip = |k: &[u8; 16], m: &[u8]| SipHasher24::new_with_key(k).hash(m);
        let mut want = [0u8; 16];
        want[..8].copy_from_slice(&sip(device.as_bytes(), b"paylock record key 0").to_le_bytes());
        want[8..].copy_from_slice(&sip(device.as_bytes(), b"paylock record key 1").to_le_bytes());
        let derived = crate::persist::derive_record_key(&device);
        assert_eq!(derived.as_bytes(), &want);
        assert_ne!(derived.as_bytes(), device.as_bytes());
        let mut buf = [0u8; MAX_LEN];
        let len = encode(5, &sample(), (12, u32::MAX), &derived, &mut buf).unwrap();
        let body = &buf[..len - TAG_LEN];
        assert_eq!(&buf[len - TAG_LEN..len], &sip(&want, body).to_le_bytes());
        assert_eq!(&body[..4], &[b'P', b'L', 3, Two::TAG]);
    }

    #[test]
    fn unwritten_means_a_header_prefix_then_erased_bytes_up_to_the_last() {
        // The definition: the bytes up to the last programmed one start this scheme's header,
        // and the last byte is erased.
        fn reference(record: &[u8]) -> bool {
            let header = [MAGIC[0], MAGIC[1], VERSION, Two::TAG];
            let programmed = record.iter().rposition(|&b| b != 0xFF).map_or(0, |i| i + 1);
            programmed < record.len()
                && record
                    .iter()
                    .zip(header)
                    .take(programmed)
                    .all(|(&b, h)| b == h)
        }
        // Every record of 6 bytes drawn from the header's bytes, 0x00 and 0xFF.
        let values = [b'P', b'L', VERSION, Two::TAG, 0x00, 0xFF];
        for mut n in 0..values.len().pow(6) {
            let record: Vec<u8> = (0..6)
                .map(|_| {
                    let v = values[n % values.len()];
                    n /= values.len();
                    v
                })
                .collect();
            assert_eq!(
                unwritten::<Two>(&record),
                reference(&record),
                "{record:02x?}"
            );
        }
        assert!(!unwritten::<Two>(&[]));
    }

    #[test]
    fn a_state_that_writes_the_wrong_length_is_refused() {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        struct Liar;
        impl Persist for Liar {
            const TAG: u8 = 201;
            const LEN: usize = 3;
            const FRESH: Self = Self;
            fn save(&self, out: &mut Writer<'_>) {
                out.u8(1);
            }
            fn load(_: &mut Reader<'_>) -> Option<Self> {
                Some(Self)
            }
        }
        let snap = Snapshot {
            scheme: Liar,
            credit: sample().credit,
            lockout: sample().lockout,
            checkpoint: 0,
            correction: 0,
        };
        assert_eq!(encode(1, &snap, (0, 0), &key(), &mut [0; MAX_LEN]), None);
    }
}
