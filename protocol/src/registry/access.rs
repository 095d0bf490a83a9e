//! Scheme `access` (AST v1). Model config: `suite` (0 AES-128-CMAC, 1 HMAC-SHA-256,
//! 2 SipHash-2-4; compiled in), `profile` (`L`, `M` or `S`) and `unit` (`hours` or `days`).
//! Device record: `device_id` (not 0xFFFFFFFF), `key_rev` (0-255), and either `device_key_hex`
//! or the `batch_key_hex` it is derived from (32 hex digits). The counter is the device's next
//! counter (1 for a new device).

use alloc::boxed::Box;

use super::{IssuerModel, Model, choice};
use crate::batch::access as batch_access;
use crate::batch::{BatchError, Fields};
use paylock::access::{AstConfig, AstIssuer, AstSecret, Unit, capabilities};
use paylock::key::Key;

/// Builds an `access` model from its config.
///
/// # Errors
/// A config field missing or invalid, or a suite this build leaves out, named in the message.
pub fn factory(config: &Fields<'_>) -> Result<Box<dyn Model>, BatchError> {
    let suite = batch_access::suite(config)?;
    let profile = batch_access::profile(config)?;
    let unit = choice(
        config,
        "unit",
        &[("hours", Unit::Hours), ("days", Unit::Days)],
        "invalid_unit",
    )?;
    let model = AstConfig {
        suite,
        profile,
        device_id: 0,
        key_rev: 0,
        unit,
    };
    let throwaway = AstSecret::new(Key::new([0; 16]), model).map_err(batch_access::config_error)?;
    Ok(Box::new(IssuerModel::new(
        AstIssuer,
        capabilities(profile, unit),
        move |device: &Fields<'_>| secret(device, model),
        throwaway,
    )))
}

/// The device's secret: its record's id and key revision under the model's configuration.
fn secret(device: &Fields<'_>, model: AstConfig) -> Result<AstSecret, BatchError> {
    let config = AstConfig {
        device_id: device.u32("device_id", u32::MAX)?,
        key_rev: u8::try_from(device.u32("key_rev", u8::MAX.into())?).unwrap_or(u8::MAX),
        ..model
    };
    let made = match (device.get("device_key_hex"), device.get("batch_key_hex")) {
        (Some(_), None) => AstSecret::new(device.key("device_key_hex")?, config),
        (None, Some(_)) => AstSecret::derive(&device.key("batch_key_hex")?, config),
        (None, None) => {
            return Err(BatchError::new(
                "missing_field",
                "field \"device_key_hex\" or \"batch_key_hex\" is required",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(BatchError::new(
                "conflicting_field",
                "fields \"device_key_hex\" and \"batch_key_hex\" exclude each other",
            ));
        }
    };
    made.map_err(batch_access::config_error)
}
