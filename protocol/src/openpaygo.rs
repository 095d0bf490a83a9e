//! `"scheme":"openpaygo"`: the `generate` and `decode` ops, the device model and the simulated
//! device.
//!
//! `generate`: `{"scheme":"openpaygo","op":"generate","key":"…","starting_code":123456789,
//! "restricted_digit_set":false,"extended_token":false,"count":0,"token_type":"ADD_TIME",
//! "value":1}` → `{"ok":true,"token":"662486790","count":2}`. `value` (raw: days × time
//! divider) is required for ADD_TIME and SET_TIME and refused for DISABLE_PAYG and
//! COUNTER_SYNC (upstream silently accepts a falsy one, which hides caller bugs).
//!
//! `decode` runs paylock's device model on `state` (`max_count`, `used_counts_bitmask`): a
//! counter sync at or below the stored count is `ALREADY_USED`, unless the request says
//! `"allow_sync_replays":true`, the model of the published vectors and of upstream (the sync is
//! VALID again and spends every older count).
//!
//! Model config: `restricted_digit_set` and `extended_token` (booleans) and `time_divider`
//! (1-255; 1 when a token value is a number of days). Device record: `key` (32 hex digits),
//! `starting_code` (0-999,999,999) and an optional `test_code`, the factory's Test Code, which
//! is never issued (the next count of the same parity is). The counter is the count of the
//! device's last token (0 for a new device).

mod decode;
mod generate;
mod model;

use paylock::Key;
use paylock::openpaygo::{
    Form, MAX_STARTING_CODE, OpenPaygoSecret, OpenPaygoVerifier, OpenPaygoWindow,
};
use serde::Deserialize;

pub use decode::{Decode, DecodeState, Decoded, decode};
pub use generate::{Generate, Generated, TokenType, generate};
pub use model::{KEPT_POINTS, OpenPaygoConfig, OpenPaygoModel, OpenPaygoRecord};

use crate::batch::write;
use crate::error::Error;
use crate::field;
use crate::read::Input;
use crate::registry::{Model, Scheme};
use crate::simulate::{DeviceBuild, Lockout, Simulated, SimulatedDevice};

/// The OpenPAYGO Token scheme.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenPaygo;

impl Scheme for OpenPaygo {
    fn model(&self, config: Input<'_>) -> Result<Box<dyn Model>, Error> {
        Ok(Box::new(OpenPaygoModel::new(&config.read()?)?))
    }

    fn ops(&self) -> &'static [&'static str] {
        &["generate", "decode", "metrics_verify", "metrics_respond"]
    }

    fn answer(&self, op: &str, request: Input<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        match op {
            "generate" => write(out, &generate(&request.read()?)?),
            "metrics_verify" => write(out, &crate::metrics::verify(&request.read()?)),
            "metrics_respond" => write(out, &crate::metrics::respond(&request.read()?)?),
            _ => write(out, &decode(&request.read()?)?),
        }
        Ok(())
    }

    fn simulated(&self, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let d: SimulatedOpenPaygo = device.read()?;
        let divider = match d.time_divider {
            None => 1,
            Some(0) => {
                return Err(Error::about(
                    crate::ErrorKind::OutOfRange,
                    "time_divider",
                    "field \"time_divider\" is 0, the smallest allowed is 1",
                ));
            }
            Some(n) => u8::try_from(n).map_err(|_| Error::too_large("time_divider", u8::MAX))?,
        };
        let secret = secret(d.key, d.starting_code)?;
        let verifier = OpenPaygoVerifier::new(form(d.restricted_digit_set, d.extended_token))
            .with_time_divider(divider);
        let build: DeviceBuild = device.read()?;
        SimulatedDevice::of(verifier, secret, Lockout::OpenPaygo, build)
    }
}

/// The `device` of a `simulate` request.
#[derive(Deserialize)]
struct SimulatedOpenPaygo {
    #[serde(deserialize_with = "field::key")]
    key: Key,
    starting_code: u64,
    restricted_digit_set: bool,
    extended_token: bool,
    #[serde(default)]
    time_divider: Option<u64>,
}

/// Decoding scans every count from 0 to the highest a token may reach.
impl Simulated for OpenPaygoVerifier {
    fn entry_work(&self, state: Option<&Self::State>) -> u64 {
        let window = OpenPaygoWindow::default();
        let jump = window.max_jump.max(window.max_jump_sync);
        state.map_or(0, |s| {
            let last = s.counts.max_count.saturating_add(jump);
            u64::from(last.min(window.count_ceiling)) + 1
        })
    }
}

/// The device's secret: `key` and `starting_code` (0-999,999,999).
pub(crate) fn secret(key: Key, starting_code: u64) -> Result<OpenPaygoSecret, Error> {
    let too_large = || Error::too_large("starting_code", MAX_STARTING_CODE);
    let code = u32::try_from(starting_code)
        .ok()
        .filter(|c| *c <= MAX_STARTING_CODE)
        .ok_or_else(too_large)?;
    OpenPaygoSecret::new(key, code).map_err(|_| too_large())
}

/// The token form of `restricted_digit_set` and `extended_token`.
pub(crate) const fn form(restricted_digit_set: bool, extended_token: bool) -> Form {
    Form {
        extended: extended_token,
        restricted_digit_set,
    }
}

/// A form's name in messages.
const fn describe(form: Form) -> &'static str {
    match (form.extended, form.restricted_digit_set) {
        (false, false) => "standard",
        (false, true) => "standard restricted-digit",
        (true, false) => "extended",
        (true, true) => "extended restricted-digit",
    }
}
