//! Which tokens a device takes: the form set at provisioning (length and keypad) and the values
//! a token of that form carries.

/// Value meaning "disable PAYG" in standard tokens.
pub const DISABLE_PAYG_VALUE: u32 = 998;
/// Value meaning "counter sync" in standard tokens.
pub const COUNTER_SYNC_VALUE: u32 = 999;
/// Largest activation value of a standard token (996 and 997 are reserved).
pub const MAX_STANDARD_VALUE: u32 = 995;
/// Largest activation value of an extended token.
pub const MAX_EXTENDED_VALUE: u32 = 999_999;

/// Which token form a device uses: set at provisioning, the same on server and device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Form {
    /// 12-digit tokens with a 6-digit value (a manufacturer extension) instead of 9 digits.
    pub extended: bool,
    /// A keypad with only the digits 1-4: tokens are 15 (or 20 extended) such digits.
    pub restricted_digit_set: bool,
}

impl Form {
    /// 9 decimal digits.
    pub const STANDARD: Self = Self {
        extended: false,
        restricted_digit_set: false,
    };
    /// 15 digits 1-4.
    pub const STANDARD_RESTRICTED: Self = Self {
        extended: false,
        restricted_digit_set: true,
    };
    /// 12 decimal digits.
    pub const EXTENDED: Self = Self {
        extended: true,
        restricted_digit_set: false,
    };
    /// 20 digits 1-4.
    pub const EXTENDED_RESTRICTED: Self = Self {
        extended: true,
        restricted_digit_set: true,
    };

    /// Characters in a token of this form.
    #[must_use]
    pub const fn token_len(self) -> usize {
        match (self.extended, self.restricted_digit_set) {
            (false, false) => 9,
            (true, false) => 12,
            (false, true) => 15,
            (true, true) => 20,
        }
    }

    /// Largest value a token of this form carries as time.
    #[must_use]
    pub const fn max_value(self) -> u32 {
        if self.extended {
            MAX_EXTENDED_VALUE
        } else {
            MAX_STANDARD_VALUE
        }
    }
}
