//! Nexus behind the scheme-neutral [`Issuer`] / [`Verifier`] traits.
//!
//! Issuers: the counter is the next unused message ID (0 for a new device). Credit must be a
//! whole number of the protocol's unit (hours, or days the small protocol carries exactly);
//! anything else is [`IssueError::Unit`] rather than a silently rounded code.
//!
//! Verifier: [`NexusVerifier`] enters whole codes without Nexus's own rate limiting or entry
//! timeout (the device-lock engine, [`crate::device`], runs the lockout; key-by-key firmware
//! drives [`super::verify::KeycodeProcessor`] instead). It learns the PAYG state from the
//! entry's [`Context`].

use super::apply::Ctx;
use core::marker::PhantomData;

use super::config::{AnyProtocol, NexusConfig, Protocol, Protocols};
use super::full::{self, Activation, FullIssuer};
use super::issue::NexusIssueError;
use super::keycode::Keycode;
use super::platform::{Feedback, PaygState, Platform, Response};
use super::small::{self, SetTarget, SmallIssuer};
use super::state::NexusState;
use super::verify::enter_unlimited;
use crate::capability::{Band, Capabilities, CommandKind, CreditRange, Keypad, units_of};
use crate::key::Key;
use crate::scheme::{
    Command, Context, Credit, IssueError, Issuer, Outcome, Payg, Rejection, TimeUnit, Verifier,
};

/// `Command::Scheme` kind of an applied code that changes no credit (window wipe,
/// device-ID confirmation, an ADD entered while unlocked).
pub const KIND_NO_CREDIT_CHANGE: u16 = 0;
/// `Command::Scheme` kind of an applied code that cleared the restricted flag.
pub const KIND_RESTRICTED_FLAG_CLEARED: u16 = 1;
/// `Command::Scheme` kind of the DISPLAY_PAYG_ID factory code.
pub const KIND_DISPLAY_PAYG_ID: u16 = 2;

/// What the issuers call their counter.
const COUNTER: &str = "message ID";

impl From<NexusIssueError> for IssueError {
    fn from(e: NexusIssueError) -> Self {
        match e {
            // The counter an issuer hands back after its last ID: the ID space is exhausted.
            NexusIssueError::IdTooHigh { id, max } if max.checked_add(1) == Some(id) => {
                Self::CounterExhausted {
                    field: COUNTER,
                    counter: id,
                }
            }
            NexusIssueError::IdTooHigh { id, max } => Self::OutOfRange {
                field: COUNTER,
                found: id.into(),
                max: max.into(),
            },
            NexusIssueError::CounterExhausted { id } => Self::CounterExhausted {
                field: COUNTER,
                counter: id,
            },
            NexusIssueError::OutOfRange {
                field, found, max, ..
            } => Self::OutOfRange { field, found, max },
            _ => Self::Unsupported,
        }
    }
}

/// Whole days that fit a `u16` (larger ones are out of range for both code types anyway).
fn whole_days(credit: Credit) -> Result<u16, IssueError> {
    let days = units_of(credit, TimeUnit::Days, "credit")?;
    u16::try_from(days).map_err(|_| IssueError::OutOfRange {
        field: "days",
        found: days.into(),
        max: u16::MAX.into(),
    })
}

/// The ID after `id`, refusing to wrap: past `u32::MAX` the ID space is exhausted.
fn after(id: u32) -> Result<u32, IssueError> {
    id.checked_add(1).ok_or(IssueError::CounterExhausted {
        field: COUNTER,
        counter: id,
    })
}

/// What the issuers here carry: ADD, SET and UNLOCK. Full: 0-99,999 hours ADD and 0-99,998
/// SET (99,999 means UNLOCK), as `*` + 14 digits + `#`. Small: 1-405 days ADD and 0-960 SET
/// (0 locks), exact up to 180 / 90 days and then in the coarser steps of [`small`], as 15 keys.
#[must_use]
pub const fn capabilities(protocol: Protocol) -> Capabilities {
    const COMMANDS: &[CommandKind] = &[
        CommandKind::AddCredit,
        CommandKind::SetCredit,
        CommandKind::Unlock,
    ];
    const SMALL_ADD: &[Band] = &[Band::new(180, 3)];
    const SMALL_SET: &[Band] = &[
        Band::new(90, 2),
        Band::new(180, 4),
        Band::new(360, 8),
        Band::new(720, 16),
    ];
    match protocol {
        Protocol::Full => Capabilities::new("nexus", COMMANDS, Keypad::NexusFull, 16)
            .with_add_credit(CreditRange::new(TimeUnit::Hours, 0, full::MAX_BODY))
            .with_set_credit(CreditRange::new(TimeUnit::Hours, 0, full::UNLOCK_HOURS - 1)),
        Protocol::Small => Capabilities::new("nexus", COMMANDS, Keypad::Keys1To5, 15)
            .with_add_credit(
                CreditRange::new(TimeUnit::Days, 1, small::MAX_ADD_DAYS as u32)
                    .with_bands(SMALL_ADD),
            )
            .with_set_credit(
                CreditRange::new(TimeUnit::Days, 0, small::MAX_SET_DAYS as u32)
                    .with_bands(SMALL_SET),
            ),
    }
}

/// ADD, SET (in whole hours) and UNLOCK; other commands are [`IssueError::Unsupported`].
impl Issuer for FullIssuer {
    type Secret = Key;
    type Counter = u32;
    type Token = Keycode;

    fn issue(
        &self,
        secret: &Key,
        counter: &mut u32,
        command: &Command,
    ) -> Result<Keycode, IssueError> {
        let message = match *command {
            Command::AddCredit(c) => Activation::AddCredit {
                hours: units_of(c, TimeUnit::Hours, "credit")?,
            },
            Command::SetCredit(c) => Activation::SetCredit {
                hours: units_of(c, TimeUnit::Hours, "credit")?,
            },
            Command::Unlock => Activation::Unlock,
            _ => return Err(IssueError::Unsupported),
        };
        let code = self.activation(secret, *counter, message)?;
        *counter = after(*counter)?;
        Ok(code)
    }
}

/// ADD and SET in whole days the device applies exactly (1-180 ADD, 0-90 SET, then the
/// coarser steps), and UNLOCK. A SET of 1 day at an ID ending in 63 silently takes the next
/// ID, as upstream advises.
impl Issuer for SmallIssuer {
    type Secret = Key;
    type Counter = u32;
    type Token = Keycode;

    fn issue(
        &self,
        secret: &Key,
        counter: &mut u32,
        command: &Command,
    ) -> Result<Keycode, IssueError> {
        let mut id = *counter;
        let code = match *command {
            Command::AddCredit(c) => {
                let days = whole_days(c)?;
                let inc = small::add_credit_increment(days)?;
                if small::add_credit_days(inc) != Some(days) {
                    return Err(IssueError::Unit);
                }
                self.add_credit(secret, id, days)?
            }
            Command::SetCredit(c) => {
                let days = whole_days(c)?;
                let inc = small::set_credit_increment(days)?;
                if days != 0 && small::set_credit_days(inc) != Some(days) {
                    return Err(IssueError::Unit);
                }
                match self.set_credit(secret, id, SetTarget::Days(days)) {
                    Err(NexusIssueError::SetCreditId63 { next, .. }) => {
                        id = next;
                        self.set_credit(secret, id, SetTarget::Days(days))?
                    }
                    other => other?,
                }
            }
            Command::Unlock => self.unlock(secret, id)?,
            _ => return Err(IssueError::Unsupported),
        };
        *counter = after(id)?;
        Ok(code)
    }
}

/// The device side as a [`Verifier`]: one whole code per call (spaces are skipped, so the
/// display form works too).
///
/// Outcomes: credit changes become `AddCredit` / `SetCredit` in seconds and `Unlock`; applied
/// codes that change no credit become `Command::Scheme` with the `KIND_*` constants here. The
/// `sequence` is the code's message ID (0 for codes without one), and the code is `spent` when
/// the window now records that ID: not factory, test, demo and device-ID codes, nor wipes of
/// the ID window, which can be entered again. An ADD code entered while unlocked, which the
/// device answers VALID_DUPLICATE but whose ID it uses up, is `Applied` with
/// [`KIND_NO_CREDIT_CHANGE`] (see the [`Verifier`] contract). Passthrough codes have no product
/// to go to and are rejected.
///
/// `S` fixes the protocols it parses, as for [`super::verify::KeycodeProcessor`]: a device
/// whose configuration the optimiser cannot see (a C device) uses
/// [`NexusVerifier::with_protocols`] and links one parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NexusVerifier<S = AnyProtocol> {
    config: NexusConfig,
    user_facing_id: u32,
    protocols: PhantomData<S>,
}

impl NexusVerifier {
    /// A verifier for devices built as `config` (its rate limit is not used) whose printed ID
    /// is `user_facing_id`.
    #[must_use]
    pub const fn new(config: NexusConfig, user_facing_id: u32) -> Self {
        Self {
            config,
            user_facing_id,
            protocols: PhantomData,
        }
    }

    /// A full-protocol verifier with upstream defaults.
    #[must_use]
    pub const fn full(user_facing_id: u32) -> Self {
        Self::new(NexusConfig::full(), user_facing_id)
    }

    /// A small-protocol verifier with upstream defaults.
    #[must_use]
    pub const fn small() -> Self {
        Self::new(NexusConfig::small(), 0)
    }
}

/// Longest input (after skipping spaces) the verifier reads; full codes are at most 32 keys.
const MAX_INPUT: usize = 48;

impl<S: Protocols> NexusVerifier<S> {
    /// How the device is built (its protocol, limits and entry timeout).
    #[must_use]
    pub const fn config(&self) -> &NexusConfig {
        &self.config
    }

    /// As [`NexusVerifier::new`], parsing only the protocols `S` names; `None` if `config`
    /// names another.
    #[must_use]
    pub fn with_protocols(config: NexusConfig, user_facing_id: u32) -> Option<Self> {
        if S::FIXED.is_some_and(|fixed| fixed != config.protocol) {
            return None;
        }
        Some(Self {
            config,
            user_facing_id,
            protocols: PhantomData,
        })
    }
}

impl<S: Protocols> Verifier for NexusVerifier<S> {
    type Secret = Key;
    type State = NexusState;

    fn verify(
        &self,
        secret: &Key,
        state: &mut NexusState,
        input: &[u8],
        context: &Context,
    ) -> Outcome {
        let protocol = S::FIXED.unwrap_or(self.config.protocol);
        let mut keys = [0u8; MAX_INPUT];
        let mut len = 0;
        for &b in input.iter().filter(|b| **b != b' ') {
            match keys.get_mut(len) {
                Some(slot) => *slot = b,
                // Too long for any full code; a small code only reads its first 15 keys.
                None if protocol == Protocol::Full => {
                    return Outcome::Rejected(Rejection::Invalid);
                }
                None => break,
            }
            len += 1;
        }
        let mut recorder = Recorder {
            payg: match (context.payg, context.active) {
                (Payg::Unlocked, _) => PaygState::Unlocked,
                (Payg::Enabled, true) => PaygState::Enabled,
                (Payg::Enabled, false) => PaygState::Disabled,
            },
            user_facing_id: self.user_facing_id,
            credit: None,
            flag_cleared: false,
            extended_applied: false,
        };
        let before = state.window;
        let processed = {
            let mut ctx = Ctx {
                key: secret,
                state,
                platform: &mut recorder,
                config: &self.config,
            };
            enter_unlimited(&mut ctx, protocol, keys.get(..len).unwrap_or_default())
        };
        // The code is spent when the window now records its ID as used. A demo code and a
        // window wipe carry an ID but leave it unrecorded: they can be entered again.
        let sequence = processed.message_id.unwrap_or(0);
        let spent = processed
            .message_id
            .is_some_and(|id| state.window.is_received(id));
        let command = match (processed.response, recorder.credit) {
            (Response::Invalid, _) => return Outcome::Rejected(Rejection::Invalid),
            // An ADD entered while unlocked: VALID_DUPLICATE to the product, but its ID is now
            // used, so through the trait it is a code that applied and added nothing.
            (Response::ValidDuplicate, _) if spent && !before.is_received(sequence) => {
                scheme(KIND_NO_CREDIT_CHANGE)
            }
            (Response::ValidDuplicate, _) => return Outcome::Duplicate,
            (Response::None, _) if !recorder.extended_applied => {
                return Outcome::Rejected(Rejection::Invalid);
            }
            (Response::DisplayDeviceId, _) => scheme(KIND_DISPLAY_PAYG_ID),
            (_, Some(credit)) => credit,
            (_, None) if recorder.flag_cleared => scheme(KIND_RESTRICTED_FLAG_CLEARED),
            (_, None) => scheme(KIND_NO_CREDIT_CHANGE),
        };
        Outcome::Applied {
            command,
            sequence,
            spent,
        }
    }
}

fn scheme(kind: u16) -> Command {
    Command::Scheme { kind, arg: 0 }
}

/// Stands in for the product during one verification and remembers what was asked of it.
struct Recorder {
    payg: PaygState,
    user_facing_id: u32,
    credit: Option<Command>,
    flag_cleared: bool,
    extended_applied: bool,
}

impl Platform for Recorder {
    fn payg_state(&self) -> PaygState {
        self.payg
    }

    fn add_credit(&mut self, seconds: u32) {
        self.credit = Some(Command::AddCredit(Credit::new(seconds, TimeUnit::Seconds)));
    }

    fn set_credit(&mut self, seconds: u32) {
        self.credit = Some(Command::SetCredit(Credit::new(seconds, TimeUnit::Seconds)));
    }

    fn unlock(&mut self) {
        self.credit = Some(Command::Unlock);
    }

    fn restricted_flag_changed(&mut self, value: bool) {
        self.flag_cleared |= !value;
    }

    fn user_facing_id(&self) -> u32 {
        self.user_facing_id
    }

    fn feedback(&mut self, feedback: Feedback) {
        // Extended small codes answer NONE and give their verdict as feedback.
        self.extended_applied |= feedback == Feedback::MessageApplied;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadbeef() -> Key {
        Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap()
    }

    #[test]
    fn full_issue_then_verify() {
        let key = deadbeef();
        let issuer = FullIssuer::new();
        let mut counter = 42;
        let code = issuer
            .issue(
                &key,
                &mut counter,
                &Command::AddCredit(Credit::new(7, TimeUnit::Days)),
            )
            .unwrap();
        assert_eq!(counter, 43);
        let verifier = NexusVerifier::full(1);
        let mut state = NexusState::FRESH;
        let at = Context::at(0);
        let outcome = verifier.verify(&key, &mut state, code.display().as_bytes(), &at);
        assert_eq!(
            outcome,
            Outcome::Applied {
                command: Command::AddCredit(Credit::new(7 * 86_400, TimeUnit::Seconds)),
                sequence: 42,
                spent: true,
            }
        );
        assert_eq!(
            verifier.verify(&key, &mut state, code.keys().as_bytes(), &at),
            Outcome::Duplicate
        );
        assert_eq!(
            issuer.issue(
                &key,
                &mut counter,
                &Command::AddCredit(Credit::new(90, TimeUnit::Minutes))
            ),
            Err(IssueError::Unit)
        );
        assert_eq!(
            issuer.issue(&key, &mut counter, &Command::CounterSync),
            Err(IssueError::Unsupported)
        );
        assert_eq!(counter, 43);
    }

    #[test]
    fn small_issue_refuses_rounding_and_skips_id_63() {
        let key = deadbeef();
        let issuer = SmallIssuer::new();
        let mut counter = 63;
        let day = Command::SetCredit(Credit::new(1, TimeUnit::Days));
        let code = issuer.issue(&key, &mut counter, &day).unwrap();
        assert_eq!(counter, 65);
        assert_eq!(
            issuer.issue(
                &key,
                &mut counter,
                &Command::AddCredit(Credit::new(181, TimeUnit::Days))
            ),
            Err(IssueError::Unit)
        );
        let verifier = NexusVerifier::small();
        let mut state = NexusState::FRESH;
        state.window.pd_index = 64;
        let at = Context::at(0);
        assert_eq!(
            verifier.verify(&key, &mut state, code.keys().as_bytes(), &at),
            Outcome::Applied {
                command: Command::SetCredit(Credit::new(86_400, TimeUnit::Seconds)),
                sequence: 64,
                spent: true,
            }
        );
        assert_eq!(
            verifier.verify(&key, &mut state, b"1222", &at),
            Outcome::Rejected(Rejection::Invalid)
        );
    }
}
