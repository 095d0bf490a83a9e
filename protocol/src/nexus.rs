//! `"scheme":"nexus"`: the `generate` and `enter` ops, the device model and the simulated
//! device. Both ops use the names and shapes of `test-vectors/nexus/nexus_keycode_vectors.json`.
//!
//! `generate` issues one keycode:
//! `{"scheme":"nexus","op":"generate","protocol":"full","message_type":"ADD_CREDIT",
//! "secret_key_hex":"…","message_id":42,"params":{"hours":168}}`
//! → `{"ok":true,"keycode":"*599 791 493 194 43#","keycode_keys":"*59979149319443#"}`.
//! `protocol` is `full`, `small` or `full/channel_origin`; see [`generate`] for every
//! `message_type` and its `params`. Universal codes take no `secret_key_hex`, codes without an
//! ID no `message_id` (null, and 0 for `message_id`, count as absent). Message IDs above 65534
//! are refused (`out_of_range`) unless the request says `"allow_ids_above_65534":true`, for
//! devices known not to run nexus-embedded 2.0.1 (which lets such codes be replayed). DEMO
//! codes add credit each time they are entered, so they are refused (`unsupported_command`)
//! unless the request says `"allow_demo_codes":true`. A refused ID with a known way out
//! (`id_collision`, `id_reserved`) carries `next_valid_id` in `error`; an ID with no later one
//! left is `counter_exhausted`.
//!
//! `enter` types a whole code on a simulated product (a credit counter in seconds), with rate
//! limiting off as in the vectors:
//! `{"scheme":"nexus","op":"enter","protocol":"small","device_key_hex":"…",
//! "keycode_keys":"135242422455244","state":{"pd_index":23,"received_flags":"000000",
//! "credit_seconds":0,"unlocked":false}}`
//! → `{"ok":true,"response":"VALID_APPLIED","feedback":["MESSAGE_APPLIED"],
//! "platform_calls":["add:604800"],"state":{…}}`. `state` also takes `qc_short_count`,
//! `qc_long_count` (default 0), `restricted_flag` (default false), `payg_state` (checked
//! against `credit_seconds` and `unlocked`), and the device's build: `user_facing_id`
//! (default 0), `qc_short_max` and `qc_long_max` (default 5), which the answer echoes.
//!
//! Model config: `protocol`, `full` or `small`. Device record: `secret_key_hex` (32 hex
//! digits). The counter is the device's next unused message ID (0 for a new device); IDs above
//! 65,534 are refused, as deployed firmware needs. Besides the shared commands, a model issues
//! the wipe codes as `Command::Scheme { kind: KIND_WIPE, arg }` with `arg` the WIPE_STATE
//! target (0 credit, 1 credit and window, 2 window, 3 restricted flag).

mod enter;
mod generate;

use paylock::capability::Capabilities;
use paylock::nexus::{
    FullIssuer, Keycode, Maintenance, NexusConfig, NexusVerifier, Protocol, SmallIssuer,
    WipeTarget, capabilities,
};
use paylock::{Command, IssueError, Issuer, Key};
use serde::Deserialize;

pub use enter::{Enter, EnterState, Entered, EnteredState, enter};
pub use generate::{
    Days, Generate, GenerateProtocol, Generated, KeyDict, Params, WipeFlags, generate,
};

use crate::batch::write;
use crate::error::{Error, ErrorKind};
use crate::field::{self, names};
use crate::read::Input;
use crate::registry::{Carry, Issued, Model, PlanRefusal, Scheme, refused};
use crate::simulate::{DeviceBuild, Lockout, Simulated, SimulatedDevice};

/// `Command::Scheme` kind of a wipe code a model issues; `arg` is the WIPE_STATE target.
pub const KIND_WIPE: u16 = 16;

/// Hash evaluations charged per simulated entry: the 64 IDs of the window, tried by a small
/// extended code, and the de-obscuring and MAC hashes.
const ENTRY_WORK: u64 = 72;

names! {
    /// A device's keypad protocol.
    pub enum DeviceProtocol (ErrorKind::InvalidProtocol) {
        /// Keys 0-9, `*` and `#`; credit in hours.
        Full = "full",
        /// Keys 1-5; credit in days.
        Small = "small",
    }
}

impl DeviceProtocol {
    /// The core's protocol.
    #[must_use]
    pub const fn protocol(self) -> Protocol {
        match self {
            Self::Full => Protocol::Full,
            Self::Small => Protocol::Small,
        }
    }
}

/// The Nexus keycode scheme.
#[derive(Clone, Copy, Debug, Default)]
pub struct Nexus;

impl Scheme for Nexus {
    fn model(&self, config: Input<'_>) -> Result<Box<dyn Model>, Error> {
        let config: NexusModelConfig = config.read()?;
        Ok(Box::new(NexusModel::new(config.protocol)))
    }

    fn ops(&self) -> &'static [&'static str] {
        &["generate", "enter"]
    }

    fn answer(&self, op: &str, request: Input<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        if op == "generate" {
            write(out, &generate(&request.read()?)?);
        } else {
            write(out, &enter(&request.read()?)?);
        }
        Ok(())
    }

    fn simulated(&self, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let d: SimulatedNexus = device.read()?;
        let config = match d.protocol {
            DeviceProtocol::Full => NexusConfig::full(),
            DeviceProtocol::Small => NexusConfig::small(),
        };
        let verifier = NexusVerifier::new(config, d.user_facing_id.unwrap_or(0));
        let build: DeviceBuild = device.read()?;
        SimulatedDevice::of(verifier, d.device_key_hex, Lockout::Nexus, build)
    }
}

/// The `device` of a `simulate` request.
#[derive(Deserialize)]
struct SimulatedNexus {
    protocol: DeviceProtocol,
    #[serde(deserialize_with = "field::key")]
    device_key_hex: Key,
    #[serde(default)]
    user_facing_id: Option<u32>,
}

impl Simulated for NexusVerifier {
    fn entry_work(&self, _state: Option<&Self::State>) -> u64 {
        ENTRY_WORK
    }
}

/// The full-protocol issuer, allowing what the request allows.
#[must_use]
pub fn full_issuer(allow_ids_above_65534: bool, allow_demo_codes: bool) -> FullIssuer {
    let issuer = FullIssuer::new();
    let issuer = if allow_ids_above_65534 {
        issuer.allowing_ids_above_65534()
    } else {
        issuer
    };
    if allow_demo_codes {
        issuer.allowing_demo_codes()
    } else {
        issuer
    }
}

/// The small-protocol issuer, allowing what the request allows.
#[must_use]
pub fn small_issuer(allow_ids_above_65534: bool) -> SmallIssuer {
    if allow_ids_above_65534 {
        SmallIssuer::new().allowing_ids_above_65534()
    } else {
        SmallIssuer::new()
    }
}

/// A `nexus` model config.
#[derive(Deserialize)]
struct NexusModelConfig {
    protocol: DeviceProtocol,
}

/// A `nexus` device record.
#[derive(Clone, Debug, Deserialize)]
pub struct NexusRecord {
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub secret_key_hex: Key,
}

/// Nexus devices of one protocol.
#[derive(Clone, Copy, Debug)]
pub struct NexusModel {
    protocol: Protocol,
}

impl NexusModel {
    /// Devices of `protocol`.
    #[must_use]
    pub const fn new(protocol: DeviceProtocol) -> Self {
        Self {
            protocol: protocol.protocol(),
        }
    }

    /// Issues `command` at `counter` (the next unused message ID) for the device with `key`.
    ///
    /// # Errors
    /// The issuer's refusal.
    pub fn issue_key(&self, key: &Key, counter: u32, command: &Command) -> Result<Issued, Error> {
        let refuse = |e: IssueError| refused(command, PlanRefusal::Issuer(e));
        let (code, sequence, next) = match *command {
            Command::Scheme {
                kind: KIND_WIPE,
                arg,
            } => self.wipe(key, counter, arg)?,
            _ => {
                let mut next = counter;
                let code = match self.protocol {
                    Protocol::Full => FullIssuer::new().issue(key, &mut next, command),
                    Protocol::Small => SmallIssuer::new().issue(key, &mut next, command),
                }
                .map_err(refuse)?;
                (code, next.checked_sub(1), next)
            }
        };
        Ok(Issued {
            token: code.display().as_str().to_owned(),
            keys: code.keys().as_str().to_owned(),
            sequence,
            counter: next,
        })
    }

    /// A wipe code: (the code, the ID it carries, the next counter).
    fn wipe(
        &self,
        key: &Key,
        counter: u32,
        arg: u32,
    ) -> Result<(Keycode, Option<u32>, u32), Error> {
        let target = u8::try_from(arg)
            .ok()
            .and_then(WipeTarget::from_digit)
            .ok_or_else(|| Error::at(ErrorKind::OutOfRange, "command.arg", "must be 0-3"))?;
        let refuse = |e: paylock::nexus::NexusIssueError| {
            refused(
                &Command::Scheme {
                    kind: KIND_WIPE,
                    arg,
                },
                PlanRefusal::Issuer(e.into()),
            )
        };
        let keyed = |code: Keycode| (code, Some(counter), counter.saturating_add(1));
        Ok(match (self.protocol, target) {
            (Protocol::Full, target) => keyed(
                FullIssuer::new()
                    .wipe_state(key, counter, target)
                    .map_err(refuse)?,
            ),
            (Protocol::Small, WipeTarget::RestrictedFlag) => keyed(
                SmallIssuer::new()
                    .wipe_restricted_flag(key, counter)
                    .map_err(refuse)?,
            ),
            (Protocol::Small, target) => {
                let maintenance = match target {
                    WipeTarget::Credit => Maintenance::WipeState0,
                    WipeTarget::CreditAndWindow => Maintenance::WipeState1,
                    _ => Maintenance::WipeIdsAll,
                };
                (
                    SmallIssuer::new().maintenance(key, maintenance),
                    None,
                    counter,
                )
            }
        })
    }
}

impl Model for NexusModel {
    fn capabilities(&self) -> Capabilities {
        capabilities(self.protocol)
    }

    fn issue_carrying(
        &self,
        device: Input<'_>,
        counter: u32,
        _carry: &mut Carry,
        command: &Command,
    ) -> Result<Issued, Error> {
        let record: NexusRecord = device.read()?;
        self.issue_key(&record.secret_key_hex, counter, command)
    }

    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError> {
        let key = Key::new([0; 16]);
        let mut next = counter;
        match self.protocol {
            Protocol::Full => FullIssuer::new().issue(&key, &mut next, command)?,
            Protocol::Small => SmallIssuer::new().issue(&key, &mut next, command)?,
        };
        Ok(next)
    }
}
