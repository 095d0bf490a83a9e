//! ACME-8, a made-up proprietary scheme built only on paylock's public API: what a
//! manufacturer with its own token format writes to sit next to the built-in schemes.
//!
//! A token is 8 digits, `PP MMMMMM`: a 2-digit payload (01-90 add that many days, 00 unlock,
//! 99 counter sync) and a 6-digit MAC, SipHash-2-4 of (serial, counter, payload) under the
//! device key, mod 10^6. The counter is not sent: the device tries the next few counters.
//! An illustration of the extension point, not a recommendation: 20 bits of MAC and no
//! lockout would be weak in the field. On a device the device-lock engine adds the lockout and
//! persists [`AcmeState`] in its record ([`Persist`]), authenticated under a key the secret
//! derives ([`RecordKey`]).

use paylock::capability::{Capabilities, CommandKind, CreditRange, Keypad};
use paylock::persist::{Persist, Reader, RecordKey, Writer, derive_record_key};
use paylock::{
    Command, Context, Credit, IssueError, Issuer, Key, Outcome, ParseError, Rejection, TimeUnit,
    TokenText, Verifier,
};
use paylock_protocol::registry::{IssuerModel, Model, Scheme};
use paylock_protocol::simulate::{DeviceBuild, Lockout, Simulated, SimulatedDevice};
use paylock_protocol::{Error, Input, field};
use serde::Deserialize;

/// Payload of an UNLOCK token.
const UNLOCK: u8 = 0;
/// Payload of a COUNTER_SYNC token.
const SYNC: u8 = 99;
/// Digits in a token.
const DIGITS: usize = 8;
/// MAC values: six decimal digits.
const MAC_MODULUS: u64 = 1_000_000;
/// How far past the last applied counter a token may be (tokens lost in between are skipped).
const FORWARD: u32 = 10;
/// How many applied counters (the last included) a replay is recognised for.
const BACK: u32 = 10;

const COMMANDS: &[CommandKind] = &[
    CommandKind::AddCredit,
    CommandKind::Unlock,
    CommandKind::CounterSync,
];

/// What ACME-8 carries: ADD of 1-90 days, UNLOCK, COUNTER_SYNC; 8 digits; counters from 1.
pub const CAPABILITIES: Capabilities = Capabilities::new("acme8", COMMANDS, Keypad::Digits, 8)
    .with_add_credit(CreditRange::new(TimeUnit::Days, 1, 90))
    .with_first_counter(1);

/// A device's secret: its key and printed serial number (bound in every MAC).
#[derive(Clone, Debug)]
pub struct AcmeSecret {
    /// The device key.
    pub key: Key,
    /// The serial number.
    pub serial: u32,
}

/// The device record's MAC key, derived from the device key as the built-in schemes do.
impl RecordKey for AcmeSecret {
    fn record_key(&self) -> Key {
        derive_record_key(&self.key)
    }
}

/// The issuer; the counter is the next one to use.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcmeIssuer;

impl Issuer for AcmeIssuer {
    type Secret = AcmeSecret;
    type Counter = u32;
    type Token = TokenText;

    fn issue(
        &self,
        secret: &AcmeSecret,
        counter: &mut u32,
        command: &Command,
    ) -> Result<TokenText, IssueError> {
        CAPABILITIES.check(command)?;
        let payload = match *command {
            Command::AddCredit(c) => days(c)?,
            Command::Unlock => UNLOCK,
            Command::CounterSync => SYNC,
            _ => return Err(IssueError::Unsupported),
        };
        let next = counter.checked_add(1).ok_or(IssueError::CounterExhausted {
            field: "counter",
            counter: *counter,
        })?;
        let token = render(payload, mac(secret, *counter, payload));
        *counter = next;
        Ok(token)
    }
}

/// ADD credit as the payload: a whole number of days, 1-90 (checked by [`CAPABILITIES`]).
fn days(credit: Credit) -> Result<u8, IssueError> {
    let range = CAPABILITIES.add_credit.ok_or(IssueError::Unsupported)?;
    let days = range.amount(credit)?;
    u8::try_from(days).map_err(|_| IssueError::Unit)
}

/// `PPMM MMMM`: grouped in fours to read out over the phone.
fn render(payload: u8, mac: u64) -> TokenText {
    let text = format!("{payload:02}{mac:06}");
    // 9 ASCII characters always fit a `TokenText`.
    TokenText::from_ascii(&text)
        .and_then(|t| t.grouped(4))
        .unwrap_or_default()
}

/// The 6-digit MAC of (serial, counter, payload).
fn mac(secret: &AcmeSecret, counter: u32, payload: u8) -> u64 {
    let input = [
        b"ACME8".as_slice(),
        &secret.serial.to_be_bytes(),
        &counter.to_be_bytes(),
        &[payload],
    ]
    .concat();
    paylock::openpaygo::siphash24(&secret.key, &input) % MAC_MODULUS
}

/// What a device persists: the highest counter applied (0 before the first token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcmeState {
    /// The last applied counter.
    pub last: u32,
}

/// 4 bytes in the device-lock engine's record, under a manufacturer's tag (128 and above), so
/// that a record of another scheme's firmware is never read as ACME-8's.
impl Persist for AcmeState {
    const TAG: u8 = 128;
    const LEN: usize = 4;
    const FRESH: Self = Self { last: 0 };

    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.last);
    }

    fn load(input: &mut Reader<'_>) -> Option<Self> {
        input.u32().map(|last| Self { last })
    }
}

/// The device side: a token applies once, if its counter is among the [`FORWARD`] after the
/// last applied one; one among the [`BACK`] up to it is a duplicate.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcmeVerifier;

impl Verifier for AcmeVerifier {
    type Secret = AcmeSecret;
    type State = AcmeState;

    fn verify(
        &self,
        secret: &AcmeSecret,
        state: &mut AcmeState,
        input: &[u8],
        _context: &Context,
    ) -> Outcome {
        let (payload, tag) = match parse(input) {
            Ok(parts) => parts,
            Err(e) => return Outcome::Rejected(Rejection::Malformed(e)),
        };
        let Some(command) = meaning(payload) else {
            return Outcome::Rejected(Rejection::Invalid);
        };
        let first = state.last.saturating_sub(BACK - 1).max(1);
        let last = state.last.saturating_add(FORWARD);
        match (first..=last).find(|&c| mac(secret, c, payload) == tag) {
            Some(c) if c <= state.last => Outcome::Duplicate,
            Some(c) => {
                state.last = c;
                Outcome::Applied {
                    command,
                    sequence: c,
                    spent: true,
                }
            }
            None => Outcome::Rejected(Rejection::Invalid),
        }
    }

    /// The digits alone: a wrong length or a stray character is refused before the engine
    /// counts the attempt, and costs the device no flash write.
    fn screen(&self, _secret: &AcmeSecret, input: &[u8]) -> Result<(), ParseError> {
        parse(input).map(|_| ())
    }
}

/// The command a payload carries; `None` for the unused 91-98.
fn meaning(payload: u8) -> Option<Command> {
    match payload {
        UNLOCK => Some(Command::Unlock),
        SYNC => Some(Command::CounterSync),
        1..=90 => Some(Command::AddCredit(Credit::new(
            payload.into(),
            TimeUnit::Days,
        ))),
        _ => None,
    }
}

/// Payload and MAC of 8 entered digits; spaces and dashes are skipped.
fn parse(input: &[u8]) -> Result<(u8, u64), ParseError> {
    let mut value = 0u64;
    let mut found = 0;
    for (position, &b) in input.iter().enumerate() {
        match b {
            b' ' | b'-' => {}
            b'0'..=b'9' if found < DIGITS => {
                value = value * 10 + u64::from(b - b'0');
                found += 1;
            }
            b'0'..=b'9' => found += 1,
            _ => return Err(ParseError::NotADigit { position, found: b }),
        }
    }
    if found != DIGITS {
        return Err(ParseError::Length {
            found,
            expected: DIGITS,
        });
    }
    let payload = u8::try_from(value / MAC_MODULUS).unwrap_or(u8::MAX);
    Ok((payload, value % MAC_MODULUS))
}

/// The ACME-8 scheme for paylock's registry: its model (no config beyond the scheme name) and
/// its devices on the device-lock engine, with OpenPAYGO's lockout. Device record: `key` (32
/// hex digits) and `serial`, read into [`AcmeDevice`].
#[derive(Clone, Copy, Debug, Default)]
pub struct AcmeScheme;

/// An ACME-8 device record, as a CRM keeps it and the `simulate` op's `device` takes it.
#[derive(Clone, Debug, Deserialize)]
pub struct AcmeDevice {
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub key: Key,
    /// The printed serial number.
    pub serial: u32,
}

impl AcmeDevice {
    /// The secret a device record stands for.
    fn secret(self) -> AcmeSecret {
        AcmeSecret {
            key: self.key,
            serial: self.serial,
        }
    }
}

impl Scheme for AcmeScheme {
    fn model(&self, _config: Input<'_>) -> Result<Box<dyn Model>, Error> {
        let throwaway = AcmeSecret {
            key: Key::new([0; 16]),
            serial: 0,
        };
        Ok(Box::new(IssuerModel::new(
            AcmeIssuer,
            CAPABILITIES,
            |device: AcmeDevice| Ok(device.secret()),
            throwaway,
        )))
    }

    fn simulated(&self, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let secret = device.read::<AcmeDevice>()?.secret();
        let build: DeviceBuild = device.read()?;
        SimulatedDevice::of(AcmeVerifier, secret, Lockout::OpenPaygo, build)
    }
}

/// An entry tries the counters of its window, one MAC each.
impl Simulated for AcmeVerifier {
    fn entry_work(&self, _state: Option<&AcmeState>) -> u64 {
        u64::from(FORWARD + BACK)
    }
}
