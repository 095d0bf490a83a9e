//! A Nexus keycode device (full protocol, `0-9*#` keypad) run by the device-lock engine, as its
//! firmware would run it: it boots from flash (a file here), and its clock is the uptime
//! counter, which restarts at every power-on, so credit is used only while the product is on.
//! Nexus's token-bucket lockout survives a power cut, and a keycode entered twice counts once.
//! The CRM issues real keycodes with `FullIssuer`. Every step is checked: the example
//! fails if the device misbehaves.
//!
//! Run: `cargo run --example device_nexus`.

use core::error::Error;
use std::path::PathBuf;

use paylock::device::{Boot, ClockModel, Config, Engine, Entry, FileStorage, Lockout, Status};
use paylock::nexus::{FullIssuer, NexusVerifier};
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

const HOUR: u32 = 3_600;
/// Bytes in each of the two flash slots; the record takes 54.
const SLOT_LEN: usize = 64;
/// The ID printed on the device, which full-protocol devices check in some factory codes.
const PAYG_ID: u32 = 123_456_789;

type Device = Engine<NexusVerifier, FileStorage>;

fn main() -> Result<(), Box<dyn Error>> {
    // The factory provisions the device key and gives it to the CRM.
    let key = Key::from_hex("fedcba9876543210fedcba9876543210")?;
    let flash = Flash::new("nexus");
    let crm = FullIssuer::new();
    let mut id = 0; // the CRM's next message ID for this device
    println!(
        "Nexus full-protocol device, runtime clock, flash in {}",
        flash.0.display()
    );

    // First power-on: blank flash, no credit. The uptime counter starts at 0.
    let (mut device, boot) = power_on(&key, &flash)?;
    check!(boot, Boot::Blank);
    log(0, "first power-on: blank flash", device.status(0));

    // The customer buys a day and types the keycode the CRM sends.
    let day = crm.issue(&key, &mut id, &hours(24))?;
    let entry = device.enter(day.keys().as_bytes(), 30)?;
    check!(entry, applied(24 * HOUR, id - 1));
    check!(device.status(30).credit_seconds_left, 24 * HOUR);
    log(30, &format!("enter {day}: +24 h"), device.status(30));

    // Wrong keycodes: a new device has six attempts saved up, and earns one back every 12
    // minutes of device time. After the sixth the next attempt comes 12 minutes after the
    // device was new: in 680 s.
    for k in 1..=6 {
        let wrong = format!("*{k}00 000 000 000 00#");
        let entry = device.enter(wrong.as_bytes(), 40)?;
        check!(entry, Entry::Rejected(Rejection::Invalid));
        log(40, &format!("enter {wrong}: wrong code"), device.status(40));
    }
    check!(device.status(40).lockout_seconds_left, 680);

    // The power is cut (no power-down call) and back: device time resumes where the last
    // record left it (uptime 0 is device time 40), so the wait is still on, even for a
    // genuine keycode.
    drop(device);
    let (mut device, _) = power_on(&key, &flash)?;
    check!(device.status(0).lockout_seconds_left, 680);
    let week = crm.issue(&key, &mut id, &hours(7 * 24))?;
    let entry = device.enter(week.keys().as_bytes(), 0)?;
    check!(entry, Entry::LockedOut { seconds_left: 680 });
    log(
        0,
        &format!("power cut; enter {week}: locked out"),
        device.status(0),
    );

    // When the wait is over an attempt is back, and the week is added to the day.
    let mut uptime = 680;
    let left = device.status(uptime).credit_seconds_left;
    check!(left, 24 * HOUR - (40 + uptime - 30));
    let entry = device.enter(week.keys().as_bytes(), uptime)?;
    check!(entry, applied(7 * 24 * HOUR, id - 1));
    let left = left + 7 * 24 * HOUR;
    check!(device.status(uptime).credit_seconds_left, left);
    log(
        uptime,
        &format!("enter {week}: +7 days"),
        device.status(uptime),
    );

    // Ten hours of use, with the firmware's hourly tick saving a clock checkpoint.
    for _ in 0..10 {
        uptime += HOUR;
        device.tick(uptime)?;
    }
    let left = left - 10 * HOUR;
    check!(device.status(uptime).credit_seconds_left, left);
    log(uptime, "10 hours of use", device.status(uptime));

    // Switched off for three days: the uptime restarts at 0, and no credit was used meanwhile.
    device.power_down(uptime)?;
    drop(device);
    let (mut device, boot) = power_on(&key, &flash)?;
    check!(matches!(boot, Boot::Restored { .. }), true);
    check!(device.status(0).credit_seconds_left, left);
    log(0, "on again after 3 days off", device.status(0));

    // The week's keycode again is a duplicate: no credit, and not a wrong code either.
    check!(device.enter(week.keys().as_bytes(), 0)?, Entry::Duplicate);
    check!(device.status(0).credit_seconds_left, left);
    log(
        0,
        &format!("enter {week} again: duplicate"),
        device.status(0),
    );
    Ok(())
}

/// Powers the device on (uptime 0): the firmware reads its provisioning and boots the engine
/// from flash.
fn power_on(key: &Key, flash: &Flash) -> Result<(Device, Boot), Box<dyn Error>> {
    let storage = FileStorage::open(&flash.0, SLOT_LEN)?;
    let config = Config::new(ClockModel::Runtime, Lockout::NEXUS);
    let verifier = NexusVerifier::full(PAYG_ID);
    Ok(Engine::boot(verifier, key.clone(), config, storage, 0)?)
}

/// `n` hours of credit.
const fn hours(n: u32) -> Command {
    Command::AddCredit(Credit::new(n, TimeUnit::Hours))
}

/// The entry of an applied ADD_CREDIT keycode: the verifier reports credit in seconds.
const fn applied(seconds: u32, id: u32) -> Entry {
    Entry::Applied {
        command: Command::AddCredit(Credit::new(seconds, TimeUnit::Seconds)),
        sequence: id,
        spent: true,
    }
}

/// One line of the device log.
fn log(uptime: u32, event: &str, status: Status) {
    let lockout = match status.lockout_seconds_left {
        0 => String::new(),
        s => format!(", keypad locked {s} s"),
    };
    println!(
        "  uptime {:>8}  {event:<50} {} credit {}{lockout}",
        time(uptime),
        if status.active { "on, " } else { "off," },
        time(status.credit_seconds_left),
    );
}

/// `14:05:09` from seconds.
fn time(seconds: u32) -> String {
    let (h, m, s) = (seconds / HOUR, seconds % HOUR / 60, seconds % 60);
    format!("{h}:{m:02}:{s:02}")
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
