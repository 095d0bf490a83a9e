//! AST v1, paylock's own Access-style token (`docs/access.md`): a fixed-length digit string
//! carrying one frame, `whitened body ‖ truncated MAC`, where the MAC binds the full counter,
//! type, value, device id and key revision. A device rebuilds one counter candidate from the
//! low bits, checks one MAC in constant time, then its replay window; a persisted lockout
//! bounds guessing.
//!
//! Suites (Cargo features): `ast-cmac` (AES-128-CMAC), `ast-hmac` (HMAC-SHA-256) and
//! `ast-siphash` (SipHash-2-4); firmware enables only its own. Using a suite left out of the
//! build is a [`SuiteUnavailable`] error when the [`Secret`] is made or a code is generated.
//!
//! ```
//! # #[cfg(feature = "ast-cmac")] {
//! use paylock::access::{self, Action, Config, Device, Profile, Secret, State, Suite, Unit, Verdict};
//! use paylock::Key;
//!
//! // Factory: derive the device key from the batch key (spec §14, example 1).
//! let config = Config {
//!     suite: Suite::AesCmac,
//!     profile: Profile::L,
//!     device_id: 123_456_789,
//!     key_rev: 0,
//!     unit: Unit::Hours,
//! };
//! let batch_key = Key::from_hex("2b7e151628aed2a6abf7158809cf4f3c")?;
//! let secret = Secret::derive(&batch_key, config)?;
//!
//! // Server: counter 1, 72 hours.
//! let issued = access::generate(&secret, 1, Action::AddCredit(72))?;
//! assert_eq!(issued.token, "3359 3381 3865 7142 9876");
//!
//! // Device: persist `device.state()` before acting on the verdict.
//! let mut device = Device::new(secret, State::default());
//! let now = 1_000;
//! let Verdict::Applied(message) = device.verify(b"3359 3381 3865 7142 9876", now) else {
//!     panic!("a fresh token must apply");
//! };
//! assert_eq!((message.action, message.counter), (Action::AddCredit(72), 1));
//! assert_eq!(device.state().credit, 72);
//! assert_eq!(device.verify(b"3359-3381-3865-7142-9876", now).reason_name(), Some("USED"));
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
mod state;
mod suite;
mod text;
mod verdict;
mod verify;
mod whiten;
mod window;

pub use adapter::{AstIssuer, AstVerifier, capabilities};
pub use frame::{Fields, MAC_INPUT_LEN, mac_input};
pub use issue::{GenerateError, Generated, Trace, generate, test_code, test_trace, trace};
pub use kdf::{KDF_INPUT_LEN, KDF_LABEL, derive_device_key, kdf_blocks, kdf_input};
pub use lockout::{
    GRACE, LOCK_BASE_S, LOCK_CAP_S, TEST_RATE_MAX, TEST_RATE_PERIOD_S, lock_seconds,
};
pub use message::{
    Action, Message, PARAM_CLEAR_TAMPER, PARAM_LOW_CREDIT_WARNING, PARAM_MAX_LOAD_W, TEST_OUTPUT,
    TEST_SHOW_INFO, TokenType,
};
pub use profile::Profile;
pub use state::{Mode, Params, State};
pub use suite::{PrfOutput, Suite, SuiteUnavailable};
pub use text::{ParseError, encode, encode_digits, parse};
pub use verdict::{Diag, DuplicateReason, InvalidReason, Locked, Reason, Status, Verdict};
pub use verify::{Device, unwhiten, verify};
pub use whiten::{WHITENING_INPUT_LEN, keystream, whitening_input};
pub use window::reconstruct;

use crate::key::Key;

/// `DOMAIN`: ASCII `AST1`. The version lives here only, so an AST2 token fails an AST1 MAC.
pub const DOMAIN: [u8; 4] = *b"AST1";
/// Usage byte of MAC inputs (`'M'`).
pub const USAGE_MAC: u8 = 0x4D;
/// Usage byte of whitening inputs (`'W'`).
pub const USAGE_WHT: u8 = 0x57;
/// The public whitening key `K_WHT`.
pub const K_WHT: [u8; 16] = *b"AST1-whiten-key0";
/// The public TEST key `K_TEST`: TEST codes are the same for every device of a suite/profile.
pub const K_TEST: [u8; 16] = *b"AST1-test-key-00";
/// The device id TEST codes are MACed with; never a real device's id.
pub const TEST_DEVICE_ID: u32 = 0xFFFF_FFFF;
/// Bits of the type field, in every profile.
pub const TYPE_BITS: u32 = 3;
/// Bits of the SET_PARAM parameter id.
pub const PARAM_ID_BITS: u32 = 4;

/// The unit of credit values, a provisioned device parameter (not carried in tokens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Unit {
    /// Credit values are hours.
    #[default]
    Hours,
    /// Credit values are days.
    Days,
}

impl Unit {
    /// The name used in the vector files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hours => "hours",
            Self::Days => "days",
        }
    }

    /// Seconds in one unit.
    #[must_use]
    pub const fn seconds(self) -> u32 {
        match self {
            Self::Hours => 3_600,
            Self::Days => 86_400,
        }
    }
}

/// A device's provisioned configuration, shared by server and device. v1 tokens never change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// The PRF.
    pub suite: Suite,
    /// Token length and bit split.
    pub profile: Profile,
    /// The device id bound in every MAC (not `0xFFFFFFFF`).
    pub device_id: u32,
    /// The full key revision (its low `r` bits travel in the token).
    pub key_rev: u8,
    /// What credit values count.
    pub unit: Unit,
}

/// Why a configuration cannot be provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The suite is not compiled in.
    #[error(transparent)]
    Suite(#[from] SuiteUnavailable),
    /// `0xFFFFFFFF` is reserved for TEST codes.
    #[error("device id 0xFFFFFFFF is reserved for TEST codes")]
    TestDeviceId,
}

/// A device key with the configuration it was derived for: what both sides need. Made only
/// through [`Secret::new`] or [`Secret::derive`], so its suite is always compiled in.
#[derive(Clone, Debug)]
pub struct Secret {
    key: Key,
    config: Config,
}

impl Secret {
    /// Wraps an imported per-device key.
    ///
    /// # Errors
    /// [`ConfigError`] for a suite not compiled in or the TEST device id.
    pub fn new(key: Key, config: Config) -> Result<Self, ConfigError> {
        config.suite.check()?;
        if config.device_id == TEST_DEVICE_ID {
            return Err(ConfigError::TestDeviceId);
        }
        Ok(Self { key, config })
    }

    /// Derives the device key from a batch key (spec §4), as a factory does.
    ///
    /// # Errors
    /// [`ConfigError`] for a suite not compiled in or the TEST device id.
    pub fn derive(batch_key: &Key, config: Config) -> Result<Self, ConfigError> {
        if config.device_id == TEST_DEVICE_ID {
            return Err(ConfigError::TestDeviceId);
        }
        let key = derive_device_key(config.suite, batch_key, config.device_id, config.key_rev)?;
        Self::new(key, config)
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The device key.
    #[must_use]
    pub const fn key(&self) -> &Key {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs in reduced builds, e.g. `--no-default-features --features ast-siphash`.
    #[test]
    fn suites_left_out_are_typed_errors() {
        for suite in Suite::ALL.into_iter().filter(|s| !s.is_available()) {
            let config = Config {
                suite,
                profile: Profile::L,
                device_id: 1,
                key_rev: 0,
                unit: Unit::Hours,
            };
            let missing = SuiteUnavailable(suite);
            let key = Key::new([0; 16]);
            assert_eq!(
                Secret::new(key.clone(), config).unwrap_err(),
                ConfigError::Suite(missing)
            );
            assert_eq!(
                Secret::derive(&key, config).unwrap_err(),
                ConfigError::Suite(missing)
            );
            assert_eq!(
                test_code(suite, Profile::M, 0),
                Err(GenerateError::Suite(missing))
            );
            assert_eq!(suite.prf(&key, b"").unwrap_err(), missing);
        }
    }
}
