//! OpenPAYGO Token: 9-digit standard and 12-digit extended tokens, optionally on a 1-4 keypad.
//!
//! Generation is byte-exact with `openpaygo` 0.6.3. The device decoder is the fixed model of the
//! spec's "paylock decisions": count 0 is never credit, a counter sync never lowers the count
//! and is taken once, and the 16-bit used-count mask is updated correctly, so no token is ever
//! accepted twice.
//!
//! ```
//! use paylock::openpaygo::{
//!     Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict,
//!     OpenPaygoVerifier,
//! };
//! use paylock::Key;
//!
//! let key = Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1")?;
//! let secret = OpenPaygoSecret::new(key, 123_456_789)?;
//! let form = Form::STANDARD;
//!
//! // CRM: the device's last count was 0; one day of credit.
//! let issued = OpenPaygoIssuer::new(form).generate(&secret, 0, OpenPaygoMessage::AddTime(1))?;
//! assert_eq!(issued.token, "662486790");
//! assert_eq!(issued.count, 2);
//!
//! // Device: enter it once (applied), then again (already used).
//! let decoder = OpenPaygoVerifier::new(form);
//! let mut state = OpenPaygoState::default();
//! let verdict = decoder.decode(&secret, &mut state, b"662486790")?;
//! let OpenPaygoVerdict::Valid(activation) = verdict else {
//!     panic!("a fresh token must be valid");
//! };
//! assert_eq!((activation.value, activation.count), (1, 2));
//! assert_eq!(decoder.decode(&secret, &mut state, b"662486790")?, OpenPaygoVerdict::AlreadyUsed);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod adapter;
mod chain;
pub mod digits;
mod form;
mod issue;
mod secret;
mod state;
mod value;
mod verify;

pub use adapter::capabilities;
pub use chain::{
    COUNT_CEILING, ChainPoint, next_extended, next_standard, siphash24, starting_code_from_key,
};
pub use form::{
    COUNTER_SYNC_VALUE, DISABLE_PAYG_VALUE, ExtendedForm, ExtendedRestrictedForm, Form,
    MAX_EXTENDED_VALUE, MAX_STANDARD_VALUE, StandardForm, StandardRestrictedForm, TokenForm,
};
pub use issue::{OpenPaygoIssueError, OpenPaygoIssued, OpenPaygoIssuer, OpenPaygoMessage};
pub use secret::{MAX_STARTING_CODE, OpenPaygoSecret, StartingCodeError};
pub use state::{OpenPaygoDeviceState, OpenPaygoState};
pub use value::{ValueError, days_to_raw};
pub use verify::{
    Meaning, OpenPaygoActivation, OpenPaygoVerdict, OpenPaygoVerifier, OpenPaygoWindow,
};
