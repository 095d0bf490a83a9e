//! Angaza Nexus keycodes: the full protocol (keys `0-9*#`, credit in hours) and the small
//! protocol (keys `1-5`, credit in days), issuer and device side.
//!
//! Issuing is byte-exact with `nexus-keycode` 1.5.1, except that OQC test codes use the
//! `5 000 MM` form nexus-embedded 2.0.1 accepts. The device side matches nexus-embedded 2.0.1,
//! except that message IDs are `u32` end to end, so no code can be replayed by pushing its ID
//! past 65535; issuers still refuse IDs above 65534 by default, for deployed firmware. Every
//! keycode these APIs return is the obscured form the device accepts.
//!
//! ```
//! use paylock::nexus::{
//!     FullIssuer, KeycodeProcessor, NexusConfig, NexusState, PaygState, Platform, Response,
//! };
//! use paylock::Key;
//!
//! let key = Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef")?;
//!
//! // Server: message ID 42, one week.
//! let code = FullIssuer::new().add_credit(&key, 42, 168)?;
//! assert_eq!(code.display(), "*599 791 493 194 43#");
//! assert_eq!(code.keys(), "*59979149319443#");
//!
//! // Device: a product with a credit counter in seconds.
//! struct Product { credit: u32 }
//! impl Platform for Product {
//!     fn payg_state(&self) -> PaygState {
//!         if self.credit > 0 { PaygState::Enabled } else { PaygState::Disabled }
//!     }
//!     fn add_credit(&mut self, seconds: u32) { self.credit += seconds }
//!     fn set_credit(&mut self, seconds: u32) { self.credit = seconds }
//!     fn unlock(&mut self) {}
//!     fn user_facing_id(&self) -> u32 { 123_456_789 }
//! }
//! let mut product = Product { credit: 0 };
//! let mut state = NexusState::FRESH; // persist this after every call
//! let mut device = KeycodeProcessor::new(NexusConfig::full(), &state);
//! let mut last = None;
//! for (second, &k) in code.keys().as_bytes().iter().enumerate() {
//!     last = device.press_key(k, second as u32, &key, &mut state, &mut product);
//! }
//! assert_eq!(last.map(|p| p.response), Some(Response::ValidApplied));
//! assert_eq!(product.credit, 168 * 3600);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod adapter;
mod apply;
pub mod channel;
mod config;
pub mod full;
mod issue;
mod keycode;
mod keys;
mod platform;
pub mod primitives;
mod rate_limit;
#[cfg(feature = "std")]
pub mod sim;
pub mod small;
mod state;
mod verify;
mod window;

pub use adapter::{
    KIND_DISPLAY_PAYG_ID, KIND_NO_CREDIT_CHANGE, KIND_RESTRICTED_FLAG_CLEARED, NexusVerifier,
    capabilities,
};
pub use config::{AnyProtocol, FullOnly, NexusConfig, Protocol, Protocols, SmallOnly};
pub use full::{Activation, FactoryCode, FullIssuer, WipeTarget};
pub use issue::{MAX_ISSUED_ID, NexusIssueError};
pub use keycode::{Keycode, MAX_FRAME_DIGITS, SmallKeymap};
pub use keys::{KeyBuffer, KeyStep, MAX_CODE_KEYS, SMALL_FRAME_SYMBOLS};
pub use platform::{Feedback, PaygState, Platform, Processed, Response};
pub use rate_limit::RateLimit;
pub use small::{Maintenance, SetTarget, SmallIssuer, TestCode};
pub use state::NexusState;
pub use verify::KeycodeProcessor;
pub use window::Window;
