//! The `simulate` op: a provisioned device of any scheme run through timed events, answered
//! with a timeline.
//!
//! `{"op":"simulate","scheme":"openpaygo|nexus|access","device":{…},"events":[…]}`.
//! `device` holds the scheme's provisioning fields (openpaygo: `key`, `starting_code`,
//! `restricted_digit_set`, `extended_token`, optional `time_divider`; nexus: `protocol`,
//! `device_key_hex`, optional `user_facing_id`; access: `suite`, `profile`, `device_id`,
//! `device_key`, `key_rev`, optional `unit`) and optional `clock` (`rtc`, the default, or
//! `runtime`) and `lockout` (`default`: the scheme's own policy, or `none`).
//!
//! Each event is `{"at":<seconds>, …}` with exactly one of `"enter":"<token>"` (optionally
//! with `"cut_power_after_bytes":n`), `"power_off":true`, `"power_on":true` or
//! `"status":true`. The device is new (blank store) and on at time 0; `power_off` is an orderly
//! switch-off (a clock checkpoint is saved), a cut is sudden.
//!
//! `cut_power_after_bytes` counts the bytes the entry programs, across its writes in order: an
//! entry the lockout lets through first writes the state with the attempt counted as a wrong
//! code (one record: 48 bytes for OpenPAYGO, 54 Nexus, 103 AST), and unless the code was wrong
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
//! (null when the cut came before the code was checked).
//!
//! Work is bounded: each event is charged the most hash evaluations it can cost on the device
//! as it is (an OpenPAYGO entry one per count up to the device's highest count plus 100, a
//! Nexus entry 72, an AST entry 4, and 8 for the engine's record MACs), and a request whose
//! events add up to more than [`MAX_WORK`] is refused with `too_much_work` before the event that
//! would pass it runs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::fields::{one_of, optional, within};
use super::{BatchError, Fields, access, openpaygo, to_json};
use paylock::access::AstVerifier;
use paylock::device::sim::{Event, SimError, Simulator, Step};
use paylock::device::{Boot, ClockModel, Config, Entry, Lockout};
use paylock::nexus::{self, NexusVerifier};
use paylock::openpaygo::{OpenPaygoVerifier, OpenPaygoWindow};
use paylock::scheme::{Command, Payg, Rejection};

/// Most events one request may hold.
pub const MAX_EVENTS: usize = 100_000;

/// Most hash evaluations one request may cost (under a second on a 2020s PC): 100,000 entries
/// fit for Nexus, AST and OpenPAYGO at low counts, about 150 at OpenPAYGO's count ceiling.
pub const MAX_WORK: u64 = 20_000_000;

/// Hash evaluations charged per Nexus entry: the 64 IDs of the window, tried by a small
/// extended code, and the de-obscuring and MAC hashes.
const NEXUS_WORK: u64 = 72;
/// Per AST entry: the whitening keystream and the MAC, at most two PRF calls each.
const AST_WORK: u64 = 4;
/// Per event, for the engine: the record MACs of two writes, or of a reboot's two slots and
/// its key derivation.
const ENGINE_WORK: u64 = 8;

pub(super) fn handle(f: &Fields<'_>) -> Result<String, BatchError> {
    let scheme = f.str("scheme")?;
    let mut device = SimulatedDevice::from_fields(scheme, &f.object("device")?)?;
    let events = events(f)?;
    let mut timeline = Vec::with_capacity(events.len());
    let mut work = 0;
    for (i, e) in events.iter().enumerate() {
        timeline.push(device.step_at(i, e, &mut work)?);
    }
    Ok(to_json(&json!({ "ok": true, "timeline": timeline })))
}

/// A provisioned device of any scheme on simulated flash, stepped one event at a time: the
/// batch op's device, for callers that feed events as they come (the Python `paylock.device`).
pub struct SimulatedDevice {
    sim: Sim,
    steps: usize,
}

enum Sim {
    OpenPaygo(Simulator<OpenPaygoVerifier>),
    Nexus(Simulator<NexusVerifier>),
    Access(Simulator<AstVerifier>),
}

impl core::fmt::Debug for SimulatedDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let scheme = match self.sim {
            Sim::OpenPaygo(_) => "openpaygo",
            Sim::Nexus(_) => "nexus",
            Sim::Access(_) => "access",
        };
        f.debug_struct("SimulatedDevice")
            .field("scheme", &scheme)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl SimulatedDevice {
    /// A new device (blank store, on at time 0) of `scheme` provisioned with the `device`
    /// object of the batch op.
    ///
    /// # Errors
    /// `unknown_scheme`, or an error naming the bad `device.<field>`.
    pub fn new(scheme: &str, device: &Value) -> Result<Self, BatchError> {
        let map = device
            .as_object()
            .ok_or_else(|| BatchError::new("wrong_type", "field \"device\" must be an object"))?;
        Self::from_fields(scheme, &Fields::new(map))
    }

    fn from_fields(scheme: &str, device: &Fields<'_>) -> Result<Self, BatchError> {
        let inside = |e| within("device", e);
        let sim = match scheme {
            "openpaygo" => {
                let form = openpaygo::form(device).map_err(inside)?;
                let divider = optional(device, "time_divider", |d, n| d.u32(n, u8::MAX.into()))
                    .map_err(inside)?
                    .map_or(1, |d| u8::try_from(d).unwrap_or(u8::MAX));
                if divider == 0 {
                    return Err(BatchError::new(
                        "out_of_range",
                        "field \"device.time_divider\" is 0, the smallest allowed is 1",
                    ));
                }
                let secret = openpaygo::secret(device).map_err(inside)?;
                let decoder = OpenPaygoVerifier::new(form).with_time_divider(divider);
                let config = config(device, Lockout::OPENPAYGO)?;
                Sim::OpenPaygo(Simulator::new(decoder, secret, config).map_err(sim_error)?)
            }
            "nexus" => {
                let protocol = one_of(device, "protocol", &["full", "small"], "invalid_protocol")
                    .map_err(inside)?;
                let key = device.key("device_key_hex").map_err(inside)?;
                let id = optional(device, "user_facing_id", |d, n| d.u32(n, u32::MAX))
                    .map_err(inside)?
                    .unwrap_or(0);
                let nexus = match protocol {
                    "small" => nexus::NexusConfig::small(),
                    _ => nexus::NexusConfig::full(),
                };
                let config = config(device, Lockout::NEXUS)?;
                let verifier = NexusVerifier::new(nexus, id);
                Sim::Nexus(Simulator::new(verifier, key, config).map_err(sim_error)?)
            }
            "access" => {
                let secret = access::device_secret(device).map_err(inside)?;
                let config = config(device, Lockout::AST)?;
                // The engine keeps AST's lockout (spec §10) in its record, so the verifier
                // must not.
                let verifier = AstVerifier::without_lockout();
                Sim::Access(Simulator::new(verifier, secret, config).map_err(sim_error)?)
            }
            _ => return Err(super::unknown_scheme()),
        };
        Ok(Self { sim, steps: 0 })
    }

    /// Runs one event object (`{"at":…, "enter":…}` and the rest of the contract) and returns
    /// its timeline row.
    ///
    /// # Errors
    /// `invalid_event` and the field errors of the batch op; the device is unchanged.
    pub fn step(&mut self, event: &Value) -> Result<Value, BatchError> {
        let i = self.steps;
        let map = event.as_object().ok_or_else(|| {
            BatchError::new(
                "wrong_type",
                format!("field \"events[{i}]\" must be an object"),
            )
        })?;
        // One event is one request: its worst case is far below the budget.
        self.step_at(i, &Fields::new(map), &mut 0)
    }

    /// Runs event `i`, charging its work to `work`, which must stay within [`MAX_WORK`].
    fn step_at(&mut self, i: usize, e: &Fields<'_>, work: &mut u64) -> Result<Value, BatchError> {
        let (at, kind, event) = event(i, e).map_err(|err| within(&format!("events[{i}]"), err))?;
        *work = work.saturating_add(self.work(&event));
        if *work > MAX_WORK {
            return Err(BatchError::new(
                "too_much_work",
                format!(
                    "field \"events\" needs more than {MAX_WORK} hash evaluations by events[{i}], the most one request may take; split the scenario into several requests"
                ),
            ));
        }
        let step = match &mut self.sim {
            Sim::OpenPaygo(sim) => sim.step(at, event),
            Sim::Nexus(sim) => sim.step(at, event),
            Sim::Access(sim) => sim.step(at, event),
        }
        .map_err(|err| invalid_event(i, err))?;
        self.steps += 1;
        Ok(row(at, kind, &step))
    }

    /// The most hash evaluations `event` can cost on the device as it is now.
    fn work(&self, event: &Event<'_>) -> u64 {
        let entry = match (event, &self.sim) {
            (Event::Enter { .. }, Sim::OpenPaygo(sim)) => sim.snapshot().map_or(0, |s| {
                // Decoding scans every count from 0 to the highest a token may reach.
                let window = OpenPaygoWindow::default();
                let jump = window.max_jump.max(window.max_jump_sync);
                let last = s.scheme.max_count.saturating_add(jump);
                u64::from(last.min(window.count_ceiling)) + 1
            }),
            (Event::Enter { .. }, Sim::Nexus(_)) => NEXUS_WORK,
            (Event::Enter { .. }, Sim::Access(_)) => AST_WORK,
            _ => 0,
        };
        entry + ENGINE_WORK
    }
}

/// An event the device cannot take, naming it by position (its time is not repeated).
fn invalid_event(i: usize, e: SimError) -> BatchError {
    let why = match e {
        SimError::OutOfOrder { .. } => {
            format!(
                "field \"events[{i}].at\" is before the previous event's: events go forward in time"
            )
        }
        other => format!("events[{i}]: {other}"),
    };
    BatchError::new("invalid_event", why)
}

fn sim_error(e: SimError) -> BatchError {
    BatchError::new("simulation", format!("{e}"))
}

/// `clock` and `lockout` of the device.
fn config(device: &Fields<'_>, default_lockout: Lockout) -> Result<Config, BatchError> {
    let inside = |e| within("device", e);
    let clock = optional(device, "clock", |d, n| {
        one_of(d, n, &["rtc", "runtime"], "invalid_clock")
    })
    .map_err(inside)?;
    let lockout = optional(device, "lockout", |d, n| {
        one_of(d, n, &["default", "none"], "invalid_lockout")
    })
    .map_err(inside)?;
    let clock = match clock {
        Some("runtime") => ClockModel::Runtime,
        _ => ClockModel::Rtc,
    };
    let lockout = match lockout {
        Some("none") => Lockout::None,
        _ => default_lockout,
    };
    Ok(Config::new(clock, lockout))
}

/// The events array, each checked to be an object.
fn events<'a>(f: &Fields<'a>) -> Result<Vec<Fields<'a>>, BatchError> {
    let list = f
        .get("events")
        .ok_or_else(|| BatchError::new("missing_field", "field \"events\" is required"))?
        .as_array()
        .ok_or_else(|| BatchError::new("wrong_type", "field \"events\" must be an array"))?;
    if list.len() > MAX_EVENTS {
        return Err(BatchError::new(
            "out_of_range",
            format!(
                "field \"events\" has {} events, the most allowed is {MAX_EVENTS}",
                list.len()
            ),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            e.as_object().map(Fields::new).ok_or_else(|| {
                BatchError::new(
                    "wrong_type",
                    format!("field \"events[{i}]\" must be an object"),
                )
            })
        })
        .collect()
}

/// The names an event may carry; exactly one of the first four.
const KINDS: [&str; 4] = ["enter", "power_off", "power_on", "status"];

/// Reads event `i`: its time, its kind and, for an entry, the text and the cut.
fn event<'a>(i: usize, e: &Fields<'a>) -> Result<(u32, &'static str, Event<'a>), BatchError> {
    let at = e.u32("at", u32::MAX)?;
    let present: Vec<&'static str> = KINDS.into_iter().filter(|k| e.get(k).is_some()).collect();
    let [kind] = present[..] else {
        return Err(BatchError::new(
            "invalid_event",
            format!(
                "events[{i}] has {} of \"enter\", \"power_off\", \"power_on\", \"status\"; it needs exactly one",
                if present.is_empty() {
                    "none".into()
                } else {
                    present.join(", ")
                }
            ),
        ));
    };
    let cut = e
        .opt_uint("cut_power_after_bytes", u32::MAX.into())?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    if cut.is_some() && kind != "enter" {
        return Err(BatchError::new(
            "invalid_event",
            format!("events[{i}]: \"cut_power_after_bytes\" goes with \"enter\", not \"{kind}\""),
        ));
    }
    let event = match kind {
        "enter" => Event::Enter {
            input: e.str("enter")?.as_bytes(),
            cut_after: cut,
        },
        flag => {
            if !e.bool(flag)? {
                return Err(BatchError::new(
                    "invalid_event",
                    format!("events[{i}]: \"{flag}\" must be true (omit it otherwise)"),
                ));
            }
            match flag {
                "power_off" => Event::PowerOff,
                "power_on" => Event::PowerOn,
                _ => Event::Status,
            }
        }
    };
    Ok((at, kind, event))
}

/// One timeline row.
fn row(at: u32, kind: &str, step: &Step) -> Value {
    let s = &step.status;
    let mut row = Map::new();
    row.insert("at".into(), at.into());
    row.insert("event".into(), kind.into());
    row.insert(
        "outcome".into(),
        step.entry.map_or(Value::Null, |e| outcome(&e).into()),
    );
    row.insert("active".into(), s.active.into());
    row.insert("credit_seconds_left".into(), s.credit_seconds_left.into());
    row.insert(
        "payg".into(),
        match s.payg {
            Payg::Enabled => "ENABLED",
            Payg::Unlocked => "UNLOCKED",
        }
        .into(),
    );
    row.insert("lockout_seconds_left".into(), s.lockout_seconds_left.into());
    if let Some(entry) = step.entry {
        explain(&entry, &mut row);
    }
    if let Some(boot) = step.boot {
        row.insert(
            "boot".into(),
            match boot {
                Boot::Restored { .. } => "restored",
                Boot::Blank => "blank",
                Boot::Corrupt => "corrupt",
            }
            .into(),
        );
    }
    if let Some(cut) = step.cut {
        row.insert(
            "power_cut".into(),
            json!({
                "after_bytes": cut.after_bytes,
                "write_bytes": cut.write_bytes,
                "interrupted": cut.interrupted,
                "took_effect": cut.took_effect,
                "counted": cut.counted,
            }),
        );
        if cut.interrupted {
            let why = match (cut.took_effect, cut.counted, step.entry.is_some()) {
                (true, _, _) => {
                    "power was cut before the device could answer, once its last state write was complete: the entry took effect (entering a valid code again gives DUPLICATE)"
                }
                (false, true, true) => {
                    "the device checked the code (outcome shown), but power was cut while it saved the result: it restarted with the attempt counted as a wrong code and the code unused (a valid code can be entered again)"
                }
                (false, true, false) => {
                    "power was cut once the device had counted the attempt as a wrong code, before it checked the code: the attempt counts, the code was never checked"
                }
                (false, false, true) => {
                    "the device checked the code (outcome shown), but power was cut while it saved the result: it restarted from its previous state, as if the code had not been entered"
                }
                (false, false, false) => {
                    "power was cut while the device was counting the attempt, before it checked the code: it restarted from its previous state, as if the code had not been entered"
                }
            };
            row.insert("reason".into(), why.into());
        }
    }
    Value::Object(row)
}

/// The contract's outcome name.
const fn outcome(entry: &Entry) -> &'static str {
    match entry {
        Entry::Applied { .. } => "APPLIED",
        Entry::Duplicate => "DUPLICATE",
        Entry::Rejected(Rejection::Locked) | Entry::LockedOut { .. } | Entry::Unavailable => {
            "LOCKED_OUT"
        }
        Entry::Rejected(_) => "INVALID",
    }
}

/// What support staff need to know about an entry.
fn explain(entry: &Entry, row: &mut Map<String, Value>) {
    let reason = match *entry {
        Entry::Applied {
            command, sequence, ..
        } => {
            row.insert("command".into(), command.kind().name().into());
            if let Command::AddCredit(c) | Command::SetCredit(c) = command
                && let Some(s) = c.seconds()
            {
                row.insert("credit_seconds".into(), s.into());
            }
            row.insert("sequence".into(), sequence.into());
            return;
        }
        Entry::Duplicate => {
            "a genuine code for this device that was already used (or is older than one used since)"
                .into()
        }
        Entry::Rejected(Rejection::Malformed(e)) => {
            format!("not a code of this device's form: {e}; not counted as a wrong code")
        }
        Entry::Rejected(Rejection::Locked) => {
            "refused by the scheme's own rate limit (AST: at most 5 TEST codes an hour)".into()
        }
        Entry::Rejected(_) => {
            "not valid for this device: wrong device or key, a typo, or too far from the device's counter; counted as a wrong code".into()
        }
        Entry::LockedOut { seconds_left } => format!(
            "not checked: locked out for {seconds_left} s more after wrong codes; not counted"
        ),
        Entry::Unavailable => "not checked: the device's store was corrupt at boot".into(),
    };
    row.insert("reason".into(), reason.into());
}
