//! What a device is provisioned with: the configuration both sides share and the device key.

use super::kdf::derive_device_key;
use super::message::TEST_DEVICE_ID;
use super::profile::Profile;
use super::suite::{Suite, SuiteUnavailable};
use crate::key::Key;

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
pub struct AstConfig {
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
pub enum AstConfigError {
    /// The suite is not compiled in.
    #[error(transparent)]
    Suite(#[from] SuiteUnavailable),
    /// `0xFFFFFFFF` is reserved for TEST codes.
    #[error("device id 0xFFFFFFFF is reserved for TEST codes")]
    TestDeviceId,
}

/// A device key with the configuration it was derived for: what both sides need. Made only
/// through [`AstSecret::new`] or [`AstSecret::derive`], so its suite is always compiled in.
#[derive(Clone, Debug)]
pub struct AstSecret {
    key: Key,
    config: AstConfig,
}

impl AstSecret {
    /// Wraps an imported per-device key.
    ///
    /// # Errors
    /// [`AstConfigError`] for a suite not compiled in or the TEST device id.
    pub fn new(key: Key, config: AstConfig) -> Result<Self, AstConfigError> {
        config.suite.check()?;
        if config.device_id == TEST_DEVICE_ID {
            return Err(AstConfigError::TestDeviceId);
        }
        Ok(Self { key, config })
    }

    /// Derives the device key from a batch key (spec §4), as a factory does.
    ///
    /// # Errors
    /// [`AstConfigError`] for a suite not compiled in or the TEST device id.
    pub fn derive(batch_key: &Key, config: AstConfig) -> Result<Self, AstConfigError> {
        if config.device_id == TEST_DEVICE_ID {
            return Err(AstConfigError::TestDeviceId);
        }
        let key = derive_device_key(config.suite, batch_key, config.device_id, config.key_rev)?;
        Self::new(key, config)
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &AstConfig {
        &self.config
    }

    /// The device key.
    #[must_use]
    pub const fn key(&self) -> &Key {
        &self.key
    }
}
