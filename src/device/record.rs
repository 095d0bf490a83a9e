//! The persisted record: fixed size, versioned, protected by a CRC-32.
//!
//! Layout, little-endian: magic `PL`, format version, scheme tag, sequence number (u32), the
//! engine's fields (PAYG mode, expiry, clock checkpoint and correction, lockout), the scheme's
//! state, then the CRC-32 (ISO-HDLC) of everything before it. A torn write fails the CRC; a
//! record of another scheme or format fails the tag or version.

use super::credit::CreditState;
use super::lockout::LockoutState;
use crate::scheme::Payg;

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
/// The record format's version; a record of another version is not read.
pub const VERSION: u8 = 1;
const HEADER_LEN: usize = 8;
const ENGINE_LEN: usize = 26;
const CRC_LEN: usize = 4;
/// Bytes a record takes beyond the scheme's state.
pub const OVERHEAD: usize = HEADER_LEN + ENGINE_LEN + CRC_LEN;
/// The largest record the engine writes; a scheme state must fit in `MAX_LEN - OVERHEAD`.
pub const MAX_LEN: usize = 128;

/// CRC-32/ISO-HDLC computed bit by bit: no 1 KB table in flash for a 50-byte record.
const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC of `bytes`: one copy of the code for encoding and decoding.
#[inline(never)]
fn crc32(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

/// The record length for scheme state `T`.
#[must_use]
pub const fn len<T: Persist>() -> usize {
    OVERHEAD + T::LEN
}

/// Encodes `snapshot` with `sequence` into `buf`; returns the record length.
pub(crate) fn encode<T: Persist>(
    sequence: u32,
    snapshot: &Snapshot<T>,
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
    let crc = crc32(buf.get(..len - CRC_LEN)?);
    buf.get_mut(len - CRC_LEN..len)?
        .copy_from_slice(&crc.to_le_bytes());
    Some(len)
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

/// Decodes a record of scheme `T`: `None` for a torn, blank, foreign or older record.
pub(crate) fn decode<T: Persist>(record: &[u8]) -> Option<(u32, Snapshot<T>)> {
    let len = len::<T>();
    let body = record.get(..len - CRC_LEN)?;
    let crc = u32::from_le_bytes(record.get(len - CRC_LEN..len)?.try_into().ok()?);
    if crc32(body) != crc {
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

    #[test]
    fn round_trips_and_every_bit_flip_is_caught() {
        let mut buf = [0u8; MAX_LEN];
        let len = encode(77, &sample(), &mut buf).unwrap();
        assert_eq!(len, OVERHEAD + 2);
        assert_eq!(decode::<Two>(&buf[..len]), Some((77, sample())));
        for bit in 0..len * 8 {
            let mut bad = buf;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode::<Two>(&bad[..len]), None, "bit {bit}");
        }
        assert_eq!(decode::<Two>(&buf[..len - 1]), None);
        assert_eq!(decode::<Two>(&[0xFF; MAX_LEN]), None);
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
    fn the_crc_is_the_standard_crc32() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(CRC.checksum(b"123456789"), 0xCBF4_3926);
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
        assert_eq!(encode(1, &snap, &mut [0; MAX_LEN]), None);
    }
}
