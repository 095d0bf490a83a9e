//! An AST v1 device (SipHash-2-4, profile L, credit in days) run by the device-lock engine, as
//! its firmware would run it: the factory derives its key from a batch key, it boots from
//! flash (in memory here, `MemStorage`), a battery-backed RTC counts its credit down, the
//! engine applies AST's recommended lockout and keeps it across a power cut, and a token
//! entered twice counts once. The CRM issues real tokens with `AstIssuer`. Every step is
//! checked: the example fails if the device misbehaves.
//!
//! Run: `cargo run --example device_access`.

use core::error::Error;

use paylock::access::{self, AstIssuer, AstVerifier, Profile, Suite, Unit};
use paylock::device::{Boot, ClockModel, Config, Engine, Entry, Lockout, MemStorage, Status};
use paylock::{Command, Credit, Issuer, Key, Payg, Rejection, TimeUnit};

/// Fails the example, naming the expression, unless `$got == $want`.
macro_rules! check {
    ($got:expr, $want:expr) => {{
        let (got, want) = ($got, $want);
        if got != want {
            let what = stringify!($got);
            return Err(format!("{what} is {got:?}, expected {want:?}").into());
        }
    }};
}

const DAY: u32 = 86_400;
/// Bytes in each of the two flash slots; the record takes 99 (AST's state keeps the spec's 16
/// device parameters).
const SLOT_LEN: usize = 128;

type Flash = MemStorage<SLOT_LEN>;
type Device = Engine<AstVerifier, Flash>;

fn main() -> Result<(), Box<dyn Error>> {
    // The factory derives the device key from its batch key; the CRM can derive it again.
    let batch_key = Key::from_hex("000102030405060708090a0b0c0d0e0f")?;
    let config = access::AstConfig {
        suite: Suite::SipHash24,
        profile: Profile::L,
        device_id: 42,
        key_rev: 0,
        unit: Unit::Days,
    };
    let secret = access::AstSecret::derive(&batch_key, config)?;
    let mut counter = 1; // the CRM's next counter for this device
    println!(
        "AST v1 device, RTC clock, {}-byte record in memory",
        Device::record_len()
    );

    // First power-on: blank flash, no credit.
    let (mut device, boot) = power_on(&secret, Flash::new(), 0)?;
    check!(boot, Boot::Blank);
    log(0, "first power-on: blank flash", device.status(0));

    // The customer pays for a month.
    let month = AstIssuer.issue(&secret, &mut counter, &days(30))?;
    let entry = device.enter(month.as_bytes(), 60)?;
    check!(entry, applied(days(30), counter - 1));
    let expiry = 60 + 30 * DAY;
    log(60, &format!("enter {month}: +30 days"), device.status(60));

    // The RTC runs: ten days later twenty are left. The same token again changes nothing.
    let t = 60 + 10 * DAY;
    check!(device.status(t).credit_seconds_left, 20 * DAY);
    check!(device.enter(month.as_bytes(), t)?, Entry::Duplicate);
    check!(device.status(t).credit_seconds_left, 20 * DAY);
    log(
        t,
        &format!("10 days on, enter {month}: duplicate"),
        device.status(t),
    );

    // Wrong codes (the month's token with a digit changed): three are free, the fourth locks
    // the keypad for a minute.
    for (k, last) in ["0", "1", "2", "3"].iter().enumerate() {
        let mut wrong = month.as_str().to_owned();
        wrong.pop();
        wrong.push_str(last);
        let entry = device.enter(wrong.as_bytes(), t)?;
        check!(entry, Entry::Rejected(Rejection::Invalid));
        check!(
            device.status(t).lockout_seconds_left,
            if k < 3 { 0 } else { 60 }
        );
        log(t, &format!("enter {wrong}: wrong code"), device.status(t));
    }

    // The power is cut (no power-down call) and back 20 s later: still locked.
    let flash = device.into_storage();
    let t = t + 20;
    let (mut device, _) = power_on(&secret, flash, t)?;
    let unlock = AstIssuer.issue(&secret, &mut counter, &Command::Unlock)?;
    let entry = device.enter(unlock.as_bytes(), t)?;
    check!(entry, Entry::LockedOut { seconds_left: 40 });
    log(
        t,
        &format!("power cut; enter {unlock}: locked out"),
        device.status(t),
    );

    // After the wait the customer's last payment unlocks the device for good.
    let t = t + 40;
    check!(
        device.enter(unlock.as_bytes(), t)?,
        applied(Command::Unlock, counter - 1)
    );
    let status = device.status(t);
    check!(status.payg, Payg::Unlocked);
    log(t, &format!("enter {unlock}: paid off"), status);

    // Long after the credit would have run out the product still works.
    let t = expiry + 365 * DAY;
    check!(device.status(t).active, true);
    log(t, "a year later", device.status(t));
    Ok(())
}

/// Powers the device on at RTC reading `rtc` with the flash `storage`: the firmware reads its
/// provisioning and boots the engine. The engine runs AST's lockout itself.
fn power_on(
    secret: &access::AstSecret,
    storage: Flash,
    rtc: u32,
) -> Result<(Device, Boot), Box<dyn Error>> {
    let config = Config::new(ClockModel::Rtc, Lockout::AST);
    let verifier = AstVerifier::without_lockout();
    Ok(Engine::boot(
        verifier,
        secret.clone(),
        config,
        storage,
        rtc,
    )?)
}

/// `n` days of credit.
const fn days(n: u32) -> Command {
    Command::AddCredit(Credit::new(n, TimeUnit::Days))
}

/// The entry of an applied token with AST counter `counter`.
const fn applied(command: Command, counter: u32) -> Entry {
    Entry::Applied {
        command,
        sequence: counter,
        spent: true,
    }
}

/// One line of the device log.
fn log(now: u32, event: &str, status: Status) {
    let lockout = match status.lockout_seconds_left {
        0 => String::new(),
        s => format!(", keypad locked {s} s"),
    };
    let credit = match status.payg {
        Payg::Unlocked => "paid off".to_owned(),
        Payg::Enabled => format!("credit {}", time(status.credit_seconds_left)),
    };
    println!(
        "  {:>12}  {event:<58} {} {credit}{lockout}",
        time(now),
        if status.active { "on, " } else { "off," },
    );
}

/// `3 d 04:05` from seconds.
fn time(seconds: u32) -> String {
    let (d, h, m) = (seconds / DAY, seconds % DAY / 3_600, seconds % 3_600 / 60);
    format!("{d} d {h:02}:{m:02}")
}
