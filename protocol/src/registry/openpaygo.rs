//! Scheme `openpaygo`. Model config: `restricted_digit_set` and `extended_token` (booleans)
//! and `time_divider` (1-255; 1 when a token value is a number of days). Device record: `key`
//! (32 hex digits) and `starting_code` (0-999,999,999). The counter is the count of the
//! device's last token (0 for a new device).

use alloc::boxed::Box;

use super::{IssuerModel, Model};
use crate::batch::fields::too_large;
use crate::batch::{BatchError, Fields};
use paylock::key::Key;
use paylock::openpaygo::{Form, MAX_STARTING_CODE, OpenPaygoIssuer, OpenPaygoSecret, capabilities};

/// Builds an `openpaygo` model from its config.
///
/// # Errors
/// A config field missing or out of range, named in the message.
pub fn factory(config: &Fields<'_>) -> Result<Box<dyn Model>, BatchError> {
    let form = Form {
        extended: config.bool("extended_token")?,
        restricted_digit_set: config.bool("restricted_digit_set")?,
    };
    let divider = time_divider(config)?;
    let throwaway = secret_of(Key::new([0; 16]), 0)?;
    Ok(Box::new(IssuerModel::new(
        OpenPaygoIssuer::new(form).with_time_divider(divider),
        capabilities(form, divider),
        secret,
        throwaway,
    )))
}

/// `time_divider`, 1-255 (the encoder would quietly take 0 as 1).
fn time_divider(config: &Fields<'_>) -> Result<u8, BatchError> {
    let divider = config.uint("time_divider", u8::MAX.into())?;
    u8::try_from(divider)
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| BatchError::new("out_of_range", "field \"time_divider\" must be 1-255"))
}

fn secret(device: &Fields<'_>) -> Result<OpenPaygoSecret, BatchError> {
    let starting_code = device.u32("starting_code", MAX_STARTING_CODE)?;
    secret_of(device.key("key")?, starting_code)
}

fn secret_of(key: Key, starting_code: u32) -> Result<OpenPaygoSecret, BatchError> {
    OpenPaygoSecret::new(key, starting_code)
        .map_err(|_| too_large("starting_code", MAX_STARTING_CODE))
}
