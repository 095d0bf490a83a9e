//! The device-lock engine behind simulated devices: the one module of this crate that names
//! `paylock::device`, so that a change of the engine's types stays here.

use alloc::borrow::Cow;

use paylock::device::sim::{Event, SimError, Simulator, Step};
use paylock::device::{Boot, ClockModel, Config, Entry, Lockout as Policy};
use paylock::persist::{Persist, RecordKey};
use paylock::{Command, Payg, Rejection};

use super::{Clock, DeviceBuild, Happening, LockoutSetting, PowerCut, Row, Simulated};
use crate::error::{Error, ErrorKind};

/// The wrong-code lockout a scheme's devices run by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lockout {
    /// OpenPAYGO's doubling wait after 3 wrong codes.
    OpenPaygo,
    /// Nexus's token bucket.
    Nexus,
    /// AST's policy (spec §10).
    Access,
}

impl Lockout {
    const fn policy(self) -> Policy {
        match self {
            Self::OpenPaygo => Policy::OPENPAYGO,
            Self::Nexus => Policy::NEXUS,
            Self::Access => Policy::AST,
        }
    }
}

/// A simulated device of some scheme, one event at a time.
pub(super) trait Stepper: Send + Sync {
    /// The most hash evaluations `event` can cost the scheme on the device as it is now.
    fn work(&self, event: &Happening<'_>) -> u64;

    /// Runs event `i` at `at` and returns its row.
    fn step(&mut self, i: usize, at: u32, event: Happening<'_>) -> Result<Row, Error>;
}

/// The engine's simulator, and the verifier it runs, for the work estimate.
struct Device<V: Simulated> {
    sim: Simulator<V>,
    verifier: V,
}

/// A new device running `verifier` with `secret`, built as `build` says.
pub(super) fn device<V>(
    verifier: V,
    secret: V::Secret,
    lockout: Lockout,
    build: DeviceBuild,
) -> Result<Box<dyn Stepper>, Error>
where
    V: Simulated + Clone + Send + Sync + 'static,
    V::Secret: Clone + RecordKey + Send + Sync,
    V::State: Persist + Send + Sync,
{
    let clock = match build.clock {
        Some(Clock::Runtime) => ClockModel::Runtime,
        _ => ClockModel::Rtc,
    };
    let policy = match build.lockout {
        Some(LockoutSetting::None) => Policy::None,
        _ => lockout.policy(),
    };
    let sim = Simulator::new(verifier.clone(), secret, Config::new(clock, policy))
        .map_err(|e| Error::new(ErrorKind::Simulation, e.to_string()))?;
    Ok(Box::new(Device { sim, verifier }))
}

impl<V> Stepper for Device<V>
where
    V: Simulated + Clone + Send + Sync,
    V::Secret: Clone + RecordKey + Send + Sync,
    V::State: Persist + Send + Sync,
{
    fn work(&self, event: &Happening<'_>) -> u64 {
        match event {
            Happening::Enter { .. } => self
                .verifier
                .entry_work(self.sim.snapshot().map(|s| &s.scheme)),
            _ => 0,
        }
    }

    fn step(&mut self, i: usize, at: u32, event: Happening<'_>) -> Result<Row, Error> {
        let engine_event = match event {
            Happening::Enter { input, cut_after } => Event::Enter { input, cut_after },
            Happening::PowerOff => Event::PowerOff,
            Happening::PowerOn => Event::PowerOn,
            Happening::Status => Event::Status,
        };
        let step = self
            .sim
            .step(at, engine_event)
            .map_err(|e| invalid_event(i, e))?;
        Ok(row(at, event.name(), &step))
    }
}

/// An event the device cannot take, naming it by position (its time is not repeated).
fn invalid_event(i: usize, e: SimError) -> Error {
    match e {
        SimError::OutOfOrder { .. } => Error::at(
            ErrorKind::InvalidEvent,
            format!("events[{i}].at"),
            "is before the previous event's: events go forward in time",
        ),
        other => Error::new(ErrorKind::InvalidEvent, format!("events[{i}]: {other}")),
    }
}

/// One timeline row.
fn row(at: u32, event: &'static str, step: &Step) -> Row {
    let s = &step.status;
    let mut row = Row {
        at,
        event,
        outcome: step.entry.as_ref().map(outcome),
        active: s.active,
        credit_seconds_left: s.credit_seconds_left,
        payg: match s.payg {
            Payg::Enabled => "ENABLED",
            Payg::Unlocked => "UNLOCKED",
        },
        lockout_seconds_left: s.lockout_seconds_left,
        reason: None,
        applied: None,
        boot: step.boot.map(|boot| match boot {
            Boot::Restored { .. } => "restored",
            Boot::Blank => "blank",
            Boot::Corrupt => "corrupt",
        }),
        power_cut: None,
        cut_reason: None,
    };
    if let Some(entry) = step.entry {
        explain(&entry, &mut row);
    }
    if let Some(cut) = step.cut {
        row.power_cut = Some(PowerCut {
            after_bytes: cut.after_bytes,
            write_bytes: cut.write_bytes,
            interrupted: cut.interrupted,
            took_effect: cut.took_effect,
            counted: cut.counted,
        });
        if cut.interrupted {
            row.cut_reason = Some(match (cut.took_effect, cut.counted, step.entry.is_some()) {
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
            });
        }
    }
    row
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
fn explain(entry: &Entry, row: &mut Row) {
    let reason: Cow<'static, str> = match *entry {
        Entry::Applied {
            command, sequence, ..
        } => {
            let name = command.kind().name();
            let credit = match command {
                Command::AddCredit(c) | Command::SetCredit(c) => c.seconds(),
                _ => None,
            };
            row.applied = Some((name, credit, sequence));
            return;
        }
        Entry::Duplicate => {
            "a genuine code for this device that was already used (or is older than one used since)"
                .into()
        }
        Entry::Rejected(Rejection::Malformed(e)) => {
            format!("not a code of this device's form: {e}; not counted as a wrong code").into()
        }
        Entry::Rejected(Rejection::Locked) => {
            "refused by the scheme's own rate limit (AST: at most 5 TEST codes an hour)".into()
        }
        Entry::Rejected(_) => {
            "not valid for this device: wrong device or key, a typo, or too far from the device's counter; counted as a wrong code".into()
        }
        Entry::LockedOut { seconds_left } => format!(
            "not checked: locked out for {seconds_left} s more after wrong codes; not counted"
        )
        .into(),
        Entry::Unavailable => "not checked: the device's store was corrupt at boot".into(),
    };
    row.reason = Some(reason);
}
