//! Message assembly (spec §6): collecting keys into a frame between the start key and the end
//! (`#` for full codes, the 14th symbol for small codes). Pure (no [`Platform`]): the
//! [`KeycodeProcessor`] and a device engine fed key by key share it, so both apply the same
//! key-entry rules.
//!
//! [`Platform`]: super::Platform
//! [`KeycodeProcessor`]: super::KeycodeProcessor

use crate::nexus::config::Protocol;
use crate::nexus::keycode::MAX_FRAME_DIGITS;

/// Symbols in a small-protocol frame; it ends by itself at this length.
pub const SMALL_FRAME_SYMBOLS: usize = 14;

/// Keys of the longest whole code [`KeyBuffer::whole_code`] writes: the start key, a frame of
/// [`MAX_FRAME_DIGITS`] keys and `#`.
pub const MAX_CODE_KEYS: usize = MAX_FRAME_DIGITS + 2;

/// What one key did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStep {
    /// Taken (a start key, or a key inside a frame).
    Accepted,
    /// Ignored: no frame started.
    Rejected,
    /// The frame is complete: read it with [`KeyBuffer::frame`].
    Finished,
}

impl Default for KeyBuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// The keys of the code being entered, one at a time: the start key (`*`, or `1` for small
/// codes) restarts, `#` (or the 14th small symbol) finishes, keys before a start key are
/// rejected, more than [`MAX_FRAME_DIGITS`] keys make the frame invalid, and a frame idle for
/// longer than the entry timeout is dropped ([`KeyBuffer::expire`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyBuffer {
    keys: [u8; MAX_FRAME_DIGITS],
    /// At most [`MAX_FRAME_DIGITS`]; 32 bits (as `usize` on Cortex-M) keep the buffer within
    /// the C engine's fixed size on 64-bit hosts too.
    len: u32,
    /// More than [`MAX_FRAME_DIGITS`] keys came in: the frame is invalid whatever follows.
    overflow: bool,
    started: bool,
    /// When the last key came in. (A plain `u32` here makes LLVM copy a `KeycodeProcessor`
    /// with `memcpy`, 730 B more on a C keypad device.)
    last_key_at: Option<u32>,
}

const fn start_key(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Full => b'*',
        Protocol::Small => b'1',
    }
}

impl KeyBuffer {
    /// No frame started.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            keys: [0; MAX_FRAME_DIGITS],
            len: 0,
            overflow: false,
            started: false,
            last_key_at: None,
        }
    }

    /// Empties the frame (the start flag is left alone).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    fn push(&mut self, key: u8) {
        match self.keys.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = key;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    fn at_stop_length(&self, protocol: Protocol) -> bool {
        protocol == Protocol::Small && self.len as usize >= SMALL_FRAME_SYMBOLS
    }

    /// Drops a started frame when more than `timeout` seconds passed since its last key.
    pub fn expire(&mut self, now: u32, timeout: u32) {
        let idle = self.last_key_at.map_or(0, |t| now.saturating_sub(t));
        if self.started && idle > timeout {
            self.started = false;
            self.clear();
        }
    }

    /// One key at time `now` (seconds; call [`KeyBuffer::expire`] first).
    ///
    /// Inlined into each caller: a keypad device and an engine fed key by key in one library
    /// then cost what each costs alone (firmware/c/size.sh).
    #[inline(always)]
    pub fn key(&mut self, key: u8, now: u32, protocol: Protocol) -> KeyStep {
        self.last_key_at = Some(now);
        if key == start_key(protocol) {
            self.started = true;
            self.clear();
            return KeyStep::Accepted;
        }
        if !self.started {
            return KeyStep::Rejected;
        }
        if protocol == Protocol::Full && key == b'#' {
            self.started = false;
            return KeyStep::Finished;
        }
        self.push(key);
        if self.at_stop_length(protocol) {
            self.started = false;
            return KeyStep::Finished;
        }
        KeyStep::Accepted
    }

    /// Loads a whole code; `false` if it does not begin with the start key.
    pub(crate) fn whole(&mut self, keys: &[u8], protocol: Protocol) -> bool {
        self.started = false;
        self.clear();
        let Some((&first, rest)) = keys.split_first() else {
            return false;
        };
        if first != start_key(protocol) {
            return false;
        }
        let body = match protocol {
            Protocol::Full => rest.split_last().map_or(&[][..], |(_, body)| body),
            Protocol::Small => rest,
        };
        for &key in body {
            self.push(key);
            if self.at_stop_length(protocol) {
                break;
            }
        }
        true
    }

    /// The frame as a whole code (start key, frame, and `#` for full codes) into `out`, for a
    /// verifier that takes whole codes; returns its length. Whole-code entry reads it back to
    /// the same frame. An empty or over-long frame (both INVALID) gives the code of no frame
    /// (`*#`, or `1`), INVALID to whole-code entry too.
    pub fn whole_code(&self, protocol: Protocol, out: &mut [u8; MAX_CODE_KEYS]) -> usize {
        let frame = self.frame().unwrap_or_default();
        let mut len = 0;
        let end: &[u8] = match protocol {
            Protocol::Full => b"#",
            Protocol::Small => b"",
        };
        for &key in [start_key(protocol)].iter().chain(frame).chain(end) {
            if let Some(slot) = out.get_mut(len) {
                *slot = key;
                len += 1;
            }
        }
        len
    }

    /// The finished frame, or `None` when empty or too long (both INVALID).
    #[must_use]
    pub fn frame(&self) -> Option<&[u8]> {
        if self.overflow || self.len == 0 {
            return None;
        }
        self.keys.get(..self.len as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_frame_by_key() {
        let mut e = KeyBuffer::new();
        assert_eq!(e.key(b'5', 0, Protocol::Full), KeyStep::Rejected);
        assert_eq!(e.key(b'*', 0, Protocol::Full), KeyStep::Accepted);
        assert_eq!(e.key(b'1', 1, Protocol::Full), KeyStep::Accepted);
        assert_eq!(e.key(b'*', 2, Protocol::Full), KeyStep::Accepted);
        assert_eq!(e.key(b'7', 3, Protocol::Full), KeyStep::Accepted);
        assert_eq!(e.key(b'#', 4, Protocol::Full), KeyStep::Finished);
        assert_eq!(e.frame(), Some(&b"7"[..]));
    }

    #[test]
    fn small_frame_stops_at_14() {
        let mut e = KeyBuffer::new();
        assert_eq!(e.key(b'1', 0, Protocol::Small), KeyStep::Accepted);
        for _ in 0..13 {
            assert_eq!(e.key(b'2', 0, Protocol::Small), KeyStep::Accepted);
        }
        assert_eq!(e.key(b'3', 0, Protocol::Small), KeyStep::Finished);
        assert_eq!(e.frame().map(<[u8]>::len), Some(14));
    }

    #[test]
    fn overflow_and_empty_are_not_frames() {
        let mut e = KeyBuffer::new();
        assert!(e.whole(b"*1111111111111111111111111111111#", Protocol::Full));
        assert_eq!(e.frame(), None);
        assert!(e.whole(b"*#", Protocol::Full));
        assert_eq!(e.frame(), None);
        assert!(e.whole(b"*", Protocol::Full));
        assert_eq!(e.frame(), None);
        assert!(!e.whole(b"", Protocol::Full));
        assert!(!e.whole(b"#12#", Protocol::Full));
    }

    #[test]
    fn whole_small_code_ignores_extra_keys() {
        let mut e = KeyBuffer::new();
        assert!(e.whole(b"1555555555555554444", Protocol::Small));
        assert_eq!(e.frame(), Some(&b"55555555555555"[..]));
    }

    #[test]
    fn whole_code_reads_back_to_the_frame() {
        let mut out = [0; MAX_CODE_KEYS];
        let mut e = KeyBuffer::new();
        for k in b"*123*59979149319443#" {
            e.key(*k, 0, Protocol::Full);
        }
        let n = e.whole_code(Protocol::Full, &mut out);
        assert_eq!(out.get(..n), Some(&b"*59979149319443#"[..]));
        let mut back = KeyBuffer::new();
        assert!(back.whole(&out[..n], Protocol::Full));
        assert_eq!(back.frame(), Some(&b"59979149319443"[..]));
        for k in b"*1234567890123456789012345678901#" {
            e.key(*k, 0, Protocol::Full);
        }
        assert_eq!(e.frame(), None);
        let n = e.whole_code(Protocol::Full, &mut out);
        assert_eq!(out.get(..n), Some(&b"*#"[..]));
        for k in b"1135242422455244" {
            e.key(*k, 0, Protocol::Small);
        }
        let n = e.whole_code(Protocol::Small, &mut out);
        assert_eq!(out.get(..n), Some(&b"135242422455244"[..]));
    }

    #[test]
    fn timeout_drops_a_half_code() {
        let mut e = KeyBuffer::new();
        e.key(b'*', 100, Protocol::Full);
        e.key(b'1', 110, Protocol::Full);
        e.expire(126, 16);
        assert_eq!(e.key(b'#', 126, Protocol::Full), KeyStep::Finished);
        e.key(b'*', 200, Protocol::Full);
        e.expire(217, 16);
        assert_eq!(e.key(b'#', 217, Protocol::Full), KeyStep::Rejected);
    }
}
