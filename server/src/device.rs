//! Devices as the ledger keeps them: the token scheme, its non-secret parameters, the sealed
//! secret, and the provisioning input (JSON or a CSV row) checked field by field.

use std::collections::BTreeMap;

use paylock::Key;
use paylock::access::{Profile, Suite, Unit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

/// The token schemes a device can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScheme {
    /// OpenPAYGO Token (9/12 digits, or 15/20 digits 1-4).
    Openpaygo,
    /// Nexus full protocol (`*…#`, hours).
    NexusFull,
    /// Nexus small protocol (keys 1-5, days).
    NexusSmall,
    /// AST v1.
    Ast1,
}

impl TokenScheme {
    /// The name in the APIs, the CSVs and the database.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Openpaygo => "openpaygo",
            Self::NexusFull => "nexus_full",
            Self::NexusSmall => "nexus_small",
            Self::Ast1 => "ast1",
        }
    }

    /// The scheme called `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Openpaygo,
            Self::NexusFull,
            Self::NexusSmall,
            Self::Ast1,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// A field of a registered scheme's device record that is not secret (stored in the clear).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An unsigned integer.
    U64(u64),
    /// Text (at most 200 bytes).
    Str(String),
}

/// Scheme parameters that are not secret (stored as JSON beside the sealed secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Params {
    /// OpenPAYGO.
    Openpaygo {
        /// Activation units per day (1-255).
        time_divider: u8,
        /// Keypad 1-4.
        restricted_digit_set: bool,
        /// 12-digit tokens.
        extended_token: bool,
        /// The factory Test Code: a token equal to it is never issued.
        test_code: Option<String>,
    },
    /// Nexus full.
    NexusFull,
    /// Nexus small.
    NexusSmall,
    /// AST v1.
    Ast1 {
        /// Suite number (0 CMAC, 1 HMAC, 2 SipHash).
        suite: u8,
        /// Profile letter.
        profile: char,
        /// `hours` or `days`.
        unit: String,
        /// The device id MACed into every token.
        device_id: u32,
        /// Key revision.
        key_rev: u8,
    },
    /// A scheme registered in the service's registry (not one of the built-in four): its
    /// model is the one the registry builds from `{"scheme": name}`, and the device record it
    /// issues from is `key` (sealed) plus `fields`.
    Registered {
        /// The name the scheme is registered under (the device's `token_scheme`).
        name: String,
        /// Seconds in one credit unit of the model's tokens.
        unit_seconds: i64,
        /// The record's fields besides `key`, by name.
        fields: BTreeMap<String, Scalar>,
    },
}

impl Params {
    /// The name of the device's token scheme (the APIs' `token_scheme`; the KEK's associated
    /// data binds the sealed key to it).
    #[must_use]
    pub fn scheme(&self) -> &str {
        match self {
            Self::Openpaygo { .. } => TokenScheme::Openpaygo.name(),
            Self::NexusFull => TokenScheme::NexusFull.name(),
            Self::NexusSmall => TokenScheme::NexusSmall.name(),
            Self::Ast1 { .. } => TokenScheme::Ast1.name(),
            Self::Registered { name, .. } => name,
        }
    }

    /// Seconds in one credit unit the device's tokens carry.
    #[must_use]
    pub fn unit_seconds(&self) -> i64 {
        match self {
            Self::Openpaygo { time_divider, .. } => 86_400 / i64::from((*time_divider).max(1)),
            Self::NexusFull => 3_600,
            Self::NexusSmall => 86_400,
            Self::Ast1 { unit, .. } if unit == "days" => 86_400,
            Self::Ast1 { .. } => 3_600,
            Self::Registered { unit_seconds, .. } => *unit_seconds,
        }
    }

    /// The credit units the device's PaygOps updates may use besides `ABSOLUTE_TIME`.
    #[must_use]
    pub fn relative_units(&self) -> &'static [&'static str] {
        match self {
            Self::NexusFull => &["DAYS", "HOURS"],
            Self::Ast1 { unit, .. } if unit == "hours" => &["DAYS", "HOURS"],
            _ => &["DAYS"],
        }
    }

    /// AST's suite, profile and unit.
    #[must_use]
    pub fn ast(&self) -> Option<(Suite, Profile, Unit)> {
        let Self::Ast1 {
            suite,
            profile,
            unit,
            ..
        } = self
        else {
            return None;
        };
        let suite = [Suite::AesCmac, Suite::HmacSha256, Suite::SipHash24]
            .into_iter()
            .find(|s| s.code() == *suite)?;
        let profile = Profile::from_letter(u8::try_from(*profile).ok()?)?;
        let unit = if unit == "days" {
            Unit::Days
        } else {
            Unit::Hours
        };
        Some((suite, profile, unit))
    }
}

/// The secret part of a device: its 16-byte key and, for OpenPAYGO, the starting code.
pub struct Secret {
    /// The device key (for AST, the derived device key).
    pub key: Key,
    /// OpenPAYGO's starting code (0 otherwise).
    pub starting_code: u32,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// The 20 bytes sealed under the KEK.
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(self.key.as_bytes().to_vec());
        out.extend_from_slice(&self.starting_code.to_be_bytes());
        out
    }

    /// Reads what [`Self::to_bytes`] wrote.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let key: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
        let sc: [u8; 4] = bytes.get(16..20)?.try_into().ok()?;
        Some(Self {
            key: Key::new(key),
            starting_code: u32::from_be_bytes(sc),
        })
    }

    /// Whether `other` is the same secret, compared in constant time.
    #[must_use]
    pub fn same_as(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(
            self.to_bytes()
                .as_slice()
                .ct_eq(other.to_bytes().as_slice()),
        )
    }
}

/// A device to provision: checked, ready to seal and store.
#[derive(Debug)]
pub struct Provision {
    /// The serial number, unique per tenant.
    pub serial: String,
    /// The scheme parameters.
    pub params: Params,
    /// Key (and starting code).
    pub secret: Secret,
    /// The counter to continue from: OpenPAYGO's last count, Nexus's next message ID, AST's
    /// next counter.
    pub counter: u32,
    /// Hardware model, free text.
    pub model: Option<String>,
    /// OpenPAYGO Metrics: data format and auth method, JSON ([`crate::report::Profile`]).
    pub metrics: Option<String>,
}

/// A provisioning field that is missing or wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field, as the input names it.
    pub field: String,
    /// What is wrong (never the value of a secret field).
    pub message: String,
}

impl FieldError {
    /// `field` is wrong: `message`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Provisioning fields as they arrive (JSON body or CSV row), every one optional here and
/// checked by [`ProvisionInput::check`]. PaygOps/OpenPAYGO-Docker names are accepted as aliases.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionInput {
    /// Serial number (1-64 characters, no `/`).
    pub serial_number: Option<String>,
    /// `openpaygo` (default), `nexus_full`, `nexus_small`, `ast1`, or a scheme registered with
    /// the service (its record's fields then come beside these).
    pub token_scheme: Option<String>,
    /// The device key, 32 hex digits (AST: the device key).
    #[serde(alias = "secret_key")]
    pub key: Option<String>,
    /// AST only: the batch key the device key is derived from, instead of `key`.
    pub batch_key: Option<String>,
    /// OpenPAYGO starting code (0-999,999,999).
    pub starting_code: Option<u64>,
    /// Counter to continue from: OpenPAYGO's count of the last token (0 new), Nexus's next
    /// message ID (0 new), AST's next counter (1 new).
    #[serde(alias = "token_count", alias = "count", alias = "message_id")]
    pub counter: Option<u64>,
    /// OpenPAYGO time divider (1-255, default 1).
    #[serde(alias = "value_divider")]
    pub time_divider: Option<u64>,
    /// OpenPAYGO keypad 1-4.
    pub restricted_digit_set: Option<bool>,
    /// OpenPAYGO 12-digit tokens.
    pub extended_token: Option<bool>,
    /// OpenPAYGO Test Code (never issued as a token).
    pub test_code: Option<String>,
    /// AST suite: `cmac`, `hmac` or `siphash` (or 0-2).
    pub suite: Option<String>,
    /// AST profile: `L`, `M` or `S`.
    pub profile: Option<String>,
    /// AST credit unit: `hours` or `days`.
    pub unit: Option<String>,
    /// AST device id.
    pub device_id: Option<u64>,
    /// AST key revision (0-255).
    pub key_rev: Option<u64>,
    /// Hardware model.
    pub model: Option<String>,
    /// OpenPAYGO Metrics: the data format the device's reports use (`id`, `data_order`,
    /// `historical_data_order`, `historical_data_interval`).
    #[schema(value_type = Option<Object>)]
    pub metrics_data_format: Option<serde_json::Value>,
    /// OpenPAYGO Metrics: the one auth method the device signs with (`da`, `ra`; `sa`, `ta`,
    /// `ca` do not cover the data). Without it, `da` and `ra` are accepted.
    pub metrics_auth_method: Option<String>,
    /// Accepted for PaygOps compatibility and ignored.
    pub payg_mode: Option<serde_json::Value>,
    /// Accepted for PaygOps compatibility and ignored.
    pub pending_token_limit: Option<serde_json::Value>,
    /// Accepted for PaygOps compatibility and ignored.
    pub credit_unit: Option<serde_json::Value>,
    /// Accepted for PaygOps compatibility and ignored.
    pub credit_value: Option<serde_json::Value>,
    /// Accepted for PaygOps compatibility and ignored.
    pub effective_credit_value: Option<serde_json::Value>,
}

/// The provisioning fields every scheme shares: the body of a device of a registered scheme
/// gives its record's fields beside them.
const SHARED_FIELDS: [&str; 16] = [
    "serial_number",
    "token_scheme",
    "key",
    "secret_key",
    "counter",
    "token_count",
    "count",
    "message_id",
    "model",
    "metrics_data_format",
    "metrics_auth_method",
    "payg_mode",
    "pending_token_limit",
    "credit_unit",
    "credit_value",
    "effective_credit_value",
];

/// Takes a registered scheme's record fields out of a provisioning body: when its
/// `token_scheme` is not a built-in one, every field not in [`SHARED_FIELDS`] (the rest reads
/// as a [`ProvisionInput`]; [`ProvisionInput::check_with`] checks both).
pub fn split_registered(body: &mut serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    let Some(object) = body.as_object_mut() else {
        return BTreeMap::new();
    };
    let builtin = match object.get("token_scheme") {
        Some(serde_json::Value::String(name)) => TokenScheme::parse(name).is_some(),
        _ => true,
    };
    if builtin {
        return BTreeMap::new();
    }
    let own: Vec<String> = object
        .keys()
        .filter(|k| !SHARED_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    own.into_iter()
        .filter_map(|k| object.remove(&k).map(|v| (k, v)))
        .collect()
}

fn required<T: Clone>(v: &Option<T>, field: &str) -> Result<T, FieldError> {
    v.clone()
        .ok_or_else(|| FieldError::new(field, format!("field {field:?} is required")))
}

fn in_range(v: u64, field: &str, min: u64, max: u64) -> Result<u32, FieldError> {
    if (min..=max).contains(&v) {
        u32::try_from(v).map_err(|_| FieldError::new(field, "out of range"))
    } else {
        Err(FieldError::new(
            field,
            format!("field {field:?} is {v}, it must be {min}-{max}"),
        ))
    }
}

fn key(text: &Option<String>, field: &str) -> Result<Key, FieldError> {
    let text = required(text, field)?;
    Key::from_hex(text.trim()).map_err(|e| FieldError::new(field, format!("field {field:?}: {e}")))
}

/// A serial number as the ledger accepts it.
///
/// # Errors
/// Empty, longer than 64, or with characters outside letters, digits and `-_.:`.
pub fn check_serial(serial: &str) -> Result<(), FieldError> {
    let ok = !serial.is_empty()
        && serial.len() <= 64
        && serial
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "serial_number",
            "field \"serial_number\" must be 1-64 letters, digits or -_.:",
        ))
    }
}

impl ProvisionInput {
    /// Checks every field for the scheme.
    ///
    /// # Errors
    /// The first missing or wrong field.
    pub fn check(&self) -> Result<Provision, FieldError> {
        let (serial, model) = self.serial_and_model()?;
        let scheme_name = self.token_scheme.as_deref().unwrap_or("openpaygo");
        let scheme = TokenScheme::parse(scheme_name).ok_or_else(|| {
            FieldError::new(
                "token_scheme",
                format!(
                    "field \"token_scheme\" is {scheme_name:?}, not one of openpaygo, nexus_full, nexus_small, ast1"
                ),
            )
        })?;
        let (params, secret, counter) = match scheme {
            TokenScheme::Openpaygo => self.openpaygo()?,
            TokenScheme::NexusFull | TokenScheme::NexusSmall => {
                let counter = in_range(self.counter.unwrap_or(0), "counter", 0, 65_534)?;
                let params = if scheme == TokenScheme::NexusFull {
                    Params::NexusFull
                } else {
                    Params::NexusSmall
                };
                let secret = Secret {
                    key: key(&self.key, "key")?,
                    starting_code: 0,
                };
                (params, secret, counter)
            }
            TokenScheme::Ast1 => self.ast()?,
        };
        self.provision(serial, model, params, secret, counter)
    }

    /// [`Self::check`], or for a `token_scheme` registered with the service (through
    /// `minter`'s registry), the device of that scheme whose record is `key` and `fields`
    /// (what [`split_registered`] took out of the body).
    ///
    /// # Errors
    /// The first missing or wrong field, a record field the scheme's model refuses included.
    pub fn check_with(
        &self,
        minter: &crate::mint::Minter,
        fields: BTreeMap<String, serde_json::Value>,
    ) -> Result<Provision, FieldError> {
        let name = self.token_scheme.as_deref().unwrap_or("openpaygo");
        if TokenScheme::parse(name).is_some() {
            return self.check();
        }
        let (serial, model) = self.serial_and_model()?;
        let mut scalars = BTreeMap::new();
        for (field, value) in fields {
            let scalar = match value {
                serde_json::Value::Bool(b) => Some(Scalar::Bool(b)),
                serde_json::Value::Number(n) => n.as_u64().map(Scalar::U64),
                serde_json::Value::String(s) if s.len() <= 200 => Some(Scalar::Str(s)),
                _ => None,
            };
            let scalar = scalar.ok_or_else(|| {
                // A body's keys may be anything, a secret too: only a field-like name is shown.
                let shown = Some(field.as_str())
                    .filter(|f| paylock_protocol::field::shown(f))
                    .unwrap_or("[…]");
                let message = format!(
                    "field {shown:?} must be a boolean, an unsigned integer or a string of at \
                     most 200 bytes"
                );
                FieldError::new(shown, message)
            })?;
            scalars.insert(field, scalar);
        }
        let secret = Secret {
            key: key(&self.key, "key")?,
            starting_code: 0,
        };
        let (params, counter) = minter.registered(name, &secret, self.counter, scalars)?;
        let device = self.provision(serial, model, params, secret, counter)?;
        if device.metrics.is_some() {
            // A Metrics profile is the device's opt-in to `POST /dd`: its answers must be able
            // to carry the scheme's tokens.
            minter.metrics_tokens(&device.params).map_err(|m| {
                let field = if self.metrics_auth_method.is_some() {
                    "metrics_auth_method"
                } else {
                    "metrics_data_format"
                };
                FieldError::new(field, format!("field {field:?}: {m}"))
            })?;
        }
        Ok(device)
    }

    /// The checked device, with its Metrics profile checked last (any scheme may carry one).
    fn provision(
        &self,
        serial: String,
        model: Option<String>,
        params: Params,
        secret: Secret,
        counter: u32,
    ) -> Result<Provision, FieldError> {
        let metrics = crate::report::Profile::check(
            self.metrics_data_format.as_ref(),
            self.metrics_auth_method.as_deref(),
        )?;
        Ok(Provision {
            serial,
            params,
            secret,
            counter,
            model,
            metrics,
        })
    }

    fn serial_and_model(&self) -> Result<(String, Option<String>), FieldError> {
        let serial = required(&self.serial_number, "serial_number")?;
        check_serial(&serial)?;
        let model = self.model.clone().filter(|m| !m.trim().is_empty());
        if model.as_ref().is_some_and(|m| m.len() > 64) {
            return Err(FieldError::new(
                "model",
                "field \"model\" is longer than 64 characters",
            ));
        }
        Ok((serial, model))
    }

    fn openpaygo(&self) -> Result<(Params, Secret, u32), FieldError> {
        let key = key(&self.key, "key")?;
        let sc = in_range(
            required(&self.starting_code, "starting_code")?,
            "starting_code",
            0,
            paylock::openpaygo::MAX_STARTING_CODE.into(),
        )?;
        let counter = in_range(
            self.counter.unwrap_or(0),
            "counter",
            0,
            paylock::openpaygo::COUNT_CEILING.into(),
        )?;
        let divider = in_range(self.time_divider.unwrap_or(1), "time_divider", 1, 255)?;
        let test_code = self
            .test_code
            .as_ref()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if let Some(t) = &test_code
            && !t.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(FieldError::new(
                "test_code",
                "field \"test_code\" must be digits",
            ));
        }
        let params = Params::Openpaygo {
            time_divider: u8::try_from(divider).unwrap_or(1),
            restricted_digit_set: self.restricted_digit_set.unwrap_or(false),
            extended_token: self.extended_token.unwrap_or(false),
            test_code,
        };
        Ok((
            params,
            Secret {
                key,
                starting_code: sc,
            },
            counter,
        ))
    }

    fn ast(&self) -> Result<(Params, Secret, u32), FieldError> {
        let suite_name = required(&self.suite, "suite")?;
        let suite = match suite_name.trim() {
            "cmac" | "0" => Suite::AesCmac,
            "hmac" | "1" => Suite::HmacSha256,
            "siphash" | "2" => Suite::SipHash24,
            other => {
                return Err(FieldError::new(
                    "suite",
                    format!("field \"suite\" is {other:?}, not one of cmac, hmac, siphash"),
                ));
            }
        };
        let letter = required(&self.profile, "profile")?;
        let profile = letter
            .trim()
            .bytes()
            .next()
            .and_then(Profile::from_letter)
            .filter(|_| letter.trim().len() == 1)
            .ok_or_else(|| FieldError::new("profile", "field \"profile\" must be L, M or S"))?;
        let unit = match self.unit.as_deref().map(str::trim).unwrap_or("hours") {
            "hours" => Unit::Hours,
            "days" => Unit::Days,
            other => {
                return Err(FieldError::new(
                    "unit",
                    format!("field \"unit\" is {other:?}, not hours or days"),
                ));
            }
        };
        let device_id = in_range(
            required(&self.device_id, "device_id")?,
            "device_id",
            0,
            u64::from(u32::MAX - 1),
        )?;
        let key_rev = in_range(self.key_rev.unwrap_or(0), "key_rev", 0, 255)?;
        let counter = in_range(
            self.counter.unwrap_or(1),
            "counter",
            1,
            u64::from(u32::MAX - 1),
        )?;
        let config = paylock::access::AstConfig {
            suite,
            profile,
            device_id,
            key_rev: u8::try_from(key_rev).unwrap_or(0),
            unit,
        };
        let secret = match (&self.key, &self.batch_key) {
            (Some(_), None) => paylock::access::AstSecret::new(key(&self.key, "key")?, config),
            (None, Some(_)) => {
                paylock::access::AstSecret::derive(&key(&self.batch_key, "batch_key")?, config)
            }
            _ => {
                return Err(FieldError::new(
                    "key",
                    "give exactly one of \"key\" (device key) and \"batch_key\"",
                ));
            }
        }
        .map_err(|e| FieldError::new("suite", e.to_string()))?;
        let params = Params::Ast1 {
            suite: suite.code(),
            profile: char::from(profile.byte()),
            unit: unit.name().to_owned(),
            device_id,
            key_rev: config.key_rev,
        };
        Ok((
            params,
            Secret {
                key: secret.key().clone(),
                starting_code: 0,
            },
            counter,
        ))
    }
}
