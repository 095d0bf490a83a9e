//! SipHash-2-4, written for flash size: one round function in a loop, the key schedule done once.
//!
//! `siphasher` unrolls all eight rounds and its general tail into ~2.6 KB of Thumb-2 code; this
//! version is ~0.4 KB at the same host speed (~11 ns per 8-byte message). It is checked against
//! `siphasher` for every message length in the tests, and against the SipHash paper's vector.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::key::Key;

/// The state after keying, reused for every message under one key. It is the key in another
/// form (the XOR with public constants is undone by anyone), so it is zeroized on drop like
/// [`Key`].
#[derive(Clone, Zeroize)]
pub(crate) struct SipHash24([u64; 4]);

impl ZeroizeOnDrop for SipHash24 {}

impl Drop for SipHash24 {
    /// Out of line: one copy of the wipe however many places drop a hasher (inlined into a
    /// decoder's loop it costs ~70 B more Cortex-M flash in the device-lock engine).
    #[inline(never)]
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl SipHash24 {
    /// Keys the hash: `k0`, `k1` are the key's two little-endian halves.
    pub(crate) fn new(key: &Key) -> Self {
        let (k0, k1) = key.as_bytes().split_at(8);
        let (k0, k1) = (le64(k0), le64(k1));
        Self([
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ])
    }

    /// The 64-bit SipHash-2-4 of `msg`.
    pub(crate) fn hash(&self, msg: &[u8]) -> u64 {
        let mut v = self.0;
        let mut rest = msg;
        // Every block through one call of `compress`: the last one is the leftover bytes, with
        // the length mod 256 in the top byte.
        let len_byte = u64::from(u8::try_from(msg.len() & 0xff).unwrap_or(0));
        loop {
            match rest.split_first_chunk::<8>() {
                Some((block, after)) => {
                    compress(&mut v, u64::from_le_bytes(*block));
                    rest = after;
                }
                None => {
                    compress(&mut v, le64(rest) | (len_byte << 56));
                    break;
                }
            }
        }
        v[2] ^= 0xff;
        rounds(&mut v, 4);
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

/// An incremental SipHash-2-4 over a message fed in pieces: the Metrics signatures hash texts
/// that are not contiguous in memory (a serial number, then a JSON value out of a payload).
#[cfg(feature = "metrics")]
#[derive(Clone)]
pub(crate) struct SipStream {
    v: [u64; 4],
    /// The bytes of the block being filled, little-endian, in the low `filled` bytes.
    block: u64,
    filled: u8,
    /// Total length mod 256: only the low byte enters the last block.
    len: u8,
}

#[cfg(feature = "metrics")]
impl SipStream {
    /// A fresh message under the keyed state `key`.
    pub(crate) fn new(key: &SipHash24) -> Self {
        Self {
            v: key.0,
            block: 0,
            filled: 0,
            len: 0,
        }
    }

    /// Appends `bytes` to the message.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        self.len = self
            .len
            .wrapping_add(u8::try_from(bytes.len() & 0xff).unwrap_or(0));
        let mut rest = bytes;
        // Complete the pending block byte by byte, then whole blocks, then the new tail.
        while self.filled != 0 {
            let Some((&b, after)) = rest.split_first() else {
                return;
            };
            self.push(b);
            rest = after;
        }
        let mut blocks = rest.chunks_exact(8);
        for block in &mut blocks {
            compress(&mut self.v, le64(block));
        }
        for &b in blocks.remainder() {
            self.push(b);
        }
    }

    fn push(&mut self, byte: u8) {
        self.block |= u64::from(byte) << (8 * self.filled);
        self.filled += 1;
        if self.filled == 8 {
            compress(&mut self.v, self.block);
            self.block = 0;
            self.filled = 0;
        }
    }

    /// The 64-bit SipHash-2-4 of everything written.
    pub(crate) fn finish(self) -> u64 {
        let mut v = self.v;
        compress(&mut v, self.block | (u64::from(self.len) << 56));
        v[2] ^= 0xff;
        rounds(&mut v, 4);
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

/// Up to 8 bytes as a little-endian integer, missing bytes zero. The whole-block case is a plain
/// load; the tail is folded byte by byte (a variable-length copy would link a 0.7 KB `memcpy`).
fn le64(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(block) => u64::from_le_bytes(block),
        Err(_) => bytes
            .iter()
            .rev()
            .fold(0, |out, &b| (out << 8) | u64::from(b)),
    }
}

fn compress(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    rounds(v, 2);
    v[0] ^= m;
}

/// Kept out of line on bare metal (one copy of the round instead of three, ~150 B less flash);
/// inlined on hosts, where the call would halve the speed.
#[cfg_attr(target_os = "none", inline(never))]
fn rounds(v: &mut [u64; 4], n: usize) {
    let [v0, v1, v2, v3] = v;
    for _ in 0..n {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use siphasher::sip::SipHasher24;

    /// The keyed state is the key XOR public constants: it must not outlive its use.
    #[test]
    fn keyed_state_is_zeroized() {
        fn zeroized_on_drop<T: ZeroizeOnDrop>(_: &T) {}
        let key = Key::new([0x5a; 16]);
        let mut h = SipHash24::new(&key);
        zeroized_on_drop(&h);
        let (k0, k1) = (u64::from_le_bytes([0x5a; 8]), u64::from_le_bytes([0x5a; 8]));
        assert_eq!(h.0[0] ^ 0x736f_6d65_7073_6575, k0);
        assert_eq!(h.0[1] ^ 0x646f_7261_6e64_6f6d, k1);
        h.zeroize();
        assert_eq!(h.0, [0; 4]);
    }

    #[test]
    fn paper_vector() {
        let key = Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        assert_eq!(SipHash24::new(&key).hash(b""), 0x726f_db47_dd0e_0e31);
    }

    #[test]
    #[cfg(feature = "metrics")]
    fn stream_matches_one_shot_for_every_split() {
        let key = Key::new(core::array::from_fn(|i| u8::try_from(i * 5 + 1).unwrap()));
        let sip = SipHash24::new(&key);
        let msg: [u8; 40] = core::array::from_fn(|i| u8::try_from(i * 29 % 256).unwrap());
        for len in 0..=msg.len() {
            for a in 0..=len {
                for b in a..=len {
                    let mut stream = SipStream::new(&sip);
                    stream.write(&msg[..a]);
                    stream.write(&msg[a..b]);
                    stream.write(&msg[b..len]);
                    assert_eq!(stream.finish(), sip.hash(&msg[..len]), "{len} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn matches_siphasher_for_every_length() {
        let key = Key::new(core::array::from_fn(|i| u8::try_from(i * 7 + 3).unwrap()));
        let msg: [u8; 300] = core::array::from_fn(|i| u8::try_from((i * 13 + 1) % 256).unwrap());
        for len in 0..=msg.len() {
            let want = SipHasher24::new_with_key(key.as_bytes()).hash(&msg[..len]);
            assert_eq!(SipHash24::new(&key).hash(&msg[..len]), want, "len {len}");
        }
    }
}
