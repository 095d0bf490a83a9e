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

/// A token form chosen when the firmware is compiled (one of the zero-sized forms below) or at
/// run time ([`Form`] itself). A verifier of a fixed form links only that form's decoder: a
/// [`Form`] kept in memory (say, inside the device-lock engine) makes the optimiser keep all
/// four, the extended one's 64-bit division included (about 1.4 KB on Cortex-M).
pub trait TokenForm: Copy {
    /// The form.
    fn form(self) -> Form;
}

/// Chosen at run time: simulators, CRMs and tools that serve every form.
impl TokenForm for Form {
    #[inline(always)]
    fn form(self) -> Form {
        self
    }
}

/// [`Form::STANDARD`] fixed at compile time: 9 decimal digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StandardForm;

impl TokenForm for StandardForm {
    #[inline(always)]
    fn form(self) -> Form {
        Form::STANDARD
    }
}

/// [`Form::STANDARD_RESTRICTED`] fixed at compile time: 15 digits 1-4.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StandardRestrictedForm;

impl TokenForm for StandardRestrictedForm {
    #[inline(always)]
    fn form(self) -> Form {
        Form::STANDARD_RESTRICTED
    }
}

/// [`Form::EXTENDED`] fixed at compile time: 12 decimal digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExtendedForm;

impl TokenForm for ExtendedForm {
    #[inline(always)]
    fn form(self) -> Form {
        Form::EXTENDED
    }
}

/// [`Form::EXTENDED_RESTRICTED`] fixed at compile time: 20 digits 1-4.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExtendedRestrictedForm;

impl TokenForm for ExtendedRestrictedForm {
    #[inline(always)]
    fn form(self) -> Form {
        Form::EXTENDED_RESTRICTED
    }
}
