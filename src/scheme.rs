//! The seam between schemes and their users: scheme-neutral commands and outcomes, and one trait
//! per role so that firmware links only a verifier and a CRM only an issuer.

use crate::token::ParseError;

/// A unit of credit time as a scheme carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
    /// `1 / n` of a day (OpenPAYGO's time divider): the amount is `days × n`.
    DayFraction(u8),
}

/// An amount of credit time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Credit {
    /// The amount in `unit`s.
    pub amount: u32,
    /// The unit of `amount`.
    pub unit: TimeUnit,
}

impl Credit {
    /// `amount` of `unit`.
    #[must_use]
    pub const fn new(amount: u32, unit: TimeUnit) -> Self {
        Self { amount, unit }
    }

    /// The credit in seconds, rounded down; `None` for a zero divider.
    #[must_use]
    pub const fn seconds(&self) -> Option<u64> {
        let amount = self.amount as u64;
        match self.unit {
            TimeUnit::Seconds => Some(amount),
            TimeUnit::Minutes => Some(amount * 60),
            TimeUnit::Hours => Some(amount * 3_600),
            TimeUnit::Days => Some(amount * 86_400),
            TimeUnit::DayFraction(0) => None,
            TimeUnit::DayFraction(n) => Some(amount * 86_400 / n as u64),
        }
    }
}

/// What a token tells a device to do, in words every scheme shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// Extend the credit by this much (from now, or from the current expiry if later).
    AddCredit(Credit),
    /// Replace the credit with this much from now (re-enables PAYG where the scheme says so).
    SetCredit(Credit),
    /// Disable pay-as-you-go for good: the device is paid off.
    Unlock,
    /// Move the device's counter forward without changing credit.
    CounterSync,
    /// Set a scheme-defined device parameter.
    SetParam {
        /// Parameter number.
        id: u16,
        /// New value.
        value: u32,
    },
    /// A factory or field test code.
    Test(u16),
    /// A scheme-specific command no shared word expresses.
    Scheme {
        /// The scheme's own message type.
        kind: u16,
        /// Its argument.
        arg: u32,
    },
}

/// Why a token was refused. Authentication failures carry no detail on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The text is not a token of this device's form.
    #[error("malformed token: {0}")]
    Malformed(#[from] ParseError),
    /// No acceptable message matches: wrong key, typo, or out of the device's window.
    #[error("token not valid for this device")]
    Invalid,
    /// The scheme's own rate limit refused the entry without checking it (AST's TEST quota, or
    /// its lockout when the verifier keeps one); not a wrong code.
    #[error("entry refused by the scheme's rate limit")]
    Locked,
}

/// What a device made of an entered token. Which state each outcome lets a verifier change is
/// the contract of [`Verifier::verify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The token was genuine and took effect.
    Applied {
        /// What the device must do.
        command: Command,
        /// The token's counter (OpenPAYGO count, Nexus message ID, AST counter; 0 for a code
        /// that carries none).
        sequence: u32,
        /// The state now records `sequence` as used: the token can never apply again. `false`
        /// for a token the scheme lets be entered again (a test, demo or factory code, a
        /// device-ID confirmation, a replay-window wipe).
        spent: bool,
    },
    /// A genuine token that takes no effect: already used (or voided by a later one), or a
    /// reusable code that does not apply now.
    Duplicate,
    /// Refused.
    Rejected(Rejection),
}

/// Why an issuer could not produce a token for a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The scheme has no token for this command.
    #[error("this scheme cannot express the command")]
    Unsupported,
    /// A value is outside what the scheme can carry.
    #[error("{field} is {found}, the largest allowed is {max}")]
    OutOfRange {
        /// Which input was out of range.
        field: &'static str,
        /// The value given.
        found: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// The credit's unit cannot be carried exactly by this scheme.
    #[error("credit unit not supported by this scheme")]
    Unit,
    /// The device's counter cannot advance: no token follows `counter` (a Nexus message ID,
    /// an OpenPAYGO count, an AST counter). The counter never wraps back to an ID the device
    /// has used; a device here needs new provisioning.
    #[error("{field} {counter} is the last one: the counter is exhausted")]
    CounterExhausted {
        /// The scheme's name for its counter.
        field: &'static str,
        /// The counter given.
        counter: u32,
    },
}

/// The server side: turns a command into token text, advancing the device's counter.
///
/// Pure: the same secret, counter and command always give the same token.
pub trait Issuer {
    /// The per-device secret material.
    type Secret;
    /// The issuer's per-device counter, advanced on success and untouched on error. It only
    /// grows: where it cannot, the issuer answers [`IssueError::CounterExhausted`].
    type Counter;
    /// The token produced.
    type Token;

    /// Issues the token for `command`.
    ///
    /// # Errors
    /// [`IssueError`] when the command or one of its values cannot be expressed.
    fn issue(
        &self,
        secret: &Self::Secret,
        counter: &mut Self::Counter,
        command: &Command,
    ) -> Result<Self::Token, IssueError>;
}

/// Whether a device is still pay-as-you-go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Payg {
    /// Credit runs down; the product works while credit is left.
    #[default]
    Enabled,
    /// Paid off: the product always works (a later SET of credit may re-lock it).
    Unlocked,
}

/// What the device knows when a token is entered. Schemes whose rules depend on the device
/// (Nexus ignores ADD while unlocked; AST rate-limits TEST codes by time) read it here, so the
/// verifier itself keeps no clock and no copy of the lock state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Context {
    /// The device's monotonic clock, in seconds. It never goes back; it need not be wall time.
    pub now: u32,
    /// PAYG enabled or unlocked.
    pub payg: Payg,
    /// Credit is left (or the device is unlocked): the product is on.
    pub active: bool,
}

impl Context {
    /// A device at time `now`, PAYG enabled, with no credit.
    #[must_use]
    pub const fn at(now: u32) -> Self {
        Self {
            now,
            payg: Payg::Enabled,
            active: false,
        }
    }
}

/// The device side: checks entered text against the device's secret and replay state.
///
/// No heap and bounded time. The contract (written here only; the device-lock engine,
/// [`crate::device`], relies on nothing else): `verify` may change `state`
///
/// * on [`Outcome::Applied`] with `spent: true`: as the token's effect requires, and always so
///   that its `sequence` is recorded as used: the same token never applies again;
/// * on [`Outcome::Applied`] with `spent: false`: only as a reusable token's effect requires
///   (a wipe) and in the bookkeeping that bounds such tokens (AST's TEST rate window, Nexus's
///   QC-code counts); nothing that stops the token being entered again;
/// * on [`Rejection::Invalid`]: only in a failed-attempt count the verifier keeps for itself
///   when used without the engine (AST's `fails` / `lock_until`; the engine runs its own
///   lockout and takes verifiers that keep none);
/// * on [`Outcome::Duplicate`], [`Rejection::Malformed`] and [`Rejection::Locked`]: not at all.
///
/// So a token that spends a counter is always `Applied`, even when it changes nothing else
/// (a Nexus ADD entered while unlocked), and no other outcome leaves a state to persist. The
/// engine counts the attempt in its store before it calls `verify`, persists `state` after an
/// `Applied` entry, and resets the wrong-code count only for a spent token, so a reusable code
/// cannot cut a wait short.
pub trait Verifier {
    /// The per-device secret material.
    type Secret;
    /// The replay-protection state the device persists.
    type State;

    /// Verifies `input` (the characters entered) on a device in `context`, changing `state` as
    /// the contract above allows.
    fn verify(
        &self,
        secret: &Self::Secret,
        state: &mut Self::State,
        input: &[u8],
        context: &Context,
    ) -> Outcome;

    /// Refuses `input` on its shape alone: the [`Rejection::Malformed`] verdict that
    /// [`Verifier::verify`] would give, found without the key. The device-lock engine calls it
    /// before it counts the attempt, so that text which is not a code of this form costs no
    /// flash write. The secret is passed for its public configuration (AST's profile); an
    /// implementation must not read key material here, or the engine would reveal a verdict
    /// before the attempt is counted. The default finds every entry well-formed.
    ///
    /// # Errors
    /// The [`ParseError`] `verify` would report for this input.
    fn screen(&self, secret: &Self::Secret, input: &[u8]) -> Result<(), ParseError> {
        let _ = (secret, input);
        Ok(())
    }
}
