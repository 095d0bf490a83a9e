//! The engine: a scheme's verifier wrapped with credit, lockout, a clock and power-safe
//! persistence. An entry the lockout lets through is first counted as a wrong code in the
//! store, then checked on a copy of the state; what the verdict changed (an applied token's
//! effect, or the count restored for any verdict but a wrong code) is written before the
//! outcome is reported, and only then becomes the state. What a verdict may change is the
//! [`Verifier`] contract. Each write is erase, program, read back.

use super::clock::{Clock, ClockModel};
use super::credit::CreditState;
use super::lockout::{Lockout, LockoutPolicy};
use super::record::{self, MAX_LEN, Snapshot};
use super::storage::{Slot, Storage};
use crate::key::Key;
use crate::persist::{Persist, RecordKey};
use crate::scheme::{Command, Context, Outcome, Payg, Rejection, Verifier};

/// How a device is built. `L` is its wrong-code policy: a [`Lockout`] chosen at run time, or
/// a type that fixes one at build time ([`LockoutPolicy`]), which firmware for one product
/// uses so that only that policy's code is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config<L = Lockout> {
    /// The clock the firmware passes in.
    pub clock: ClockModel,
    /// What wrong codes cost.
    pub lockout: L,
    /// [`Engine::tick`] writes a clock checkpoint after this many seconds of device time
    /// (what a sudden power loss can cost the credit clock with [`ClockModel::Runtime`]).
    pub checkpoint_seconds: u32,
    /// Treat a blank store as corrupt: for products with a one-time "provisioned" flag, where
    /// an erased store can only mean tampering.
    pub blank_is_corrupt: bool,
}

impl<L> Config<L> {
    /// `clock` and `lockout`, a checkpoint every hour, a blank store is a new device.
    #[must_use]
    pub const fn new(clock: ClockModel, lockout: L) -> Self {
        Self {
            clock,
            lockout,
            checkpoint_seconds: 3_600,
            blank_is_corrupt: false,
        }
    }
}

/// What [`Engine::boot`] found in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Boot {
    /// The newest intact record (its MAC verified, and not below the hardware counter if the
    /// store has one), with its sequence number.
    Restored {
        /// The record's sequence number.
        sequence: u32,
    },
    /// Both slots erased (or one erased and the other holding the first write, cut short by
    /// power loss): a new device, PAYG enabled with no credit.
    Blank,
    /// No intact record, and not blank: the device is locked and refuses every token
    /// ([`Entry::Unavailable`]) until it is serviced. Power cuts never cause this (each write
    /// goes to the slot not holding the newest record); only damage or tampering does: a record
    /// that fails its MAC, or with [`Storage::counter`], a record older than the counter.
    Corrupt,
}

/// What the device made of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Entry {
    /// Genuine, and took effect: its effect is persisted.
    Applied {
        /// What the token did.
        command: Command,
        /// The token's counter.
        sequence: u32,
        /// Recorded as used: `false` for a token the scheme lets be entered again
        /// ([`Outcome::Applied`]).
        spent: bool,
    },
    /// A genuine token that takes no effect (already used): nothing changed.
    Duplicate,
    /// Refused by the scheme. Only [`Rejection::Invalid`] counts as a wrong code.
    Rejected(Rejection),
    /// Not checked: the lockout holds for this many more seconds.
    LockedOut {
        /// Seconds until the next entry is checked.
        seconds_left: u32,
    },
    /// Not checked: the store was corrupt at boot.
    Unavailable,
}

/// The device as a user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    /// Device time (seconds).
    pub now: u32,
    /// PAYG enabled or unlocked.
    pub payg: Payg,
    /// The product may run.
    pub active: bool,
    /// Seconds of credit left.
    pub credit_seconds_left: u32,
    /// Seconds before an entry is checked again (0: now).
    pub lockout_seconds_left: u32,
}

/// Why the engine could not go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error<E> {
    /// The storage failed (on a device: a power cut or a flash fault). Nothing was reported;
    /// the state in RAM is the newest record the store holds intact.
    #[error("storage error: {0:?}")]
    Storage(E),
    /// What was read back differs from what was written.
    #[error("the record read back differs from the one written")]
    ReadBack,
    /// The slots are smaller than one record.
    #[error("slots of {have} bytes cannot hold a {need}-byte record")]
    SlotTooSmall {
        /// Bytes a record needs.
        need: usize,
        /// Bytes a slot has.
        have: usize,
    },
}

/// A device: a verifier, its secret, the persisted state and where it is stored; `L` is its
/// wrong-code policy (see [`Config`]).
pub struct Engine<V: Verifier, S, L = Lockout> {
    verifier: V,
    secret: V::Secret,
    /// The record's MAC key, derived from the secret once at boot.
    record_key: Key,
    config: Config<L>,
    storage: S,
    snapshot: Snapshot<V::State>,
    sequence: u32,
    slot: Slot,
    clock: Clock,
    corrupt: bool,
    /// The verdict of the last entry, if its result could not be written.
    unsaved: Option<Entry>,
}

impl<V, S, L> Engine<V, S, L>
where
    V: Verifier,
    V::Secret: RecordKey,
    V::State: Persist,
    S: Storage,
    L: LockoutPolicy,
{
    /// Starts the device from `storage` at firmware clock reading `clock`: the newest intact
    /// record, or a defined state for a blank or corrupt store (see [`Boot`]).
    ///
    /// # Errors
    /// [`Error::SlotTooSmall`], or a storage error reading the slots or the counter.
    pub fn boot(
        verifier: V,
        secret: V::Secret,
        config: Config<L>,
        mut storage: S,
        clock: u32,
    ) -> Result<(Self, Boot), Error<S::Error>> {
        const {
            assert!(
                record::len::<V::State>() <= MAX_LEN,
                "scheme state too large"
            )
        };
        let need = record::len::<V::State>();
        if storage.slot_len() < need {
            return Err(Error::SlotTooSmall {
                need,
                have: storage.slot_len(),
            });
        }
        let record_key = secret.record_key();
        // A store whose counter has moved has held records: erased, it is not a new device.
        let floor = storage.counter().map_err(Error::Storage)?;
        // A new device's state, then the newest intact record (slot A's on a tie) in its place.
        // Which one is newest is kept in plain variables, not an `Option` of the pair: less code.
        let mut snapshot = fresh::<V::State>(config.lockout.lockout(), clock);
        let (mut sequence, mut slot, mut restored) = (0, Slot::B, false);
        let mut blank = !config.blank_is_corrupt && floor.unwrap_or(0) == 0;
        for read in [Slot::A, Slot::B] {
            let (record, unwritten) =
                read_slot::<V::State, S>(&mut storage, read, need, &record_key)?;
            blank &= unwritten;
            if let Some((found_sequence, found)) = record
                && floor.is_none_or(|floor| found_sequence >= floor)
                && (!restored || newer(found_sequence, sequence))
            {
                (snapshot, sequence, slot, restored) = (found, found_sequence, read, true);
            }
        }
        let boot = match restored {
            true => Boot::Restored { sequence },
            false if blank => Boot::Blank,
            false => Boot::Corrupt,
        };
        if restored && floor.is_some() {
            // A cut between a record's read-back and its counter raise left the counter behind.
            storage.raise_counter(sequence).map_err(Error::Storage)?;
        }
        let engine = Self {
            clock: Clock::boot(
                config.clock,
                clock,
                snapshot.checkpoint,
                snapshot.correction,
            ),
            verifier,
            secret,
            record_key,
            config,
            storage,
            snapshot,
            sequence,
            slot,
            corrupt: boot == Boot::Corrupt,
            unsaved: None,
        };
        Ok((engine, boot))
    }
}

impl<V, S, L> Engine<V, S, L>
where
    V: Verifier,
    V::State: Persist,
    S: Storage,
    L: LockoutPolicy,
{
    /// Enters a token at firmware clock reading `clock`. The outcome is returned only once its
    /// effect (credit, replay state, lockout) is in the store.
    ///
    /// The attempt is made durable before its verdict exists, as smart cards count PIN tries:
    /// unless the verifier's [`Verifier::screen`] refuses the text on its shape alone (no
    /// write), the state with this attempt counted as a wrong code is written first; only then
    /// is the code checked. A wrong code needs no further write; an applied code writes its
    /// effect, with the count restored (or reset, for a spent token: see the [`Verifier`]
    /// contract), and any other verdict writes the count restored.
    /// So a power cut at any byte of either write leaves the attempt counted or the code
    /// unchecked, never a verdict without its count. [`Lockout::None`] counts nothing and
    /// makes only the result write.
    ///
    /// # Errors
    /// The store could not be written: nothing is reported, and the state in RAM is the newest
    /// record in the store: the state before the entry, or (if the result write failed) the
    /// state with the attempt counted, whose verdict [`Engine::unsaved_verdict`] then gives.
    pub fn enter(&mut self, input: &[u8], clock: u32) -> Result<Entry, Error<S::Error>> {
        self.unsaved = None;
        let now = self.clock.now(clock);
        if self.corrupt {
            return Ok(Entry::Unavailable);
        }
        let wait = self.lockout().seconds_left(&self.snapshot.lockout, now);
        if wait > 0 {
            return Ok(Entry::LockedOut { seconds_left: wait });
        }
        if let Err(e) = self.verifier.screen(&self.secret, input) {
            return Ok(Entry::Rejected(Rejection::Malformed(e)));
        }
        // 1. The attempt, counted as a wrong code, into the store.
        let mut next = self.snapshot;
        let before = next.lockout;
        self.lockout().wrong(&mut next.lockout, now);
        let counted = next.lockout;
        if counted != before {
            self.persist(Some(&next), now)?;
        }
        // 2. The verdict, on the state from before the attempt.
        next.lockout = before;
        let context = Context {
            now,
            payg: next.credit.payg,
            active: next.credit.active(now),
        };
        let outcome = self
            .verifier
            .verify(&self.secret, &mut next.scheme, input, &context);
        // 3. The result, by the `Verifier` contract: an applied token's effect; for any other
        // verdict the state is the one stored, with the count restored unless the code was
        // wrong (the store already holds that).
        let restore = counted != before;
        let (entry, result) = match outcome {
            Outcome::Applied {
                command,
                sequence,
                spent,
            } => {
                next.credit.apply(&command, now);
                // Only a spent token clears the wrong-code count: a reusable one (a TEST code,
                // a Nexus device-ID confirmation) would otherwise skip the wait.
                if spent {
                    self.lockout().valid(&mut next.lockout);
                }
                let entry = Entry::Applied {
                    command,
                    sequence,
                    spent,
                };
                (entry, true)
            }
            Outcome::Duplicate => (Entry::Duplicate, restore),
            Outcome::Rejected(Rejection::Invalid) => {
                next.lockout = counted;
                (Entry::Rejected(Rejection::Invalid), false)
            }
            Outcome::Rejected(r) => (Entry::Rejected(r), restore),
        };
        if result && let Err(e) = self.persist(Some(&next), now) {
            self.unsaved = Some(entry);
            return Err(e.into());
        }
        Ok(entry)
    }

    /// The verdict of the last [`Engine::enter`] if it failed after checking the code: its
    /// result write did not complete, so the store holds the attempt counted as a wrong code
    /// (with [`Lockout::None`], the state before the entry) and a valid code stays unused.
    /// `None` after a success, or a failure before the code was checked.
    pub const fn unsaved_verdict(&self) -> Option<Entry> {
        self.unsaved
    }

    /// Call regularly while running: writes a clock checkpoint once
    /// [`Config::checkpoint_seconds`] of device time have passed since the last write.
    ///
    /// # Errors
    /// The store could not be written.
    pub fn tick(&mut self, clock: u32) -> Result<(), Error<S::Error>> {
        self.checkpoint(clock, self.config.checkpoint_seconds)
    }

    /// Call when power is going down (brown-out warning, switch-off): writes a checkpoint so
    /// a runtime clock loses nothing.
    ///
    /// # Errors
    /// The store could not be written.
    pub fn power_down(&mut self, clock: u32) -> Result<(), Error<S::Error>> {
        // Device time never goes below the checkpoint: any time since it is a second or more.
        self.checkpoint(clock, 1)
    }

    /// Writes the state with a new checkpoint once `period` seconds of device time have passed
    /// since the last one: [`Engine::tick`] and [`Engine::power_down`] share this code.
    #[inline(never)]
    fn checkpoint(&mut self, clock: u32, period: u32) -> Result<(), Error<S::Error>> {
        let now = self.clock.now(clock);
        if !self.corrupt && now.saturating_sub(self.snapshot.checkpoint) >= period {
            self.persist(None, now)?;
        }
        Ok(())
    }

    /// The verifier the engine was booted with.
    #[must_use]
    pub const fn verifier(&self) -> &V {
        &self.verifier
    }

    /// The device as a user sees it at firmware clock reading `clock`.
    pub fn status(&mut self, clock: u32) -> Status {
        let now = self.clock.now(clock);
        let s = &self.snapshot;
        Status {
            now,
            payg: s.credit.payg,
            active: !self.corrupt && s.credit.active(now),
            credit_seconds_left: if self.corrupt {
                0
            } else {
                s.credit.seconds_left(now)
            },
            lockout_seconds_left: self.lockout().seconds_left(&s.lockout, now),
        }
    }

    /// The wrong-code policy: a constant when `L` fixes it.
    #[inline(always)]
    fn lockout(&self) -> Lockout {
        self.config.lockout.lockout()
    }

    /// What is persisted.
    pub const fn snapshot(&self) -> &Snapshot<V::State> {
        &self.snapshot
    }

    /// The sequence number of the newest record (0 before the first write).
    pub const fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Bytes of one record write.
    #[must_use]
    pub const fn record_len() -> usize {
        record::len::<V::State>()
    }

    /// The store, for fault injection and diagnostics.
    pub const fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Powers the device off: RAM is lost, the store remains.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Powers the device off and hands back what a reboot needs: the verifier, the secret
    /// and the store.
    pub fn into_parts(self) -> (V, V::Secret, S) {
        (self.verifier, self.secret, self.storage)
    }

    /// Writes `next`, or with `None` the current snapshot (a clock checkpoint), with `now` as its
    /// checkpoint and the clock's correction, to the slot not holding the newest record, reads it
    /// back, and only then adopts it and raises the store's counter. By reference: a by-value
    /// record is copied with `memcpy`, which firmware would link for this alone; `None` spares a
    /// checkpoint its copy of the snapshot. Not inlined: [`Engine::enter`] calls it twice.
    #[inline(never)]
    fn persist(
        &mut self,
        next: Option<&Snapshot<V::State>>,
        now: u32,
    ) -> Result<(), Failed<S::Error>> {
        let correction = self.clock.correction();
        let sequence = self.sequence.wrapping_add(1);
        let mut buf = record::RecordBuf::<V::State>::new();
        let snapshot = next.unwrap_or(&self.snapshot);
        let len = record::encode(
            sequence,
            snapshot,
            (now, correction),
            &self.record_key,
            &mut buf.bytes,
        )
        .ok_or(Failed::ReadBack)?;
        let bytes = buf.bytes.get(..len).ok_or(Failed::ReadBack)?;
        let target = self.slot.other();
        self.storage.erase(target).map_err(Failed::Storage)?;
        self.storage
            .program(target, 0, bytes)
            .map_err(Failed::Storage)?;
        // Read back a byte at a time: a second record-sized buffer costs stack and flash.
        for (offset, &want) in bytes.iter().enumerate() {
            let mut got = [0u8];
            self.storage
                .read(target, offset, &mut got)
                .map_err(Failed::Storage)?;
            if got != [want] {
                return Err(Failed::ReadBack);
            }
        }
        if let Some(next) = next {
            self.snapshot = *next;
        }
        (self.snapshot.checkpoint, self.snapshot.correction) = (now, correction);
        (self.sequence, self.slot) = (sequence, target);
        self.storage
            .raise_counter(sequence)
            .map_err(Failed::Storage)
    }
}

/// Why a write failed: the two [`Error`]s it can cause, in a type small enough to be returned
/// in registers rather than through memory.
enum Failed<E> {
    /// [`Error::Storage`].
    Storage(E),
    /// [`Error::ReadBack`].
    ReadBack,
}

impl<E> From<Failed<E>> for Error<E> {
    fn from(failed: Failed<E>) -> Self {
        match failed {
            Failed::Storage(e) => Self::Storage(e),
            Failed::ReadBack => Self::ReadBack,
        }
    }
}

impl<V: Verifier, S, L> core::fmt::Debug for Engine<V, S, L>
where
    V: core::fmt::Debug,
    L: core::fmt::Debug,
    V::State: core::fmt::Debug,
{
    /// The secret is never shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("verifier", &self.verifier)
            .field("config", &self.config)
            .field("snapshot", &self.snapshot)
            .field("sequence", &self.sequence)
            .field("corrupt", &self.corrupt)
            .finish_non_exhaustive()
    }
}

/// A new device's record content.
fn fresh<T: Persist>(lockout: Lockout, clock: u32) -> Snapshot<T> {
    Snapshot {
        credit: CreditState::default(),
        lockout: lockout.fresh(clock),
        checkpoint: clock,
        correction: 0,
        scheme: T::FRESH,
    }
}

/// The record in `slot`, if intact, and whether no record was ever completed there (erased,
/// or a write cut short).
#[allow(clippy::type_complexity)]
fn read_slot<T: Persist, S: Storage>(
    storage: &mut S,
    slot: Slot,
    len: usize,
    key: &Key,
) -> Result<(Option<(u32, Snapshot<T>)>, bool), Error<S::Error>> {
    let mut buf = record::RecordBuf::<T>::new();
    let bytes = buf.bytes.get_mut(..len).ok_or(Error::ReadBack)?;
    storage.read(slot, 0, bytes).map_err(Error::Storage)?;
    let record = record::decode(bytes, key);
    // An intact record is a completed one; only otherwise are the bytes looked at again.
    let unwritten = record.is_none() && record::unwritten::<T>(bytes);
    Ok((record, unwritten))
}

/// Serial-number order: `a` is newer than `b` (sequence numbers may wrap).
const fn newer(a: u32, b: u32) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 1 << 31
}
