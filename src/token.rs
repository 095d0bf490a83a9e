//! Fixed-capacity token text: what is shown to a customer and typed on a keypad, without a heap.

use core::fmt;

/// Longest token text any built-in scheme produces, separators included (a 30-digit Nexus
/// passthrough code shows as 41 characters).
pub const CAPACITY: usize = 48;

/// An ASCII token string of at most [`CAPACITY`] bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenText {
    len: u8,
    bytes: [u8; CAPACITY],
}

/// The text does not fit in a [`TokenText`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("token text longer than {CAPACITY} bytes")]
pub struct CapacityError;

impl TokenText {
    /// The empty text.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            len: 0,
            bytes: [0; CAPACITY],
        }
    }

    /// Copies ASCII text in.
    ///
    /// # Errors
    /// [`CapacityError`] if it is longer than [`CAPACITY`] or not ASCII.
    pub fn from_ascii(text: &str) -> Result<Self, CapacityError> {
        let mut out = Self::new();
        for &b in text.as_bytes() {
            out.push(b)?;
        }
        Ok(out)
    }

    /// Appends one ASCII byte.
    ///
    /// # Errors
    /// [`CapacityError`] when full or when `byte` is not ASCII (which would break `as_str`).
    pub fn push(&mut self, byte: u8) -> Result<(), CapacityError> {
        let slot = self
            .bytes
            .get_mut(usize::from(self.len))
            .ok_or(CapacityError)?;
        if !byte.is_ascii() {
            return Err(CapacityError);
        }
        *slot = byte;
        self.len = self.len.wrapping_add(1);
        Ok(())
    }

    /// Writes `value` in decimal, left-padded with zeros to `width` digits.
    ///
    /// # Errors
    /// [`CapacityError`] if the digits do not fit.
    pub fn push_decimal(&mut self, value: u64, width: usize) -> Result<(), CapacityError> {
        let mut digits = [b'0'; 20];
        let mut rest = value;
        let mut used = 0;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + digit(rest % 10);
            rest /= 10;
            used += 1;
            if rest == 0 {
                break;
            }
        }
        for _ in used..width {
            self.push(b'0')?;
        }
        for &b in digits.get(digits.len() - used..).unwrap_or_default() {
            self.push(b)?;
        }
        Ok(())
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text as bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Number of bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// True when no byte has been written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The same text with a space every `group` characters, easier to read out over a phone call.
    ///
    /// # Errors
    /// [`CapacityError`] if the grouped form does not fit.
    pub fn grouped(&self, group: usize) -> Result<Self, CapacityError> {
        let mut out = Self::new();
        for (i, &b) in self.as_bytes().iter().enumerate() {
            if group > 0 && i > 0 && i % group == 0 {
                out.push(b' ')?;
            }
            out.push(b)?;
        }
        Ok(out)
    }
}

/// `value` is always `< 10` here; the conversion cannot fail.
fn digit(value: u64) -> u8 {
    u8::try_from(value).unwrap_or(0)
}

impl Default for TokenText {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TokenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TokenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenText({:?})", self.as_str())
    }
}

impl AsRef<str> for TokenText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for TokenText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TokenText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where and why an entered token is not well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A character that is not a decimal digit.
    #[error("character {position} is '{}', not a digit", .found.escape_ascii())]
    NotADigit {
        /// Zero-based position in the entered text.
        position: usize,
        /// The byte found there.
        found: u8,
    },
    /// A digit outside the keypad's alphabet (for example `5` on a 1-4 keypad).
    #[error("digit {position} is {digit}, outside the keypad's digits {min}-{max}")]
    DigitOutOfSet {
        /// Zero-based position in the entered text.
        position: usize,
        /// The digit found there.
        digit: u8,
        /// Lowest digit the keypad has.
        min: u8,
        /// Highest digit the keypad has.
        max: u8,
    },
    /// The number of digits fits no token form the device accepts.
    #[error("{found} digits entered, the device expects {expected}")]
    Length {
        /// Digits entered.
        found: usize,
        /// Digits the configured token form has.
        expected: usize,
    },
    /// The digits read as a number no token of this form encodes to (a free typo check).
    #[error("the digits are beyond the largest token of this form")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_decimal_to_width() {
        let mut t = TokenText::new();
        t.push_decimal(62_486_790, 9).unwrap();
        assert_eq!(t, "062486790");
        let mut t = TokenText::new();
        t.push_decimal(u64::MAX, 1).unwrap();
        assert_eq!(t, "18446744073709551615");
        let mut t = TokenText::new();
        t.push_decimal(0, 0).unwrap();
        assert_eq!(t, "0");
        let mut t = TokenText::new();
        t.push_decimal(1, 21).unwrap();
        assert_eq!(t, "000000000000000000001");
        assert_eq!(
            TokenText::new().push_decimal(1, CAPACITY + 1),
            Err(CapacityError)
        );
    }

    #[test]
    fn groups_for_display_and_refuses_overflow() {
        let t = TokenText::from_ascii("324244134441123").unwrap();
        assert_eq!(t.grouped(3).unwrap(), "324 244 134 441 123");
        assert_eq!(
            TokenText::from_ascii(&"1".repeat(CAPACITY + 1)),
            Err(CapacityError)
        );
        assert_eq!(TokenText::from_ascii("é"), Err(CapacityError));
    }
}
