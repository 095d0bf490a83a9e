//! OpenPAYGO behind the scheme-neutral [`Issuer`] / [`Verifier`] traits.

use super::{Decoder, DeviceState, Encoder, GenerateError, Meaning, Message, Secret, Verdict};
use crate::scheme::{Command, Credit, IssueError, Issuer, Outcome, Rejection, TimeUnit, Verifier};
use crate::token::TokenText;

/// `Command::Scheme` kind for a valid token carrying a reserved value (996 / 997).
pub const RESERVED_KIND: u16 = 996;

impl Encoder {
    /// The raw value for `credit` on a device with this time divider, if it is exact.
    fn raw_value(credit: Credit, divider: u8) -> Result<u32, IssueError> {
        let units = match credit.unit {
            TimeUnit::DayFraction(d) if d == divider => u64::from(credit.amount),
            _ => {
                let seconds = credit.seconds().ok_or(IssueError::Unit)?;
                let scaled = seconds * u64::from(divider);
                if scaled % 86_400 != 0 {
                    return Err(IssueError::Unit);
                }
                scaled / 86_400
            }
        };
        u32::try_from(units).map_err(|_| IssueError::OutOfRange {
            field: "value",
            found: units,
            max: u64::from(u32::MAX),
        })
    }
}

impl From<GenerateError> for IssueError {
    fn from(e: GenerateError) -> Self {
        match e {
            GenerateError::ValueTooLarge { found, max } => Self::OutOfRange {
                field: "value",
                found: found.into(),
                max: max.into(),
            },
            GenerateError::CountTooHigh { count } => Self::OutOfRange {
                field: "count",
                found: count.into(),
                max: super::COUNT_CEILING.into(),
            },
        }
    }
}

/// Credit must convert exactly to activation units under the encoder's time divider.
impl Issuer for Encoder {
    type Secret = Secret;
    type Counter = u32;
    type Token = TokenText;

    fn issue(
        &self,
        secret: &Secret,
        counter: &mut u32,
        command: &Command,
    ) -> Result<TokenText, IssueError> {
        let message = match *command {
            Command::AddCredit(c) => Message::AddTime(Self::raw_value(c, self.time_divider())?),
            Command::SetCredit(c) => Message::SetTime(Self::raw_value(c, self.time_divider())?),
            Command::Unlock => Message::DisablePayg,
            Command::CounterSync => Message::CounterSync,
            _ => return Err(IssueError::Unsupported),
        };
        let generated = self.generate(secret, *counter, message)?;
        *counter = generated.count;
        Ok(generated.token)
    }
}

impl Verifier for Decoder {
    type Secret = Secret;
    type State = DeviceState;

    fn verify(&self, secret: &Secret, state: &mut DeviceState, input: &[u8]) -> Outcome {
        match self.decode(secret, state, input) {
            Ok(Verdict::Valid(a)) => Outcome::Applied {
                command: command(a.meaning, a.value, self.time_divider()),
                sequence: a.count,
            },
            Ok(Verdict::AlreadyUsed) => Outcome::Duplicate,
            Ok(Verdict::Invalid) => Outcome::Rejected(Rejection::Invalid),
            Err(e) => Outcome::Rejected(Rejection::Malformed(e)),
        }
    }
}

/// Raw values are activation units: days, or `1 / divider` days.
fn command(meaning: Meaning, value: u32, divider: u8) -> Command {
    let unit = if divider == 1 {
        TimeUnit::Days
    } else {
        TimeUnit::DayFraction(divider)
    };
    let credit = Credit::new(value, unit);
    match meaning {
        Meaning::AddTime => Command::AddCredit(credit),
        Meaning::SetTime => Command::SetCredit(credit),
        Meaning::DisablePayg => Command::Unlock,
        Meaning::CounterSync => Command::CounterSync,
        Meaning::Reserved => Command::Scheme {
            kind: RESERVED_KIND,
            arg: value,
        },
    }
}
