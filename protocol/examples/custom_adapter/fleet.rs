//! A CRM's fleet: one JSON config with a model of every scheme, one provisioned device per model
//! (the record the CRM keeps and the firmware side), and the payment plans on sale.

use core::error::Error;

use paylock::access::{self, AstConfig, AstVerifier, Profile, Suite, Unit};
use paylock::nexus::NexusVerifier;
use paylock::openpaygo::{self, Form, OpenPaygoVerifier};
use paylock::{Command, Context, Credit, Key, KeyError, Outcome, TimeUnit, Verifier};
use paylock_protocol::Registry;
use serde_json::{Value, json};

use crate::acme::{self, AcmeSecret, AcmeVerifier};

const OPENPAYGO_KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";
const OPENPAYGO_STARTING_CODE: u32 = 123_456_789;
const NEXUS_SMALL_KEY: &str = "deadbeefdeadbeefdeadbeefdeadbeef";
const NEXUS_FULL_KEY: &str = "fedcba9876543210fedcba9876543210";
const NEXUS_FULL_ID: u32 = 123_456_789;
const AST_BATCH_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const AST_DEVICE_ID: u32 = 42;
const ACME_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const ACME_SERIAL: u32 = 7_001_234;

/// The built-in schemes, `acme8` next to them, and the fleet's models.
///
/// # Errors
/// A model that does not build.
pub fn registry() -> Result<Registry, paylock_protocol::Error> {
    let mut registry = Registry::with_builtin_schemes();
    registry.register_scheme("acme8", acme::AcmeScheme);
    registry.configure(&config())?;
    Ok(registry)
}

/// One config for every model the CRM sells.
pub fn config() -> Value {
    json!({"models": {
        "home-kit-opg": {"scheme": "openpaygo", "restricted_digit_set": false,
                         "extended_token": false, "time_divider": 1},
        "lamp-nexus-small": {"scheme": "nexus", "protocol": "small"},
        "tv-nexus-full": {"scheme": "nexus", "protocol": "full"},
        "pump-ast": {"scheme": "access", "suite": 2, "profile": "L", "unit": "days"},
        "fan-acme8": {"scheme": "acme8"},
    }})
}

/// What a device does with the keys a customer types, whatever its scheme.
pub trait Keypad {
    /// Enters one token.
    fn enter(&mut self, keys: &str) -> Outcome;
}

/// A device's firmware side: a scheme's verifier, the secret it was provisioned with, and the
/// state it persists.
#[derive(Debug)]
pub struct Firmware<V: Verifier> {
    verifier: V,
    secret: V::Secret,
    state: V::State,
}

impl<V: Verifier> Keypad for Firmware<V> {
    fn enter(&mut self, keys: &str) -> Outcome {
        self.verifier.verify(
            &self.secret,
            &mut self.state,
            keys.as_bytes(),
            &Context::at(0),
        )
    }
}

fn firmware<V: Verifier + 'static>(verifier: V, secret: V::Secret) -> Box<dyn Keypad>
where
    V::Secret: 'static,
    V::State: Default + 'static,
{
    Box::new(Firmware {
        verifier,
        secret,
        state: V::State::default(),
    })
}

/// A provisioned device: its model, the record the CRM keeps, and the device itself.
pub struct Device {
    /// The model name in the config.
    pub model: &'static str,
    /// The provisioning record the CRM issues from.
    pub record: Value,
    /// The device.
    pub keypad: Box<dyn Keypad>,
}

/// One device of each model, fresh from the factory.
///
/// # Errors
/// Only if a constant above is not a valid key or configuration.
pub fn devices() -> Result<Vec<Device>, Box<dyn Error>> {
    let key = Key::from_hex;
    let ast = AstConfig {
        suite: Suite::SipHash24,
        profile: Profile::L,
        device_id: AST_DEVICE_ID,
        key_rev: 0,
        unit: Unit::Days,
    };
    Ok(vec![
        Device {
            model: "home-kit-opg",
            record: json!({"key": OPENPAYGO_KEY, "starting_code": OPENPAYGO_STARTING_CODE}),
            keypad: firmware(
                OpenPaygoVerifier::new(Form::STANDARD),
                openpaygo::OpenPaygoSecret::new(key(OPENPAYGO_KEY)?, OPENPAYGO_STARTING_CODE)?,
            ),
        },
        Device {
            model: "lamp-nexus-small",
            record: json!({"secret_key_hex": NEXUS_SMALL_KEY}),
            keypad: firmware(NexusVerifier::small(), key(NEXUS_SMALL_KEY)?),
        },
        Device {
            model: "tv-nexus-full",
            record: json!({"secret_key_hex": NEXUS_FULL_KEY}),
            keypad: firmware(NexusVerifier::full(NEXUS_FULL_ID), key(NEXUS_FULL_KEY)?),
        },
        Device {
            model: "pump-ast",
            record: json!({"batch_key_hex": AST_BATCH_KEY, "device_id": AST_DEVICE_ID, "key_rev": 0}),
            keypad: firmware(
                AstVerifier::new(),
                access::AstSecret::derive(&key(AST_BATCH_KEY)?, ast)?,
            ),
        },
        Device {
            model: "fan-acme8",
            record: json!({"key": ACME_KEY, "serial": ACME_SERIAL}),
            keypad: firmware(AcmeVerifier, acme_secret()?),
        },
    ])
}

/// The fan's ACME-8 secret, as its factory provisions it.
///
/// # Errors
/// Only if the constant key is not valid.
pub fn acme_secret() -> Result<AcmeSecret, KeyError> {
    Ok(AcmeSecret {
        key: Key::from_hex(ACME_KEY)?,
        serial: ACME_SERIAL,
    })
}

/// `n` days of credit.
pub const fn days(n: u32) -> Credit {
    Credit::new(n, TimeUnit::Days)
}

/// What a customer buys over a device's life: a week, a month, then the device outright.
pub const SALE: [Command; 3] = [
    Command::AddCredit(days(7)),
    Command::AddCredit(days(30)),
    Command::Unlock,
];

/// Payment plans on offer: each is the tokens it will need.
pub const PLANS: [(&str, &[Command]); 3] = [
    ("monthly", &[Command::AddCredit(days(30))]),
    ("annual", &[Command::AddCredit(days(365))]),
    (
        "500 days, then own",
        &[Command::AddCredit(days(500)), Command::Unlock],
    ),
];

/// Applied credit in seconds, so schemes counting in different units compare.
pub fn seconds(command: &Command) -> Option<u64> {
    match command {
        Command::AddCredit(c) | Command::SetCredit(c) => c.seconds(),
        _ => None,
    }
}
