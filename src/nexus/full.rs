//! The full protocol (keys `0-9`, `*`, `#`; credit in hours), spec §3.
//!
//! A 14-digit frame is an activation code (ADD, SET/UNLOCK, WIPE, DEMO), obscured and checked
//! with the device key; other lengths are factory codes (universal, zero key), the device-ID
//! confirmation, or passthrough data for the product.

mod issue;
pub(crate) mod message;
pub(crate) mod verify;

pub use issue::{Activation, FactoryCode, FullIssuer, FullTrace, UartTrace, uart_security_key};
pub use message::{ACTIVATION_DIGITS, MAX_BODY, UNLOCK_HOURS, WipeTarget};
pub use verify::{ActivationFields, inspect_activation};
