//! AST behind the scheme-neutral [`Issuer`] / [`Verifier`] traits.
//!
//! Issuer: the counter is the next counter to issue (1 for a new device); credit must be a
//! whole number of the device's unit. Verifier: the time comes from the entry's
//! [`Context`].

use super::issue::{self, AstIssueError};
use super::message::Action;
use super::profile::Profile;
use super::secret::{AstSecret, Unit};
use super::state::AstState;
use super::text;
use super::verdict::AstVerdict;
use super::verify::verify;
use crate::capability::{Capabilities, CommandKind, CreditRange, Keypad, units_of};
use crate::scheme::{
    Command, Context, Credit, IssueError, Issuer, Outcome, Rejection, TimeUnit, Verifier,
};
use crate::token::{ParseError, TokenText};

impl From<AstIssueError> for IssueError {
    fn from(e: AstIssueError) -> Self {
        match e {
            AstIssueError::Suite(_) => Self::Unsupported,
            AstIssueError::CounterZero => Self::OutOfRange {
                field: "counter",
                found: 0,
                max: u64::from(u32::MAX),
            },
            AstIssueError::OutOfRange { field, found, max } => Self::OutOfRange {
                field,
                found: found.into(),
                max: max.into(),
            },
        }
    }
}

/// What [`AstIssuer`] carries for a device of `profile` counting credit in `unit`: every
/// command, ADD and SET of 0 to `2^v − 1` units, as the profile's digits (`1`-`4` for S). The
/// suite changes none of it. The first counter is 1 (counter 0 is never issued).
#[must_use]
pub const fn capabilities(profile: Profile, unit: Unit) -> Capabilities {
    const COMMANDS: &[CommandKind] = &[
        CommandKind::AddCredit,
        CommandKind::SetCredit,
        CommandKind::Unlock,
        CommandKind::CounterSync,
        CommandKind::SetParam,
        CommandKind::Test,
    ];
    let keypad = if profile.is_base4() {
        Keypad::Digits1To4
    } else {
        Keypad::Digits
    };
    let credit = CreditRange::new(time_unit(unit), 0, profile.max_value());
    #[allow(clippy::cast_possible_truncation)] // 15 or 20 digits
    let token_len = profile.digits() as u8;
    Capabilities::new("access", COMMANDS, keypad, token_len)
        .with_add_credit(credit)
        .with_set_credit(credit)
        .with_first_counter(1)
}

/// The scheme-neutral name of a device unit.
const fn time_unit(unit: Unit) -> TimeUnit {
    match unit {
        Unit::Hours => TimeUnit::Hours,
        Unit::Days => TimeUnit::Days,
    }
}

/// `credit` as an exact number of `unit`s.
fn units(credit: Credit, unit: Unit) -> Result<u32, IssueError> {
    units_of(credit, time_unit(unit), "value")
}

/// Issues AST tokens through [`Issuer`]: ADD/SET credit (in whole device units), UNLOCK,
/// COUNTER_SYNC, SET_PARAM and TEST. TEST codes leave the counter alone; every other token
/// takes the counter and advances it by one. The last counter, `2^32 − 1`, is refused here
/// ([`IssueError::CounterExhausted`]) because the counter could not advance past it (the native
/// [`super::generate`] issues it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AstIssuer;

impl Issuer for AstIssuer {
    type Secret = AstSecret;
    type Counter = u32;
    type Token = TokenText;

    fn issue(
        &self,
        secret: &AstSecret,
        counter: &mut u32,
        command: &Command,
    ) -> Result<TokenText, IssueError> {
        let unit = secret.config().unit;
        let action = match *command {
            Command::AddCredit(c) => Action::AddCredit(units(c, unit)?),
            Command::SetCredit(c) => Action::SetCredit(units(c, unit)?),
            Command::Unlock => Action::UnlockPermanent,
            Command::CounterSync => Action::CounterSync,
            Command::SetParam { id, value } => Action::SetParam {
                id: u8::try_from(id).map_err(|_| IssueError::OutOfRange {
                    field: "param_id",
                    found: id.into(),
                    max: 15,
                })?,
                value: u16::try_from(value).map_err(|_| IssueError::OutOfRange {
                    field: "param_value",
                    found: value.into(),
                    max: u64::from(secret.config().profile.max_param_value()),
                })?,
            },
            Command::Test(id) => {
                return Ok(issue::test_code(
                    secret.config().suite,
                    secret.config().profile,
                    id,
                )?);
            }
            _ => return Err(IssueError::Unsupported),
        };
        let next = counter.checked_add(1).ok_or(IssueError::CounterExhausted {
            field: "counter",
            counter: *counter,
        })?;
        let token = issue::generate(secret, *counter, action)?.token;
        *counter = next;
        Ok(token)
    }
}

/// The device side as a [`Verifier`]. Applied tokens become `AddCredit` / `SetCredit` in the
/// device's unit, `Unlock`, `CounterSync`, `SetParam` or `Test`, with the counter as
/// `sequence` (0 for TEST codes, which are never recorded as used: not `spent`). The time
/// comes from [`Context::now`].
///
/// By default the verifier keeps the spec's §10 lockout in the state it is given, so an INVALID
/// entry still updates the persisted `fails` / `lock_until`, and a locked device answers
/// [`Rejection::Locked`] (as does a spent TEST quota). [`AstVerifier::without_lockout`] leaves
/// both fields alone, for a caller that runs the lockout itself (the device-lock engine).
/// Use [`super::verify`] for the full verdict with reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AstVerifier {
    own_lockout: bool,
}

impl AstVerifier {
    /// A verifier that keeps the spec's lockout in the device state.
    #[must_use]
    pub const fn new() -> Self {
        Self { own_lockout: true }
    }

    /// A verifier that leaves the lockout to its caller: `fails` and `lock_until` never change.
    #[must_use]
    pub const fn without_lockout() -> Self {
        Self { own_lockout: false }
    }
}

impl Default for AstVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier for AstVerifier {
    type Secret = AstSecret;
    type State = AstState;

    fn verify(
        &self,
        secret: &AstSecret,
        state: &mut AstState,
        input: &[u8],
        context: &Context,
    ) -> Outcome {
        let unit = time_unit(secret.config().unit);
        let (fails, lock_until) = (state.fails, state.lock_until);
        let verdict = verify(secret, state, input, context.now);
        if !self.own_lockout {
            (state.fails, state.lock_until) = (fails, lock_until);
        }
        match verdict {
            AstVerdict::Applied(m) => {
                // A TEST code is public and reusable (rate-limited, never recorded as used).
                let (command, spent) = match m.action {
                    Action::AddCredit(v) => (Command::AddCredit(Credit::new(v, unit)), true),
                    Action::SetCredit(v) => (Command::SetCredit(Credit::new(v, unit)), true),
                    Action::UnlockPermanent => (Command::Unlock, true),
                    Action::CounterSync => (Command::CounterSync, true),
                    Action::SetParam { id, value } => (
                        Command::SetParam {
                            id: id.into(),
                            value: value.into(),
                        },
                        true,
                    ),
                    Action::Test(id) => (Command::Test(id), false),
                };
                Outcome::Applied {
                    command,
                    sequence: m.counter,
                    spent,
                }
            }
            AstVerdict::Duplicate { .. } => Outcome::Duplicate,
            AstVerdict::Malformed(e) => Outcome::Rejected(Rejection::Malformed(e.to_token_error())),
            AstVerdict::Invalid { .. } => Outcome::Rejected(Rejection::Invalid),
            AstVerdict::Locked(_) => Outcome::Rejected(Rejection::Locked),
        }
    }

    /// The digits of the secret's profile, as [`super::verify`] parses them before any key is
    /// used (the profile is public configuration).
    fn screen(&self, secret: &AstSecret, input: &[u8]) -> Result<(), ParseError> {
        text::parse(secret.config().profile, input)
            .map(|_| ())
            .map_err(|e| e.to_token_error())
    }
}
