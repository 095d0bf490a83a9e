//! OpenPAYGO Token: 9-digit standard and 12-digit extended tokens, optionally on a 1-4 keypad.
//!
//! Generation is byte-exact with `openpaygo` 0.6.3. The device decoder is the fixed model of the
//! spec's "paylock decisions": count 0 is never credit, a counter sync never lowers the count
//! and is taken once, and the 16-bit used-count mask is updated correctly, so no token is ever
//! accepted twice.
//!
//! ```
//! use paylock::openpaygo::{Decoder, DeviceState, Encoder, Form, Message, Secret, Verdict};
//! use paylock::Key;
//!
//! let secret = Secret::new(Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1")?, 123_456_789)?;
//! let form = Form::STANDARD;
//!
//! // CRM: the device's last count was 0; one day of credit.
//! let issued = Encoder::new(form).generate(&secret, 0, Message::AddTime(1))?;
//! assert_eq!(issued.token, "662486790");
//! assert_eq!(issued.count, 2);
//!
//! // Device: enter it once (applied), then again (already used).
//! let decoder = Decoder::new(form);
//! let mut state = DeviceState::default();
//! let Verdict::Valid(activation) = decoder.decode(&secret, &mut state, b"662486790")? else {
//!     panic!("a fresh token must be valid");
//! };
//! assert_eq!((activation.value, activation.count), (1, 2));
//! assert_eq!(decoder.decode(&secret, &mut state, b"662486790")?, Verdict::AlreadyUsed);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod adapter;
mod chain;
pub mod digits;
mod issue;
mod secret;
mod state;
mod value;
mod verify;

pub use adapter::capabilities;
pub use chain::{next_extended, next_standard, siphash24, starting_code_from_key};
pub use issue::{ChainPoint, Encoder, GenerateError, Generated, Message};
pub use secret::{MAX_STARTING_CODE, Secret, StartingCodeError};
pub use state::DeviceState;
pub use value::{ValueError, days_to_raw};
pub use verify::{Activation, Decoder, Meaning, Verdict, Window};

/// Highest count either side handles (`2^17`). It bounds the work per token: a decode hashes at
/// most this many steps plus the sync jump. C devices store the count in 16 bits, half of this.
pub const COUNT_CEILING: u32 = 1 << 17;

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
