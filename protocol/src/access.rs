//! `"scheme":"access"` (AST v1, `docs/access.md`): the `derive_key`, `generate` and `verify`
//! ops, with the names and shapes of `test-vectors/access/`, the device model and the
//! simulated device.
//!
//! `derive_key` is the factory's KDF:
//! `{"scheme":"access","op":"derive_key","suite":0,"batch_key_hex":"…","device_id":123456789,
//! "key_rev":0}` → `{"ok":true,"device_key_hex":"…"}`.
//!
//! `generate` issues one token (see [`generate`] for the value fields of each type):
//! `{"scheme":"access","op":"generate","suite":0,"profile":"L","device_key_hex":"…",
//! "device_id":123456789,"key_rev":0,"counter":1,"type":"ADD_CREDIT","value":72}`
//! → `{"ok":true,"text":"3359 3381 3865 7142 9876","digits":"33593381386571429876"}`.
//! TEST codes take `"type":"TEST","test_id":0` and no device fields.
//!
//! `verify` enters a token on a device (see [`verify`]):
//! `{"scheme":"access","op":"verify","config":{…},"state":{…},"input":"…","now":1000}`
//! → `{"ok":true,"result":{…},"state":{…}}`, where `config`, `state` and `result` are the
//! objects of `ast_v1_decode.json`. A MALFORMED entry is a result like any other.
//!
//! `derive_key` and `generate` also take `"trace":true`, which adds a `trace` object with the
//! intermediates under the vector files' names (`kdf_inputs_hex`, `mac_input_hex`, `body`, …).
//!
//! Model config: `suite` (0 AES-128-CMAC, 1 HMAC-SHA-256, 2 SipHash-2-4; compiled in),
//! `profile` (`L`, `M` or `S`) and `unit` (`hours` or `days`). Device record: `device_id` (not
//! 0xFFFFFFFF), `key_rev` (0-255), and either `device_key_hex` or the `batch_key_hex` it is
//! derived from (32 hex digits). The counter is the device's next counter (1 for a new device).

mod generate;
mod verify;

use paylock::Key;
use paylock::access::{
    self, AstConfig, AstConfigError, AstIssuer, AstSecret, AstVerifier, Profile, Suite,
    SuiteUnavailable, TEST_DEVICE_ID, Unit, capabilities,
};
use serde::{Deserialize, Serialize};

pub use generate::{AstTokenType, Generate, Generated, TraceFields, generate};
pub use verify::{
    Detail, DiagRecord, ModeName, ParamMap, Provisioned, VerdictRecord, Verified, VerifiedState,
    Verify, VerifyState, verify,
};

use crate::batch::write;
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names};
use crate::read::Input;
use crate::registry::{IssuerModel, Model, Scheme};
use crate::simulate::{DeviceBuild, Lockout, Simulated, SimulatedDevice};

/// Hash evaluations charged per simulated entry: the whitening keystream and the MAC, at most
/// two PRF calls each.
const ENTRY_WORK: u64 = 4;

names! {
    /// A token profile: length and bit split.
    pub enum ProfileName (ErrorKind::InvalidProfile) {
        /// 20 decimal digits.
        L = "L",
        /// 15 decimal digits.
        M = "M",
        /// 20 digits 1-4.
        S = "S",
    }
}

impl ProfileName {
    /// The core's profile.
    #[must_use]
    pub const fn profile(self) -> Profile {
        match self {
            Self::L => Profile::L,
            Self::M => Profile::M,
            Self::S => Profile::S,
        }
    }
}

names! {
    /// What a device's credit values count.
    pub enum DeviceUnit (ErrorKind::InvalidUnit) {
        /// Hours.
        Hours = "hours",
        /// Days.
        Days = "days",
    }
}

impl DeviceUnit {
    /// The core's unit.
    #[must_use]
    pub const fn unit(self) -> Unit {
        match self {
            Self::Hours => Unit::Hours,
            Self::Days => Unit::Days,
        }
    }
}

/// The AST v1 scheme.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access;

impl Scheme for Access {
    fn model(&self, config: Input<'_>) -> Result<Box<dyn Model>, Error> {
        let config: AccessModelConfig = config.read()?;
        let suite = suite(config.suite)?;
        let model = AstConfig {
            suite,
            profile: config.profile.profile(),
            device_id: 0,
            key_rev: 0,
            unit: config.unit.unit(),
        };
        let throwaway = AstSecret::new(Key::new([0; 16]), model).map_err(config_error)?;
        Ok(Box::new(IssuerModel::new(
            AstIssuer,
            capabilities(model.profile, model.unit),
            move |record: AccessRecord| record.secret(model),
            throwaway,
        )))
    }

    fn ops(&self) -> &'static [&'static str] {
        &["derive_key", "generate", "verify"]
    }

    fn answer(&self, op: &str, request: Input<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        match op {
            "derive_key" => write(out, &derive_key(&request.read()?)?),
            "generate" => write(out, &generate(&request.read()?)?),
            _ => write(out, &verify(&request.read()?)?),
        }
        Ok(())
    }

    fn simulated(&self, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let provisioned: Provisioned = device.read()?;
        let secret = provisioned.secret()?;
        // The engine keeps AST's lockout (spec §10) in its record, so the verifier must not.
        let verifier = AstVerifier::without_lockout();
        let build: DeviceBuild = device.read()?;
        SimulatedDevice::of(verifier, secret, Lockout::Access, build)
    }
}

impl Simulated for AstVerifier {
    fn entry_work(&self, _state: Option<&Self::State>) -> u64 {
        ENTRY_WORK
    }
}

/// An `access` model config.
#[derive(Deserialize)]
struct AccessModelConfig {
    suite: u64,
    profile: ProfileName,
    unit: DeviceUnit,
}

/// An `access` device record.
#[derive(Clone, Debug, Deserialize)]
pub struct AccessRecord {
    /// The device id.
    pub device_id: u64,
    /// The full key revision.
    pub key_rev: u64,
    /// The device key.
    #[serde(default, deserialize_with = "field::opt_key")]
    pub device_key_hex: Option<Key>,
    /// The batch key the device key is derived from.
    #[serde(default, deserialize_with = "field::opt_key")]
    pub batch_key_hex: Option<Key>,
}

impl AccessRecord {
    /// The device's secret under the model's configuration.
    ///
    /// # Errors
    /// A field out of range, both keys or neither.
    pub fn secret(self, model: AstConfig) -> Result<AstSecret, Error> {
        let config = AstConfig {
            device_id: u32::try_from(self.device_id)
                .map_err(|_| Error::too_large("device_id", u32::MAX))?,
            key_rev: key_rev(self.key_rev)?,
            ..model
        };
        let made = match (self.device_key_hex, self.batch_key_hex) {
            (Some(key), None) => AstSecret::new(key, config),
            (None, Some(batch)) => AstSecret::derive(&batch, config),
            (None, None) => {
                return Err(Error::about(
                    ErrorKind::MissingField,
                    "device_key_hex",
                    "field \"device_key_hex\" or \"batch_key_hex\" is required",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::about(
                    ErrorKind::ConflictingField,
                    "batch_key_hex",
                    "fields \"device_key_hex\" and \"batch_key_hex\" exclude each other",
                ));
            }
        };
        made.map_err(config_error)
    }
}

/// A `derive_key` request.
#[derive(Clone, Debug, Deserialize)]
pub struct DeriveKey {
    /// The PRF suite: 0, 1 or 2.
    pub suite: u64,
    /// The batch key.
    #[serde(deserialize_with = "field::key")]
    pub batch_key_hex: Key,
    /// The device id.
    pub device_id: u64,
    /// The full key revision.
    pub key_rev: u64,
    /// Add the KDF blocks.
    #[serde(default)]
    pub trace: Option<bool>,
}

/// The answer to a `derive_key` request.
#[derive(Clone, Debug, Serialize)]
pub struct Derived {
    /// Always `true`.
    pub ok: True,
    /// The device key, 32 hex digits.
    pub device_key_hex: String,
    /// With `"trace":true`: the KDF blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<KdfTrace>,
}

/// The KDF blocks of a derivation, in hex.
#[derive(Clone, Debug, Serialize)]
pub struct KdfTrace {
    /// The PRF inputs.
    pub kdf_inputs_hex: Vec<String>,
    /// The PRF outputs.
    pub kdf_outputs_hex: Vec<String>,
}

/// The device key `request` derives.
///
/// # Errors
/// A field out of range, or a suite this build leaves out.
pub fn derive_key(request: &DeriveKey) -> Result<Derived, Error> {
    let suite = suite(request.suite)?;
    let device_id = device_id(request.device_id)?;
    let key_rev = key_rev(request.key_rev)?;
    let batch_key = &request.batch_key_hex;
    let key =
        access::derive_device_key(suite, batch_key, device_id, key_rev).map_err(unavailable)?;
    let trace = match request.trace {
        Some(true) => {
            let mut trace = KdfTrace {
                kdf_inputs_hex: Vec::new(),
                kdf_outputs_hex: Vec::new(),
            };
            for i in 1..=access::kdf_blocks(suite) {
                let x = access::kdf_input(i, suite, device_id, key_rev);
                let y = suite.prf(batch_key, &x).map_err(unavailable)?;
                trace.kdf_inputs_hex.push(hex::encode(x));
                trace.kdf_outputs_hex.push(hex::encode(y.as_bytes()));
            }
            Some(trace)
        }
        _ => None,
    };
    Ok(Derived {
        ok: True,
        device_key_hex: hex::encode(key.as_bytes()),
        trace,
    })
}

/// `suite`: 0, 1 or 2, and compiled into this build.
///
/// # Errors
/// `invalid_suite` or `suite_unavailable`.
pub fn suite(code: u64) -> Result<Suite, Error> {
    let suite = u8::try_from(code)
        .ok()
        .and_then(Suite::from_code)
        .ok_or_else(|| {
            Error::not_one_of(
                "suite",
                &["0 (AES-128-CMAC)", "1 (HMAC-SHA-256)", "2 (SipHash-2-4)"],
                ErrorKind::InvalidSuite,
            )
        })?;
    suite.check().map_err(unavailable)
}

/// `device_id`: any `u32` but `0xFFFFFFFF`, which TEST codes use.
fn device_id(id: u64) -> Result<u32, Error> {
    u32::try_from(id)
        .ok()
        .filter(|id| *id < TEST_DEVICE_ID)
        .ok_or_else(|| {
            Error::too_large("device_id", TEST_DEVICE_ID - 1)
                .and(" (0xFFFFFFFF is reserved for TEST codes)")
        })
}

/// `key_rev`: the full key revision, 0-255.
fn key_rev(rev: u64) -> Result<u8, Error> {
    u8::try_from(rev).map_err(|_| Error::too_large("key_rev", u8::MAX))
}

fn unavailable(e: SuiteUnavailable) -> Error {
    Error::about(
        ErrorKind::SuiteUnavailable,
        "suite",
        format!("field \"suite\": {e}"),
    )
}

fn config_error(e: AstConfigError) -> Error {
    match e {
        AstConfigError::Suite(e) => unavailable(e),
        AstConfigError::TestDeviceId => Error::at(
            ErrorKind::OutOfRange,
            "device_id",
            "is 0xFFFFFFFF, which is reserved for TEST codes",
        ),
    }
}

/// Hex of `x`, zero-padded to the whole nibbles of a `bits`-wide field.
fn hex_bits(x: impl Into<u128>, bits: u32) -> String {
    let width = usize::try_from(bits.div_ceil(4)).unwrap_or(0);
    format!("{:0width$x}", x.into())
}

/// The value given in `name` for a type that fixes it: optional, and then it must be `want`.
fn restated(name: &str, given: Option<u64>, want: u32, why: &str) -> Result<(), Error> {
    match given {
        Some(given) if given != u64::from(want) => Err(Error::conflicting(
            name,
            &format!("{why}, which carries {want}"),
        )),
        _ => Ok(()),
    }
}

/// `e` with the profile that sets the limit, for range errors.
fn in_profile(e: Error, profile: Profile) -> Error {
    if e.kind == ErrorKind::OutOfRange {
        e.and(format_args!(" in profile {profile}"))
    } else {
        e
    }
}
