//! An issued keycode: the keys to press and the grouped form to read out, both obscured.
//!
//! There is deliberately no way to turn un-obscured digits into a [`Keycode`]: upstream's
//! `str()` printed the un-obscured form and firmware rejected it (spec §11, decision 2).

use core::fmt;

use crate::token::TokenText;

/// Keys per display group, as upstream `to_keycode()` groups them.
const GROUP: usize = 3;

/// Most digits a full-protocol frame holds (the device's buffer).
pub const MAX_FRAME_DIGITS: usize = 30;

/// Up to [`MAX_FRAME_DIGITS`] decimal digits (values 0-9): a frame being built or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameDigits {
    buf: [u8; MAX_FRAME_DIGITS],
    len: usize,
}

impl FrameDigits {
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME_DIGITS],
            len: 0,
        }
    }

    /// Appends one digit; `false` (and nothing appended) when full.
    pub(crate) fn push(&mut self, digit: u8) -> bool {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = digit % 10;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Appends `value` as exactly `width` digits (the low ones), most significant first.
    pub(crate) fn push_decimal(&mut self, value: u64, width: u32) -> bool {
        let mut ok = true;
        for place in (0..width).rev() {
            let d = value / 10u64.saturating_pow(place) % 10;
            ok &= self.push(u8::try_from(d).unwrap_or(0));
        }
        ok
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or_default()
    }

    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    /// The digits as ASCII text (at most 30 characters: always fits).
    pub(crate) fn text(&self) -> TokenText {
        let mut out = TokenText::new();
        for &d in self.as_slice() {
            let _ = out.push(b'0' + d);
        }
        out
    }
}

/// A keycode ready for a customer: `keys` is what is typed, `display` what is printed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keycode {
    keys: TokenText,
    display: TokenText,
}

impl Keycode {
    /// The keys to press, without separators: `*59979149319443#`, `135242422455244`.
    #[must_use]
    pub const fn keys(&self) -> &TokenText {
        &self.keys
    }

    /// The form upstream `to_keycode()` prints: `*599 791 493 194 43#`, `135 242 422 455 244`.
    #[must_use]
    pub const fn display(&self) -> &TokenText {
        &self.display
    }

    /// A full-protocol code: `*`, the digits in groups of three, `#`.
    pub(crate) fn full(digits: &FrameDigits) -> Self {
        Self::bracketed(digits, true)
    }

    /// A full-protocol code shown without groups (the device-ID confirmation, which has no
    /// upstream generator; the vectors show it this way).
    pub(crate) fn full_ungrouped(digits: &FrameDigits) -> Self {
        Self::bracketed(digits, false)
    }

    /// At most 30 digits make at most 41 characters, within [`crate::token::CAPACITY`]; the
    /// pushes cannot fail, and the vectors and unit tests check every length.
    fn bracketed(digits: &FrameDigits, grouped: bool) -> Self {
        let mut keys = TokenText::new();
        let mut display = TokenText::new();
        let _ = keys.push(b'*');
        let _ = display.push(b'*');
        for (i, &d) in digits.as_slice().iter().enumerate() {
            if grouped && i > 0 && i % GROUP == 0 {
                let _ = display.push(b' ');
            }
            let _ = keys.push(b'0' + d);
            let _ = display.push(b'0' + d);
        }
        let _ = keys.push(b'#');
        let _ = display.push(b'#');
        Self { keys, display }
    }

    /// A small-protocol code: the start key and 14 mapped symbols, grouped by three as a whole
    /// (15 keys, 19 characters: the pushes cannot fail).
    pub(crate) fn small(symbols: &[u8; 14], keymap: SmallKeymap) -> Self {
        let mut keys = TokenText::new();
        let _ = keys.push(keymap.start);
        for &s in symbols {
            let key = keymap
                .symbols
                .get(usize::from(s & 3))
                .copied()
                .unwrap_or(b'?');
            let _ = keys.push(key);
        }
        let display = keys.grouped(GROUP).unwrap_or(keys);
        Self { keys, display }
    }
}

impl fmt::Display for Keycode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display.as_str())
    }
}

impl fmt::Debug for Keycode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keycode({:?})", self.display.as_str())
    }
}

/// How small-protocol symbols are shown: the start key and the keys for the values 0-3.
///
/// Firmware only accepts the default (`1`, then `2345`); other maps exist for products whose
/// keypad labels differ (upstream's `to_keycode(prefix, key_dict)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SmallKeymap {
    start: u8,
    symbols: [u8; 4],
}

impl SmallKeymap {
    /// Start key `1`, symbols `2345`: what nexus-embedded reads.
    pub const STANDARD: Self = Self {
        start: b'1',
        symbols: *b"2345",
    };

    /// A custom map; `None` unless all five keys are printable ASCII.
    #[must_use]
    pub const fn new(start: u8, symbols: [u8; 4]) -> Option<Self> {
        let [a, b, c, d] = symbols;
        if start.is_ascii_graphic()
            && a.is_ascii_graphic()
            && b.is_ascii_graphic()
            && c.is_ascii_graphic()
            && d.is_ascii_graphic()
        {
            Some(Self { start, symbols })
        } else {
            None
        }
    }

    /// The start key.
    #[must_use]
    pub const fn start(&self) -> u8 {
        self.start
    }

    /// The keys for the symbol values 0, 1, 2, 3.
    #[must_use]
    pub const fn symbols(&self) -> [u8; 4] {
        self.symbols
    }
}

impl Default for SmallKeymap {
    fn default() -> Self {
        Self::STANDARD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(values: &[u8]) -> FrameDigits {
        let mut d = FrameDigits::new();
        for &v in values {
            assert!(d.push(v));
        }
        d
    }

    #[test]
    fn groups_like_upstream() {
        let full = Keycode::full(&digits(&[5, 9, 9, 7, 9, 1, 4, 9, 3, 1, 9, 4, 4, 3]));
        assert_eq!(full.keys(), "*59979149319443#");
        assert_eq!(full.display(), "*599 791 493 194 43#");
        assert_eq!(full.to_string(), "*599 791 493 194 43#");
        let small = Keycode::small(
            &[1, 3, 0, 2, 0, 2, 0, 0, 2, 3, 3, 0, 2, 2],
            SmallKeymap::STANDARD,
        );
        assert_eq!(small.keys(), "135242422455244");
        assert_eq!(small.display(), "135 242 422 455 244");
    }

    #[test]
    fn thirty_digits_fit_and_no_more_are_held() {
        let mut d = digits(&[7; 30]);
        assert!(!d.push(1));
        let code = Keycode::full(&d);
        assert_eq!(code.keys().len(), 32);
        assert_eq!(code.display().len(), 41);
        let mut w = FrameDigits::new();
        assert!(w.push_decimal(42, 5));
        assert_eq!(w.as_slice(), &[0, 0, 0, 4, 2]);
    }

    #[test]
    fn keymap_needs_printable_keys() {
        assert!(SmallKeymap::new(b'*', *b"1234").is_some());
        assert!(SmallKeymap::new(b' ', *b"1234").is_none());
        assert!(SmallKeymap::new(b'1', [b'2', b'3', b'4', 0xff]).is_none());
    }
}
