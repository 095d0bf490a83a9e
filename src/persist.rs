//! The persistence seam: how a scheme's replay state becomes the scheme part of the device-lock
//! engine's record ([`Persist`], written through [`Writer`] and read through [`Reader`]), and
//! which key authenticates that record ([`RecordKey`]).
//!
//! A module of its own at the top of the core, beside the token seam ([`crate::scheme`]):
//! each scheme implements these traits next to its state (`openpaygo/state.rs`,
//! `nexus/state.rs`, `access/state.rs`), and the engine ([`crate::device`]) is generic over
//! them, so neither imports the other and the engine names no scheme. It is not part of
//! `scheme.rs` because a verifier used without the engine needs none of it; nor of `device/`,
//! which would make every scheme import the engine. The record's layout (header, engine
//! fields, MAC) stays private to the engine.

use crate::key::Key;
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
    /// Reads what [`Persist::save`] wrote; `None` for bytes no state encodes to. Mark it
    /// `#[inline(always)]` as the built-in states do: the engine's record decoding then knows the
    /// reader's length, and the bounds check of every field folds away.
    fn load(input: &mut Reader<'_>) -> Option<Self>;
}

/// A device secret that keys the record's MAC: each scheme's secret type implements it, as must
/// a manufacturer's own scheme's.
pub trait RecordKey {
    /// The key the record is authenticated with: [`derive_record_key`] of the device's secret
    /// key (never that key itself, which also keys the tokens).
    fn record_key(&self) -> Key;
}

/// A scheme whose secret is the device key itself (Nexus, and a manufacturer's scheme keyed
/// by a bare [`Key`]).
impl RecordKey for Key {
    fn record_key(&self) -> Key {
        derive_record_key(self)
    }
}

/// The record key of a device whose token key is `device_key`: `SipHash(K, "paylock record
/// key 0") ‖ SipHash(K, "paylock record key 1")`, each half little-endian. The 20-byte labels
/// are no message any built-in scheme hashes under `K` (OpenPAYGO 8 bytes, Nexus 11 at most,
/// AST 21), so no token ever carries bits of the record key, and the record key tells nothing
/// about `K`.
#[must_use]
pub fn derive_record_key(device_key: &Key) -> Key {
    let halves = u128::from(record_mac(device_key, KEY_LABELS[1])) << 64
        | u128::from(record_mac(device_key, KEY_LABELS[0]));
    // Built in place: no stack copy of the key to wipe, and no 16-byte copy (a `memcpy` call
    // on Cortex-M).
    Key::new(halves.to_le_bytes())
}

/// The KDF labels of the two halves.
const KEY_LABELS: [&[u8; 20]; 2] = [b"paylock record key 0", b"paylock record key 1"];

/// SipHash-2-4 of `body` under `key`: the record key's derivation and the record's MAC. One
/// out-of-line copy for the derivation, encoding and decoding; keying per call costs less
/// flash than a keyed state kept beside the engine.
#[inline(never)]
pub(crate) fn record_mac(key: &Key, body: &[u8]) -> u64 {
    SipHash24::new(key).hash(body)
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
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            overflow: false,
        }
    }

    /// Bytes written so far (past the end included).
    pub(crate) const fn position(&self) -> usize {
        self.pos
    }

    /// What was written, or `None` once a write went past the end.
    pub(crate) fn written(&self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        self.buf.get(..self.pos)
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

    /// Appends a fixed-size field as one store: a byte loop over a slice of known length is
    /// unrolled or not at the optimiser's whim (+228 B of engine flash on thumbv7em when not).
    pub fn array<const N: usize>(&mut self, data: [u8; N]) {
        let end = self.pos.saturating_add(N);
        let dst = self.buf.get_mut(self.pos..end);
        match dst.and_then(|d| <&mut [u8; N]>::try_from(d).ok()) {
            Some(dst) => *dst = data,
            None => self.overflow = true,
        }
        self.pos = end;
    }

    /// Appends a byte.
    pub fn u8(&mut self, v: u8) {
        self.array([v]);
    }

    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) {
        self.array(v.to_le_bytes());
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.array(v.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.array(v.to_le_bytes());
    }
}

/// Reads little-endian fields; every read past the end gives `None`.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Whether every byte was read.
    pub(crate) const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

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

/// Saves `state`, checks it wrote exactly [`Persist::LEN`] bytes and loads it back unchanged,
/// and that one byte fewer loads nothing: the test every scheme's state runs.
#[cfg(test)]
pub(crate) fn round_trip<T: Persist + PartialEq + core::fmt::Debug>(state: T) {
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    state.save(&mut w);
    assert_eq!(w.written().map(<[u8]>::len), Some(T::LEN));
    let mut r = Reader::new(&buf[..T::LEN]);
    assert_eq!(T::load(&mut r), Some(state));
    assert!(r.is_empty());
    assert_eq!(T::load(&mut Reader::new(&buf[..T::LEN - 1])), None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_past_the_end_is_recorded_not_panicked_on() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf);
        w.u16(0xBEEF);
        assert_eq!(w.written(), Some(&[0xEF, 0xBE][..]));
        w.u16(1);
        assert_eq!((w.written(), w.position()), (None, 4));
        let mut r = Reader::new(&buf);
        assert_eq!((r.u16(), r.u16(), r.u8()), (Some(0xBEEF), None, Some(0)));
        assert!(r.is_empty());
        assert_eq!(Reader::new(&[2]).bool(), None);
    }
}
