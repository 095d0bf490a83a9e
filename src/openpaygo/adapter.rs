//! OpenPAYGO behind the scheme-neutral [`Issuer`] / [`Verifier`] traits.

use super::chain::COUNT_CEILING;
use super::digits;
use super::form::{Form, TokenForm};
use super::issue::{OpenPaygoIssueError, OpenPaygoIssuer, OpenPaygoMessage};
use super::secret::OpenPaygoSecret;
use super::state::OpenPaygoDeviceState;
use super::verify::{Meaning, OpenPaygoVerdict, OpenPaygoVerifier};
use crate::capability::{Capabilities, CommandKind, CreditRange, Keypad, units_of};
use crate::scheme::{
    Command, Context, Credit, IssueError, Issuer, Outcome, Rejection, TimeUnit, Verifier,
};
use crate::token::{ParseError, TokenText};

/// `Command::Scheme` kind for a valid token carrying a reserved value (996 / 997).
pub const RESERVED_KIND: u16 = 996;

impl OpenPaygoIssuer {
    /// The message of `command` for a device with this issuer's form and time divider: credit
    /// in activation units (exactly), DISABLE_PAYG for [`Command::Unlock`] and COUNTER_SYNC in
    /// standard tokens.
    ///
    /// # Errors
    /// [`IssueError::Unsupported`] for a command the form has no token for,
    /// [`IssueError::Unit`] for credit that is not a whole number of activation units.
    pub fn message(&self, command: &Command) -> Result<OpenPaygoMessage, IssueError> {
        let raw = |c| units_of(c, unit(self.time_divider()), "value");
        Ok(match *command {
            Command::AddCredit(c) => OpenPaygoMessage::AddTime(raw(c)?),
            Command::SetCredit(c) => OpenPaygoMessage::SetTime(raw(c)?),
            Command::Unlock if !self.form().extended => OpenPaygoMessage::DisablePayg,
            Command::CounterSync if !self.form().extended => OpenPaygoMessage::CounterSync,
            _ => return Err(IssueError::Unsupported),
        })
    }
}

impl From<OpenPaygoIssueError> for IssueError {
    fn from(e: OpenPaygoIssueError) -> Self {
        match e {
            OpenPaygoIssueError::ValueTooLarge { found, max } => Self::OutOfRange {
                field: "value",
                found: found.into(),
                max: max.into(),
            },
            OpenPaygoIssueError::CountTooHigh { count } => Self::OutOfRange {
                field: "count",
                found: count.into(),
                max: COUNT_CEILING.into(),
            },
            OpenPaygoIssueError::CounterExhausted { count } => Self::CounterExhausted {
                field: "count",
                counter: count,
            },
        }
    }
}

/// What a device of `form` with `time_divider` (0 is taken as 1, as by [`OpenPaygoIssuer`])
/// accepts: ADD and SET of 0-995 activation units (0-999,999 extended) of `1 / time_divider`
/// days, and, in standard tokens only, DISABLE_PAYG as [`Command::Unlock`] and COUNTER_SYNC.
/// Extended tokens carry no special values: 998 and 999 are ordinary SET values there (spec
/// notes §5).
#[must_use]
pub const fn capabilities(form: Form, time_divider: u8) -> Capabilities {
    const STANDARD: &[CommandKind] = &[
        CommandKind::AddCredit,
        CommandKind::SetCredit,
        CommandKind::Unlock,
        CommandKind::CounterSync,
    ];
    const EXTENDED: &[CommandKind] = &[CommandKind::AddCredit, CommandKind::SetCredit];
    let (commands, keypad) = match (form.extended, form.restricted_digit_set) {
        (false, false) => (STANDARD, Keypad::Digits),
        (false, true) => (STANDARD, Keypad::Digits1To4),
        (true, false) => (EXTENDED, Keypad::Digits),
        (true, true) => (EXTENDED, Keypad::Digits1To4),
    };
    let credit = CreditRange::new(unit(time_divider), 0, form.max_value());
    #[allow(clippy::cast_possible_truncation)] // at most 20 characters
    let token_len = form.token_len() as u8;
    Capabilities::new("openpaygo", commands, keypad, token_len)
        .with_add_credit(credit)
        .with_set_credit(credit)
}

/// Activation units: days, or `1 / divider` days (a divider of 0 counts as 1).
const fn unit(divider: u8) -> TimeUnit {
    match divider {
        0 | 1 => TimeUnit::Days,
        n => TimeUnit::DayFraction(n),
    }
}

/// Credit must convert exactly to activation units under the encoder's time divider. Extended
/// tokens refuse UNLOCK and COUNTER_SYNC: their 998 / 999 would be read back as SET_TIME.
impl Issuer for OpenPaygoIssuer {
    type Secret = OpenPaygoSecret;
    type Counter = u32;
    type Token = TokenText;

    fn issue(
        &self,
        secret: &OpenPaygoSecret,
        counter: &mut u32,
        command: &Command,
    ) -> Result<TokenText, IssueError> {
        let generated = self.generate(secret, *counter, self.message(command)?)?;
        *counter = generated.count;
        Ok(generated.token)
    }
}

/// Decodes from the state's chain point ([`OpenPaygoVerifier::decode_from_point`]): bounded
/// work for tokens of the last accepted value.
impl<F: TokenForm> Verifier for OpenPaygoVerifier<F> {
    type Secret = OpenPaygoSecret;
    type State = OpenPaygoDeviceState;

    /// The context is not needed: OpenPAYGO's rules depend only on the count state.
    fn verify(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut OpenPaygoDeviceState,
        input: &[u8],
        _context: &Context,
    ) -> Outcome {
        let before = *state;
        match self.decode_from_point(secret, state, input) {
            // A decoder allowing sync replays (as the vectors do) takes a sync at or below the
            // count again; through the trait nothing is applied twice, whatever the decoder.
            // (The default decoder never does: firmware links no code for it.)
            Ok(OpenPaygoVerdict::Valid(a))
                if self.allows_sync_replays()
                    && a.meaning == Meaning::CounterSync
                    && a.count <= before.counts.max_count =>
            {
                *state = before;
                Outcome::Duplicate
            }
            Ok(OpenPaygoVerdict::Valid(a)) => Outcome::Applied {
                command: command(a.meaning, a.value, self.time_divider()),
                sequence: a.count,
                spent: true,
            },
            Ok(OpenPaygoVerdict::AlreadyUsed) => Outcome::Duplicate,
            Ok(OpenPaygoVerdict::Invalid) => Outcome::Rejected(Rejection::Invalid),
            Err(e) => Outcome::Rejected(Rejection::Malformed(e)),
        }
    }

    /// The length and the digits, as [`OpenPaygoVerifier::decode`] reads them before any hash.
    fn screen(&self, _secret: &OpenPaygoSecret, input: &[u8]) -> Result<(), ParseError> {
        let form = self.form();
        digits::parse(input, form.token_len(), form.restricted_digit_set).map(|_| ())
    }
}

/// Raw values are activation units.
fn command(meaning: Meaning, value: u32, divider: u8) -> Command {
    let credit = Credit::new(value, unit(divider));
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
