//! The device-lock engine driven with real tokens from each scheme's issuer: credit arithmetic,
//! the schemes' own rules, the three lockout policies to the second, both clock models, every
//! way a store can look at boot, and the persisted record's layout. Expected values come from
//! the issue's and the specs' wording, or from the issuers, never from the engine itself.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use core::fmt::Display;
use paylock::access::{self, AstIssuer, AstVerdict, AstVerifier, Profile, Suite, Unit};
use paylock::device::{
    AstLockout, Boot, ClockModel, Config, Engine, Entry, Error, FileStorage, Lockout,
    LockoutPolicy, MemError, MemStorage, NexusLockout, OpenPaygoLockout, Slot, Status, Storage,
};
use paylock::nexus::{FullIssuer, KIND_NO_CREDIT_CHANGE, NexusVerifier, SmallIssuer};
use paylock::openpaygo::{self, Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoVerifier};
use paylock::persist::{Persist, Reader, RecordKey, Writer};
use paylock::{
    Command, Context, Credit, Issuer, Key, Outcome, Payg, Rejection, TimeUnit, Verifier,
};

const DAY: u32 = 86_400;
const HOUR: u32 = 3_600;

/// Two 128-byte slots: room for every built-in scheme's record.
type Flash = MemStorage<128>;

// ---------------------------------------------------------------------------------------------
// Secrets, issuers and small helpers
// ---------------------------------------------------------------------------------------------

/// The OpenPAYGO key and starting code of the upstream documentation examples.
fn op_secret() -> openpaygo::OpenPaygoSecret {
    let key = Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap();
    openpaygo::OpenPaygoSecret::new(key, 123_456_789).unwrap()
}

fn nexus_key() -> Key {
    Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap()
}

fn ast_config(profile: Profile) -> access::AstConfig {
    access::AstConfig {
        suite: Suite::SipHash24,
        profile,
        device_id: 123_456_789,
        key_rev: 0,
        unit: Unit::Hours,
    }
}

fn ast_secret(profile: Profile) -> access::AstSecret {
    let key = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
    access::AstSecret::new(key, ast_config(profile)).unwrap()
}

/// An issuer with its secret and the device's counter on the server.
struct Server<I: Issuer> {
    issuer: I,
    secret: I::Secret,
    counter: I::Counter,
}

impl<I: Issuer> Server<I>
where
    I::Token: Display,
{
    fn issue(&mut self, command: Command) -> String {
        self.issuer
            .issue(&self.secret, &mut self.counter, &command)
            .unwrap()
            .to_string()
    }
}

fn op_server() -> Server<OpenPaygoIssuer> {
    Server {
        issuer: OpenPaygoIssuer::new(Form::STANDARD),
        secret: op_secret(),
        counter: 0,
    }
}

fn full_server() -> Server<FullIssuer> {
    Server {
        issuer: FullIssuer::new(),
        secret: nexus_key(),
        counter: 0,
    }
}

fn small_server() -> Server<SmallIssuer> {
    Server {
        issuer: SmallIssuer::new(),
        secret: nexus_key(),
        counter: 0,
    }
}

fn ast_server(profile: Profile) -> Server<AstIssuer> {
    Server {
        issuer: AstIssuer,
        secret: ast_secret(profile),
        counter: 1,
    }
}

const fn days(n: u32) -> Credit {
    Credit::new(n, TimeUnit::Days)
}

const fn hours(n: u32) -> Credit {
    Credit::new(n, TimeUnit::Hours)
}

const fn seconds(n: u32) -> Credit {
    Credit::new(n, TimeUnit::Seconds)
}

const fn rtc(lockout: Lockout) -> Config {
    Config::new(ClockModel::Rtc, lockout)
}

const fn runtime(lockout: Lockout) -> Config {
    Config::new(ClockModel::Runtime, lockout)
}

fn op_device(config: Config, clock: u32) -> Engine<OpenPaygoVerifier, Flash> {
    let (engine, boot) = Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD),
        op_secret(),
        config,
        Flash::new(),
        clock,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    engine
}

fn full_device(config: Config, clock: u32) -> Engine<NexusVerifier, Flash> {
    let (engine, boot) = Engine::boot(
        NexusVerifier::full(123_456_789),
        nexus_key(),
        config,
        Flash::new(),
        clock,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    engine
}

fn small_device(config: Config, clock: u32) -> Engine<NexusVerifier, Flash> {
    let (engine, boot) = Engine::boot(
        NexusVerifier::small(),
        nexus_key(),
        config,
        Flash::new(),
        clock,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    engine
}

fn ast_device(profile: Profile, config: Config, clock: u32) -> Engine<AstVerifier, Flash> {
    let (engine, boot) = Engine::boot(
        AstVerifier::without_lockout(),
        ast_secret(profile),
        config,
        Flash::new(),
        clock,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    engine
}

/// Powers the device off (no checkpoint: a sudden loss) and on again at `clock`.
/// Power off and on again at firmware clock `clock`, with the same verifier and secret.
fn reboot<V>(engine: Engine<V, Flash>, config: Config, clock: u32) -> (Engine<V, Flash>, Boot)
where
    V: Verifier,
    V::Secret: RecordKey,
    V::State: Persist + PartialEq,
{
    let (verifier, secret, storage) = engine.into_parts();
    Engine::boot(verifier, secret, config, storage, clock).unwrap()
}

/// An applied token that spent counter `sequence`.
fn applied(command: Command, sequence: u32) -> Entry {
    Entry::Applied {
        command,
        sequence,
        spent: true,
    }
}

/// An applied token the scheme lets be entered again (nothing recorded as used).
fn reusable(command: Command, sequence: u32) -> Entry {
    Entry::Applied {
        command,
        sequence,
        spent: false,
    }
}

const fn invalid() -> Entry {
    Entry::Rejected(Rejection::Invalid)
}

/// A Nexus code with its last digit before the end changed: the check no longer matches.
fn tamper_full(code: &str) -> String {
    let mut keys: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
    let i = keys.len() - 2;
    keys[i] = if keys[i] == b'9' { b'0' } else { keys[i] + 1 };
    String::from_utf8(keys).unwrap()
}

/// A small code with its last symbol changed (symbols are 2-5).
fn tamper_small(code: &str) -> String {
    let mut keys: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
    let i = keys.len() - 1;
    keys[i] = if keys[i] == b'5' { b'2' } else { keys[i] + 1 };
    String::from_utf8(keys).unwrap()
}

/// A deterministic generator for the differential sequences.
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

    fn digits(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| {
                char::from(alphabet[usize::try_from(self.below(alphabet.len() as u64)).unwrap()])
            })
            .collect()
    }
}

/// SipHash-2-4 from the `siphasher` crate, not the engine's.
fn siphash(key: &[u8; 16], data: &[u8]) -> u64 {
    siphasher::sip::SipHasher24::new_with_key(key).hash(data)
}

/// The record key as the format documents it: SipHash-2-4 of the two labels under the device
/// key, little-endian, one after the other.
fn record_key(device_key: &Key) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&siphash(device_key.as_bytes(), b"paylock record key 0").to_le_bytes());
    k[8..].copy_from_slice(&siphash(device_key.as_bytes(), b"paylock record key 1").to_le_bytes());
    k
}

/// Seals a record body (everything but the MAC) under the record key of `device_key`.
fn seal(body: &mut [u8], device_key: &Key) {
    let len = body.len();
    let mac = siphash(&record_key(device_key), &body[..len - 8]);
    body[len - 8..].copy_from_slice(&mac.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// Credit arithmetic and the schemes' own rules
// ---------------------------------------------------------------------------------------------

#[test]
fn openpaygo_add_extends_from_the_later_of_now_and_expiry_and_set_replaces() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let blank = device.status(0);
    assert_eq!(
        blank,
        Status {
            now: 0,
            payg: Payg::Enabled,
            active: false,
            credit_seconds_left: 0,
            lockout_seconds_left: 0
        }
    );

    // ADD on an empty device: from now.
    let token = server.issue(Command::AddCredit(days(1)));
    let entry = device.enter(token.as_bytes(), 100).unwrap();
    assert_eq!(entry, applied(Command::AddCredit(days(1)), server.counter));
    let mut expiry = 100 + DAY;
    assert_eq!(device.status(100).credit_seconds_left, expiry - 100);
    assert!(device.status(100).active);

    // ADD with credit left: from the expiry, so nothing bought early is lost.
    let token = server.issue(Command::AddCredit(days(2)));
    assert!(matches!(
        device.enter(token.as_bytes(), 50_000).unwrap(),
        Entry::Applied { .. }
    ));
    expiry = expiry.max(50_000) + 2 * DAY;
    assert_eq!(expiry, 100 + 3 * DAY);
    assert_eq!(device.status(50_000).credit_seconds_left, expiry - 50_000);

    // Credit runs out at the expiry exactly.
    assert!(device.status(expiry - 1).active);
    let out = device.status(expiry);
    assert!(!out.active);
    assert_eq!(out.credit_seconds_left, 0);

    // ADD after the credit ran out: from now, not from the old expiry.
    let now = expiry + 10_000;
    let token = server.issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), now).unwrap(),
        Entry::Applied { .. }
    ));
    assert_eq!(device.status(now).credit_seconds_left, DAY);

    // SET replaces whatever is left, from now, larger or smaller.
    let token = server.issue(Command::SetCredit(days(5)));
    let entry = device.enter(token.as_bytes(), now + 5).unwrap();
    assert_eq!(entry, applied(Command::SetCredit(days(5)), server.counter));
    assert_eq!(device.status(now + 5).credit_seconds_left, 5 * DAY);
    let token = server.issue(Command::SetCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), now + 7).unwrap(),
        Entry::Applied { .. }
    ));
    assert_eq!(device.status(now + 7).credit_seconds_left, DAY);
    assert_eq!(device.status(now + 7).payg, Payg::Enabled);
}

#[test]
fn openpaygo_disable_payg_unlocks_until_a_set_and_counter_sync_moves_only_the_count() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let add = server.issue(Command::AddCredit(days(2)));
    assert!(matches!(
        device.enter(add.as_bytes(), 10).unwrap(),
        Entry::Applied { .. }
    ));

    // Value 998: PAYG off for good, the credit kept.
    let unlock = server.issue(Command::Unlock);
    let entry = device.enter(unlock.as_bytes(), 20).unwrap();
    assert_eq!(entry, applied(Command::Unlock, server.counter));
    let st = device.status(20);
    assert_eq!(st.payg, Payg::Unlocked);
    assert_eq!(st.credit_seconds_left, 10 + 2 * DAY - 20);
    // The product runs long after the credit would have run out.
    assert!(device.status(10 * 365 * DAY).active);

    // OpenPAYGO applies an ADD while unlocked (the rule about ignoring it is Nexus's), but it
    // does not turn PAYG back on.
    let add = server.issue(Command::AddCredit(days(1)));
    let now = 10 * 365 * DAY + 1;
    assert!(matches!(
        device.enter(add.as_bytes(), now).unwrap(),
        Entry::Applied { .. }
    ));
    let st = device.status(now);
    assert_eq!((st.payg, st.credit_seconds_left), (Payg::Unlocked, DAY));

    // Value 999: only the count moves.
    let sync = server.issue(Command::CounterSync);
    let entry = device.enter(sync.as_bytes(), now + 1).unwrap();
    assert_eq!(entry, applied(Command::CounterSync, server.counter));
    let st = device.status(now + 1);
    assert_eq!((st.payg, st.credit_seconds_left), (Payg::Unlocked, DAY - 1));
    assert_eq!(device.snapshot().scheme.counts.max_count, server.counter);

    // SET re-locks, from now.
    let set = server.issue(Command::SetCredit(days(0)));
    assert!(matches!(
        device.enter(set.as_bytes(), now + 2).unwrap(),
        Entry::Applied { .. }
    ));
    let st = device.status(now + 2);
    assert_eq!(st.payg, Payg::Enabled);
    assert!(!st.active);
}

#[test]
fn openpaygo_values_decide_before_parity_and_reserved_values_change_nothing() {
    let config = rtc(Lockout::OPENPAYGO);
    let secret = op_secret();
    let encoder = OpenPaygoIssuer::new(Form::STANDARD);
    let mut device = op_device(config, 0);
    let add = encoder
        .generate(&secret, 0, OpenPaygoMessage::AddTime(3))
        .unwrap();
    assert_eq!(add.count, 2);
    assert!(matches!(
        device.enter(add.token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));

    // 996 (reserved) at count 3: consumed, no effect on credit or mode.
    let reserved = encoder.token_at(&secret, 3, 996).unwrap();
    let entry = device.enter(reserved.as_bytes(), 5).unwrap();
    assert!(
        matches!(
            entry,
            Entry::Applied {
                command: Command::Scheme { .. },
                sequence: 3,
                spent: true,
            }
        ),
        "{entry:?}"
    );
    let st = device.status(5);
    assert_eq!(
        (st.payg, st.credit_seconds_left),
        (Payg::Enabled, 3 * DAY - 5)
    );
    assert_eq!(
        device.enter(reserved.as_bytes(), 6).unwrap(),
        Entry::Duplicate
    );

    // 998 at an EVEN count still disables PAYG (spec §4.2: the value decides first).
    let disable = encoder.token_at(&secret, 4, 998).unwrap();
    assert_eq!(
        device.enter(disable.as_bytes(), 7).unwrap(),
        applied(Command::Unlock, 4)
    );
    assert_eq!(device.status(7).payg, Payg::Unlocked);
}

#[test]
fn openpaygo_time_divider_scales_activation_units() {
    let config = rtc(Lockout::OPENPAYGO);
    let divider = 4;
    let mut server = Server {
        issuer: OpenPaygoIssuer::new(Form::STANDARD).with_time_divider(divider),
        secret: op_secret(),
        counter: 0,
    };
    let (mut device, _) = Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD).with_time_divider(divider),
        op_secret(),
        config,
        Flash::new(),
        0,
    )
    .unwrap();
    // Six hours is one quarter-day unit.
    let token = server.issue(Command::AddCredit(hours(6)));
    let entry = device.enter(token.as_bytes(), 0).unwrap();
    assert_eq!(
        entry,
        applied(
            Command::AddCredit(Credit::new(1, TimeUnit::DayFraction(4))),
            2
        )
    );
    assert_eq!(device.status(0).credit_seconds_left, 6 * HOUR);
    // A raw value of 10 units is two and a half days.
    let raw = server
        .issuer
        .generate(
            &server.secret,
            server.counter,
            OpenPaygoMessage::AddTime(10),
        )
        .unwrap();
    server.counter = raw.count;
    assert!(matches!(
        device.enter(raw.token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    assert_eq!(device.status(0).credit_seconds_left, 6 * HOUR + 5 * DAY / 2);
    // SET of 3 days is 12 units.
    let set = server.issue(Command::SetCredit(days(3)));
    let entry = device.enter(set.as_bytes(), 100).unwrap();
    assert_eq!(
        entry,
        applied(
            Command::SetCredit(Credit::new(12, TimeUnit::DayFraction(4))),
            server.counter
        )
    );
    assert_eq!(device.status(100).credit_seconds_left, 3 * DAY);
}

#[test]
fn nexus_full_ignores_add_while_unlocked_and_set_relocks() {
    let config = rtc(Lockout::NEXUS);
    let mut server = full_server();
    let mut device = full_device(config, 0);

    let add = server.issue(Command::AddCredit(hours(24)));
    let entry = device.enter(add.as_bytes(), 10).unwrap();
    assert_eq!(entry, applied(Command::AddCredit(seconds(DAY)), 0));
    assert_eq!(device.status(10).credit_seconds_left, DAY);
    let add2 = server.issue(Command::AddCredit(hours(2)));
    assert_eq!(
        device.enter(add2.as_bytes(), 20).unwrap(),
        applied(Command::AddCredit(seconds(2 * HOUR)), 1)
    );
    assert_eq!(
        device.status(20).credit_seconds_left,
        10 + DAY + 2 * HOUR - 20
    );

    let unlock = server.issue(Command::Unlock);
    assert_eq!(
        device.enter(unlock.as_bytes(), 30).unwrap(),
        applied(Command::Unlock, 2)
    );
    assert_eq!(device.status(30).payg, Payg::Unlocked);
    let kept = device.status(30).credit_seconds_left;

    // ADD while unlocked: the product is told VALID_DUPLICATE and gets no credit, but the
    // code uses up its ID, so the engine sees a code that applied and changed no credit.
    let ignored = server.issue(Command::AddCredit(hours(100)));
    assert_eq!(
        device.enter(ignored.as_bytes(), 40).unwrap(),
        applied(
            Command::Scheme {
                kind: KIND_NO_CREDIT_CHANGE,
                arg: 0
            },
            3
        )
    );
    let st = device.status(40);
    assert_eq!(
        (st.payg, st.credit_seconds_left),
        (Payg::Unlocked, kept - 10)
    );

    // SET re-locks, from now; the ignored ADD stays spent.
    let set = server.issue(Command::SetCredit(hours(48)));
    assert_eq!(
        device.enter(set.as_bytes(), 50).unwrap(),
        applied(Command::SetCredit(seconds(2 * DAY)), 4)
    );
    let st = device.status(50);
    assert_eq!((st.payg, st.credit_seconds_left), (Payg::Enabled, 2 * DAY));
    assert_eq!(
        device.enter(ignored.as_bytes(), 60).unwrap(),
        Entry::Duplicate
    );
    assert_eq!(device.status(60).credit_seconds_left, 2 * DAY - 10);

    // Now an ADD applies again.
    let add3 = server.issue(Command::AddCredit(hours(1)));
    assert_eq!(
        device.enter(add3.as_bytes(), 70).unwrap(),
        applied(Command::AddCredit(seconds(HOUR)), 5)
    );
    assert_eq!(device.status(70).credit_seconds_left, 2 * DAY - 20 + HOUR);
}

#[test]
fn nexus_demo_and_test_credit_follow_the_scheme_and_the_engine_context() {
    let config = rtc(Lockout::NEXUS);
    let key = nexus_key();
    let mut device = full_device(config, 0);

    // ALLOW_TEST (+127 s) only while the product is off; the engine tells the verifier.
    let allow = FullIssuer::allow_test().to_string();
    assert_eq!(
        device.enter(allow.as_bytes(), 0).unwrap(),
        reusable(Command::AddCredit(seconds(127)), 0)
    );
    assert_eq!(device.status(0).credit_seconds_left, 127);
    assert_eq!(
        device.enter(allow.as_bytes(), 100).unwrap(),
        Entry::Duplicate
    );
    assert_eq!(device.status(100).credit_seconds_left, 27);
    assert_eq!(
        device.enter(allow.as_bytes(), 127).unwrap(),
        reusable(Command::AddCredit(seconds(127)), 0)
    );

    // A demo code is reusable by design: it adds its minutes every time.
    let demo = FullIssuer::new()
        .allowing_demo_codes()
        .demo(&key, 5, 30)
        .unwrap()
        .to_string();
    for k in 1..=3 {
        assert_eq!(
            device.enter(demo.as_bytes(), 127).unwrap(),
            reusable(Command::AddCredit(seconds(30 * 60)), 5)
        );
        assert_eq!(device.status(127).credit_seconds_left, 127 + k * 30 * 60);
    }
}

#[test]
fn nexus_small_set_zero_locks_and_unlock_ignores_later_adds() {
    let config = rtc(Lockout::NEXUS);
    let mut server = small_server();
    let mut device = small_device(config, 0);
    let add = server.issue(Command::AddCredit(days(3)));
    assert_eq!(
        device.enter(add.as_bytes(), 5).unwrap(),
        applied(Command::AddCredit(seconds(3 * DAY)), 0)
    );
    assert!(device.status(5).active);

    // SET 0 days: locked now, PAYG still on.
    let lock = server.issue(Command::SetCredit(days(0)));
    assert_eq!(
        device.enter(lock.as_bytes(), 6).unwrap(),
        applied(Command::SetCredit(seconds(0)), 1)
    );
    let st = device.status(6);
    assert_eq!(
        (st.payg, st.active, st.credit_seconds_left),
        (Payg::Enabled, false, 0)
    );
    // A code with one symbol changed is a wrong code.
    assert_eq!(
        device.enter(tamper_small(&lock).as_bytes(), 6).unwrap(),
        invalid()
    );
    // The older ADD was voided by the SET.
    assert_eq!(device.enter(add.as_bytes(), 7).unwrap(), Entry::Duplicate);

    let unlock = server.issue(Command::Unlock);
    assert_eq!(
        device.enter(unlock.as_bytes(), 8).unwrap(),
        applied(Command::Unlock, 2)
    );
    assert!(device.status(8).active);
    // An ADD while unlocked adds nothing but uses up its ID: applied, no credit change.
    let add = server.issue(Command::AddCredit(days(10)));
    let no_credit = Command::Scheme {
        kind: KIND_NO_CREDIT_CHANGE,
        arg: 0,
    };
    assert_eq!(
        device.enter(add.as_bytes(), 9).unwrap(),
        applied(no_credit, 3)
    );
    assert_eq!(device.enter(add.as_bytes(), 9).unwrap(), Entry::Duplicate);
    assert_eq!(device.status(9).credit_seconds_left, 0);
    assert_eq!(device.status(9).payg, Payg::Unlocked);
}

#[test]
fn ast_credit_unlock_and_parameters() {
    let config = rtc(Lockout::AST);
    let mut server = ast_server(Profile::L);
    let mut device = ast_device(Profile::L, config, 1_000);

    let add = server.issue(Command::AddCredit(hours(72)));
    assert_eq!(
        device.enter(add.as_bytes(), 1_000).unwrap(),
        applied(Command::AddCredit(hours(72)), 1)
    );
    assert_eq!(device.status(1_000).credit_seconds_left, 72 * HOUR);
    assert_eq!(
        device.enter(add.as_bytes(), 1_001).unwrap(),
        Entry::Duplicate
    );

    let param = server.issue(Command::SetParam { id: 1, value: 300 });
    assert_eq!(
        device.enter(param.as_bytes(), 1_002).unwrap(),
        applied(Command::SetParam { id: 1, value: 300 }, 2)
    );
    assert_eq!(device.status(1_002).credit_seconds_left, 72 * HOUR - 2);

    let unlock = server.issue(Command::Unlock);
    assert_eq!(
        device.enter(unlock.as_bytes(), 1_003).unwrap(),
        applied(Command::Unlock, 3)
    );
    assert_eq!(device.status(1_003).payg, Payg::Unlocked);

    let set = server.issue(Command::SetCredit(hours(1)));
    assert_eq!(
        device.enter(set.as_bytes(), 1_004).unwrap(),
        applied(Command::SetCredit(hours(1)), 4)
    );
    let st = device.status(1_004);
    assert_eq!((st.payg, st.credit_seconds_left), (Payg::Enabled, HOUR));
}

#[test]
fn ast_test_codes_are_rate_limited_and_never_reset_the_lockout() {
    let config = rtc(Lockout::AST);
    let mut server = ast_server(Profile::L);
    let mut device = ast_device(Profile::L, config, 0);
    let test = server.issue(Command::Test(access::TEST_SHOW_INFO));
    let wrong = "1111 1111 1111 1111 1111";

    // Five MAC-valid TEST codes an hour (spec §10), then LOCKED by the verifier's quota.
    for k in 0..5 {
        assert_eq!(
            device.enter(test.as_bytes(), 100 + k).unwrap(),
            reusable(Command::Test(access::TEST_SHOW_INFO), 0)
        );
    }
    assert_eq!(
        device.enter(test.as_bytes(), 200).unwrap(),
        Entry::Rejected(Rejection::Locked)
    );
    // The quota window opened at 0 on a new device and lasts an hour.
    assert_eq!(
        device.enter(test.as_bytes(), 3_599).unwrap(),
        Entry::Rejected(Rejection::Locked)
    );
    // The quota refusal is not a wrong code: three failures are still free.
    for _ in 0..3 {
        assert_eq!(device.enter(wrong.as_bytes(), 3_700).unwrap(), invalid());
    }
    assert_eq!(device.status(3_700).lockout_seconds_left, 0);
    // A TEST code (new window) applies but does not clear the failures.
    assert_eq!(
        device.enter(test.as_bytes(), 3_700).unwrap(),
        reusable(Command::Test(access::TEST_SHOW_INFO), 0)
    );
    assert_eq!(device.enter(wrong.as_bytes(), 3_700).unwrap(), invalid());
    assert_eq!(device.status(3_700).lockout_seconds_left, 60);
    // While locked out, even TEST codes are refused unread.
    assert_eq!(
        device.enter(test.as_bytes(), 3_730).unwrap(),
        Entry::LockedOut { seconds_left: 30 }
    );
    // An applied device-key token does clear them.
    let add = server.issue(Command::AddCredit(hours(1)));
    assert_eq!(
        device.enter(add.as_bytes(), 3_760).unwrap(),
        applied(Command::AddCredit(hours(1)), 1)
    );
    for _ in 0..3 {
        assert_eq!(device.enter(wrong.as_bytes(), 3_760).unwrap(), invalid());
    }
    assert_eq!(device.status(3_760).lockout_seconds_left, 0);
}

// ---------------------------------------------------------------------------------------------
// Lockout policies, to the second
// ---------------------------------------------------------------------------------------------

#[test]
fn openpaygo_waiting_period_is_exactly_as_the_issue_states() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let wrong = b"111111111";
    let valid = server.issue(Command::AddCredit(days(1)));
    let mut now = 1_000;

    // 1st and 2nd wrong codes in a row: free.
    for _ in 0..2 {
        assert_eq!(device.enter(wrong, now).unwrap(), invalid());
        assert_eq!(device.status(now).lockout_seconds_left, 0);
    }
    // 3rd: 60 s.
    assert_eq!(device.enter(wrong, now).unwrap(), invalid());
    assert_eq!(device.status(now).lockout_seconds_left, 60);
    // Entries while locked out are not checked (a valid code too), not counted, and do not
    // extend the wait.
    assert_eq!(
        device.enter(valid.as_bytes(), now).unwrap(),
        Entry::LockedOut { seconds_left: 60 }
    );
    assert_eq!(
        device.enter(wrong, now + 30).unwrap(),
        Entry::LockedOut { seconds_left: 30 }
    );
    assert_eq!(
        device.enter(wrong, now + 59).unwrap(),
        Entry::LockedOut { seconds_left: 1 }
    );
    now += 60;
    // 4th: 120 s, then doubling to the 512-minute cap.
    for k in 4..=15u32 {
        assert_eq!(
            device.enter(wrong, now).unwrap(),
            invalid(),
            "wrong code {k}"
        );
        let want = (60u32 << (k - 3)).min(512 * 60);
        assert_eq!(
            device.status(now).lockout_seconds_left,
            want,
            "wrong code {k}"
        );
        assert_eq!(
            device.enter(wrong, now + want - 1).unwrap(),
            Entry::LockedOut { seconds_left: 1 }
        );
        now += want;
    }
    assert_eq!(device.status(now).lockout_seconds_left, 0);
    // A valid code resets the count: two free tries again, then 60 s.
    assert_eq!(
        device.enter(valid.as_bytes(), now).unwrap(),
        applied(Command::AddCredit(days(1)), 2)
    );
    for _ in 0..2 {
        assert_eq!(device.enter(wrong, now).unwrap(), invalid());
    }
    assert_eq!(device.status(now).lockout_seconds_left, 0);
    assert_eq!(device.enter(wrong, now).unwrap(), invalid());
    assert_eq!(device.status(now).lockout_seconds_left, 60);
}

#[test]
fn duplicates_and_malformed_entries_are_not_wrong_codes() {
    // OpenPAYGO: 2 free, the 3rd locks.
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let token = server.issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    for _ in 0..2 {
        assert_eq!(device.enter(b"111111111", 0).unwrap(), invalid());
    }
    for _ in 0..20 {
        assert_eq!(device.enter(token.as_bytes(), 0).unwrap(), Entry::Duplicate);
        assert!(matches!(
            device.enter(b"12345678", 0).unwrap(),
            Entry::Rejected(Rejection::Malformed(_))
        ));
        assert!(matches!(
            device.enter(b"12345678x", 0).unwrap(),
            Entry::Rejected(Rejection::Malformed(_))
        ));
    }
    assert_eq!(device.status(0).lockout_seconds_left, 0);
    assert_eq!(device.enter(b"111111111", 0).unwrap(), invalid());
    assert_eq!(device.status(0).lockout_seconds_left, 60);

    // AST: 3 free, the 4th locks.
    let config = rtc(Lockout::AST);
    let mut server = ast_server(Profile::M);
    let mut device = ast_device(Profile::M, config, 0);
    let token = server.issue(Command::AddCredit(hours(5)));
    assert!(matches!(
        device.enter(token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let wrong = "11111 11111 11111";
    for _ in 0..3 {
        assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    }
    for _ in 0..20 {
        assert_eq!(device.enter(token.as_bytes(), 0).unwrap(), Entry::Duplicate);
        assert!(matches!(
            device.enter(b"1234", 0).unwrap(),
            Entry::Rejected(Rejection::Malformed(_))
        ));
    }
    assert_eq!(device.status(0).lockout_seconds_left, 0);
    assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    assert_eq!(device.status(0).lockout_seconds_left, 60);

    // Nexus: duplicates cost no attempt. (Its verifier has no "malformed" verdict: text that is
    // not a code is INVALID there and costs one, so it is not part of this check.)
    let config = rtc(Lockout::NEXUS);
    let mut server = full_server();
    let mut device = full_device(config, 0);
    let token = server.issue(Command::AddCredit(hours(5)));
    assert!(matches!(
        device.enter(token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    for _ in 0..50 {
        assert_eq!(device.enter(token.as_bytes(), 0).unwrap(), Entry::Duplicate);
    }
    let wrong = tamper_full(&token);
    for _ in 0..6 {
        assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    }
    assert_eq!(
        device.enter(wrong.as_bytes(), 0).unwrap(),
        Entry::LockedOut { seconds_left: 720 }
    );
}

#[test]
fn nexus_bucket_gives_six_then_one_per_720_seconds_up_to_128() {
    let config = rtc(Lockout::NEXUS);
    let mut server = full_server();
    let mut device = full_device(config, 0);
    let genuine = server.issue(Command::AddCredit(hours(1)));
    let wrong = tamper_full(&genuine);

    for _ in 0..6 {
        assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    }
    assert_eq!(device.status(0).lockout_seconds_left, 720);
    // Refused entries are not checked (the genuine code stays unused) and do not drain more.
    assert_eq!(
        device.enter(genuine.as_bytes(), 0).unwrap(),
        Entry::LockedOut { seconds_left: 720 }
    );
    assert_eq!(
        device.enter(wrong.as_bytes(), 719).unwrap(),
        Entry::LockedOut { seconds_left: 1 }
    );
    // One attempt per 720 s.
    assert_eq!(device.enter(wrong.as_bytes(), 720).unwrap(), invalid());
    assert_eq!(device.status(720).lockout_seconds_left, 720);
    let t = 720 + 2 * 720;
    for _ in 0..2 {
        assert_eq!(device.enter(wrong.as_bytes(), t).unwrap(), invalid());
    }
    assert_eq!(device.status(t).lockout_seconds_left, 720);
    // Valid codes cost nothing and refund nothing.
    let t = t + 720;
    assert_eq!(
        device.enter(genuine.as_bytes(), t).unwrap(),
        applied(Command::AddCredit(seconds(HOUR)), 0)
    );
    for _ in 0..10 {
        let code = server.issue(Command::AddCredit(hours(1)));
        assert!(matches!(
            device.enter(code.as_bytes(), t).unwrap(),
            Entry::Applied { .. }
        ));
    }
    assert_eq!(device.status(t).lockout_seconds_left, 0);
    assert_eq!(device.enter(wrong.as_bytes(), t).unwrap(), invalid());
    assert_eq!(device.status(t).lockout_seconds_left, 720);
    // A year idle saves up 128 attempts, no more.
    let later = t + 365 * DAY;
    for k in 0..128 {
        assert_eq!(
            device.enter(wrong.as_bytes(), later).unwrap(),
            invalid(),
            "attempt {k}"
        );
    }
    assert_eq!(
        device.enter(wrong.as_bytes(), later).unwrap(),
        Entry::LockedOut { seconds_left: 720 }
    );
}

#[test]
fn ast_policy_through_the_engine_matches_the_spec_lockout_of_access_verify() {
    for (profile, seed) in [
        (Profile::L, 1),
        (Profile::M, 2),
        (Profile::S, 3),
        (Profile::L, 4),
    ] {
        let config = rtc(Lockout::AST);
        let secret = ast_secret(profile);
        let mut server = ast_server(profile);
        let mut device = ast_device(profile, config, 0);
        let mut reference = access::AstState::FRESH;
        let mut rng = Lcg(seed);
        let alphabet: &[u8] = if profile.is_base4() {
            b"1234"
        } else {
            b"0123456789"
        };
        let test = server.issue(Command::Test(access::TEST_OUTPUT));
        let mut issued: Vec<String> = Vec::new();
        let mut now = 0u32;
        let (mut locked, mut test_rate, mut applied) = (0, 0, 0);
        for step in 0..3_000 {
            now += match rng.below(20) {
                0..=9 => 0,
                10..=17 => u32::try_from(rng.below(120)).unwrap(),
                18 => u32::try_from(rng.below(4_000)).unwrap(),
                _ => u32::try_from(rng.below(100_000)).unwrap(),
            };
            let input = match rng.below(20) {
                0..=5 => rng.digits(profile.digits(), alphabet),
                6..=9 => {
                    let t = server.issue(Command::AddCredit(hours(1)));
                    issued.push(t.clone());
                    t
                }
                10..=11 if !issued.is_empty() => {
                    issued[usize::try_from(rng.below(issued.len() as u64)).unwrap()].clone()
                }
                12..=16 => test.clone(),
                17 => rng.digits(profile.digits() - 1, alphabet),
                _ => rng.digits(profile.digits(), b"0123456789"),
            };
            let got = device.enter(input.as_bytes(), now).unwrap();
            let want = access::verify(&secret, &mut reference, input.as_bytes(), now);
            let same = match (got, want) {
                (
                    Entry::LockedOut { seconds_left },
                    AstVerdict::Locked(access::Locked::Lockout { retry_at }),
                ) => {
                    locked += 1;
                    seconds_left == retry_at - now
                }
                (
                    Entry::Rejected(Rejection::Locked),
                    AstVerdict::Locked(access::Locked::TestRate { .. }),
                ) => {
                    test_rate += 1;
                    true
                }
                (
                    Entry::Applied {
                        sequence, spent, ..
                    },
                    AstVerdict::Applied(m),
                ) => {
                    applied += 1;
                    let test = matches!(m.action, access::Action::Test(_));
                    sequence == m.counter && spent != test
                }
                (Entry::Duplicate, AstVerdict::Duplicate { .. })
                | (Entry::Rejected(Rejection::Invalid), AstVerdict::Invalid { .. })
                | (Entry::Rejected(Rejection::Malformed(_)), AstVerdict::Malformed(_)) => true,
                _ => false,
            };
            assert!(
                same,
                "profile {profile:?} step {step} at {now}: engine {got:?}, spec {want:?}"
            );
            assert_eq!(
                device.status(now).lockout_seconds_left,
                reference.lock_until.saturating_sub(now),
                "profile {profile:?} step {step}"
            );
        }
        assert!(
            locked > 100 && test_rate > 10 && applied > 100,
            "{profile:?}: {locked} lockouts, {test_rate} quota refusals, {applied} applied"
        );
    }
}

#[test]
fn ast_waits_are_the_spec_schedule() {
    let config = rtc(Lockout::AST);
    let mut device = ast_device(Profile::L, config, 0);
    let wrong = b"1111 1111 1111 1111 1111";
    let mut now = 0;
    for k in 1..=20u32 {
        assert_eq!(device.enter(wrong, now).unwrap(), invalid());
        // Spec §10: failure k > 3 locks min(60 * 2^(k-4), 86400) s.
        let want = if k <= 3 {
            0
        } else {
            (60u32 << (k - 4).min(20)).min(86_400)
        };
        assert_eq!(device.status(now).lockout_seconds_left, want, "failure {k}");
        now += want;
    }
}

/// `Lockout::AST` is the spec's schedule as the AST crate computes it (`access::lock_seconds`),
/// for 300 consecutive wrong codes, each entered when the previous wait is over.
#[test]
fn ast_policy_waits_are_access_lock_seconds() {
    let policy = Lockout::AST;
    let mut state = policy.fresh(0);
    let mut now = 0;
    for k in 1..=300usize {
        now += policy.seconds_left(&state, now);
        policy.wrong(&mut state, now);
        let fails = u8::try_from(k).unwrap_or(u8::MAX);
        assert_eq!(
            policy.seconds_left(&state, now),
            access::lock_seconds(fails),
            "failure {k}"
        );
    }
}

#[test]
fn a_replayed_counter_sync_does_not_reset_the_waiting_period() {
    // OpenPAYGO's decoder re-accepts a counter sync within 64 counts of the maximum
    // (docs/openpaygo.md §5.3, vector "replay COUNTER_SYNC at count 91"). Through the engine
    // such an old code is a DUPLICATE and must not clear the wrong-code count, or the waiting
    // period could be skipped for good with it.
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let sync = server.issue(Command::CounterSync);
    assert_eq!(
        device.enter(sync.as_bytes(), 0).unwrap(),
        applied(Command::CounterSync, 1)
    );
    for _ in 0..2 {
        assert_eq!(device.enter(b"111111111", 0).unwrap(), invalid());
    }
    // The engine reports it as what it is: a duplicate (nothing is ever applied twice).
    assert_eq!(device.enter(sync.as_bytes(), 0).unwrap(), Entry::Duplicate);
    assert_eq!(device.enter(b"111111111", 0).unwrap(), invalid());
    assert_eq!(device.status(0).lockout_seconds_left, 60);

    // The same for codes anyone can type, under a doubling policy: Nexus's device-ID
    // confirmation and its universal OQC test code (which counts against the device's QC
    // limits, so it changes the state) apply, but spend no ID: they clear nothing.
    let config = rtc(Lockout::OPENPAYGO);
    let mut device = full_device(config, 0);
    let confirm = FullIssuer::device_id_confirmation(123_456_789).to_string();
    let oqc = FullIssuer::oqc_test(60).unwrap().to_string();
    let wrong = tamper_full(&full_server().issue(Command::AddCredit(hours(1))));
    assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    assert_eq!(
        device.enter(confirm.as_bytes(), 0).unwrap(),
        reusable(
            Command::Scheme {
                kind: KIND_NO_CREDIT_CHANGE,
                arg: 0
            },
            0
        )
    );
    assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    assert_eq!(
        device.enter(oqc.as_bytes(), 0).unwrap(),
        reusable(Command::AddCredit(seconds(HOUR)), 0)
    );
    assert_eq!(device.enter(wrong.as_bytes(), 0).unwrap(), invalid());
    assert_eq!(device.status(0).lockout_seconds_left, 60);
}

#[test]
fn the_lockout_survives_a_reboot_with_either_clock() {
    // RTC: the wait keeps running while off; an RTC reset to 0 resumes at the checkpoint.
    let config = rtc(Lockout::OPENPAYGO);
    let mut device = op_device(config, 0);
    for _ in 0..3 {
        assert_eq!(device.enter(b"111111111", 1_000).unwrap(), invalid());
    }
    let (mut device, boot) = reboot(device, config, 1_030);
    assert_eq!(boot, Boot::Restored { sequence: 3 });
    assert_eq!(
        device.enter(b"111111111", 1_030).unwrap(),
        Entry::LockedOut { seconds_left: 30 }
    );
    let (mut device, _) = reboot(device, config, 0);
    assert_eq!(device.status(0).now, 1_000);
    assert_eq!(
        device.enter(b"111111111", 0).unwrap(),
        Entry::LockedOut { seconds_left: 60 }
    );
    // The count survived too: the next wrong code is the 4th.
    assert_eq!(device.enter(b"111111111", 60).unwrap(), invalid());
    assert_eq!(device.status(60).lockout_seconds_left, 120);

    // Runtime counter: the wait only runs while on; the counter restarts at 0 on each boot.
    let config = runtime(Lockout::OPENPAYGO);
    let mut device = op_device(config, 0);
    for _ in 0..3 {
        assert_eq!(device.enter(b"111111111", 500).unwrap(), invalid());
    }
    let (mut device, boot) = reboot(device, config, 0);
    assert_eq!(boot, Boot::Restored { sequence: 3 });
    assert_eq!(device.status(0).now, 500);
    assert_eq!(
        device.enter(b"111111111", 59).unwrap(),
        Entry::LockedOut { seconds_left: 1 }
    );
    let (mut device, _) = reboot(device, config, 7);
    assert_eq!(
        device.enter(b"111111111", 7).unwrap(),
        Entry::LockedOut { seconds_left: 60 }
    );
    assert_eq!(device.enter(b"111111111", 67).unwrap(), invalid());
    assert_eq!(device.status(67).lockout_seconds_left, 120);

    // The Nexus bucket: an emptied bucket stays empty across a reboot, with either clock.
    for config in [rtc(Lockout::NEXUS), runtime(Lockout::NEXUS)] {
        let mut device = full_device(config, 100);
        let wrong = tamper_full(&full_server().issue(Command::AddCredit(hours(1))));
        for _ in 0..6 {
            assert_eq!(device.enter(wrong.as_bytes(), 100).unwrap(), invalid());
        }
        let clock = if config.clock == ClockModel::Rtc {
            100
        } else {
            0
        };
        let (mut device, _) = reboot(device, config, clock);
        assert_eq!(
            device.enter(wrong.as_bytes(), clock).unwrap(),
            Entry::LockedOut { seconds_left: 720 },
            "{:?}",
            config.clock
        );
        assert_eq!(
            device.enter(wrong.as_bytes(), clock + 720).unwrap(),
            invalid()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Clock models
// ---------------------------------------------------------------------------------------------

#[test]
fn runtime_clock_uses_credit_only_while_on() {
    let config = runtime(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let token = server.issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), 10).unwrap(),
        Entry::Applied { .. }
    ));
    device.power_down(1_010).unwrap();
    // Off for as long as you like; the counter restarts at 0.
    let (mut device, _) = reboot(device, config, 0);
    assert_eq!(device.status(0).credit_seconds_left, DAY - 1_000);
    assert_eq!(device.status(400).credit_seconds_left, DAY - 1_400);
    device.power_down(400).unwrap();
    let (mut device, _) = reboot(device, config, 12_345);
    assert_eq!(device.status(12_345).credit_seconds_left, DAY - 1_400);
}

#[test]
fn rtc_uses_credit_while_off_and_winding_it_back_gains_nothing() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let token = server.issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), 10).unwrap(),
        Entry::Applied { .. }
    ));
    device.power_down(1_010).unwrap();
    // Off for 50,000 s: the RTC kept counting.
    let (mut device, _) = reboot(device, config, 51_010);
    assert_eq!(device.status(51_010).credit_seconds_left, DAY - 51_000);
    device.power_down(51_010).unwrap();
    // The RTC lost power (or was wound back) while off: time resumes at the checkpoint.
    let (mut device, _) = reboot(device, config, 5);
    assert_eq!(device.status(5).credit_seconds_left, DAY - 51_000);
    assert_eq!(device.status(405).credit_seconds_left, DAY - 51_400);
    // Wound back while running: the clock stands still, then runs on.
    assert_eq!(device.status(100).credit_seconds_left, DAY - 51_400);
    assert_eq!(device.status(160).credit_seconds_left, DAY - 51_460);
    // The offset to the wound-back RTC is persisted with the next write: after 100 s off,
    // those 100 s are used up like any others.
    device.power_down(160).unwrap();
    let (mut device, _) = reboot(device, config, 260);
    assert_eq!(device.status(260).credit_seconds_left, DAY - 51_560);
}

#[test]
fn runtime_sudden_power_loss_costs_at_most_one_checkpoint_interval() {
    let config = runtime(Lockout::OPENPAYGO);
    assert_eq!(config.checkpoint_seconds, 3_600);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    let token = server.issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), 10).unwrap(),
        Entry::Applied { .. }
    ));
    // Two writes: the attempt counted, then the result.
    assert_eq!(device.sequence(), 2);
    // No checkpoint before 3,600 s of device time since the last write.
    device.tick(3_609).unwrap();
    assert_eq!(device.sequence(), 2);
    device.tick(3_610).unwrap();
    assert_eq!(device.sequence(), 3);
    device.tick(5_000).unwrap();
    assert_eq!(device.sequence(), 3);
    assert_eq!(device.status(5_000).credit_seconds_left, DAY - 4_990);
    // Power lost with no warning at 5,000: the device resumes at the 3,610 checkpoint.
    let (mut device, _) = reboot(device, config, 0);
    let left = device.status(0).credit_seconds_left;
    assert_eq!(left, DAY - 3_600);
    assert!(left - (DAY - 4_990) <= config.checkpoint_seconds);
}

// ---------------------------------------------------------------------------------------------
// What the store holds at boot
// ---------------------------------------------------------------------------------------------

/// Deterministic non-record bytes.
fn garbage<const N: usize>(seed: u64) -> [u8; N] {
    let mut rng = Lcg(seed);
    core::array::from_fn(|_| u8::try_from(rng.below(256)).unwrap())
}

fn assert_unavailable<V>(device: &mut Engine<V, Flash>, inputs: &[&[u8]])
where
    V: Verifier,
    V::State: Persist + PartialEq,
{
    let st = device.status(1_000_000);
    assert!(!st.active);
    assert_eq!((st.payg, st.credit_seconds_left), (Payg::Enabled, 0));
    for input in inputs {
        assert_eq!(device.enter(input, 1_000_000).unwrap(), Entry::Unavailable);
    }
}

#[test]
fn a_blank_store_is_a_new_device_for_every_scheme() {
    let config = rtc(Lockout::OPENPAYGO);
    let blank = Status {
        now: 77,
        payg: Payg::Enabled,
        active: false,
        credit_seconds_left: 0,
        lockout_seconds_left: 0,
    };
    let mut device = op_device(config, 77);
    assert_eq!((device.status(77), device.sequence()), (blank, 0));
    let mut device = full_device(config, 77);
    assert_eq!((device.status(77), device.sequence()), (blank, 0));
    let mut device = small_device(config, 77);
    assert_eq!((device.status(77), device.sequence()), (blank, 0));
    let mut device = ast_device(Profile::S, config, 77);
    assert_eq!((device.status(77), device.sequence()), (blank, 0));
    // A blank store writes nothing until something changes.
    device.tick(78).unwrap();
    assert!(matches!(
        device.enter(b"1234", 78).unwrap(),
        Entry::Rejected(Rejection::Malformed(_))
    ));
    assert_eq!(device.sequence(), 0);
    let flash = device.into_storage();
    assert_eq!((flash.programmed, flash.erases), (0, 0));
}

#[test]
fn a_corrupt_store_boots_locked_and_refuses_every_entry() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let valid = server.issue(Command::AddCredit(days(30)));
    let layouts: [(Option<u64>, Option<u64>); 3] =
        [(Some(1), Some(2)), (Some(3), None), (None, Some(4))];
    for (a, b) in layouts {
        let mut flash = Flash::new();
        if let Some(seed) = a {
            *flash.slot_mut(Slot::A) = garbage(seed);
        }
        if let Some(seed) = b {
            *flash.slot_mut(Slot::B) = garbage(seed);
        }
        let (mut device, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            flash,
            0,
        )
        .unwrap();
        assert_eq!(boot, Boot::Corrupt, "{a:?} {b:?}");
        assert_unavailable(&mut device, &[valid.as_bytes(), b"111111111", b"12"]);
        // It writes nothing, not even a checkpoint, and stays corrupt after a reboot.
        device.tick(2_000_000).unwrap();
        device.power_down(3_000_000).unwrap();
        let flash = device.into_storage();
        assert_eq!((flash.programmed, flash.erases), (0, 0));
        let (mut device, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            flash,
            0,
        )
        .unwrap();
        assert_eq!(boot, Boot::Corrupt);
        assert_unavailable(&mut device, &[valid.as_bytes()]);
    }
}

#[test]
fn blank_is_corrupt_refuses_a_blank_store_but_not_a_written_one() {
    let config = Config {
        blank_is_corrupt: true,
        ..rtc(Lockout::NEXUS)
    };
    let key = nexus_key();
    let (mut device, boot) =
        Engine::boot(NexusVerifier::full(1), key.clone(), config, Flash::new(), 0).unwrap();
    assert_eq!(boot, Boot::Corrupt);
    let code = full_server().issue(Command::AddCredit(hours(1)));
    assert_unavailable(&mut device, &[code.as_bytes()]);

    // A store written by a device without the flag (the factory) boots normally.
    let (mut device, boot) = Engine::boot(
        NexusVerifier::full(1),
        key.clone(),
        rtc(Lockout::NEXUS),
        Flash::new(),
        0,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    assert!(matches!(
        device.enter(code.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let (mut device, boot) = Engine::boot(
        NexusVerifier::full(1),
        key,
        config,
        device.into_storage(),
        0,
    )
    .unwrap();
    // The attempt counted, then the result.
    assert_eq!(boot, Boot::Restored { sequence: 2 });
    assert_eq!(device.status(0).credit_seconds_left, HOUR);
}

/// A manufacturer's scheme whose state has the same length as OpenPAYGO's (6 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Blob([u8; 18]);

impl Persist for Blob {
    const TAG: u8 = 200;
    const LEN: usize = 18;
    const FRESH: Self = Self([0; 18]);

    fn save(&self, out: &mut Writer<'_>) {
        out.bytes(&self.0);
    }

    fn load(input: &mut Reader<'_>) -> Option<Self> {
        input.array().map(Self)
    }
}

/// Every entry adds a day, once per distinct first byte.
#[derive(Debug)]
struct Tally;

impl Verifier for Tally {
    type Secret = Key;
    type State = Blob;

    fn verify(&self, _: &Key, state: &mut Blob, input: &[u8], _: &Context) -> Outcome {
        let n = input.first().copied().unwrap_or(0);
        if state.0[0] >= n {
            return Outcome::Duplicate;
        }
        state.0 = [n; 18];
        Outcome::Applied {
            command: Command::AddCredit(days(1)),
            sequence: u32::from(n),
            spent: true,
        }
    }
}

#[test]
fn a_record_of_another_scheme_is_not_loaded() {
    let config = rtc(Lockout::OPENPAYGO);
    // Same record length, a valid MAC under the same device key, another tag.
    let (mut other, _) =
        Engine::boot(Tally, op_secret().key().clone(), config, Flash::new(), 0).unwrap();
    assert_eq!(
        Engine::<Tally, Flash>::record_len(),
        Engine::<OpenPaygoVerifier, Flash>::record_len()
    );
    assert!(matches!(
        other.enter(&[1], 0).unwrap(),
        Entry::Applied { .. }
    ));
    let flash = other.into_storage();
    let (mut device, boot) = Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD),
        op_secret(),
        config,
        flash.clone(),
        0,
    )
    .unwrap();
    assert_eq!(boot, Boot::Corrupt);
    assert_unavailable(
        &mut device,
        &[op_server().issue(Command::AddCredit(days(1))).as_bytes()],
    );
    // Its own firmware still reads it (the attempt counted, then the result).
    let (_, boot) = Engine::boot(Tally, op_secret().key().clone(), config, flash, 0).unwrap();
    assert_eq!(boot, Boot::Restored { sequence: 2 });

    // An OpenPAYGO record read by Nexus firmware (longer records, other tag).
    let mut op = op_device(config, 0);
    let token = op_server().issue(Command::AddCredit(days(1)));
    assert!(matches!(
        op.enter(token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let (_, boot) = Engine::boot(
        NexusVerifier::full(1),
        nexus_key(),
        config,
        op.into_storage(),
        0,
    )
    .unwrap();
    assert_eq!(boot, Boot::Corrupt);
}

#[test]
fn slots_smaller_than_a_record_are_refused() {
    let config = rtc(Lockout::OPENPAYGO);
    // 42 bytes of header, engine fields and MAC, plus the scheme's state (OpenPAYGO 18).
    match Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD),
        op_secret(),
        config,
        MemStorage::<59>::new(),
        0,
    ) {
        Err(Error::SlotTooSmall { need: 60, have: 59 }) => {}
        other => panic!("{:?}", other.map(|(_, b)| b)),
    }
    let (_, boot) = Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD),
        op_secret(),
        config,
        MemStorage::<60>::new(),
        0,
    )
    .unwrap();
    assert_eq!(boot, Boot::Blank);
    match Engine::boot(
        NexusVerifier::small(),
        nexus_key(),
        config,
        MemStorage::<16>::new(),
        0,
    ) {
        Err(Error::SlotTooSmall { need: 54, have: 16 }) => {}
        other => panic!("{:?}", other.map(|(_, b)| b)),
    }
    match Engine::boot(
        AstVerifier::without_lockout(),
        ast_secret(Profile::L),
        config,
        MemStorage::<64>::new(),
        0,
    ) {
        Err(Error::SlotTooSmall {
            need: 103,
            have: 64,
        }) => {}
        other => panic!("{:?}", other.map(|(_, b)| b)),
    }
}

#[test]
fn record_sizes_fit_the_budget() {
    // Documented layout: magic 2, version 1, tag 1, sequence 4, PAYG 1, expiry 4, checkpoint 4,
    // correction 4, lockout (fails 1, until 4, bucket 4, bucket_at 4), state, MAC 8.
    let overhead = 2 + 1 + 1 + 4 + 1 + 4 + 4 + 4 + (1 + 4 + 4 + 4) + 8;
    let op = Engine::<OpenPaygoVerifier, Flash>::record_len();
    let nexus = Engine::<NexusVerifier, Flash>::record_len();
    let ast = Engine::<AstVerifier, Flash>::record_len();
    eprintln!("record bytes: OpenPAYGO {op}, Nexus {nexus}, AST {ast}");
    println!("record bytes: OpenPAYGO {op}, Nexus {nexus}, AST {ast}");
    // OpenPAYGO: max count u32 + 16-bit mask + the chain point (count u32, code and value
    // packed in a u64); Nexus: window 4 + 4, QC counts, flag, grace.
    assert_eq!(op, overhead + 4 + 2 + 4 + 8);
    assert_eq!(nexus, overhead + 4 + 4 + 1 + 1 + 1 + 1);
    assert!(op <= 64 && nexus <= 64, "OpenPAYGO {op}, Nexus {nexus}");
    assert!(ast <= 128);
}

/// A record as the format documents it.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    tag: u8,
    sequence: u32,
    payg: u8,
    expiry: u32,
    checkpoint: u32,
    fails: u8,
    until: u32,
}

/// The record in `bytes`, if its MAC under the record key of `device_key` holds.
fn parse(bytes: &[u8], len: usize, device_key: &Key) -> Option<Record> {
    let body = &bytes[..len - 8];
    let mac = u64::from_le_bytes(bytes[len - 8..len].try_into().unwrap());
    let u32_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().unwrap());
    (body[..3] == *b"PL\x03" && siphash(&record_key(device_key), body) == mac).then(|| Record {
        tag: body[3],
        sequence: u32_at(4),
        payg: body[8],
        expiry: u32_at(9),
        checkpoint: u32_at(13),
        fails: body[21],
        until: u32_at(22),
    })
}

#[test]
fn records_follow_the_documented_layout_and_alternate_slots() {
    // The MAC here is the published SipHash-2-4: the paper's test vector.
    let paper: [u8; 16] = core::array::from_fn(|i| u8::try_from(i).unwrap());
    assert_eq!(siphash(&paper, b""), 0x726f_db47_dd0e_0e31);
    let config = rtc(Lockout::OPENPAYGO);
    let key = op_secret().key().clone();
    let len = Engine::<OpenPaygoVerifier, Flash>::record_len();
    let mut server = op_server();
    let mut flash = Flash::new();
    let mut expiry = 0;
    for k in 1..=6u32 {
        let now = k * 1_000;
        let (mut device, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            flash,
            now,
        )
        .unwrap();
        let token = server.issue(Command::AddCredit(days(1)));
        assert!(matches!(
            device.enter(token.as_bytes(), now).unwrap(),
            Entry::Applied { .. }
        ));
        let before = expiry;
        expiry = expiry.max(now) + DAY;
        // Each applied code is two writes: the attempt counted, then the result.
        assert_eq!(device.sequence(), 2 * k);
        if k > 1 {
            assert_eq!(
                boot,
                Boot::Restored {
                    sequence: 2 * k - 2
                }
            );
        }
        flash = device.into_storage();
        // Writes alternate, slot A first: the even ones land in slot B.
        let record = parse(flash.slot_mut(Slot::B), len, &key).unwrap();
        assert_eq!(
            record,
            Record {
                tag: 1,
                sequence: 2 * k,
                payg: 0,
                expiry,
                checkpoint: now,
                fails: 0,
                until: 0
            }
        );
        // The attempt as it was counted before the code was checked: one wrong code, no
        // credit yet.
        let counted = parse(flash.slot_mut(Slot::A), len, &key).unwrap();
        assert_eq!(
            counted,
            Record {
                sequence: 2 * k - 1,
                expiry: before,
                fails: 1,
                ..record
            }
        );
        // OpenPAYGO state after it: the max count, and the used-count mask.
        let state = &flash.slot_mut(Slot::B)[34..40];
        assert_eq!(
            u32::from_le_bytes(state[..4].try_into().unwrap()),
            server.counter
        );
    }
}

#[test]
fn sequence_numbers_compare_across_the_wrap() {
    let config = rtc(Lockout::OPENPAYGO);
    let len = Engine::<OpenPaygoVerifier, Flash>::record_len();
    let mut device = op_device(config, 0);
    let token = op_server().issue(Command::AddCredit(days(1)));
    assert!(matches!(
        device.enter(token.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let mut flash = device.into_storage();
    let key = op_secret().key().clone();
    let template: Vec<u8> = flash.slot_mut(Slot::A)[..len].to_vec();
    // The same record with another sequence number and expiry, resealed with the device's
    // record key.
    let forge = |sequence: u32, expiry: u32| {
        let mut r = template.clone();
        r[4..8].copy_from_slice(&sequence.to_le_bytes());
        r[9..13].copy_from_slice(&expiry.to_le_bytes());
        seal(&mut r, &key);
        r
    };
    for (a, b, newest) in [
        (u32::MAX, 0, (Slot::B, 0)),
        (0x7FFF_FFFF, 0x8000_0000, (Slot::B, 0x8000_0000)),
        (5, 4, (Slot::A, 5)),
        (0, u32::MAX, (Slot::A, 0)),
    ] {
        let mut f = flash.clone();
        f.slot_mut(Slot::A)[..len].copy_from_slice(&forge(a, 111));
        f.slot_mut(Slot::B)[..len].copy_from_slice(&forge(b, 222));
        let (mut device, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            f,
            0,
        )
        .unwrap();
        assert_eq!(boot, Boot::Restored { sequence: newest.1 });
        let want = if newest.0 == Slot::A { 111 } else { 222 };
        assert_eq!(device.status(0).credit_seconds_left, want);
        // The next write goes to the other slot with the next number.
        device.power_down(1).unwrap();
        let mut f = device.into_storage();
        let written = parse(f.slot_mut(newest.0.other()), len, &key).unwrap();
        assert_eq!(written.sequence, newest.1.wrapping_add(1));
    }
    // A record of another format version is not read, even sealed with the right key.
    let mut old = forge(9, 333);
    old[2] = 1;
    seal(&mut old, &key);
    let mut f = Flash::new();
    f.slot_mut(Slot::A)[..len].copy_from_slice(&old);
    let (_, boot) = Engine::boot(
        OpenPaygoVerifier::new(Form::STANDARD),
        op_secret(),
        config,
        f,
        0,
    )
    .unwrap();
    assert_eq!(boot, Boot::Corrupt);
}

#[test]
fn file_storage_keeps_the_device_across_reboots() {
    let config = rtc(Lockout::OPENPAYGO);
    let path = std::env::temp_dir().join(format!("paylock-device-engine-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut server = op_server();
    let token = server.issue(Command::AddCredit(days(2)));
    let boot = |clock| {
        let storage = FileStorage::open(&path, 64).unwrap();
        Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            storage,
            clock,
        )
        .unwrap()
    };
    {
        let (mut device, boot) = boot(0);
        assert_eq!(boot, Boot::Blank);
        assert_eq!(
            device.enter(token.as_bytes(), 100).unwrap(),
            applied(Command::AddCredit(days(2)), 2)
        );
        for _ in 0..2 {
            assert_eq!(device.enter(b"111111111", 200).unwrap(), invalid());
        }
    }
    {
        // Writes: the applied code's two (count, result), one per wrong code.
        let (mut device, boot) = boot(1_000);
        assert_eq!(boot, Boot::Restored { sequence: 4 });
        assert_eq!(
            device.status(1_000).credit_seconds_left,
            100 + 2 * DAY - 1_000
        );
        assert_eq!(
            device.enter(token.as_bytes(), 1_000).unwrap(),
            Entry::Duplicate
        );
        // The third wrong code in a row, across the reboot.
        assert_eq!(device.enter(b"111111111", 1_000).unwrap(), invalid());
        assert_eq!(device.status(1_000).lockout_seconds_left, 60);
    }
    // And the duplicate's two (count, then the count restored), the wrong code's one.
    let (mut device, boot) = boot(1_030);
    assert_eq!(boot, Boot::Restored { sequence: 7 });
    assert_eq!(
        device.enter(token.as_bytes(), 1_030).unwrap(),
        Entry::LockedOut { seconds_left: 30 }
    );
    drop(device);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 128);
    std::fs::remove_file(&path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The authenticated record, and rollback
// ---------------------------------------------------------------------------------------------

/// CRC-32/ISO-HDLC, bit by bit: the checksum format 1 records carried.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An OpenPAYGO record body as the documented layout has it, PAYG unlocked, with `trailer`
/// bytes of room at the end: what someone with a flash programmer but not the key can write.
fn hand_built(version: u8, sequence: u32, trailer: usize) -> Vec<u8> {
    let mut r = b"PL".to_vec();
    r.extend([version, 1]);
    r.extend(sequence.to_le_bytes());
    r.push(1); // PAYG unlocked
    r.extend(0u32.to_le_bytes()); // expiry
    r.extend([0; 8]); // checkpoint, correction
    r.push(0); // fails
    r.extend([0; 12]); // until, bucket, bucket_at
    r.extend([0; 6]); // OpenPAYGO state: count 0, nothing used
    if version >= 3 {
        r.extend(u32::MAX.to_le_bytes()); // no chain point
        r.extend([0; 8]);
    }
    r.extend(vec![0; trailer]);
    r
}

#[test]
fn a_hand_built_record_does_not_boot_and_unlock() {
    let config = rtc(Lockout::OPENPAYGO);
    let boot = |record: &[u8]| {
        let mut flash = Flash::new();
        flash.slot_mut(Slot::A)[..record.len()].copy_from_slice(record);
        let (mut device, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            flash,
            0,
        )
        .unwrap();
        (boot, device.status(0))
    };
    // The 44-byte format 1 record with a valid CRC-32: restored and unlocked by the old
    // firmware, refused now.
    let mut v1 = hand_built(1, 1, 4);
    let crc = crc32(&v1[..40]);
    v1[40..].copy_from_slice(&crc.to_le_bytes());
    // The 48-byte format 2 record (a MAC under the record key, the 6-byte state without a
    // chain point), genuine: refused by a format 3 engine.
    let mut v2 = hand_built(2, 1, 8);
    seal(&mut v2, op_secret().key());
    // Format 3 with a checksum anyone can compute in the MAC's place (a CRC-32, twice).
    let mut crc2 = hand_built(3, 1, 8);
    let crc = crc32(&crc2[..52]).to_le_bytes();
    crc2[52..56].copy_from_slice(&crc);
    crc2[56..].copy_from_slice(&crc);
    // Format 3 sealed with the token key itself rather than the derived record key.
    let mut token_key = hand_built(3, 1, 8);
    let mac = siphash(op_secret().key().as_bytes(), &token_key[..52]);
    token_key[52..].copy_from_slice(&mac.to_le_bytes());
    // Format 3 sealed with another device's record key.
    let mut other = hand_built(3, 1, 8);
    seal(&mut other, &nexus_key());
    for (what, record) in [
        ("format 1 CRC", v1),
        ("format 2", v2),
        ("CRC", crc2),
        ("token key", token_key),
        ("other key", other),
    ] {
        let (boot, status) = boot(&record);
        assert_eq!(boot, Boot::Corrupt, "{what}");
        assert_eq!(status.payg, Payg::Enabled, "{what}");
        assert!(!status.active, "{what}");
    }
    // The same bytes sealed with this device's record key do boot: the refusals above are the
    // MAC's, not the layout's.
    let mut genuine = hand_built(3, 1, 8);
    seal(&mut genuine, op_secret().key());
    let (boot, status) = boot(&genuine);
    assert_eq!(boot, Boot::Restored { sequence: 1 });
    assert_eq!(status.payg, Payg::Unlocked);
}

#[test]
fn every_bit_flip_of_the_newest_record_is_caught() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let mut device = op_device(config, 0);
    for now in [10, 20] {
        let token = server.issue(Command::AddCredit(days(1)));
        assert!(matches!(
            device.enter(token.as_bytes(), now).unwrap(),
            Entry::Applied { .. }
        ));
    }
    // Four writes: the newest (4) in slot B, the count of the second code (3) in slot A.
    let flash = device.into_storage();
    let len = Engine::<OpenPaygoVerifier, Flash>::record_len();
    for bit in 0..len * 8 {
        let mut f = flash.clone();
        f.slot_mut(Slot::B)[bit / 8] ^= 1 << (bit % 8);
        let (_, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            f,
            0,
        )
        .unwrap();
        assert_eq!(boot, Boot::Restored { sequence: 3 }, "bit {bit}");
    }
}

/// A store with a hardware monotonic counter, which restoring a flash image leaves alone.
#[derive(Clone, Debug)]
struct Anchored {
    flash: Flash,
    counter: u32,
    /// The next counter raise fails (power cut between a record's read-back and the raise).
    cut_raise: bool,
}

impl Anchored {
    fn new(flash: Flash, counter: u32) -> Self {
        Self {
            flash,
            counter,
            cut_raise: false,
        }
    }
}

impl Storage for Anchored {
    type Error = MemError;

    fn slot_len(&self) -> usize {
        self.flash.slot_len()
    }

    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), MemError> {
        self.flash.read(slot, offset, buf)
    }

    fn erase(&mut self, slot: Slot) -> Result<(), MemError> {
        self.flash.erase(slot)
    }

    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), MemError> {
        self.flash.program(slot, offset, data)
    }

    fn counter(&mut self) -> Result<Option<u32>, MemError> {
        Ok(Some(self.counter))
    }

    fn raise_counter(&mut self, sequence: u32) -> Result<(), MemError> {
        if core::mem::take(&mut self.cut_raise) {
            return Err(MemError::PowerCut);
        }
        self.counter = self.counter.max(sequence);
        Ok(())
    }
}

#[test]
fn a_monotonic_counter_catches_rollback_and_nothing_else() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let (t1, t2) = (
        server.issue(Command::AddCredit(days(1))),
        server.issue(Command::AddCredit(days(2))),
    );
    let boot = |store: Anchored| {
        Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            store,
            0,
        )
        .unwrap()
    };
    let (mut device, first) = boot(Anchored::new(Flash::new(), 0));
    assert_eq!(first, Boot::Blank);
    assert!(matches!(
        device.enter(t1.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let old_image = device.storage_mut().flash.clone();
    assert!(matches!(
        device.enter(t2.as_bytes(), 0).unwrap(),
        Entry::Applied { .. }
    ));
    let store = device.into_storage();
    assert_eq!(store.counter, 4);

    // Without a counter, both rollbacks work: t2 applies a second time (the residual threat).
    let mut flipped = store.flash.clone();
    flipped.slot_mut(Slot::B)[9] ^= 0x01;
    for (what, image) in [
        ("bit flip", flipped.clone()),
        ("old image", old_image.clone()),
    ] {
        let (mut plain, boot) = Engine::boot(
            OpenPaygoVerifier::new(Form::STANDARD),
            op_secret(),
            config,
            image,
            0,
        )
        .unwrap();
        assert!(matches!(boot, Boot::Restored { .. }), "{what}");
        assert!(
            matches!(
                plain.enter(t2.as_bytes(), 0).unwrap(),
                Entry::Applied { .. }
            ),
            "{what}"
        );
    }
    // With the counter, each is refused, and so is a wiped store.
    for (what, image) in [
        ("bit flip", flipped),
        ("old image", old_image),
        ("erased", Flash::new()),
    ] {
        let (mut device, boot) = boot(Anchored::new(image, store.counter));
        assert_eq!(boot, Boot::Corrupt, "{what}");
        assert_eq!(
            device.enter(t2.as_bytes(), 0).unwrap(),
            Entry::Unavailable,
            "{what}"
        );
    }
    // The genuine store boots, and the counter follows every write.
    let (mut device, restored) = boot(store.clone());
    assert_eq!(restored, Boot::Restored { sequence: 4 });
    assert_eq!(device.enter(t2.as_bytes(), 0).unwrap(), Entry::Duplicate);
    assert_eq!(device.storage_mut().counter, 6);

    // Power cut at every byte of both writes of an entry: never corrupt, with the counter.
    let t3 = server.issue(Command::AddCredit(days(3)));
    let len = u32::try_from(Engine::<OpenPaygoVerifier, Flash>::record_len()).unwrap();
    for cut in 0..=2 * len {
        let image = store.flash.clone();
        let (mut device, _) = boot(Anchored::new(image, store.counter));
        device.storage_mut().flash.cut_after(cut);
        let result = device.enter(t3.as_bytes(), 0);
        assert_eq!(result.is_ok(), cut == 2 * len, "cut {cut}");
        let mut store = device.into_storage();
        store.flash.power_on();
        let (_, boot) = boot(store);
        assert!(matches!(boot, Boot::Restored { .. }), "cut {cut}: {boot:?}");
    }
    // Power cut between a record's read-back and the counter raise: the counter is behind
    // the newest record, which still boots and moves the counter up.
    let (mut device, _) = boot(Anchored::new(store.flash.clone(), store.counter));
    device.storage_mut().cut_raise = true;
    assert!(device.enter(t3.as_bytes(), 0).is_err());
    let store = device.into_storage();
    assert_eq!(store.counter, 4);
    let (device, boot) = boot(store);
    assert_eq!(boot, Boot::Restored { sequence: 5 });
    assert_eq!(device.into_storage().counter, 5);
}

// ---------------------------------------------------------------------------------------------
// The attempt is counted before the verdict: writes per entry, and a cut result write
// ---------------------------------------------------------------------------------------------

/// Record writes (erases) and bytes programmed by one entry.
fn cost<V>(device: &mut Engine<V, Flash>, input: &[u8], clock: u32) -> (Entry, u64, u64)
where
    V: Verifier,
    V::State: Persist + PartialEq,
{
    let (erases, bytes) = (device.storage_mut().erases, device.storage_mut().programmed);
    let entry = device.enter(input, clock).unwrap();
    let s = device.storage_mut();
    (entry, s.erases - erases, s.programmed - bytes)
}

#[test]
fn writes_per_entry_by_verdict() {
    let mut report = String::new();
    for lockout in [Lockout::OPENPAYGO, Lockout::None] {
        let config = rtc(lockout);
        let mut server = op_server();
        let mut device = op_device(config, 0);
        let len = u64::try_from(Engine::<OpenPaygoVerifier, Flash>::record_len()).unwrap();
        let token = server.issue(Command::AddCredit(days(1)));
        let counted = lockout != Lockout::None;
        let cases: [(&str, &[u8], u64); 4] = [
            // A valid code: the attempt counted, then the result.
            ("valid", token.as_bytes(), if counted { 2 } else { 1 }),
            // The same code again: the count, then the count restored.
            ("duplicate", token.as_bytes(), if counted { 2 } else { 0 }),
            // A wrong code: the count is its result.
            ("wrong", b"111111111", u64::from(counted)),
            // Not a code of this form: refused on its shape, before the count.
            ("malformed", b"12345", 0),
        ];
        for (what, input, writes) in cases {
            let (entry, erases, bytes) = cost(&mut device, input, 5);
            assert_eq!(
                (erases, bytes),
                (writes, writes * len),
                "{what} {lockout:?}: {entry:?}"
            );
            report.push_str(&format!("{what} {erases}, "));
        }
        // Locked out: refused unread, no write.
        if counted {
            for wrong in [b"222222222", b"333333333"] {
                assert_eq!(device.enter(wrong, 5).unwrap(), invalid());
            }
            let (entry, erases, _) = cost(&mut device, b"444444444", 5);
            assert!(matches!(entry, Entry::LockedOut { .. }));
            assert_eq!(erases, 0);
            report.push_str("locked out 0, ");
        }
        report.push_str(&format!("({lockout:?}; {len}-byte records)\n"));
    }
    eprintln!("record writes per entry:\n{report}");
}

#[test]
fn a_cut_result_write_leaves_the_attempt_counted_and_reports_the_verdict() {
    let config = rtc(Lockout::OPENPAYGO);
    let mut server = op_server();
    let token = server.issue(Command::AddCredit(days(1)));
    let len = u32::try_from(Engine::<OpenPaygoVerifier, Flash>::record_len()).unwrap();
    for (cut, verdict, fails) in [(0, None, 0), (len - 1, None, 0), (len, Some(()), 1)] {
        let mut device = op_device(config, 0);
        device.storage_mut().cut_after(cut);
        assert!(matches!(
            device.enter(token.as_bytes(), 5),
            Err(Error::Storage(MemError::PowerCut))
        ));
        assert_eq!(
            device.unsaved_verdict(),
            verdict.map(|()| applied(Command::AddCredit(days(1)), 2)),
            "cut {cut}"
        );
        // RAM holds what the store holds.
        assert_eq!(device.snapshot().lockout.fails, fails, "cut {cut}");
        device.storage_mut().power_on();
        let (mut device, _) = reboot(device, config, 6);
        assert_eq!(device.snapshot().lockout.fails, fails, "cut {cut}");
        // The code was not used: it applies now, and the count is cleared.
        assert_eq!(
            device.enter(token.as_bytes(), 6).unwrap(),
            applied(Command::AddCredit(days(1)), 2)
        );
        assert_eq!(device.unsaved_verdict(), None);
        assert_eq!(device.snapshot().lockout.fails, 0);
    }
}

/// Runs `entries` (text, firmware clock) through two devices, one with `policy` chosen at run
/// time and one with `fixed` (the same policy fixed at build time), rebooting both halfway:
/// every entry, status and record must be the same.
fn same_as_run_time<V, L>(
    make: impl Fn() -> (V, V::Secret),
    clock: ClockModel,
    policy: Lockout,
    fixed: L,
    entries: &[(&[u8], u32)],
) where
    V: Verifier,
    V::Secret: RecordKey,
    V::State: Persist + PartialEq + core::fmt::Debug,
    L: LockoutPolicy,
{
    assert_eq!(fixed.lockout(), policy);
    let (v, s) = make();
    let (mut a, _) = Engine::boot(v, s, Config::new(clock, policy), Flash::new(), 0).unwrap();
    let (v, s) = make();
    let (mut b, _) = Engine::boot(v, s, Config::new(clock, fixed), Flash::new(), 0).unwrap();
    let mut locked = 0;
    for (i, &(text, at)) in entries.iter().enumerate() {
        if i == entries.len() / 2 {
            let (v, s, store) = a.into_parts();
            a = Engine::boot(v, s, Config::new(clock, policy), store, at)
                .unwrap()
                .0;
            let (v, s, store) = b.into_parts();
            b = Engine::boot(v, s, Config::new(clock, fixed), store, at)
                .unwrap()
                .0;
        }
        let entry = a.enter(text, at).unwrap();
        assert_eq!(entry, b.enter(text, at).unwrap(), "entry {i}");
        locked += usize::from(matches!(entry, Entry::LockedOut { .. }));
        assert_eq!(a.status(at), b.status(at), "entry {i}");
        assert_eq!(a.snapshot(), b.snapshot(), "entry {i}");
        assert_eq!(a.sequence(), b.sequence(), "entry {i}");
    }
    assert!(
        locked > 0,
        "{policy:?}: the entries never reach the lockout"
    );
}

#[test]
fn a_lockout_fixed_at_build_time_decides_as_the_run_time_policy() {
    // OpenPAYGO's doubling: wrong codes into the wait, refused while it holds, a valid code.
    let mut server = op_server();
    let (add, add2) = (
        server.issue(Command::AddCredit(days(1))),
        server.issue(Command::AddCredit(days(2))),
    );
    let wrong: &[u8] = b"111111111";
    let mut entries = vec![(wrong, 0), (wrong, 1), (wrong, 2), (wrong, 3), (wrong, 70)];
    entries.extend([
        (add.as_bytes(), 200),
        (wrong, 201),
        (add2.as_bytes(), 202),
        (add.as_bytes(), 203),
    ]);
    let make = || (OpenPaygoVerifier::new(Form::STANDARD), op_secret());
    same_as_run_time(
        make,
        ClockModel::Rtc,
        Lockout::OPENPAYGO,
        OpenPaygoLockout,
        &entries,
    );

    // Nexus's bucket: the grace attempts spent, one earned back, a valid code.
    let mut server = full_server();
    let add = server.issue(Command::AddCredit(hours(1)));
    let bad = tamper_full(&server.issue(Command::AddCredit(hours(2))));
    let mut entries: Vec<(&[u8], u32)> = (0..8).map(|t| (bad.as_bytes(), t)).collect();
    entries.extend([
        (bad.as_bytes(), 800),
        (add.as_bytes(), 2_000),
        (bad.as_bytes(), 2_001),
    ]);
    let make = || (NexusVerifier::full(123_456_789), nexus_key());
    same_as_run_time(
        make,
        ClockModel::Runtime,
        Lockout::NEXUS,
        NexusLockout,
        &entries,
    );

    // AST's doubling, with its three free failures.
    let mut server = ast_server(Profile::L);
    let add = server.issue(Command::AddCredit(hours(5)));
    let bad = b"0000000000000000000000000".as_slice();
    let wrong_ast = add.replace('1', "2");
    let mut entries: Vec<(&[u8], u32)> = (0..6).map(|t| (wrong_ast.as_bytes(), t)).collect();
    entries.extend([(bad, 7), (add.as_bytes(), 100), (wrong_ast.as_bytes(), 101)]);
    let make = || (AstVerifier::without_lockout(), ast_secret(Profile::L));
    same_as_run_time(make, ClockModel::Rtc, Lockout::AST, AstLockout, &entries);
}
