//! AST v1, paylock's own Access-style token (`docs/access.md`): a fixed-length digit string
//! carrying one frame, `whitened body ‖ truncated MAC`, where the MAC binds the full counter,
//! type, value, device id and key revision. A device rebuilds one counter candidate from the
//! low bits, checks one MAC in constant time, then its replay window; a persisted lockout
//! bounds guessing.
//!
//! Suites (Cargo features): `ast-cmac` (AES-128-CMAC), `ast-hmac` (HMAC-SHA-256) and
//! `ast-siphash` (SipHash-2-4); firmware enables only its own. Using a suite left out of the
//! build is a [`SuiteUnavailable`] error when the [`AstSecret`] is made or a code is generated.
//!
//! ```
//! # #[cfg(feature = "ast-cmac")] {
//! use paylock::access::{
//!     self, Action, AstConfig, AstSecret, AstState, AstVerdict, Profile, Suite, Unit,
//! };
//! use paylock::Key;
//!
//! // Factory: derive the device key from the batch key (spec §14, example 1).
//! let config = AstConfig {
//!     suite: Suite::AesCmac,
//!     profile: Profile::L,
//!     device_id: 123_456_789,
//!     key_rev: 0,
//!     unit: Unit::Hours,
//! };
//! let batch_key = Key::from_hex("2b7e151628aed2a6abf7158809cf4f3c")?;
//! let secret = AstSecret::derive(&batch_key, config)?;
//!
//! // Server: counter 1, 72 hours.
//! let issued = access::generate(&secret, 1, Action::AddCredit(72))?;
//! assert_eq!(issued.token, "3359 3381 3865 7142 9876");
//!
//! // Device: persist `state` before acting on the verdict.
//! let mut state = AstState::FRESH;
//! let now = 1_000;
//! let entered = b"3359 3381 3865 7142 9876";
//! let AstVerdict::Applied(message) = access::verify(&secret, &mut state, entered, now) else {
//!     panic!("a fresh token must apply");
//! };
//! assert_eq!((message.action, message.counter), (Action::AddCredit(72), 1));
//! assert_eq!(state.credit, 72);
//! let again = access::verify(&secret, &mut state, b"3359-3381-3865-7142-9876", now);
//! assert_eq!(again.reason_name(), Some("USED"));
//! # }
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod adapter;
mod frame;
mod issue;
mod kdf;
mod lockout;
mod message;
mod profile;
mod secret;
mod state;
mod suite;
mod text;
mod verdict;
mod verify;
mod whiten;
mod window;

pub use adapter::{AstIssuer, AstVerifier, capabilities};
pub use frame::{DOMAIN, Fields, MAC_INPUT_LEN, USAGE_MAC, mac_input};
pub use issue::{AstIssueError, AstIssued, Trace, generate, test_code, test_trace, trace};
pub use kdf::{KDF_INPUT_LEN, KDF_LABEL, derive_device_key, kdf_blocks, kdf_input};
pub use lockout::{
    GRACE, LOCK_BASE_S, LOCK_CAP_S, TEST_RATE_MAX, TEST_RATE_PERIOD_S, lock_seconds,
};
pub use message::{
    Action, AstMessage, K_TEST, PARAM_CLEAR_TAMPER, PARAM_LOW_CREDIT_WARNING, PARAM_MAX_LOAD_W,
    TEST_DEVICE_ID, TEST_OUTPUT, TEST_SHOW_INFO, TokenType,
};
pub use profile::{PARAM_ID_BITS, Profile, TYPE_BITS};
pub use secret::{AstConfig, AstConfigError, AstSecret, Unit};
pub use state::{AstState, Mode, Params};
pub use suite::{PrfOutput, Suite, SuiteUnavailable};
pub use text::{AstParseError, encode, encode_digits, parse};
pub use verdict::{AstStatus, AstVerdict, Diag, DuplicateReason, InvalidReason, Locked, Reason};
pub use verify::{unwhiten, verify};
pub use whiten::{K_WHT, USAGE_WHT, WHITENING_INPUT_LEN, keystream, whitening_input};
pub use window::reconstruct;
