//! `paylock demo`: a CRM issues OpenPAYGO tokens, Nexus keycodes (full and small keypads) and
//! AST v1 tokens after payments; simulated devices enter them.

use std::process::ExitCode;

use paylock::Key;
use paylock::access::{self, Action, Locked, Unit};
use paylock::nexus::sim::SimProduct;
use paylock::nexus::{
    Feedback, FullIssuer, Keycode, KeycodeProcessor, NexusConfig, NexusIssueError, NexusState,
    Protocol, Response, SetTarget, SmallIssuer,
};
use paylock::openpaygo::{
    Form, Meaning, OpenPaygoActivation, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret,
    OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
};

/// The key and starting code of the OpenPAYGO documentation's quick test, so the first tokens
/// below can be checked against that document.
const DEMO_KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";
const DEMO_STARTING_CODE: u32 = 123_456_789;

/// The device as its firmware sees it: replay state and credit in days.
struct Device {
    secret: OpenPaygoSecret,
    decoder: OpenPaygoVerifier,
    state: OpenPaygoState,
    days_left: u32,
    payg: bool,
}

impl Device {
    fn enter(&mut self, typed: &str) {
        print!("  device <- {typed:<12} ");
        match self
            .decoder
            .decode(&self.secret, &mut self.state, typed.as_bytes())
        {
            Ok(OpenPaygoVerdict::Valid(a)) => {
                self.apply(a);
                println!(
                    "APPLIED  {} {} (count {})",
                    a.meaning.name(),
                    a.value,
                    a.count
                );
            }
            Ok(OpenPaygoVerdict::AlreadyUsed) => println!("REFUSED  already used (replay)"),
            Ok(OpenPaygoVerdict::Invalid) => println!("REFUSED  invalid (typo or wrong device)"),
            Err(e) => println!("REFUSED  malformed: {e}"),
        }
        self.show();
    }

    fn apply(&mut self, a: OpenPaygoActivation) {
        match a.meaning {
            Meaning::AddTime => self.days_left = self.days_left.saturating_add(a.value),
            Meaning::SetTime => (self.days_left, self.payg) = (a.value, true),
            Meaning::DisablePayg => self.payg = false,
            Meaning::CounterSync | Meaning::Reserved => {}
        }
    }

    fn show(&self) {
        let credit = if self.payg {
            format!("{} days of credit", self.days_left)
        } else {
            "PAYG off (paid off)".into()
        };
        println!(
            "             state: max_count {:>2}, used_counts {:#06x}; {credit}",
            self.state.max_count, self.state.used_counts
        );
    }
}

pub fn run() -> Result<ExitCode, String> {
    let key = Key::from_hex(DEMO_KEY).map_err(|e| e.to_string())?;
    let secret =
        OpenPaygoSecret::new(key.clone(), DEMO_STARTING_CODE).map_err(|e| e.to_string())?;
    let form = Form::STANDARD;
    println!(
        "Provisioning: key {DEMO_KEY}, starting code {DEMO_STARTING_CODE}, 9-digit tokens, count 0"
    );
    let mut device = Device {
        secret: OpenPaygoSecret::new(key, DEMO_STARTING_CODE).map_err(|e| e.to_string())?,
        decoder: OpenPaygoVerifier::new(form),
        state: OpenPaygoState::default(),
        days_left: 0,
        payg: true,
    };
    let encoder = OpenPaygoIssuer::new(form);
    let mut server_count = 0;
    let mut issued = Vec::new();
    let payments = [
        ("payment of 1 day", OpenPaygoMessage::AddTime(1)),
        ("payment of 29 days", OpenPaygoMessage::AddTime(29)),
        (
            "support resets credit to 7 days",
            OpenPaygoMessage::SetTime(7),
        ),
        (
            "final instalment: unlock for good",
            OpenPaygoMessage::DisablePayg,
        ),
    ];
    for (why, message) in payments {
        let g = encoder
            .generate(&secret, server_count, message)
            .map_err(|e| e.to_string())?;
        server_count = g.count;
        println!(
            "\nCRM: {why} -> SMS token {} (count {})",
            g.token.grouped(3).unwrap_or(g.token),
            g.count
        );
        device.enter(g.token.as_str());
        issued.push(g.token);
    }
    println!("\nCustomer re-enters the first token:");
    if let Some(first) = issued.first() {
        device.enter(first.as_str());
    }
    println!("\nCustomer mistypes a fresh token (one digit changed):");
    let fresh = encoder
        .generate(&secret, server_count, OpenPaygoMessage::SetTime(30))
        .map_err(|e| e.to_string())?;
    device.enter(&with_typo(fresh.token.as_str()));
    println!("\nCustomer types a letter:");
    device.enter("66248679O");
    println!("\nThen enters the fresh token correctly (re-locks PAYG with 30 days):");
    device.enter(fresh.token.as_str());
    nexus_demo()?;
    ast_demo()?;
    Ok(ExitCode::SUCCESS)
}

/// The token with its fifth digit changed, as a customer might mistype it.
fn with_typo(token: &str) -> String {
    with_typo_at(token, 4, "0123456789")
}

/// The token with the key at `position` changed to the next of `keys` (cyclically).
fn with_typo_at(token: &str, position: usize, keys: &str) -> String {
    token
        .char_indices()
        .map(|(i, c)| match keys.find(c) {
            Some(at) if i == position => keys
                .get(at + 1..)
                .and_then(|rest| rest.chars().chain(keys.chars()).next())
                .unwrap_or(c),
            _ => c,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Nexus: the same story with keycodes, on a full-keypad and a small-keypad product.

/// The key of the nexus-keycode README, so the first codes can be checked against it.
const NEXUS_KEY: &str = "deadbeefdeadbeefdeadbeefdeadbeef";
/// Seconds between two codes: the rate limiter (6 attempts, then one per 12 minutes) never
/// gets in the way of a paying customer.
const HOUR: u32 = 3_600;

/// A Nexus product: the engine's RAM half, its persisted state and a credit counter.
struct NexusProduct {
    key: Key,
    engine: KeycodeProcessor,
    state: NexusState,
    product: SimProduct,
    now: u32,
}

impl NexusProduct {
    fn new(key: &Key, config: NexusConfig) -> Self {
        let state = NexusState::FRESH;
        Self {
            key: key.clone(),
            engine: KeycodeProcessor::new(config, &state),
            state,
            product: SimProduct::new(0, false, 123_456_789),
            now: 0,
        }
    }

    fn enter(&mut self, keys: &str) {
        print!("  device <- {keys:<17} ");
        self.now += HOUR;
        let p = self.engine.enter_keycode(
            keys.as_bytes(),
            self.now,
            &self.key,
            &mut self.state,
            &mut self.product,
        );
        let applied = self.product.feedback.contains(&Feedback::MessageApplied);
        let (calls, _) = self.product.take();
        let id = p
            .message_id
            .map_or_else(String::new, |id| format!(" (ID {id})"));
        match p.response {
            Response::Invalid => println!("REFUSED  invalid (typo or wrong device)"),
            Response::ValidDuplicate => println!("REFUSED  already used (replay){id}"),
            _ if applied => println!("APPLIED  {}{id}", calls.join(", ")),
            other => println!("{}", other.name()),
        }
        self.show();
    }

    fn show(&self) {
        let p = &self.product;
        let credit = match (p.unlocked, self.engine.config().protocol) {
            (true, _) => "PAYG off (paid off)".to_owned(),
            (false, Protocol::Full) => format!("{} h of credit", p.credit_seconds / 3_600),
            (false, Protocol::Small) => format!("{} days of credit", p.credit_seconds / 86_400),
        };
        let w = self.state.window;
        println!(
            "{:>19} window Pd {}, used {:06x}; {credit}",
            "state:", w.pd_index, w.received
        );
    }
}

fn issued(why: &str, code: Result<Keycode, NexusIssueError>, id: u32) -> Result<Keycode, String> {
    let code = code.map_err(|e| e.to_string())?;
    println!("\nCRM: {why} -> SMS keycode {} (ID {id})", code.display());
    Ok(code)
}

fn nexus_demo() -> Result<(), String> {
    let key = Key::from_hex(NEXUS_KEY).map_err(|e| e.to_string())?;
    println!("\n\nNexus, full protocol (keys 0-9 * #, hours): key {NEXUS_KEY}, next ID 42");
    nexus_full(&key)?;
    println!("\n\nNexus, small protocol (keys 1-5, days): the same key, next ID 48");
    nexus_small(&key)
}

fn nexus_full(key: &Key) -> Result<(), String> {
    let issuer = FullIssuer::new();
    let mut device = NexusProduct::new(key, NexusConfig::full());
    let week = issued("payment of 1 week", issuer.add_credit(key, 42, 168), 42)?;
    device.enter(week.keys().as_str());
    let day = issued("payment of 1 day", issuer.add_credit(key, 43, 24), 43)?;
    device.enter(day.keys().as_str());
    println!("\nCustomer re-enters the first keycode:");
    device.enter(week.keys().as_str());
    let reset = issued(
        "support sets credit to 10 days",
        issuer.set_credit(key, 44, 240),
        44,
    )?;
    println!("Customer mistypes it (one digit changed):");
    device.enter(&with_typo(reset.keys().as_str()));
    println!("Then types it correctly:");
    device.enter(reset.keys().as_str());
    let unlock = issued(
        "final instalment: unlock for good",
        issuer.unlock(key, 45),
        45,
    )?;
    device.enter(unlock.keys().as_str());
    Ok(())
}

fn nexus_small(key: &Key) -> Result<(), String> {
    let issuer = SmallIssuer::new();
    let mut device = NexusProduct::new(key, NexusConfig::small());
    let week = issued("payment of 7 days", issuer.add_credit(key, 48, 7), 48)?;
    device.enter(week.keys().as_str());
    let reset = issued(
        "support sets credit to 10 days",
        issuer.set_credit(key, 49, SetTarget::Days(10)),
        49,
    )?;
    println!("Customer mistypes it (one key changed):");
    // A key of the credit field (keys 1-3 are the ID, 4 the type).
    device.enter(&with_typo_at(reset.keys().as_str(), 6, "2345"));
    println!("Then types it correctly:");
    device.enter(reset.keys().as_str());
    println!("\nCRM: 84 days and clear the restricted flag (extended code) at ID 50:");
    let target = SetTarget::Days(84);
    match issuer.extended_set_credit_wipe_restricted(key, 50, target) {
        Err(e @ NexusIssueError::ExtendedCollision { .. }) => println!("  refused: {e}"),
        other => println!("  unexpected: {other:?}"),
    }
    let id = issuer
        .next_extended_id(key, 50, target)
        .map_err(|e| e.to_string())?;
    let extended = issued(
        "the same at the next valid ID",
        issuer.extended_set_credit_wipe_restricted(key, id, target),
        id,
    )?;
    device.enter(extended.keys().as_str());
    println!("\nCustomer re-enters the first keycode:");
    device.enter(week.keys().as_str());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// AST v1: the same story with 20-digit tokens, then guessed codes meeting the lockout.

/// The batch key and device of the spec's example 1, so the first token can be checked there.
const AST_BATCH_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const AST_DEVICE_ID: u32 = 123_456_789;
/// Seconds between two entries on the AST device.
const AST_STEP: u32 = 10;

/// An AST device: its secret, the state it persists and its clock (the lockout is timed in
/// seconds).
struct AstProduct {
    secret: access::AstSecret,
    state: access::AstState,
    now: u32,
}

impl AstProduct {
    fn enter(&mut self, typed: &str) {
        self.now += AST_STEP;
        print!("  device <- {typed:<24} ");
        let verdict = access::verify(&self.secret, &mut self.state, typed.as_bytes(), self.now);
        let reason = verdict.reason_name().unwrap_or("");
        match verdict {
            access::AstVerdict::Applied(m) => {
                println!("APPLIED  {} (counter {})", action_text(m.action), m.counter);
            }
            access::AstVerdict::Duplicate { message, .. } => {
                println!("REFUSED  duplicate, {reason} (counter {})", message.counter)
            }
            access::AstVerdict::Invalid { lock_seconds, .. } if lock_seconds > 0 => {
                println!("REFUSED  invalid ({reason}); keypad locked for {lock_seconds} s");
            }
            access::AstVerdict::Invalid { .. } => println!("REFUSED  invalid ({reason})"),
            access::AstVerdict::Malformed(e) => println!("REFUSED  malformed ({reason}): {e}"),
            access::AstVerdict::Locked(Locked::Lockout { retry_at }) => println!(
                "REFUSED  locked out, unread ({} s left)",
                retry_at.saturating_sub(self.now)
            ),
            access::AstVerdict::Locked(Locked::TestRate { .. }) => println!("REFUSED  test quota"),
        }
        self.show();
    }

    fn show(&self) {
        let s = &self.state;
        let lock = if s.lock_until > self.now {
            format!(", locked {} s more", s.lock_until - self.now)
        } else {
            String::new()
        };
        println!(
            "{:>19} max_counter {}, used {:#x}; {} h of credit; fails {}{lock}",
            "state:", s.max_counter, s.used, s.credit, s.fails
        );
    }
}

fn action_text(action: Action) -> String {
    match action {
        Action::AddCredit(h) => format!("ADD_CREDIT {h} h"),
        Action::SetCredit(h) => format!("SET_CREDIT {h} h"),
        other => format!("{}", other.token_type()),
    }
}

/// The server side: the device's secret and its next counter.
struct AstServer {
    secret: access::AstSecret,
    next: u32,
}

impl AstServer {
    fn issue(&mut self, why: &str, action: Action) -> Result<String, String> {
        let g = access::generate(&self.secret, self.next, action).map_err(|e| e.to_string())?;
        println!(
            "\nCRM: {why} -> SMS token {} (counter {})",
            g.token, g.counter
        );
        self.next += 1;
        Ok(g.token.as_str().to_owned())
    }
}

fn ast_demo() -> Result<(), String> {
    let config = access::AstConfig {
        suite: access::Suite::AesCmac,
        profile: access::Profile::L,
        device_id: AST_DEVICE_ID,
        key_rev: 0,
        unit: Unit::Hours,
    };
    let batch_key = Key::from_hex(AST_BATCH_KEY).map_err(|e| e.to_string())?;
    let secret = access::AstSecret::derive(&batch_key, config).map_err(|e| e.to_string())?;
    println!("\n\nAST v1, suite 0 (AES-128-CMAC), profile L (20 digits), credit in hours");
    println!(
        "Factory: batch key {AST_BATCH_KEY}, device {AST_DEVICE_ID}, key_rev 0 -> device key {}",
        hex::encode(secret.key().as_bytes())
    );
    let mut server = AstServer {
        secret: secret.clone(),
        next: 1,
    };
    let mut device = AstProduct {
        secret,
        state: access::AstState::FRESH,
        now: 1_000,
    };
    let first = server.issue("payment of 72 hours", Action::AddCredit(72))?;
    device.enter(&first);
    let day = server.issue("payment of 24 hours", Action::AddCredit(24))?;
    device.enter(&day);
    println!("\nCustomer re-enters the first token:");
    device.enter(&first);
    let reset = server.issue("support sets credit to 48 hours", Action::SetCredit(48))?;
    println!("Customer mistypes it (one digit changed):");
    device.enter(&with_typo_at(&reset, 7, "0123456789"));
    println!("Customer types a letter:");
    device.enter(&reset.replacen('3', "B", 1));
    println!("Then types it correctly:");
    device.enter(&reset);
    ast_lockout(&mut server, &mut device)
}

/// Guessed codes: three free failures, then a lock that doubles with each further one.
fn ast_lockout(server: &mut AstServer, device: &mut AstProduct) -> Result<(), String> {
    println!("\nSomeone types guessed codes:");
    for digit in ['1', '2', '3', '4'] {
        let guess: String = (0..5)
            .map(|_| core::iter::repeat_n(digit, 4).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        device.enter(&guess);
    }
    let week = server.issue("payment of 168 hours", Action::AddCredit(168))?;
    println!("The customer enters it during the lock:");
    device.enter(&week);
    device.now += 60;
    println!("A minute later:");
    device.enter(&week);
    Ok(())
}
