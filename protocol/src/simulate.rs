//! The `simulate` op: a provisioned device of any scheme run through timed events, answered
//! with a timeline.
//!
//! `{"op":"simulate","scheme":"openpaygo|nexus|access|…","device":{…},"events":[…]}`.
//! `device` holds the scheme's provisioning fields (openpaygo: `key`, `starting_code`,
//! `restricted_digit_set`, `extended_token`, optional `time_divider`; nexus: `protocol`,
//! `device_key_hex`, optional `user_facing_id`; access: `suite`, `profile`, `device_id`,
//! `device_key`, `key_rev`, optional `unit`) and optional `clock` (`rtc`, the default, or
//! `runtime`) and `lockout` (`default`: the scheme's own policy, or `none`). Any registered
//! scheme with a device side ([`crate::Scheme::simulated`]) answers it.
//!
//! Each event is `{"at":<seconds>, …}` with exactly one of `"enter":"<token>"` (optionally
//! with `"cut_power_after_bytes":n`), `"power_off":true`, `"power_on":true` or
//! `"status":true`. The device is new (blank store) and on at time 0; `power_off` is an orderly
//! switch-off (a clock checkpoint is saved), a cut is sudden.
//!
//! `cut_power_after_bytes` counts the bytes the entry programs, across its writes in order: an
//! entry the lockout lets through first writes the state with the attempt counted as a wrong
//! code (one record: 60 bytes for OpenPAYGO, 54 Nexus, 103 AST), and unless the code was wrong
//! then writes its result (a second record). So `n` below one record length cuts the count
//! (the code is never checked), `n` from one to two record lengths cuts the result (the verdict
//! exists, the attempt stays counted), and `n` at or past the bytes the entry writes cuts
//! power once it has answered. A malformed entry, a locked-out one and, with `"lockout":"none"`,
//! a wrong code write nothing.
//!
//! Each timeline row has `at`, `event`, `outcome` (`APPLIED`, `DUPLICATE`, `INVALID`,
//! `LOCKED_OUT`, or null), `active`, `credit_seconds_left`, `payg` (`ENABLED` / `UNLOCKED`)
//! and `lockout_seconds_left`, then what explains it: `reason` for entries, `command`,
//! `credit_seconds` and `sequence` for applied ones, `boot` after a power-on, `power_cut`
//! (`after_bytes`, `write_bytes`, `interrupted`, `took_effect`, `counted`). The `outcome` of
//! an entry whose result write was cut is the verdict the device had computed before the cut
//! (null when the cut came before the code was checked). A scheme-specific command is named by
//! its scheme (Nexus: `NO_CREDIT_CHANGE`, `RESTRICTED_FLAG_CLEARED`, `DISPLAY_PAYG_ID`), else
//! `SCHEME`.
//!
//! Work is bounded: each event is charged the most hash evaluations it can cost on the device
//! as it is (an OpenPAYGO entry one per count up to the device's highest count plus 100, a
//! Nexus entry 72, an AST entry 4, and 8 for the engine's record MACs), and a request whose
//! events add up to more than [`MAX_WORK`] is refused with `too_much_work` before the event that
//! would pass it runs.

mod engine;

use alloc::borrow::Cow;
use core::fmt;

use paylock::Verifier;
use paylock::persist::{Persist, RecordKey};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub use engine::Lockout;

use crate::batch::write;
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names};
use crate::read::Input;
use crate::registry::Registry;

/// Most events one request may hold.
pub const MAX_EVENTS: usize = 100_000;

/// Most hash evaluations one request may cost (under a second on a 2020s PC): 100,000 entries
/// fit for Nexus, AST and OpenPAYGO at low counts, about 150 at OpenPAYGO's count ceiling.
pub const MAX_WORK: u64 = 20_000_000;

/// Per event, for the engine: the record MACs of two writes, or of a reboot's two slots and
/// its key derivation.
const ENGINE_WORK: u64 = 8;

names! {
    /// A simulated device's clock.
    pub enum Clock (ErrorKind::InvalidClock) {
        /// A real-time clock that runs while the device is off (the default).
        Rtc = "rtc",
        /// A runtime counter that stops while the device is off.
        Runtime = "runtime",
    }
}

names! {
    /// Whether a simulated device locks out after wrong codes.
    pub enum LockoutSetting (ErrorKind::InvalidLockout) {
        /// The scheme's own policy (the default).
        Default = "default",
        /// No lockout: every entry is checked.
        None = "none",
    }
}

/// How a simulated device is built besides its scheme: the `clock` and `lockout` of its
/// `device` object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DeviceBuild {
    /// The clock; `rtc` when absent.
    #[serde(default)]
    pub clock: Option<Clock>,
    /// The lockout; the scheme's when absent.
    #[serde(default)]
    pub lockout: Option<LockoutSetting>,
}

/// A verifier the simulator can charge for its work.
pub trait Simulated: Verifier {
    /// The most hash evaluations one entry can cost on a device whose scheme state is `state`
    /// (`None` while the device is off).
    fn entry_work(&self, state: Option<&Self::State>) -> u64;
}

/// A provisioned device of any scheme on simulated flash, stepped one event at a time: the
/// `simulate` op's device, for callers that feed events as they come (the Python
/// `paylock.device`).
pub struct SimulatedDevice {
    device: Box<dyn engine::Stepper>,
    steps: usize,
}

impl fmt::Debug for SimulatedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatedDevice")
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl SimulatedDevice {
    /// A new device (blank store, on at time 0) of the built-in `scheme` provisioned with the
    /// `device` object of the `simulate` op.
    ///
    /// # Errors
    /// `unknown_scheme`, or an error naming the bad `device.<field>`.
    pub fn new(scheme: &str, device: &Value) -> Result<Self, Error> {
        Registry::builtin().simulated(scheme, Input::Value(device))
    }

    /// A device running `verifier` with `secret`, on the engine with `lockout` unless `build`
    /// says otherwise: what a scheme's [`crate::Scheme::simulated`] returns.
    ///
    /// # Errors
    /// `simulation` when the engine cannot start.
    pub fn of<V>(
        verifier: V,
        secret: V::Secret,
        lockout: Lockout,
        build: DeviceBuild,
    ) -> Result<Self, Error>
    where
        V: Simulated + Clone + Send + Sync + 'static,
        V::Secret: Clone + RecordKey + Send + Sync,
        V::State: Persist + Send + Sync,
    {
        Ok(Self {
            device: engine::device(verifier, secret, lockout, build)?,
            steps: 0,
        })
    }

    /// Runs one event object (`{"at":…, "enter":…}` and the rest of the contract) and returns
    /// its timeline row.
    ///
    /// # Errors
    /// `invalid_event` and the field errors of the `simulate` op; the device is unchanged.
    pub fn step(&mut self, event: &Value) -> Result<Value, Error> {
        let i = self.steps;
        let at = format!("events[{i}]");
        if !event.is_object() {
            return Err(Error::wrong_type(at, "an object"));
        }
        let event: TimedEvent<'_> = Input::Value(event).read().map_err(|e| e.within(&at))?;
        // One event is one request: its worst case is far below the budget.
        let row = self.step_at(i, &event, &mut 0)?;
        serde_json::to_value(row).map_err(|_| Error::new(ErrorKind::InvalidEvent, "unreadable row"))
    }

    /// Runs event `i`, charging its work to `work`, which must stay within [`MAX_WORK`].
    fn step_at(&mut self, i: usize, event: &TimedEvent<'_>, work: &mut u64) -> Result<Row, Error> {
        let happening = event.happening(i)?;
        *work = work.saturating_add(self.device.work(&happening) + ENGINE_WORK);
        if *work > MAX_WORK {
            return Err(Error::about(
                ErrorKind::TooMuchWork,
                "events",
                format!(
                    "field \"events\" needs more than {MAX_WORK} hash evaluations by events[{i}], \
                     the most one request may take; split the scenario into several requests"
                ),
            ));
        }
        let row = self.device.step(i, event.at, happening)?;
        self.steps += 1;
        Ok(row)
    }
}

impl Registry {
    /// A new simulated device of `scheme` provisioned with `device`.
    ///
    /// # Errors
    /// `unknown_scheme`, or an error naming the bad `device.<field>`.
    pub fn simulated(&self, scheme: &str, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let scheme = self.scheme(scheme)?;
        if !device.is_object() {
            return Err(Error::wrong_type("device", "an object"));
        }
        scheme.simulated(device).map_err(|e| e.within("device"))
    }
}

impl Registry {
    /// The timeline of a `simulate` request of `scheme`: its `device` run through its `events`.
    ///
    /// # Errors
    /// `unknown_scheme`, an error naming the bad `device.<field>` or `events[i]`, or
    /// `too_much_work`.
    pub fn simulate(&self, scheme: &str, request: Input<'_>) -> Result<Timeline, Error> {
        let scheme = self.scheme(scheme)?;
        let device = request.object("device")?;
        let mut device = scheme.simulated(device).map_err(|e| e.within("device"))?;
        let op: Events<'_> = request.read()?;
        let mut timeline = Vec::with_capacity(op.events.len());
        let mut work = 0;
        for (i, event) in op.events.iter().enumerate() {
            timeline.push(device.step_at(i, event, &mut work)?);
        }
        Ok(Timeline { ok: True, timeline })
    }
}

/// Answers a `simulate` request of `scheme`.
pub(crate) fn answer(
    registry: &Registry,
    scheme: &str,
    request: Input<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    write(out, &registry.simulate(scheme, request)?);
    Ok(())
}

/// The events of a `simulate` request.
#[derive(Deserialize)]
struct Events<'a> {
    #[serde(borrow, deserialize_with = "events")]
    events: Vec<TimedEvent<'a>>,
}

fn events<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<TimedEvent<'de>>, D::Error> {
    field::objects(d, MAX_EVENTS)
}

/// The answer of a `simulate` request.
#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    /// Always `true`.
    pub ok: True,
    /// One row per event, in order.
    pub timeline: Vec<Row>,
}

/// One event of a scenario, as requests give it.
#[derive(Clone, Debug, Deserialize)]
pub struct TimedEvent<'a> {
    /// Seconds since the device was first switched on; never going back.
    pub at: u32,
    /// Keys entered.
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub enter: Option<Cow<'a, str>>,
    /// With `enter`: bytes of the entry's state writes before power is cut.
    #[serde(default)]
    pub cut_power_after_bytes: Option<u32>,
    /// `true`: the device is switched off.
    #[serde(default)]
    pub power_off: Option<bool>,
    /// `true`: the device is switched on.
    #[serde(default)]
    pub power_on: Option<bool>,
    /// `true`: someone looks at the device.
    #[serde(default)]
    pub status: Option<bool>,
}

/// What one event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Happening<'a> {
    Enter {
        input: &'a [u8],
        cut_after: Option<u32>,
    },
    PowerOff,
    PowerOn,
    Status,
}

impl Happening<'_> {
    /// The event's name in rows.
    const fn name(self) -> &'static str {
        match self {
            Self::Enter { .. } => "enter",
            Self::PowerOff => "power_off",
            Self::PowerOn => "power_on",
            Self::Status => "status",
        }
    }
}

impl TimedEvent<'_> {
    /// What event `i` does: exactly one of `enter`, `power_off`, `power_on`, `status`.
    fn happening(&self, i: usize) -> Result<Happening<'_>, Error> {
        let flags = [
            ("power_off", self.power_off, Happening::PowerOff),
            ("power_on", self.power_on, Happening::PowerOn),
            ("status", self.status, Happening::Status),
        ];
        let mut present: Vec<&str> = Vec::new();
        if self.enter.is_some() {
            present.push("enter");
        }
        present.extend(flags.iter().filter(|f| f.1.is_some()).map(|f| f.0));
        let [kind] = present[..] else {
            let found = if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            };
            return Err(Error::new(
                ErrorKind::InvalidEvent,
                format!(
                    "events[{i}] has {found} of \"enter\", \"power_off\", \"power_on\", \"status\"; it needs exactly one"
                ),
            ));
        };
        if self.cut_power_after_bytes.is_some() && kind != "enter" {
            return Err(Error::new(
                ErrorKind::InvalidEvent,
                format!(
                    "events[{i}]: \"cut_power_after_bytes\" goes with \"enter\", not \"{kind}\""
                ),
            ));
        }
        if let Some(keys) = &self.enter {
            return Ok(Happening::Enter {
                input: keys.as_bytes(),
                cut_after: self.cut_power_after_bytes,
            });
        }
        match flags.iter().find(|f| f.0 == kind) {
            Some((_, Some(true), happening)) => Ok(*happening),
            _ => Err(Error::new(
                ErrorKind::InvalidEvent,
                format!("events[{i}]: \"{kind}\" must be true (omit it otherwise)"),
            )),
        }
    }
}

/// A power cut during an entry, as a row shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PowerCut {
    /// Bytes of the state writes allowed before the cut.
    pub after_bytes: u32,
    /// Bytes of the state writes the entry began.
    pub write_bytes: usize,
    /// The cut came before the entry was reported.
    pub interrupted: bool,
    /// After the reboot, the store holds the entry's result.
    pub took_effect: bool,
    /// After the reboot, the store holds the attempt counted but not its result.
    pub counted: bool,
}

/// One timeline row: the device right after an event, and what explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The event's time.
    pub at: u32,
    /// `enter`, `power_off`, `power_on` or `status`.
    pub event: &'static str,
    /// `APPLIED`, `DUPLICATE`, `INVALID` or `LOCKED_OUT` for an entry that was checked.
    pub outcome: Option<&'static str>,
    /// The product may run.
    pub active: bool,
    /// Seconds of credit left.
    pub credit_seconds_left: u32,
    /// `ENABLED` or `UNLOCKED`.
    pub payg: &'static str,
    /// Seconds before an entry is checked again.
    pub lockout_seconds_left: u32,
    /// Why an entry did what it did.
    pub reason: Option<Cow<'static, str>>,
    /// An applied entry: the command's name, its credit in seconds and its sequence number.
    pub applied: Option<(&'static str, Option<u64>, u32)>,
    /// After a power-on: `restored`, `blank` or `corrupt`.
    pub boot: Option<&'static str>,
    /// The entry's power cut.
    pub power_cut: Option<PowerCut>,
    /// Why a cut entry ended as it did (replaces [`Row::reason`] where both are given).
    pub cut_reason: Option<&'static str>,
}

/// Fields in the contract's order; a cut's reason takes the place of the entry's, or comes last.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("at", &self.at)?;
        map.serialize_entry("event", self.event)?;
        map.serialize_entry("outcome", &self.outcome)?;
        map.serialize_entry("active", &self.active)?;
        map.serialize_entry("credit_seconds_left", &self.credit_seconds_left)?;
        map.serialize_entry("payg", self.payg)?;
        map.serialize_entry("lockout_seconds_left", &self.lockout_seconds_left)?;
        if let Some(reason) = &self.reason {
            map.serialize_entry("reason", self.cut_reason.unwrap_or(reason))?;
        }
        if let Some((command, credit_seconds, sequence)) = self.applied {
            map.serialize_entry("command", command)?;
            if let Some(seconds) = credit_seconds {
                map.serialize_entry("credit_seconds", &seconds)?;
            }
            map.serialize_entry("sequence", &sequence)?;
        }
        if let Some(boot) = self.boot {
            map.serialize_entry("boot", boot)?;
        }
        if let Some(cut) = &self.power_cut {
            map.serialize_entry("power_cut", cut)?;
        }
        if let (None, Some(reason)) = (&self.reason, self.cut_reason) {
            map.serialize_entry("reason", reason)?;
        }
        map.end()
    }
}
