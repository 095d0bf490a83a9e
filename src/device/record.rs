//! The persisted record: fixed size, versioned, authenticated with a MAC.
//!
//! Layout, little-endian: magic `PL`, format version, scheme tag, sequence number (u32), the
//! engine's fields (PAYG mode, expiry, clock checkpoint and correction, lockout), the scheme's
//! state, then a 64-bit SipHash-2-4 tag of everything before it under the record key, which
//! [`derive_key`] makes from the device secret. A torn write, a bit flip and a record built
//! without the secret all fail the tag (a CRC would catch only the first two, and a MAC subsumes
//! it); a record of another scheme or format fails the tag or version.

use super::credit::CreditState;
use super::lockout::LockoutState;
use crate::key::Key;
use crate::scheme::Payg;
use crate::siphash::SipHash24;

/// A scheme state the engine can persist: a fixed number of bytes, and a tag so that a record
/// written by another scheme's firmware is never read as this one's.
pub trait Persist: Copy {
    /// Distinguishes schemes in the record (1 OpenPAYGO, 2 Nexus, 3 AST; manufacturers'
    /// schemes use 128 and above).
    const TAG: u8;
    /// Bytes [`Persist::save`] writes.
    const LEN: usize;
    /// The state of a newly provisioned device.
    const FRESH: Self;
    /// Writes exactly [`Persist::LEN`] bytes.
    fn save(&self, out: &mut Writer<'_>);
    /// Reads what [`Persist::save`] wrote; `None` for bytes no state encodes to.
    fn load(input: &mut Reader<'_>) -> Option<Self>;
}

/// A device secret that keys the record's MAC: each scheme's secret type implements it, as must
/// a manufacturer's own scheme's.
pub trait RecordKey {
    /// The key the record is authenticated with: [`derive_key`] of the device's secret key
    /// (never that key itself, which also keys the tokens).
    fn record_key(&self) -> Key;
}

/// The record key of a device whose token key is `device_key`: `SipHash(K, "paylock record
/// key 0") ‖ SipHash(K, "paylock record key 1")`, each half little-endian. The 20-byte labels
/// are no message any built-in scheme hashes under `K` (OpenPAYGO 8 bytes, Nexus 11 at most,
/// AST 21), so no token ever carries bits of the record key, and the record key tells nothing
/// about `K`.
#[must_use]
pub fn derive_key(device_key: &Key) -> Key {
    let halves = u128::from(tag(device_key, KEY_LABELS[1])) << 64
        | u128::from(tag(device_key, KEY_LABELS[0]));
    let mut bytes = halves.to_le_bytes();
    let key = Key::new(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    key
}

/// The KDF labels of the two halves.
const KEY_LABELS: [&[u8; 20]; 2] = [b"paylock record key 0", b"paylock record key 1"];

/// Writes little-endian fields into a byte buffer. Writing past the end is recorded, not
/// panicked on, and makes the encoding fail.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            overflow: false,
        }
    }

    /// Appends bytes.
    pub fn bytes(&mut self, data: &[u8]) {
        let end = self.pos.saturating_add(data.len());
        match self.buf.get_mut(self.pos..end) {
            // Not `copy_from_slice`: its length check is a panic path the optimiser cannot
            // always remove.
            Some(dst) => dst.iter_mut().zip(data).for_each(|(d, s)| *d = *s),
            None => self.overflow = true,
        }
        self.pos = end;
    }

    /// Appends a byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

/// Reads little-endian fields; every read past the end gives `None`.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads the next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.buf.split_first_chunk::<N>()?;
        self.buf = rest;
        Some(*head)
    }

    /// Reads a byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// Reads a `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// Reads a `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads a byte that must be 0 or 1.
    pub fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

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

impl<T: PartialEq + Copy> Snapshot<T> {
    /// Equal apart from the checkpoint: nothing worth a flash write changed.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.credit == other.credit
            && self.lockout == other.lockout
            && same_state(&self.scheme, &other.scheme)
    }
}

/// `a == b` for scheme states, not inlined: the engine compares them in two places, and a large
/// state (AST's) takes long code to compare.
#[inline(never)]
pub(crate) fn same_state<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b
}

const MAGIC: [u8; 2] = *b"PL";
/// The record format's version; a record of another version is not read. Version 1 carried a
/// CRC-32 where version 2 carries the MAC.
pub const VERSION: u8 = 2;
const HEADER_LEN: usize = 8;
const ENGINE_LEN: usize = 26;
/// Bytes of the MAC: SipHash-2-4's whole 64-bit output.
pub const TAG_LEN: usize = 8;
/// Bytes a record takes beyond the scheme's state.
pub const OVERHEAD: usize = HEADER_LEN + ENGINE_LEN + TAG_LEN;
/// The largest record the engine writes; a scheme state must fit in `MAX_LEN - OVERHEAD`.
pub const MAX_LEN: usize = 128;

/// The record MAC: SipHash-2-4 of `body` under `key`. One out-of-line copy for the key
/// derivation, encoding and decoding; keying per call costs less flash than a keyed state kept
/// beside the engine.
#[inline(never)]
pub(crate) fn tag(key: &Key, body: &[u8]) -> u64 {
    SipHash24::new(key).hash(body)
}

/// The record length for scheme state `T`.
#[must_use]
pub const fn len<T: Persist>() -> usize {
    OVERHEAD + T::LEN
}

/// Encodes `snapshot` with `sequence` into `buf`, authenticated under `key` (the record key);
/// returns the record length.
pub(crate) fn encode<T: Persist>(
    sequence: u32,
    snapshot: &Snapshot<T>,
    key: &Key,
    buf: &mut [u8; MAX_LEN],
) -> Option<usize> {
    let len = len::<T>();
    let mut w = Writer::new(buf);
    w.bytes(&MAGIC);
    w.u8(VERSION);
    w.u8(T::TAG);
    w.u32(sequence);
    w.u8(match snapshot.credit.payg {
        Payg::Enabled => 0,
        Payg::Unlocked => 1,
    });
    w.u32(snapshot.credit.expiry);
    w.u32(snapshot.checkpoint);
    w.u32(snapshot.correction);
    let l = &snapshot.lockout;
    w.u8(l.fails);
    w.u32(l.until);
    w.u32(l.bucket);
    w.u32(l.bucket_at);
    let start = w.pos;
    snapshot.scheme.save(&mut w);
    if w.overflow || w.pos != start + T::LEN {
        return None;
    }
    let mac = tag(key, w.buf.get(..w.pos)?);
    w.u64(mac);
    (!w.overflow && w.pos == len).then_some(len)
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
    if tag(key, body) ^ mac != 0 {
        return None;
    }
    let mut r = Reader { buf: body };
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
    r.buf.is_empty().then_some((
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
        let len = encode(77, &sample(), &key(), &mut buf).unwrap();
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
        let derived = derive_key(&device);
        assert_eq!(derived.as_bytes(), &want);
        assert_ne!(derived.as_bytes(), device.as_bytes());
        let mut buf = [0u8; MAX_LEN];
        let len = encode(5, &sample(), &derived, &mut buf).unwrap();
        let body = &buf[..len - TAG_LEN];
        assert_eq!(&buf[len - TAG_LEN..len], &sip(&want, body).to_le_bytes());
        assert_eq!(&body[..4], &[b'P', b'L', 2, Two::TAG]);
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
        assert_eq!(encode(1, &snap, &key(), &mut [0; MAX_LEN]), None);
    }
}
