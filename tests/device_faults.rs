//! Fault injection: long seeded random scenarios for every scheme and both clock models, with
//! the power cut after every single byte of every state write (and in the middle of every
//! erase). An entry writes twice (the attempt counted as a wrong code, then its result) unless
//! its code is wrong; after each cut the device reboots and must hold exactly the state
//! before, between or after those writes, never accept a token it reported as applied, and
//! never hold less credit than an independent model of the applied tokens says it bought.
//!
//! Then the attacker who cuts power to learn verdicts without paying for them: long runs of
//! wrong codes (and of wrong codes mixed with valid ones) with a cut at every byte of every
//! write, where the number of verdicts the device computes must never pass what an independent
//! model of each lockout policy allows.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

extern crate alloc;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::fmt::Debug;
use paylock::access::{self, AstIssuer, AstVerifier, Profile, Suite, Unit};
use paylock::device::{
    Boot, ClockModel, Config, CreditState, Engine, Entry, Error, Lockout, MemError, MemStorage,
    Slot, Snapshot, Storage,
};
use paylock::nexus::{FullIssuer, KIND_NO_CREDIT_CHANGE, NexusState, NexusVerifier, SmallIssuer};
use paylock::openpaygo::{self, Form, OpenPaygoDeviceState, OpenPaygoIssuer, OpenPaygoVerifier};
use paylock::persist::{Persist, RecordKey};
use paylock::{
    Command, Context, Credit, Issuer, Key, Outcome, Payg, Rejection, TimeUnit, Verifier,
};
use std::time::Instant;

/// Slot size: room for every built-in scheme's record.
const N: usize = 128;
type Mem = MemStorage<N>;

/// The flash, shared with the harness so it can copy it while a device runs on it.
#[derive(Clone, Debug)]
struct Flash(Rc<RefCell<Cells>>);

#[derive(Clone, Debug)]
struct Cells {
    mem: Mem,
    /// Erases to let through before one is torn.
    tear_after: Option<u32>,
}

impl Flash {
    fn new(mem: Mem) -> Self {
        Self(Rc::new(RefCell::new(Cells {
            mem,
            tear_after: None,
        })))
    }

    /// An independent copy of the current contents.
    fn copy(&self) -> Mem {
        self.0.borrow().mem.clone()
    }

    /// Power is cut after `bytes` more programmed bytes, across writes.
    fn cut_after(&self, bytes: u32) {
        self.0.borrow_mut().mem.cut_after(bytes);
    }

    /// The erase after `erases` more complete ones stops half way, and power is cut.
    fn tear_erase(&self, erases: u32) {
        self.0.borrow_mut().tear_after = Some(erases);
    }

    fn power_on(&self) {
        let mut cells = self.0.borrow_mut();
        cells.mem.power_on();
        cells.tear_after = None;
    }
}

impl Storage for Flash {
    type Error = MemError;

    fn slot_len(&self) -> usize {
        N
    }

    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), MemError> {
        self.0.borrow_mut().mem.read(slot, offset, buf)
    }

    fn erase(&mut self, slot: Slot) -> Result<(), MemError> {
        let mut cells = self.0.borrow_mut();
        match cells.tear_after {
            Some(0) => {
                cells.tear_after = None;
                cells.mem.tear_next_erase();
            }
            Some(n) => cells.tear_after = Some(n - 1),
            None => {}
        }
        cells.mem.erase(slot)
    }

    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), MemError> {
        self.0.borrow_mut().mem.program(slot, offset, data)
    }
}

/// A small deterministic generator (PCG-style LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn below_u32(&mut self, n: u32) -> u32 {
        u32::try_from(self.below(u64::from(n))).unwrap()
    }

    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below_u32(hi - lo + 1)
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()].clone()
    }

    fn text(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len).map(|_| char::from(self.pick(alphabet))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Schemes: issuers, what their tokens must do, and entries that are not tokens
// ---------------------------------------------------------------------------------------------

/// How a token may behave when entered again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Never applied twice.
    OneTime,
    /// A Nexus ADD-type code: applied while PAYG is on, a spent duplicate while unlocked.
    NexusAdd,
    /// An OpenPAYGO counter sync: the scheme re-accepts it within 64 counts of the maximum
    /// (docs/openpaygo.md §5.3; vector "replay COUNTER_SYNC at count 91"), with no effect
    /// beyond spending older counts.
    Sync,
    /// An AST TEST code: public and reusable, rate limited by the verifier.
    Test,
}

/// An issued token and what the device must report for it, as the issuer's input says.
#[derive(Clone, Debug)]
struct Token {
    text: String,
    command: Command,
    sequence: u32,
    kind: Kind,
}

trait Scheme {
    type V: Verifier<Secret = Self::Secret, State = Self::State> + Copy + Debug;
    type Secret: Clone + RecordKey;
    type State: Persist + PartialEq + Debug;

    fn name(&self) -> String;
    fn verifier(&self) -> Self::V;
    fn secret(&self) -> Self::Secret;
    fn lockout(&self) -> Lockout;
    /// The next token from the server.
    fn issue(&mut self, rng: &mut Lcg) -> Token;
    /// A random entry of the right shape, most likely not a genuine code.
    fn wrong(&self, rng: &mut Lcg) -> String;
    /// An entry that is not a code of this form; `true` if the scheme may class it as a wrong
    /// code rather than as malformed (Nexus's verifier has no "malformed" verdict).
    fn malformed(&self, rng: &mut Lcg) -> (String, bool);
}

/// Seconds of credit, computed here from the command's own numbers.
fn credit_seconds(c: Credit) -> u64 {
    let a = u64::from(c.amount);
    match c.unit {
        TimeUnit::Seconds => a,
        TimeUnit::Minutes => a * 60,
        TimeUnit::Hours => a * 3_600,
        TimeUnit::Days => a * 86_400,
        TimeUnit::DayFraction(n) => a * 86_400 / u64::from(n),
        _ => panic!("unit {:?}", c.unit),
    }
}

struct OpenPaygo {
    encoder: OpenPaygoIssuer,
    secret: openpaygo::OpenPaygoSecret,
    count: u32,
}

impl OpenPaygo {
    fn new() -> Self {
        let key = Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap();
        Self {
            encoder: OpenPaygoIssuer::new(Form::STANDARD),
            secret: openpaygo::OpenPaygoSecret::new(key, 123_456_789).unwrap(),
            count: 0,
        }
    }
}

impl Scheme for OpenPaygo {
    type V = OpenPaygoVerifier;
    type Secret = openpaygo::OpenPaygoSecret;
    type State = OpenPaygoDeviceState;

    fn name(&self) -> String {
        "OpenPAYGO".into()
    }

    fn verifier(&self) -> OpenPaygoVerifier {
        OpenPaygoVerifier::new(Form::STANDARD)
    }

    fn secret(&self) -> openpaygo::OpenPaygoSecret {
        self.secret.clone()
    }

    fn lockout(&self) -> Lockout {
        Lockout::OPENPAYGO
    }

    fn issue(&mut self, rng: &mut Lcg) -> Token {
        let days = |n| Credit::new(n, TimeUnit::Days);
        let (command, kind) = match rng.below(20) {
            0..=13 => (Command::AddCredit(days(rng.range(1, 4))), Kind::OneTime),
            14..=16 => (Command::SetCredit(days(rng.range(0, 4))), Kind::OneTime),
            17 => (Command::Unlock, Kind::OneTime),
            _ => (Command::CounterSync, Kind::Sync),
        };
        let text = self
            .encoder
            .issue(&self.secret, &mut self.count, &command)
            .unwrap()
            .to_string();
        Token {
            text,
            command,
            sequence: self.count,
            kind,
        }
    }

    fn wrong(&self, rng: &mut Lcg) -> String {
        rng.text(9, b"0123456789")
    }

    fn malformed(&self, rng: &mut Lcg) -> (String, bool) {
        let len = usize::try_from(rng.range(1, 8)).unwrap();
        let mut text = rng.text(len, b"0123456789");
        if rng.chance(2) {
            text.push('x');
        }
        (text, false)
    }
}

fn nexus_key() -> Key {
    Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap()
}

struct Nexus {
    small: bool,
    key: Key,
    next_id: u32,
}

impl Nexus {
    fn new(small: bool) -> Self {
        Self {
            small,
            key: nexus_key(),
            next_id: 0,
        }
    }
}

impl Scheme for Nexus {
    type V = NexusVerifier;
    type Secret = Key;
    type State = NexusState;

    fn name(&self) -> String {
        if self.small {
            "Nexus small"
        } else {
            "Nexus full"
        }
        .into()
    }

    fn verifier(&self) -> NexusVerifier {
        if self.small {
            NexusVerifier::small()
        } else {
            NexusVerifier::full(123_456_789)
        }
    }

    fn secret(&self) -> Key {
        self.key.clone()
    }

    fn lockout(&self) -> Lockout {
        Lockout::NEXUS
    }

    fn issue(&mut self, rng: &mut Lcg) -> Token {
        // Full codes carry hours, small ones days; the verifier reports seconds.
        let (unit, hi, unit_seconds) = if self.small {
            (TimeUnit::Days, 6, 86_400)
        } else {
            (TimeUnit::Hours, 72, 3_600)
        };
        let (command, reported, kind) = match rng.below(20) {
            0..=14 => {
                let n = rng.range(1, hi);
                let s = Credit::new(n * unit_seconds, TimeUnit::Seconds);
                (
                    Command::AddCredit(Credit::new(n, unit)),
                    Command::AddCredit(s),
                    Kind::NexusAdd,
                )
            }
            15..=18 => {
                let n = rng.range(0, hi);
                let s = Credit::new(n * unit_seconds, TimeUnit::Seconds);
                (
                    Command::SetCredit(Credit::new(n, unit)),
                    Command::SetCredit(s),
                    Kind::OneTime,
                )
            }
            // A small UNLOCK is an ADD-type code; a full one a SET-type code.
            _ if self.small => (Command::Unlock, Command::Unlock, Kind::NexusAdd),
            _ => (Command::Unlock, Command::Unlock, Kind::OneTime),
        };
        let text = if self.small {
            SmallIssuer::new().issue(&self.key, &mut self.next_id, &command)
        } else {
            FullIssuer::new().issue(&self.key, &mut self.next_id, &command)
        }
        .unwrap()
        .to_string();
        Token {
            text,
            command: reported,
            // The issuers' counter is the next unused ID (a small SET may skip one).
            sequence: self.next_id - 1,
            kind,
        }
    }

    fn wrong(&self, rng: &mut Lcg) -> String {
        if self.small {
            format!("1{}", rng.text(14, b"2345"))
        } else {
            format!("*{}#", rng.text(14, b"0123456789"))
        }
    }

    fn malformed(&self, rng: &mut Lcg) -> (String, bool) {
        let len = usize::try_from(rng.range(1, 6)).unwrap();
        (rng.text(len, b"abc*#"), true)
    }
}

struct Ast {
    secret: access::AstSecret,
    counter: u32,
}

impl Ast {
    fn new(profile: Profile) -> Self {
        let config = access::AstConfig {
            suite: Suite::SipHash24,
            profile,
            device_id: 987_654_321,
            key_rev: 2,
            unit: Unit::Hours,
        };
        let key = Key::from_hex("0f0e0d0c0b0a09080706050403020100").unwrap();
        Self {
            secret: access::AstSecret::new(key, config).unwrap(),
            counter: 1,
        }
    }

    fn profile(&self) -> Profile {
        self.secret.config().profile
    }
}

impl Scheme for Ast {
    type V = AstVerifier;
    type Secret = access::AstSecret;
    type State = access::AstState;

    fn name(&self) -> String {
        format!("AST {}", self.profile().name())
    }

    fn verifier(&self) -> AstVerifier {
        AstVerifier::without_lockout()
    }

    fn secret(&self) -> access::AstSecret {
        self.secret.clone()
    }

    fn lockout(&self) -> Lockout {
        Lockout::AST
    }

    fn issue(&mut self, rng: &mut Lcg) -> Token {
        let hours = |n| Credit::new(n, TimeUnit::Hours);
        let (command, kind) = match rng.below(20) {
            0..=11 => (Command::AddCredit(hours(rng.range(1, 48))), Kind::OneTime),
            12..=13 => (Command::SetCredit(hours(rng.range(0, 48))), Kind::OneTime),
            14 => (Command::Unlock, Kind::OneTime),
            15 => (Command::CounterSync, Kind::OneTime),
            16 => (
                Command::SetParam {
                    id: rng.range(0, 15).try_into().unwrap(),
                    value: rng.range(0, 15),
                },
                Kind::OneTime,
            ),
            _ => (
                Command::Test(rng.range(0, 3).try_into().unwrap()),
                Kind::Test,
            ),
        };
        let before = self.counter;
        let text = AstIssuer
            .issue(&self.secret, &mut self.counter, &command)
            .unwrap()
            .to_string();
        let sequence = if kind == Kind::Test { 0 } else { before };
        Token {
            text,
            command,
            sequence,
            kind,
        }
    }

    fn wrong(&self, rng: &mut Lcg) -> String {
        let profile = self.profile();
        let alphabet: &[u8] = if profile.is_base4() {
            b"1234"
        } else {
            b"0123456789"
        };
        rng.text(profile.digits(), alphabet)
    }

    fn malformed(&self, rng: &mut Lcg) -> (String, bool) {
        let len = usize::try_from(rng.range(1, 12)).unwrap();
        (rng.text(len, b"1234"), false)
    }
}

// ---------------------------------------------------------------------------------------------
// The independent model
// ---------------------------------------------------------------------------------------------

/// What the applied tokens bought, on the model clock: for an RTC the RTC itself, for a
/// runtime counter the total time the device was on. The device clock never runs ahead of it
/// (a runtime device loses at most the time since its last checkpoint), so the device's credit
/// left is never below the model's, and equal to it with an RTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Model {
    payg: Payg,
    expiry: u64,
    /// AST TEST quota (spec §10), on device time.
    test_start: u32,
    test_count: u8,
}

impl Model {
    const NEW: Self = Self {
        payg: Payg::Enabled,
        expiry: 0,
        test_start: 0,
        test_count: 0,
    };

    fn apply(&mut self, command: &Command, m: u64) {
        match *command {
            Command::AddCredit(c) => self.expiry = self.expiry.max(m) + credit_seconds(c),
            Command::SetCredit(c) => {
                self.expiry = m + credit_seconds(c);
                self.payg = Payg::Enabled;
            }
            Command::Unlock => self.payg = Payg::Unlocked,
            _ => {}
        }
    }

    fn left(&self, m: u64) -> u64 {
        self.expiry.saturating_sub(m)
    }

    /// Whether a MAC-valid TEST code at device time `d` is within the quota.
    fn test_allowed(&self, d: u32) -> bool {
        d.saturating_sub(self.test_start) >= 3_600 || self.test_count < 5
    }

    fn charge_test(&mut self, d: u32) {
        if d.saturating_sub(self.test_start) >= 3_600 {
            (self.test_start, self.test_count) = (d, 0);
        }
        self.test_count += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    /// Power cuts in the middle of a write (after n of len bytes, or mid-erase).
    cuts: u64,
    /// Power cuts right after a reported write.
    cuts_after_report: u64,
    /// Operations that wrote and were fault-injected.
    writes: u64,
    /// Record writes of those operations (an entry makes one or two).
    record_writes: u64,
    /// Cuts after which the attempt stayed counted and the result was not written.
    left_counted: u64,
    /// Scenario steps.
    steps: u64,
    /// Tokens applied (reported, or in effect after a cut).
    applied: u64,
    /// Times the scenario went on from a device rebooted after a cut.
    continued_after_cut: u64,
    /// Clean and sudden power cycles of the scenario itself.
    power_cycles: u64,
    /// Re-entries of spent tokens.
    replays: u64,
    /// Credit checks against the model.
    credit_checks: u64,
    /// Re-entered texts that happened to be the code of another, unused counter.
    chance_matches: u64,
}

impl Stats {
    fn add(&mut self, o: &Self) {
        self.cuts += o.cuts;
        self.cuts_after_report += o.cuts_after_report;
        self.writes += o.writes;
        self.record_writes += o.record_writes;
        self.left_counted += o.left_counted;
        self.steps += o.steps;
        self.applied += o.applied;
        self.continued_after_cut += o.continued_after_cut;
        self.power_cycles += o.power_cycles;
        self.replays += o.replays;
        self.credit_checks += o.credit_checks;
        self.chance_matches += o.chance_matches;
    }
}

/// What a step does.
#[derive(Clone, Debug)]
enum Step {
    Fresh(Token),
    Replay(Token),
    Wrong(String),
    Malformed(String, bool),
    Tick,
    PowerDown,
}

impl Step {
    fn input(&self) -> Option<&str> {
        match self {
            Self::Fresh(t) | Self::Replay(t) => Some(&t.text),
            Self::Wrong(s) | Self::Malformed(s, _) => Some(s),
            Self::Tick | Self::PowerDown => None,
        }
    }
}

/// What a step's outcome changes in the harness once it is in the store.
#[derive(Clone, Debug)]
struct Effect {
    model: Model,
    spend: Option<Token>,
    takes_pending: bool,
    applied: bool,
}

type Dev<S> = Engine<<S as Scheme>::V, Flash>;

fn perform<S: Scheme>(
    device: &mut Dev<S>,
    step: &Step,
    clock: u32,
) -> Result<Option<Entry>, Error<MemError>> {
    match step {
        Step::Tick => device.tick(clock).map(|()| None),
        Step::PowerDown => device.power_down(clock).map(|()| None),
        _ => device
            .enter(step.input().unwrap().as_bytes(), clock)
            .map(Some),
    }
}

/// The snapshot without the clock correction, which depends on the firmware clock readings
/// of the boot (two devices at the same device time may differ there).
fn norm<T: Copy>(s: &Snapshot<T>) -> Snapshot<T> {
    Snapshot {
        correction: 0,
        ..*s
    }
}

struct Harness<S: Scheme> {
    scheme: S,
    config: Config,
    rng: Lcg,
    device: Option<Dev<S>>,
    flash: Flash,
    /// The firmware clock now.
    clock: u32,
    /// The firmware clock and the device time at the last boot (runtime clock).
    boot_clock: u32,
    boot_checkpoint: u32,
    /// The device booted blank and has written nothing since.
    blank: bool,
    /// The model clock.
    m: u64,
    model: Model,
    /// Every token whose use the device recorded.
    spent: Vec<Token>,
    /// A fresh token issued and not yet taken by the device.
    pending: Option<Token>,
    stats: Stats,
    record_len: usize,
}

impl<S: Scheme> Harness<S> {
    fn new(scheme: S, clock: ClockModel, seed: u64) -> Self {
        let config = Config::new(clock, scheme.lockout());
        let flash = Flash::new(Mem::new());
        let start = 1_000;
        let (device, boot) = Engine::boot(
            scheme.verifier(),
            scheme.secret(),
            config,
            flash.clone(),
            start,
        )
        .unwrap();
        assert_eq!(boot, Boot::Blank);
        Self {
            scheme,
            config,
            rng: Lcg(seed),
            device: Some(device),
            flash,
            clock: start,
            boot_clock: start,
            boot_checkpoint: start,
            blank: true,
            m: u64::from(start),
            model: Model::NEW,
            spent: Vec::new(),
            pending: None,
            stats: Stats::default(),
            record_len: Dev::<S>::record_len(),
        }
    }

    fn dev(&mut self) -> &mut Dev<S> {
        self.device.as_mut().unwrap()
    }

    fn snapshot(&self) -> Snapshot<S::State> {
        *self.device.as_ref().unwrap().snapshot()
    }

    fn sequence(&self) -> u32 {
        self.device.as_ref().unwrap().sequence()
    }

    /// Device time, from the clock model's definition.
    fn device_time(&self) -> u32 {
        match self.config.clock {
            ClockModel::Rtc => self.clock,
            ClockModel::Runtime => self.boot_checkpoint + (self.clock - self.boot_clock),
        }
    }

    fn where_(&self) -> String {
        format!(
            "{} {:?} step {} clock {} model {:?}",
            self.scheme.name(),
            self.config.clock,
            self.stats.steps,
            self.clock,
            self.model
        )
    }

    /// A second device booted from a copy of the flash, at the same device time; returns it,
    /// its flash and the firmware clock reading to use for "now".
    fn replica(&self, config: Config) -> (Dev<S>, Flash, u32) {
        let flash = Flash::new(self.flash.copy());
        let (boot_at, now_at) = match (self.config.clock, self.blank) {
            (_, true) => (self.boot_clock, self.clock),
            (ClockModel::Rtc, false) => (self.clock, self.clock),
            (ClockModel::Runtime, false) => (0, self.device_time() - self.snapshot().checkpoint),
        };
        let (device, boot) = Engine::boot(
            self.scheme.verifier(),
            self.scheme.secret(),
            config,
            flash.clone(),
            boot_at,
        )
        .unwrap();
        let want = if self.blank {
            Boot::Blank
        } else {
            Boot::Restored {
                sequence: self.sequence(),
            }
        };
        assert_eq!(boot, want, "{}", self.where_());
        (device, flash, now_at)
    }

    /// The device's credit against the model (exact with an RTC).
    fn check_credit(&mut self, device: &mut Dev<S>, clock: u32, model: &Model, what: &str) {
        let st = device.status(clock);
        assert_eq!(st.payg, model.payg, "{what}: {}", self.where_());
        if model.payg == Payg::Enabled {
            let want = model.left(self.m);
            let have = u64::from(st.credit_seconds_left);
            match self.config.clock {
                ClockModel::Rtc => assert_eq!(have, want, "{what}: {}", self.where_()),
                ClockModel::Runtime => {
                    assert!(
                        have >= want,
                        "{what}: lost credit, {have} < {want}: {}",
                        self.where_()
                    );
                }
            }
        }
        self.stats.credit_checks += 1;
    }

    /// Enters `token` again on `device`: it must never apply as itself (a re-entered
    /// OpenPAYGO counter sync, which the decoder takes again, is reported as a duplicate).
    fn check_replay(&mut self, device: &mut Dev<S>, token: &Token, clock: u32, what: &str) {
        let before = device.status(clock);
        let entry = device.enter(token.text.as_bytes(), clock).unwrap();
        match entry {
            Entry::Applied { sequence, .. } if sequence == token.sequence => {
                let after = device.status(clock);
                panic!(
                    "{what}: replay of {token:?} applied again ({before:?} -> {after:?}): {}",
                    self.where_()
                );
            }
            // The text is also the code of another, unused counter: a chance match in the
            // scheme's code space (six effective digits for OpenPAYGO, a 12-bit MAC for a small
            // Nexus code whose ID left the window), a new token rather than this one again.
            Entry::Applied { .. } => self.stats.chance_matches += 1,
            Entry::Duplicate | Entry::Rejected(_) | Entry::LockedOut { .. } => {}
            Entry::Unavailable => panic!("{what}: unavailable: {}", self.where_()),
        }
        self.stats.replays += 1;
    }

    /// Checks the dry-run outcome of a step against what the step must give.
    fn expect(&self, step: &Step, got: Option<Entry>) {
        let w = self.where_();
        match (step, got) {
            (_, Some(Entry::LockedOut { seconds_left })) => {
                assert!(seconds_left > 0 && seconds_left <= 86_400, "{w}");
            }
            (Step::Fresh(t), Some(e)) => {
                let want = match t.kind {
                    // Spends its ID, adds nothing (VALID_DUPLICATE to a Nexus product).
                    Kind::NexusAdd if self.model.payg == Payg::Unlocked => Entry::Applied {
                        command: Command::Scheme {
                            kind: KIND_NO_CREDIT_CHANGE,
                            arg: 0,
                        },
                        sequence: t.sequence,
                        spent: true,
                    },
                    Kind::Test if !self.model.test_allowed(self.device_time()) => {
                        Entry::Rejected(Rejection::Locked)
                    }
                    _ => Entry::Applied {
                        command: t.command,
                        sequence: t.sequence,
                        spent: t.kind != Kind::Test,
                    },
                };
                assert_eq!(e, want, "fresh {t:?}: {w}");
            }
            (Step::Replay(t), Some(e)) => match e {
                Entry::Duplicate | Entry::Rejected(Rejection::Invalid) => {}
                _ => panic!("replay of {t:?} gave {e:?}: {w}"),
            },
            (Step::Wrong(s), Some(e)) => {
                assert_eq!(e, Entry::Rejected(Rejection::Invalid), "wrong {s}: {w}");
            }
            (Step::Malformed(s, counts), Some(e)) => {
                if *counts {
                    assert!(
                        matches!(
                            e,
                            Entry::Rejected(Rejection::Invalid | Rejection::Malformed(_))
                        ),
                        "{s}: {e:?} {w}"
                    );
                } else {
                    assert!(
                        matches!(e, Entry::Rejected(Rejection::Malformed(_))),
                        "{s}: {e:?} {w}"
                    );
                }
            }
            (Step::Tick | Step::PowerDown, None) => {}
            (s, e) => panic!("{s:?} gave {e:?}: {w}"),
        }
    }

    /// What the outcome of a step means for the model and the spent tokens, once its effect is
    /// in the store.
    fn effect(&self, step: &Step, got: Option<Entry>) -> Effect {
        let mut e = Effect {
            model: self.model,
            spend: None,
            takes_pending: false,
            applied: false,
        };
        if let Step::Fresh(t) = step {
            match got {
                // The command as `expect` checked it (a Nexus ADD while unlocked adds nothing).
                Some(Entry::Applied { command, .. }) => {
                    if t.kind == Kind::Test {
                        e.model.charge_test(self.device_time());
                    } else {
                        e.model.apply(&command, self.m);
                        e.spend = Some(t.clone());
                    }
                    (e.applied, e.takes_pending) = (true, true);
                }
                // An AST TEST code over the quota: dropped.
                Some(Entry::Rejected(Rejection::Locked)) => e.takes_pending = true,
                _ => {}
            }
        }
        e
    }

    fn commit(&mut self, e: Effect) {
        self.model = e.model;
        self.spent.extend(e.spend);
        if e.takes_pending {
            self.pending = None;
        }
        self.stats.applied += u64::from(e.applied);
    }

    /// Runs one step: if it writes, first with the power cut after every byte of its writes
    /// and in the middle of each erase, each on a copy of the device, then for real (or, now
    /// and then, the scenario goes on from one of the rebooted copies instead).
    fn run(&mut self, step: &Step) -> Option<Entry> {
        let before = self.snapshot();
        let seq = self.sequence();
        let (mut dry, _, at) = self.replica(self.config);
        let got = perform::<S>(&mut dry, step, at).unwrap();
        self.expect(step, got);
        let effect = self.effect(step, got);
        // An entry writes the attempt counted, then (unless its code was wrong) the result;
        // a checkpoint writes once.
        let writes = dry.sequence().wrapping_sub(seq);
        assert!(writes <= 2, "{writes} writes: {}", self.where_());
        if writes > 0 {
            self.stats.writes += 1;
            self.stats.record_writes += u64::from(writes);
            let after = *dry.snapshot();
            // The state between the two writes: the attempt counted at the entry's time.
            let counted = (writes == 2).then(|| {
                let mut c = before;
                self.config.lockout.wrong(&mut c.lockout, after.checkpoint);
                c.checkpoint = after.checkpoint;
                c
            });
            let mut spent_after = self.spent.clone();
            spent_after.extend(effect.spend.clone());
            let total = self.record_len * usize::try_from(writes).unwrap();
            // Cut after 0..=total bytes, then tear each write's erase.
            let cases = total + 1 + usize::try_from(writes).unwrap();
            let go_on = self
                .rng
                .chance(6)
                .then(|| usize::try_from(self.rng.below(cases as u64)).unwrap());
            for case in 0..cases {
                let (mut copy, flash, at) = self.replica(self.config);
                let torn = case.checked_sub(total + 1);
                match torn {
                    None => flash.cut_after(u32::try_from(case).unwrap()),
                    Some(erase) => flash.tear_erase(u32::try_from(erase).unwrap()),
                }
                let result = perform::<S>(&mut copy, step, at);
                if case == total {
                    assert_eq!(result.unwrap(), got, "{}", self.where_());
                    self.stats.cuts_after_report += 1;
                } else {
                    assert!(
                        matches!(result, Err(Error::Storage(MemError::PowerCut))),
                        "case {case}: {result:?}: {}",
                        self.where_()
                    );
                    self.stats.cuts += 1;
                }
                drop(copy);
                flash.power_on();
                let reboot_at = match self.config.clock {
                    ClockModel::Rtc => self.clock,
                    ClockModel::Runtime => 0,
                };
                let (mut rebooted, boot) = Engine::boot(
                    self.scheme.verifier(),
                    self.scheme.secret(),
                    self.config,
                    flash.clone(),
                    reboot_at,
                )
                .unwrap();
                let keep = (go_on == Some(case)).then(|| Flash::new(flash.copy()));
                let landed = rebooted.sequence().wrapping_sub(seq);
                let state = *rebooted.snapshot();
                let w = format!("cut case {case} of {total}: {}", self.where_());
                assert!(landed <= writes, "{w}");
                if landed > 0 {
                    assert_eq!(
                        boot,
                        Boot::Restored {
                            sequence: seq.wrapping_add(landed)
                        },
                        "{w}"
                    );
                }
                if landed == writes {
                    assert_eq!(norm(&state), norm(&after), "{w}");
                } else if landed == 1 {
                    // The count landed, the result did not: the attempt counts, the token is
                    // unused.
                    assert_eq!(norm(&state), norm(&counted.unwrap()), "{w}");
                    self.stats.left_counted += 1;
                } else {
                    assert!(case != total, "a reported write is lost: {w}");
                    if self.blank {
                        // Nothing was ever written: a new device again.
                        assert_eq!(boot, Boot::Blank, "{w}");
                        assert_eq!(state.credit, CreditState::default(), "{w}");
                        assert_eq!(state.scheme, S::State::FRESH, "{w}");
                        assert_eq!(state.lockout, self.config.lockout.fresh(reboot_at), "{w}");
                    } else {
                        assert_eq!(boot, Boot::Restored { sequence: seq }, "{w}");
                        assert_eq!(norm(&state), norm(&before), "{w}");
                    }
                }
                let done = landed == writes;
                let model = if done { effect.model } else { self.model };
                self.check_credit(&mut rebooted, reboot_at, &model, &w);
                let spent = if done { &spent_after } else { &self.spent };
                if !spent.is_empty() {
                    let token = self.rng.pick(spent);
                    self.check_replay(&mut rebooted, &token, reboot_at, &w);
                }
                if let Some(kept) = keep {
                    // The scenario goes on from this store, as it was right after the reboot.
                    drop(rebooted);
                    let (device, _) = Engine::boot(
                        self.scheme.verifier(),
                        self.scheme.secret(),
                        self.config,
                        kept.clone(),
                        reboot_at,
                    )
                    .unwrap();
                    self.adopt(device, kept, reboot_at);
                    self.stats.continued_after_cut += 1;
                    if done {
                        self.commit(effect);
                        return got;
                    }
                    return None;
                }
            }
        }
        let now = self.clock;
        let real = perform::<S>(self.dev(), step, now).unwrap();
        assert_eq!(real, got, "{}", self.where_());
        if writes > 0 {
            assert_eq!(self.sequence(), seq.wrapping_add(writes));
            assert_eq!(
                norm(&self.snapshot()),
                norm(dry.snapshot()),
                "{}",
                self.where_()
            );
            self.blank = false;
        } else {
            assert_eq!(self.snapshot(), before, "{}", self.where_());
        }
        self.commit(effect);
        got
    }

    /// Makes `device` (booted from `flash` at `clock`) the scenario's device.
    fn adopt(&mut self, device: Dev<S>, flash: Flash, clock: u32) {
        self.blank = device.sequence() == 0;
        self.boot_checkpoint = device.snapshot().checkpoint;
        self.boot_clock = clock;
        self.clock = clock;
        self.device = Some(device);
        self.flash = flash;
        if self.config.clock == ClockModel::Runtime {
            assert_eq!(self.device_time(), self.boot_checkpoint);
        }
    }

    /// Time passes with the device on.
    fn pass(&mut self, seconds: u32) {
        self.clock += seconds;
        self.m += u64::from(seconds);
    }

    /// Power off (after a checkpoint if `clean`) and on again.
    fn power_cycle(&mut self, clean: bool) {
        if clean {
            self.run(&Step::PowerDown);
        }
        let device = self.device.take().unwrap();
        let seq = device.sequence();
        drop(device);
        let clock = match self.config.clock {
            ClockModel::Rtc => {
                let off = if self.rng.chance(3) {
                    self.rng.range(1, 200_000)
                } else {
                    self.rng.range(1, 600)
                };
                self.m += u64::from(off);
                self.clock + off
            }
            ClockModel::Runtime => self.rng.range(0, 50),
        };
        let (device, boot) = Engine::boot(
            self.scheme.verifier(),
            self.scheme.secret(),
            self.config,
            self.flash.clone(),
            clock,
        )
        .unwrap();
        let want = if seq == 0 {
            Boot::Blank
        } else {
            Boot::Restored { sequence: seq }
        };
        assert_eq!(boot, want, "{}", self.where_());
        self.adopt(device, self.flash.clone(), clock);
        self.stats.power_cycles += 1;
    }

    /// A random entry that the scheme refuses as a wrong code on the device as it is now
    /// (candidates that happen to be genuine are drawn again).
    fn wrong_code(&mut self) -> String {
        let d = self.device_time();
        let snap = self.snapshot();
        let context = Context {
            now: d,
            payg: snap.credit.payg,
            active: snap.credit.active(d),
        };
        loop {
            let text = self.scheme.wrong(&mut self.rng);
            let mut state = snap.scheme;
            let outcome = self.scheme.verifier().verify(
                &self.scheme.secret(),
                &mut state,
                text.as_bytes(),
                &context,
            );
            if outcome == Outcome::Rejected(Rejection::Invalid) {
                return text;
            }
        }
    }

    /// A spent token to enter again, unless its text is, by chance, also the code of another,
    /// unused counter now (the scenario's model would not know what that one does).
    fn replay_token(&mut self) -> Option<Token> {
        if self.spent.is_empty() {
            return None;
        }
        let token = self.rng.pick(&self.spent);
        let snap = self.snapshot();
        let d = self.device_time();
        let context = Context {
            now: d,
            payg: snap.credit.payg,
            active: snap.credit.active(d),
        };
        let mut state = snap.scheme;
        let outcome = self.scheme.verifier().verify(
            &self.scheme.secret(),
            &mut state,
            token.text.as_bytes(),
            &context,
        );
        match outcome {
            Outcome::Applied { sequence, .. } if sequence != token.sequence => None,
            _ => Some(token),
        }
    }

    /// Runs a step; a lockout is waited out and the step retried when `retry`.
    fn attempt(&mut self, step: &Step, retry: bool) {
        for _ in 0..64 {
            match self.run(step) {
                Some(Entry::LockedOut { seconds_left }) if retry => self.pass(seconds_left),
                _ => return,
            }
        }
        panic!("still locked out: {}", self.where_());
    }

    fn check(&mut self) {
        let mut device = self.device.take().unwrap();
        let model = self.model;
        let clock = self.clock;
        assert_eq!(
            device.status(clock).now,
            self.device_time(),
            "{}",
            self.where_()
        );
        self.check_credit(&mut device, clock, &model, "scenario");
        self.device = Some(device);
    }

    fn step(&mut self) {
        self.stats.steps += 1;
        let dt = self.rng.range(0, 40);
        self.pass(dt);
        if let Some(token) = self.pending.clone() {
            self.attempt(&Step::Fresh(token), true);
            self.check();
            return;
        }
        match self.rng.below(100) {
            0..=39 => {
                let token = self.scheme.issue(&mut self.rng);
                self.pending = Some(token.clone());
                self.attempt(&Step::Fresh(token), true);
            }
            40..=54 => {
                if let Some(token) = self.replay_token() {
                    self.attempt(&Step::Replay(token), false);
                }
            }
            55..=71 => {
                let text = self.wrong_code();
                let retry = self.rng.chance(2);
                self.attempt(&Step::Wrong(text), retry);
            }
            72..=75 => {
                let (text, counts) = self.scheme.malformed(&mut self.rng);
                self.attempt(&Step::Malformed(text, counts), false);
            }
            76..=85 => {
                let wait = if self.rng.chance(4) {
                    self.rng.range(3_600, 3 * 86_400)
                } else {
                    self.rng.range(1, 4_000)
                };
                self.pass(wait);
                self.run(&Step::Tick);
            }
            86..=89 => {
                self.run(&Step::Tick);
            }
            90..=94 => self.power_cycle(true),
            _ => self.power_cycle(false),
        }
        self.check();
    }

    /// Every spent token entered again, on a copy of the device with no lockout so that
    /// nothing is refused unread.
    fn final_check(&mut self) {
        let open = Config {
            lockout: Lockout::None,
            ..self.config
        };
        let (mut copy, _, at) = self.replica(open);
        let spent = self.spent.clone();
        for token in &spent {
            self.check_replay(&mut copy, token, at, "final");
        }
        let mut device = self.device.take().unwrap();
        let model = self.model;
        self.check_credit(&mut device, self.clock, &model, "final");
        self.device = Some(device);
    }
}

fn scenario<S: Scheme>(scheme: S, clock: ClockModel, seed: u64, writes: u64) -> (String, Stats) {
    let mut h = Harness::new(scheme, clock, seed);
    while h.stats.writes < writes {
        h.step();
    }
    h.final_check();
    let name = format!("{} / {:?}", h.scheme.name(), clock);
    let s = h.stats;
    assert!(
        s.applied >= writes / 5,
        "{name}: only {} tokens applied",
        s.applied
    );
    assert!(
        s.continued_after_cut > 0 && s.power_cycles > 0,
        "{name}: {s:?}"
    );
    (name, s)
}

/// State writes per scenario that are fault-injected (each one cut after every byte of its
/// record and in the middle of its erase).
const WRITES: u64 = 700;

/// Entries per attacker run.
const ATTEMPTS: usize = 300;

#[test]
fn power_cuts_never_replay_a_token_lose_credit_or_reveal_an_uncounted_verdict() {
    let started = Instant::now();
    type Job = Box<dyn FnOnce() -> (String, Stats) + Send>;
    let jobs: Vec<Job> = vec![
        Box::new(|| scenario(OpenPaygo::new(), ClockModel::Rtc, 11, WRITES)),
        Box::new(|| scenario(OpenPaygo::new(), ClockModel::Runtime, 12, WRITES)),
        Box::new(|| scenario(Nexus::new(false), ClockModel::Rtc, 21, WRITES)),
        Box::new(|| scenario(Nexus::new(false), ClockModel::Runtime, 22, WRITES)),
        Box::new(|| scenario(Nexus::new(true), ClockModel::Rtc, 31, WRITES)),
        Box::new(|| scenario(Nexus::new(true), ClockModel::Runtime, 32, WRITES)),
        // AST records are twice as long: half the writes, as many cuts.
        Box::new(|| scenario(Ast::new(Profile::S), ClockModel::Rtc, 41, WRITES / 2)),
        Box::new(|| scenario(Ast::new(Profile::L), ClockModel::Runtime, 42, WRITES / 2)),
    ];
    type AttackJob = Box<dyn FnOnce() -> (String, Attack) + Send>;
    let attacks: Vec<AttackJob> = vec![
        Box::new(|| attack(OpenPaygo::new(), 51, ATTEMPTS, None)),
        Box::new(|| attack(OpenPaygo::new(), 52, ATTEMPTS, Some(7))),
        Box::new(|| attack(Nexus::new(false), 61, ATTEMPTS, None)),
        Box::new(|| attack(Nexus::new(false), 62, ATTEMPTS, Some(7))),
        Box::new(|| attack(Nexus::new(true), 71, ATTEMPTS, None)),
        Box::new(|| attack(Nexus::new(true), 72, ATTEMPTS, Some(7))),
        Box::new(|| attack(Ast::new(Profile::M), 81, ATTEMPTS, None)),
        Box::new(|| attack(Ast::new(Profile::L), 82, ATTEMPTS, Some(7))),
    ];
    let (results, attacked) = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs.into_iter().map(|job| scope.spawn(job)).collect();
        let attack_handles: Vec<_> = attacks.into_iter().map(|job| scope.spawn(job)).collect();
        let results: Vec<(String, Stats)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let attacked: Vec<(String, Attack)> = attack_handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        (results, attacked)
    });
    let mut total = Stats::default();
    let mut report = String::new();
    for (name, s) in &results {
        report.push_str(&format!(
            "  {name:<24} {:>6} cuts mid-write, {:>4} after a reported write, {:>4} operations ({} record writes), {:>4} applied, {:>5} cuts left the attempt counted, {:>3} runs on after a cut, {:>3} power cycles, {:>5} re-entries ({} chance matches), {:>5} credit checks\n",
            s.cuts, s.cuts_after_report, s.writes, s.record_writes, s.applied, s.left_counted, s.continued_after_cut, s.power_cycles, s.replays, s.chance_matches, s.credit_checks
        ));
        total.add(s);
    }
    report.push_str(&format!(
        "  total: {} power cuts mid-write (+{} right after a reported write); replays: 0 in {} re-entries of spent tokens; lost credit: 0 in {} checks\n",
        total.cuts, total.cuts_after_report, total.replays, total.credit_checks,
    ));
    let mut all = Attack::default();
    for (name, a) in &attacked {
        report.push_str(&format!(
            "  attacker {name:<27} {:>4} entries, {:>6} cuts tried, {:>4} verdicts revealed (an honest device on the same schedule: {}), {} beyond the policy\n",
            a.entries, a.cuts, a.revealed, a.honest.map_or_else(|| "-".into(), |h| h.to_string()), a.beyond
        ));
        all.add(a);
    }
    report.push_str(&format!(
        "  attacker total: {} cuts tried in {} entries, {} verdicts revealed, verdicts revealed beyond the policy: {}; {:.1} s\n",
        all.cuts,
        all.entries,
        all.revealed,
        all.beyond,
        started.elapsed().as_secs_f64()
    ));
    // Shown by `cargo test --test device_faults -- --nocapture` (as `.ci/run` does).
    eprintln!("fault injection:\n{report}");
    assert!(total.cuts >= 100_000, "only {} power cuts", total.cuts);
    assert_eq!(all.beyond, 0, "{report}");
    assert!(all.cuts >= 50_000, "only {} attacker cuts", all.cuts);
}

// ---------------------------------------------------------------------------------------------
// The attacker: power cuts to learn verdicts without paying for them
// ---------------------------------------------------------------------------------------------

/// A scheme's verifier that notes every verdict the device computes: from that moment the
/// attacker can learn it (a second write starting, a beep), whatever happens to the power.
#[derive(Clone, Debug)]
struct Watched<V> {
    inner: V,
    verdicts: Rc<Cell<u64>>,
}

impl<V: Verifier> Verifier for Watched<V> {
    type Secret = V::Secret;
    type State = V::State;

    fn verify(
        &self,
        secret: &V::Secret,
        state: &mut V::State,
        input: &[u8],
        context: &Context,
    ) -> Outcome {
        self.verdicts.set(self.verdicts.get() + 1);
        self.inner.verify(secret, state, input, context)
    }

    fn screen(&self, secret: &V::Secret, input: &[u8]) -> Result<(), paylock::ParseError> {
        self.inner.screen(secret, input)
    }
}

/// Each built-in lockout as its spec words it, in 64-bit arithmetic: what an honest device
/// allows the attempts it checked.
#[derive(Clone, Copy, Debug)]
enum Policy {
    /// `free` wrong codes in a row cost nothing, then `base` seconds doubling up to `cap`; a
    /// valid code resets the run.
    Doubling {
        free: u64,
        base: u64,
        cap: u64,
        fails: u64,
        until: u64,
    },
    /// Seconds of attempts saved up (`refill` seconds each, `max` attempts at most) at `at`.
    Bucket {
        max: u64,
        refill: u64,
        saved: u64,
        at: u64,
    },
}

impl Policy {
    /// A new device at `now`: OpenPAYGO 2 free then 60 s doubling to 512 min; AST 3 free then
    /// 60 s doubling to a day; Nexus 6 attempts, one more per 720 s, 128 at most.
    fn new(lockout: Lockout, now: u64) -> Self {
        let doubling = |free, cap| Self::Doubling {
            free,
            base: 60,
            cap,
            fails: 0,
            until: 0,
        };
        match lockout {
            l if l == Lockout::OPENPAYGO => doubling(2, 512 * 60),
            l if l == Lockout::AST => doubling(3, 86_400),
            l if l == Lockout::NEXUS => Self::Bucket {
                max: 128,
                refill: 720,
                saved: 6 * 720,
                at: now,
            },
            l => panic!("no reference for {l:?}"),
        }
    }

    fn wait(&self, now: u64) -> u64 {
        match *self {
            Self::Doubling { until, .. } => until.saturating_sub(now),
            Self::Bucket { refill, .. } => refill.saturating_sub(self.level(now)),
        }
    }

    fn level(&self, now: u64) -> u64 {
        match *self {
            Self::Bucket {
                max,
                refill,
                saved,
                at,
            } => (saved + now.saturating_sub(at)).min(max * refill),
            Self::Doubling { .. } => 0,
        }
    }

    fn wrong(&mut self, now: u64) {
        let level = self.level(now);
        match self {
            Self::Doubling {
                free,
                base,
                cap,
                fails,
                until,
            } => {
                *fails += 1;
                if *fails > *free {
                    let doublings = *fails - *free - 1;
                    let wait = if doublings >= 32 {
                        *cap
                    } else {
                        (*base << doublings).min(*cap)
                    };
                    *until = now + wait;
                }
            }
            Self::Bucket {
                refill, saved, at, ..
            } => {
                *saved = level.saturating_sub(*refill);
                *at = now;
            }
        }
    }

    fn valid(&mut self) {
        if let Self::Doubling { fails, .. } = self {
            *fails = 0;
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Attack {
    entries: u64,
    /// Entries run with the power cut after every byte of their writes, and in each erase.
    cuts: u64,
    /// Verdicts the device computed on the attacker's path.
    revealed: u64,
    /// Of those, the ones the policy would not have allowed an honest device.
    beyond: u64,
    /// Wrong codes an honest device checks on the same schedule (runs of wrong codes only).
    honest: Option<u64>,
}

impl Attack {
    fn add(&mut self, o: &Self) {
        self.entries += o.entries;
        self.cuts += o.cuts;
        self.revealed += o.revealed;
        self.beyond += o.beyond;
    }
}

type Watch<S> = Engine<Watched<<S as Scheme>::V>, Flash>;

/// Boots a device watching its verdicts from a copy of `mem` at `clock` (an RTC).
fn watched<S: Scheme>(scheme: &S, mem: Mem, clock: u32) -> (Watch<S>, Flash, Rc<Cell<u64>>) {
    let verdicts = Rc::new(Cell::new(0));
    let verifier = Watched {
        inner: scheme.verifier(),
        verdicts: verdicts.clone(),
    };
    let flash = Flash::new(mem);
    let config = Config::new(ClockModel::Rtc, scheme.lockout());
    let (device, _) =
        Engine::boot(verifier, scheme.secret(), config, flash.clone(), clock).unwrap();
    (device, flash, verdicts)
}

/// What one way of cutting the power during an entry left.
struct Branch {
    /// The device computed the verdict.
    verdict: bool,
    /// Record writes in the store after the reboot.
    landed: u32,
    mem: Mem,
}

/// A run of `attempts` entries (wrong codes, and with `valid_every` a valid code now and then)
/// at random intervals. Each entry that writes is run once per way of cutting its power (after
/// every byte of its writes, and in each erase), each on a copy of the device; every copy that
/// computed a verdict must hold the attempt counted after its reboot. The attacker goes on from
/// a copy that revealed a verdict without counting it if there were one, else mostly from one
/// that revealed a verdict, now and then from any; an independent model of the lockout policy, fed every verdict revealed on that path,
/// must never have been locked out at it, and must agree with the device's own wait.
fn attack<S: Scheme>(
    mut scheme: S,
    seed: u64,
    attempts: usize,
    valid_every: Option<u64>,
) -> (String, Attack) {
    let mut rng = Lcg(seed);
    let mut mem = Mem::new();
    let mut clock = 1_000u32;
    let mut policy = Policy::new(scheme.lockout(), 0);
    let mut stats = Attack::default();
    let len = Dev::<S>::record_len();
    let mut schedule = Vec::new();
    // The wait the device shows after the last entry: the attacker often waits just that.
    let mut wait = 0;
    for _ in 0..attempts {
        clock += match rng.below(10) {
            0..=4 => 1,
            5..=7 => wait.max(1) + rng.range(0, 2),
            8 => rng.range(600, 4_000),
            _ => rng.range(3_600, 90_000),
        };
        let (probe, _, _) = watched(&scheme, mem.clone(), clock);
        if probe.sequence() == 0 {
            // Nothing written yet: the device boots as a new one, now.
            policy = Policy::new(scheme.lockout(), u64::from(clock));
        }
        let valid = valid_every.is_some_and(|n| rng.chance(n));
        // Whether the token spends a counter, as its issuer says (a TEST code does not).
        let (input, spends) = if valid {
            let token = scheme.issue(&mut rng);
            (token.text, token.kind != Kind::Test)
        } else {
            (wrong_on(&scheme, &probe, clock, &mut rng), false)
        };
        drop(probe);
        schedule.push((clock, input.clone()));
        stats.entries += 1;
        // The entry without a cut, then with every cut.
        let (mut dry, _, verdicts) = watched(&scheme, mem.clone(), clock);
        let seq = dry.sequence();
        let got = dry.enter(input.as_bytes(), clock).unwrap();
        let writes = dry.sequence().wrapping_sub(seq);
        let mut branches = vec![Branch {
            verdict: verdicts.get() == 1,
            landed: writes,
            mem: dry.into_storage().0.borrow().mem.clone(),
        }];
        let total = len * usize::try_from(writes).unwrap();
        let cases = if writes == 0 {
            0
        } else {
            total + usize::try_from(writes).unwrap()
        };
        for case in 0..cases {
            let (mut copy, flash, verdicts) = watched(&scheme, mem.clone(), clock);
            match case.checked_sub(total) {
                None => flash.cut_after(u32::try_from(case).unwrap()),
                Some(erase) => flash.tear_erase(u32::try_from(erase).unwrap()),
            }
            let result = copy.enter(input.as_bytes(), clock);
            assert!(result.is_err(), "case {case}: {result:?}");
            drop(copy);
            flash.power_on();
            let (rebooted, _, _) = watched(&scheme, flash.copy(), clock);
            let landed = rebooted.sequence().wrapping_sub(seq);
            let verdict = verdicts.get() == 1;
            // A verdict is never computed before its attempt is in the store.
            assert!(
                !verdict || landed >= 1,
                "{}: verdict without a count, cut case {case}",
                scheme.name()
            );
            stats.cuts += 1;
            branches.push(Branch {
                verdict,
                landed,
                mem: flash.copy(),
            });
        }
        // The attacker wants verdicts: one for free if any copy gave it, else mostly a copy
        // that revealed one (paying its count), now and then any copy.
        let revealing: Vec<usize> = (0..branches.len())
            .filter(|&i| branches[i].verdict)
            .collect();
        let free = branches.iter().position(|b| b.verdict && b.landed == 0);
        let pick = match free {
            Some(i) => i,
            None if !revealing.is_empty() && !rng.chance(4) => rng.pick(&revealing),
            None => usize::try_from(rng.below(branches.len() as u64)).unwrap(),
        };
        let chosen = &branches[pick];
        let now = u64::from(clock);
        if chosen.verdict {
            stats.revealed += 1;
            if policy.wait(now) > 0 {
                stats.beyond += 1;
            }
        }
        let complete = chosen.landed == writes;
        match got {
            // Only a spent token resets the count (the `Verifier` contract).
            Entry::Applied { .. } if complete && spends => policy.valid(),
            Entry::Applied { .. } | Entry::Duplicate if complete => {}
            Entry::Rejected(Rejection::Locked) if complete => {}
            // A wrong code, or an attempt counted whose result never landed.
            _ if chosen.landed > 0 => policy.wrong(now),
            _ => {}
        }
        mem = chosen.mem.clone();
        let (mut device, _, _) = watched(&scheme, mem.clone(), clock);
        wait = device.status(clock).lockout_seconds_left;
        assert_eq!(
            u64::from(wait),
            policy.wait(now),
            "{}: the device's wait differs from the policy's at entry {} ({got:?})",
            scheme.name(),
            stats.entries
        );
    }
    if valid_every.is_none() {
        // An honest device, no cuts, the same wrong codes at the same times.
        let (mut honest, _, verdicts) = watched(&scheme, Mem::new(), 1_000);
        for (at, input) in &schedule {
            let _ = honest.enter(input.as_bytes(), *at).unwrap();
        }
        let checked = verdicts.get();
        assert!(
            stats.revealed <= checked,
            "{}: {} verdicts revealed, an honest device computes {checked}",
            scheme.name(),
            stats.revealed
        );
        stats.honest = Some(checked);
    }
    let name = format!(
        "{} {}",
        scheme.name(),
        if valid_every.is_some() {
            "mixed"
        } else {
            "wrong codes"
        }
    );
    (name, stats)
}

/// A wrong code for the device as `probe` holds it (candidates that happen to be genuine are
/// drawn again), checked on the scheme's own verifier, not the device's.
fn wrong_on<S: Scheme>(scheme: &S, probe: &Watch<S>, clock: u32, rng: &mut Lcg) -> String {
    let snap = *probe.snapshot();
    let context = Context {
        now: clock,
        payg: snap.credit.payg,
        active: snap.credit.active(clock),
    };
    loop {
        let text = scheme.wrong(rng);
        let mut state = snap.scheme;
        let outcome =
            scheme
                .verifier()
                .verify(&scheme.secret(), &mut state, text.as_bytes(), &context);
        if outcome == Outcome::Rejected(Rejection::Invalid) {
            return text;
        }
    }
}

/// The issue's attack: a wrong code every 10 s, power cut as the state write begins (on the
/// old engine, after the verdict: a wrong code's write starts late, so an attacker who cuts
/// whenever no write has started early cuts exactly the wrong ones), the device rebooted. The
/// old engine computed every verdict and counted none; now the cut comes before the verdict,
/// and a cut after the count leaves it counted.
#[test]
fn cutting_power_as_the_write_begins_reveals_no_uncounted_verdict() {
    fn run<S: Scheme>(scheme: &S) {
        let len = u32::try_from(Dev::<S>::record_len()).unwrap();
        let mut rng = Lcg(5);
        let guesses: Vec<(u32, String)> = (0..300u32)
            .map(|i| (1_000 + 10 * i, scheme.wrong(&mut rng)))
            .collect();
        // An honest device, no cuts.
        let (mut honest, _, checked) = watched(scheme, Mem::new(), 1_000);
        for (at, guess) in &guesses {
            let _ = honest.enter(guess.as_bytes(), *at).unwrap();
        }
        for cut in [0, 1, len / 2, len - 1, len, len + 1] {
            let mut mem = Mem::new();
            let mut revealed = 0;
            for (at, guess) in &guesses {
                let (mut device, flash, verdicts) = watched(scheme, mem, *at);
                flash.cut_after(cut);
                let _ = device.enter(guess.as_bytes(), *at);
                drop(device);
                flash.power_on();
                revealed += verdicts.get();
                mem = flash.copy();
            }
            assert!(
                revealed <= checked.get(),
                "{} cut after {cut}: {revealed} verdicts, an honest device computes {}",
                scheme.name(),
                checked.get()
            );
        }
    }
    run(&OpenPaygo::new());
    run(&Nexus::new(false));
    run(&Nexus::new(true));
    run(&Ast::new(Profile::L));
}

/// A power cut during the very first write of a new device leaves one slot erased and the
/// other with the start of a record: that is a new device still, not a corrupt one. A cut in
/// the second write (the result) leaves the attempt counted; the token works after either.
#[test]
fn a_cut_during_the_first_write_boots_blank() {
    fn first_write<S: Scheme>(mut scheme: S) {
        let config = Config::new(ClockModel::Rtc, scheme.lockout());
        let token = scheme.issue(&mut Lcg(7));
        let len = Dev::<S>::record_len();
        for case in 0..=2 * len + 2 {
            let flash = Flash::new(Mem::new());
            let (mut device, boot) =
                Engine::boot(scheme.verifier(), scheme.secret(), config, flash.clone(), 0).unwrap();
            assert_eq!(boot, Boot::Blank);
            // Cut after `case` bytes, or tear the first or the second erase.
            let torn = case.checked_sub(2 * len + 1);
            match torn {
                None => flash.cut_after(u32::try_from(case).unwrap()),
                Some(erase) => flash.tear_erase(u32::try_from(erase).unwrap()),
            }
            let result = device.enter(token.text.as_bytes(), 10);
            drop(device);
            flash.power_on();
            let (mut device, boot) = Engine::boot(
                scheme.verifier(),
                scheme.secret(),
                config,
                flash.clone(),
                20,
            )
            .unwrap();
            let w = format!("{} cut case {case}", scheme.name());
            if case == 2 * len {
                assert!(matches!(result, Ok(Entry::Applied { .. })), "{w}");
                assert_eq!(boot, Boot::Restored { sequence: 2 }, "{w}");
                continue;
            }
            assert!(
                matches!(result, Err(Error::Storage(MemError::PowerCut))),
                "{w}"
            );
            if case < len || torn == Some(0) {
                assert_eq!(boot, Boot::Blank, "{w}");
            } else {
                // The count landed, the result did not.
                assert_eq!(boot, Boot::Restored { sequence: 1 }, "{w}");
                assert_eq!(device.snapshot().credit, CreditState::default(), "{w}");
            }
            // And the token still works.
            assert!(
                matches!(
                    device.enter(token.text.as_bytes(), 30).unwrap(),
                    Entry::Applied { .. }
                ),
                "{w}"
            );
        }
    }
    first_write(OpenPaygo::new());
    first_write(Nexus::new(false));
    first_write(Nexus::new(true));
    first_write(Ast::new(Profile::M));
}

/// A store damaged outside a write (both slots, or one and the other blank) is still corrupt:
/// the interrupted-write rule does not open a way around it.
#[test]
fn damage_that_is_not_an_interrupted_write_stays_corrupt() {
    let scheme = OpenPaygo::new();
    let config = Config::new(ClockModel::Rtc, scheme.lockout());
    let len = Dev::<OpenPaygo>::record_len();
    // A record-shaped prefix of another scheme, then erased bytes.
    let mut foreign = Mem::new();
    foreign.slot_mut(Slot::A)[..4].copy_from_slice(b"PL\x02\x02");
    // A record-shaped prefix whose last byte is programmed.
    let mut full = Mem::new();
    full.slot_mut(Slot::B)[..4].copy_from_slice(b"PL\x02\x01");
    full.slot_mut(Slot::B)[len - 1] = 0;
    // One byte flipped in a real record, the other slot blank.
    let (mut device, _) =
        Engine::boot(scheme.verifier(), scheme.secret(), config, Mem::new(), 0).unwrap();
    let token = OpenPaygo::new().issue(&mut Lcg(3));
    assert!(matches!(
        device.enter(token.text.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    // Slot A holds the attempt's count, slot B the result: B is wiped, A damaged.
    let mut flipped = device.into_storage();
    flipped.erase(Slot::B).unwrap();
    flipped.slot_mut(Slot::A)[10] ^= 0x10;
    // (A damaged record whose last byte happens to be erased cannot be told from a write cut
    // one byte short; this one's is not.)
    assert_ne!(flipped.slot_mut(Slot::A)[len - 1], 0xFF);
    for mem in [foreign, full, flipped] {
        let (mut device, boot) =
            Engine::boot(scheme.verifier(), scheme.secret(), config, mem, 0).unwrap();
        assert_eq!(boot, Boot::Corrupt);
        assert_eq!(
            device.enter(token.text.as_bytes(), 0).unwrap(),
            Entry::Unavailable
        );
    }
}
