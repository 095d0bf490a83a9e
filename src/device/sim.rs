//! A simulated device: the engine on an in-memory flash, driven by timed events (entries,
//! power off and on, status checks, power cuts in the middle of a state write). Factory QA and
//! support use it, through `paylock simulate` and the batch op, to answer "why did this code
//! fail"; tests use it to replay field scenarios.

use super::engine::{Boot, Config, Engine, Entry, Error, Status};
use super::record::Snapshot;
use super::storage::{MemError, MemStorage};
use super::{ClockModel, record};
use crate::persist::{Persist, RecordKey};
use crate::scheme::Verifier;

/// Bytes per simulated flash slot: room for every built-in scheme's record.
pub const SLOT_LEN: usize = record::MAX_LEN;

type Store = MemStorage<SLOT_LEN>;

/// One event of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Keys entered; with `cut_after`, power is cut after that many bytes of the state writes
    /// the entry causes (or after the entry if it writes fewer), then comes back at once. The
    /// bytes are counted across the entry's writes in order: the first record-length bytes
    /// are the write that counts the attempt, the next ones the write of its result.
    Enter {
        /// The characters entered.
        input: &'a [u8],
        /// Bytes of the state writes before the power cut.
        cut_after: Option<u32>,
    },
    /// The device is switched off (it saves a clock checkpoint first).
    PowerOff,
    /// The device is switched on.
    PowerOn,
    /// Someone looks at the device.
    Status,
}

/// A power cut during an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cut {
    /// Bytes of the state writes allowed before the cut.
    pub after_bytes: u32,
    /// Bytes of the state writes the entry began: one record length per write (0: it changed
    /// no state). A cut in the first write hides whether a second would have followed.
    pub write_bytes: usize,
    /// The cut came before the entry was reported.
    pub interrupted: bool,
    /// After the reboot, the store holds the entry's result, as if it had been reported.
    pub took_effect: bool,
    /// After the reboot, the store holds the attempt counted as a wrong code but not its
    /// result: the cut came after the count was written.
    pub counted: bool,
}

/// What one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The device's answer to an entry; for an entry whose result write was cut, the verdict
    /// it had computed before the cut. `None` for other events, or when the cut came before
    /// the code was checked.
    pub entry: Option<Entry>,
    /// The power cut, if the event had one.
    pub cut: Option<Cut>,
    /// How the device booted, for a power-on (or the reboot after a cut).
    pub boot: Option<Boot>,
    /// The device right after the event.
    pub status: Status,
}

/// Why an event could not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// Events go forward in time.
    #[error("events must be in time order: {at} comes after {last}")]
    OutOfOrder {
        /// This event's time.
        at: u32,
        /// The previous event's time.
        last: u32,
    },
    /// Keys cannot be entered on a device that is off.
    #[error("the device is off: power it on before entering a code")]
    Off,
    /// Power on while on, or off while off.
    #[error("the device is already {0}")]
    Already(&'static str),
    /// The simulated flash failed in a way no power cut explains.
    #[error("storage: {0}")]
    Storage(Error<MemError>),
}

enum Power<V: Verifier> {
    On {
        engine: Engine<V, Store>,
        boot_at: u32,
    },
    Off {
        parts: (V, V::Secret, Store),
    },
}

/// A device of one scheme on simulated flash, from its first boot (blank store) at time 0.
pub struct Simulator<V: Verifier> {
    config: Config,
    power: Option<Power<V>>,
    last: u32,
}

impl<V: Verifier> core::fmt::Debug for Simulator<V> {
    /// Never shows the secret.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let on = matches!(self.power, Some(Power::On { .. }));
        f.debug_struct("Simulator")
            .field("config", &self.config)
            .field("on", &on)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl<V> Simulator<V>
where
    V: Verifier + Clone,
    V::Secret: Clone + RecordKey,
    V::State: Persist,
{
    /// A new device, powered on at time 0 with a blank store.
    ///
    /// # Errors
    /// Only if the scheme's record does not fit a slot.
    pub fn new(verifier: V, secret: V::Secret, config: Config) -> Result<Self, SimError> {
        let (engine, _) =
            Engine::boot(verifier, secret, config, Store::new(), 0).map_err(SimError::Storage)?;
        Ok(Self {
            config,
            power: Some(Power::On { engine, boot_at: 0 }),
            last: 0,
        })
    }

    /// Bytes of one state write.
    #[must_use]
    pub const fn record_len() -> usize {
        record::len::<V::State>()
    }

    /// Runs one event at time `at` (seconds since the scenario began).
    ///
    /// # Errors
    /// [`SimError`]; the device is unchanged.
    pub fn step(&mut self, at: u32, event: Event<'_>) -> Result<Step, SimError> {
        if at < self.last {
            return Err(SimError::OutOfOrder {
                at,
                last: self.last,
            });
        }
        let power = self.power.take().ok_or(SimError::Off)?;
        let (power, result) = self.run(power, at, event);
        self.power = power;
        if result.is_ok() {
            self.last = at;
        }
        result
    }

    /// The device after `event`, and the step; `None` only if a reboot failed, which a
    /// correctly sized in-memory store cannot do.
    fn run(
        &self,
        power: Power<V>,
        at: u32,
        event: Event<'_>,
    ) -> (Option<Power<V>>, Result<Step, SimError>) {
        let (power, result) = match self.transition(power, at, event) {
            Ok((power, step)) => (Some(power), step),
            Err(e) => (None, Err(e)),
        };
        (power, result)
    }

    #[allow(clippy::type_complexity)]
    fn transition(
        &self,
        power: Power<V>,
        at: u32,
        event: Event<'_>,
    ) -> Result<(Power<V>, Result<Step, SimError>), SimError> {
        Ok(match (power, event) {
            (
                Power::On {
                    mut engine,
                    boot_at,
                },
                Event::Enter { input, cut_after },
            ) => {
                let clock = self.clock(at, boot_at);
                // The firmware's periodic checkpoint, due before this entry.
                if let Err(e) = engine.tick(clock) {
                    return Ok((Power::On { engine, boot_at }, Err(SimError::Storage(e))));
                }
                if let Some(n) = cut_after {
                    return self.cut(engine, boot_at, at, input, n);
                }
                let result = engine.enter(input, clock).map_err(SimError::Storage);
                let status = engine.status(clock);
                let step = result.map(|entry| Step {
                    entry: Some(entry),
                    ..quiet(status)
                });
                (Power::On { engine, boot_at }, step)
            }
            (
                Power::On {
                    mut engine,
                    boot_at,
                },
                Event::Status,
            ) => {
                let clock = self.clock(at, boot_at);
                if let Err(e) = engine.tick(clock) {
                    return Ok((Power::On { engine, boot_at }, Err(SimError::Storage(e))));
                }
                let status = engine.status(clock);
                (Power::On { engine, boot_at }, Ok(quiet(status)))
            }
            (
                Power::On {
                    mut engine,
                    boot_at,
                },
                Event::PowerOff,
            ) => {
                let clock = self.clock(at, boot_at);
                if let Err(e) = engine.power_down(clock) {
                    return Ok((Power::On { engine, boot_at }, Err(SimError::Storage(e))));
                }
                let status = engine.status(clock);
                let parts = engine.into_parts();
                (Power::Off { parts }, Ok(quiet(status)))
            }
            (power @ Power::On { .. }, Event::PowerOn) => (power, Err(SimError::Already("on"))),
            (Power::Off { parts }, Event::PowerOn) => {
                let (mut engine, boot) = self.boot(parts, at)?;
                let step = Step {
                    boot: Some(boot),
                    ..quiet(engine.status(self.clock(at, at)))
                };
                (
                    Power::On {
                        engine,
                        boot_at: at,
                    },
                    Ok(step),
                )
            }
            (Power::Off { parts }, Event::Status) => {
                // What the store holds, read as the device would at power-on now.
                let copy = (parts.0.clone(), parts.1.clone(), parts.2.clone());
                let (mut engine, _) = self.boot(copy, at)?;
                let status = engine.status(self.clock(at, at));
                (Power::Off { parts }, Ok(quiet(status)))
            }
            (power @ Power::Off { .. }, Event::PowerOff) => (power, Err(SimError::Already("off"))),
            (power @ Power::Off { .. }, Event::Enter { .. }) => (power, Err(SimError::Off)),
        })
    }

    /// An entry with a power cut after `n` bytes of its writes, then a reboot at the same time.
    fn cut(
        &self,
        mut engine: Engine<V, Store>,
        boot_at: u32,
        at: u32,
        input: &[u8],
        n: u32,
    ) -> Result<(Power<V>, Result<Step, SimError>), SimError> {
        let clock = self.clock(at, boot_at);
        let sequence = engine.sequence();
        let erases = engine.storage_mut().erases;
        engine.storage_mut().cut_after(n);
        let (entry, interrupted) = match engine.enter(input, clock) {
            Ok(entry) => (Some(entry), false),
            Err(Error::Storage(MemError::PowerCut)) => (engine.unsaved_verdict(), true),
            Err(e) => {
                engine.storage_mut().power_on();
                return Ok((Power::On { engine, boot_at }, Err(SimError::Storage(e))));
            }
        };
        // Every write begins with an erase, which a cut never stops.
        let writes = engine.storage_mut().erases - erases;
        let (verifier, secret, mut store) = engine.into_parts();
        store.power_on();
        let (mut engine, boot) = self.boot((verifier, secret, store), at)?;
        let landed = u64::from(engine.sequence().wrapping_sub(sequence));
        // The result is in when every write the entry began landed, and the entry had come
        // far enough to know its verdict (a cut count without a verdict is not a result).
        let took_effect = !interrupted || (entry.is_some() && landed == writes);
        let cut = Cut {
            after_bytes: n,
            write_bytes: usize::try_from(writes).unwrap_or(usize::MAX) * Self::record_len(),
            interrupted,
            took_effect,
            counted: !took_effect && landed > 0,
        };
        let step = Step {
            entry,
            cut: Some(cut),
            boot: Some(boot),
            status: engine.status(self.clock(at, at)),
        };
        Ok((
            Power::On {
                engine,
                boot_at: at,
            },
            Ok(step),
        ))
    }

    /// What the store holds now, if the device is on (the state the next entry starts from).
    #[must_use]
    pub fn snapshot(&self) -> Option<&Snapshot<V::State>> {
        match &self.power {
            Some(Power::On { engine, .. }) => Some(engine.snapshot()),
            _ => None,
        }
    }

    /// Boots from `parts` at time `at` (a runtime clock restarts at 0).
    fn boot(
        &self,
        parts: (V, V::Secret, Store),
        at: u32,
    ) -> Result<(Engine<V, Store>, Boot), SimError> {
        let (verifier, secret, store) = parts;
        Engine::boot(verifier, secret, self.config, store, self.clock(at, at))
            .map_err(SimError::Storage)
    }

    /// The firmware clock at `at` for a device booted at `boot_at`.
    const fn clock(&self, at: u32, boot_at: u32) -> u32 {
        match self.config.clock {
            ClockModel::Rtc => at,
            ClockModel::Runtime => at.saturating_sub(boot_at),
        }
    }
}

/// A step that only reports the status.
const fn quiet(status: Status) -> Step {
    Step {
        entry: None,
        cut: None,
        boot: None,
        status,
    }
}
