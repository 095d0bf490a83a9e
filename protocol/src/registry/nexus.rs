//! Scheme `nexus`. Model config: `protocol`, `full` or `small`. Device record:
//! `secret_key_hex` (32 hex digits). The counter is the device's next unused message ID (0 for a new device); IDs above
//! 65,534 are refused, as deployed firmware needs.

use alloc::boxed::Box;

use super::{IssuerModel, Model, choice};
use crate::batch::{BatchError, Fields};
use paylock::key::Key;
use paylock::nexus::{FullIssuer, Protocol, SmallIssuer, capabilities};

/// Builds a `nexus` model from its config.
///
/// # Errors
/// `protocol` missing or not one of `full`, `small`.
pub fn factory(config: &Fields<'_>) -> Result<Box<dyn Model>, BatchError> {
    let protocol = choice(
        config,
        "protocol",
        &[("full", Protocol::Full), ("small", Protocol::Small)],
        "invalid_protocol",
    )?;
    let caps = capabilities(protocol);
    let throwaway = Key::new([0; 16]);
    Ok(match protocol {
        Protocol::Full => Box::new(IssuerModel::new(FullIssuer::new(), caps, key, throwaway)),
        Protocol::Small => Box::new(IssuerModel::new(SmallIssuer::new(), caps, key, throwaway)),
    })
}

fn key(device: &Fields<'_>) -> Result<Key, BatchError> {
    device.key("secret_key_hex")
}
