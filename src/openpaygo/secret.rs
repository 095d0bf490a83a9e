//! A device's OpenPAYGO secret: the key and the starting code, both provisioned at the factory.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::key::Key;

/// Largest starting code (9 decimal digits).
pub const MAX_STARTING_CODE: u32 = 999_999_999;

/// The starting code has more than 9 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("starting code {0} has more than 9 digits (max {MAX_STARTING_CODE})")]
pub struct StartingCodeError(pub u32);

/// Key and starting code. Zeroized on drop, hidden from `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct OpenPaygoSecret {
    key: Key,
    starting_code: u32,
}

impl OpenPaygoSecret {
    /// Pairs a key with its explicit starting code (see [`super::starting_code_from_key`] for the
    /// `openpaygo` default).
    ///
    /// # Errors
    /// [`StartingCodeError`] above 999,999,999: such a code would not survive the 9-digit token.
    pub fn new(key: Key, starting_code: u32) -> Result<Self, StartingCodeError> {
        if starting_code > MAX_STARTING_CODE {
            return Err(StartingCodeError(starting_code));
        }
        Ok(Self { key, starting_code })
    }

    /// The key.
    #[must_use]
    pub const fn key(&self) -> &Key {
        &self.key
    }

    /// The starting code.
    #[must_use]
    pub const fn starting_code(&self) -> u32 {
        self.starting_code
    }
}

impl fmt::Debug for OpenPaygoSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenPaygoSecret(..)")
    }
}
