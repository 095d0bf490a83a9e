//! An OpenPAYGO Token device run by the device-lock engine, as its firmware would run it: the
//! factory provisions it, it boots from flash (a file here), a battery-backed RTC counts its
//! credit down even while it is off, a wrong-code lockout survives a power cut, and a token
//! entered twice counts once. The CRM issues real tokens with `OpenPaygoIssuer`. Every step is
//! checked: the example fails if the device misbehaves.
//!
//! Run: `cargo run --example device_openpaygo`.

use core::error::Error;
use std::path::PathBuf;

use paylock::device::{Boot, ClockModel, Config, Engine, Entry, FileStorage, Lockout, Status};
use paylock::openpaygo::{Form, OpenPaygoIssuer, OpenPaygoSecret, OpenPaygoVerifier};
use paylock::{Command, Credit, Issuer, Key, Rejection, TimeUnit};

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
/// Bytes in each of the two flash slots; the record takes 60.
const SLOT_LEN: usize = 64;

type Device = Engine<OpenPaygoVerifier, FileStorage>;

fn main() -> Result<(), Box<dyn Error>> {
    // The factory provisions the device and gives the CRM the same key and starting code.
    let secret = OpenPaygoSecret::new(
        Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1")?,
        123_456_789,
    )?;
    let flash = Flash::new("openpaygo");
    let crm = OpenPaygoIssuer::new(Form::STANDARD);
    let mut count = 0; // the CRM's counter for this device
    println!(
        "OpenPAYGO device, RTC clock, flash in {}",
        flash.0.display()
    );

    // First power-on: blank flash, PAYG enabled, no credit.
    let (mut device, boot) = power_on(&secret, &flash, 0)?;
    check!(boot, Boot::Blank);
    check!(!device.status(0).active, true);
    log(0, "first power-on: blank flash", device.status(0));

    // The customer pays for a week and types the token the CRM sends.
    let week = crm.issue(&secret, &mut count, &days(7))?;
    let entry = device.enter(week.as_bytes(), 60)?;
    check!(entry, applied(days(7), count));
    let expiry = 60 + 7 * DAY;
    check!(device.status(60).credit_seconds_left, 7 * DAY);
    log(60, &format!("enter {week}: +7 days"), device.status(60));

    // The RTC runs: three days later four are left.
    let t = 60 + 3 * DAY;
    check!(device.status(t).credit_seconds_left, 4 * DAY);
    log(t, "3 days later", device.status(t));

    // Switched off for two days: the RTC keeps counting, so two days are left at power-on.
    device.power_down(t)?;
    drop(device);
    let t = t + 2 * DAY;
    let (mut device, boot) = power_on(&secret, &flash, t)?;
    check!(matches!(boot, Boot::Restored { .. }), true);
    check!(device.status(t).credit_seconds_left, 2 * DAY);
    log(t, "on again after 2 days off", device.status(t));

    // The same token again is a duplicate: no credit, and not a wrong code either.
    check!(device.enter(week.as_bytes(), t)?, Entry::Duplicate);
    check!(device.status(t).credit_seconds_left, 2 * DAY);
    log(
        t,
        &format!("enter {week} again: duplicate"),
        device.status(t),
    );

    // Wrong codes: two are free, the third locks the keypad for a minute.
    for (k, wrong) in ["111222333", "404404404", "987654321"].iter().enumerate() {
        let entry = device.enter(wrong.as_bytes(), t)?;
        check!(entry, Entry::Rejected(Rejection::Invalid));
        let wait = device.status(t).lockout_seconds_left;
        check!(wait, if k < 2 { 0 } else { 60 });
        log(t, &format!("enter {wrong}: wrong code"), device.status(t));
    }

    // The power is cut (no power-down call) and back 10 s later: still locked, even for a
    // genuine token.
    drop(device);
    let t = t + 10;
    let (mut device, _) = power_on(&secret, &flash, t)?;
    check!(device.status(t).lockout_seconds_left, 50);
    let month = crm.issue(&secret, &mut count, &days(30))?;
    let entry = device.enter(month.as_bytes(), t)?;
    check!(entry, Entry::LockedOut { seconds_left: 50 });
    log(
        t,
        &format!("power cut; enter {month}: locked out"),
        device.status(t),
    );

    // Once the minute is over the month is added to what is left of the week.
    let t = t + 50;
    check!(device.enter(month.as_bytes(), t)?, applied(days(30), count));
    let expiry = expiry + 30 * DAY;
    check!(device.status(t).credit_seconds_left, expiry - t);
    log(t, &format!("enter {month}: +30 days"), device.status(t));

    // When the credit runs out the product stops.
    check!(device.status(expiry - 1).active, true);
    check!(!device.status(expiry).active, true);
    log(expiry, "credit used up", device.status(expiry));
    Ok(())
}

/// Powers the device on at RTC reading `rtc`: the firmware reads its provisioning and boots
/// the engine from flash.
fn power_on(
    secret: &OpenPaygoSecret,
    flash: &Flash,
    rtc: u32,
) -> Result<(Device, Boot), Box<dyn Error>> {
    let storage = FileStorage::open(&flash.0, SLOT_LEN)?;
    let config = Config::new(ClockModel::Rtc, Lockout::OPENPAYGO);
    let decoder = OpenPaygoVerifier::new(Form::STANDARD);
    Ok(Engine::boot(decoder, secret.clone(), config, storage, rtc)?)
}

/// `n` days of credit.
const fn days(n: u32) -> Command {
    Command::AddCredit(Credit::new(n, TimeUnit::Days))
}

/// The entry of an applied token with OpenPAYGO count `count`.
const fn applied(command: Command, count: u32) -> Entry {
    Entry::Applied {
        command,
        sequence: count,
        spent: true,
    }
}

/// One line of the device log.
fn log(now: u32, event: &str, status: Status) {
    let lockout = match status.lockout_seconds_left {
        0 => String::new(),
        s => format!(", keypad locked {s} s"),
    };
    println!(
        "  {:>12}  {event:<42} {} credit {}{lockout}",
        time(now),
        if status.active { "on, " } else { "off," },
        time(status.credit_seconds_left),
    );
}

/// `3 d 04:05` from seconds.
fn time(seconds: u32) -> String {
    let (d, h, m) = (seconds / DAY, seconds % DAY / 3_600, seconds % 3_600 / 60);
    format!("{d} d {h:02}:{m:02}")
}

/// The device's flash: a file in the temp directory, removed when the example ends.
struct Flash(PathBuf);

impl Flash {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("paylock-{name}-{}.flash", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }
}

impl Drop for Flash {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
