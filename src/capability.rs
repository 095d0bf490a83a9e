//! What a scheme can say, as data: which commands, which credit amounts in which unit, which
//! keypad and how many keys a person types.
//!
//! A CRM reads it to offer only payment plans a device model can carry, and to refuse a command
//! before any key is touched. The issuers stay the authority (they refuse what they cannot
//! encode); capabilities say the same thing ahead of time, with the nearest amounts a device
//! would accept when a scheme quantises credit.

use core::fmt;

use crate::scheme::{Command, Credit, IssueError, TimeUnit};

/// The shape of a [`Command`] without its values: what a scheme lists as supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandKind {
    /// [`Command::AddCredit`].
    AddCredit,
    /// [`Command::SetCredit`].
    SetCredit,
    /// [`Command::Unlock`].
    Unlock,
    /// [`Command::CounterSync`].
    CounterSync,
    /// [`Command::SetParam`].
    SetParam,
    /// [`Command::Test`].
    Test,
    /// [`Command::Scheme`].
    Scheme,
}

impl CommandKind {
    /// The stable upper-case name, as in the batch protocol's `token_type`s.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AddCredit => "ADD_CREDIT",
            Self::SetCredit => "SET_CREDIT",
            Self::Unlock => "UNLOCK",
            Self::CounterSync => "COUNTER_SYNC",
            Self::SetParam => "SET_PARAM",
            Self::Test => "TEST",
            Self::Scheme => "SCHEME",
        }
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Command {
    /// Which kind of command this is.
    #[must_use]
    pub const fn kind(&self) -> CommandKind {
        match self {
            Self::AddCredit(_) => CommandKind::AddCredit,
            Self::SetCredit(_) => CommandKind::SetCredit,
            Self::Unlock => CommandKind::Unlock,
            Self::CounterSync => CommandKind::CounterSync,
            Self::SetParam { .. } => CommandKind::SetParam,
            Self::Test(_) => CommandKind::Test,
            Self::Scheme { .. } => CommandKind::Scheme,
        }
    }
}

/// The keys a device has, which decides who can type a token and what [`Keypad::keys`] keeps
/// from its printed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Keypad {
    /// `0`-`9`.
    Digits,
    /// `1`-`4` only (OpenPAYGO restricted digit set, AST profile S).
    Digits1To4,
    /// `0`-`9`, `*` and `#` (Nexus full protocol).
    NexusFull,
    /// `1`-`5` (Nexus small protocol).
    Keys1To5,
    /// Any other set of keys, listed once each.
    Custom(&'static str),
}

impl Keypad {
    /// The characters of the keys.
    #[must_use]
    pub const fn keys(self) -> &'static str {
        match self {
            Self::Digits => "0123456789",
            Self::Digits1To4 => "1234",
            Self::NexusFull => "0123456789*#",
            Self::Keys1To5 => "12345",
            Self::Custom(keys) => keys,
        }
    }

    /// The keys to press for a printed token: its characters that are keys, in order (the
    /// grouping spaces and dashes dropped).
    pub fn keys_of(self, printed: &str) -> impl Iterator<Item = char> + '_ {
        printed.chars().filter(move |c| self.keys().contains(*c))
    }
}

/// Where a scheme's credit amounts stop being exact: above `above`, only `above + k × step`
/// is carried (up to the next band). Nexus small carries 1-180 days exactly, then every 3rd day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Band {
    /// The last amount before the band.
    pub above: u32,
    /// Distance between carried amounts in the band (at least 1).
    pub step: u32,
}

impl Band {
    /// Amounts above `above` are carried every `step` units.
    #[must_use]
    pub const fn new(above: u32, step: u32) -> Self {
        Self { above, step }
    }
}

/// The credit amounts one command carries: `min..=max` in `unit`, every one of them unless
/// `bands` quantise the upper range. `max` is itself a carried amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CreditRange {
    /// The unit the token carries; credit in other units must convert exactly.
    pub unit: TimeUnit,
    /// Smallest amount.
    pub min: u32,
    /// Largest amount.
    pub max: u32,
    /// Coarser steps above some amounts, in ascending order; empty when every amount is exact.
    pub bands: &'static [Band],
}

impl CreditRange {
    /// Every amount in `min..=max` of `unit`.
    #[must_use]
    pub const fn new(unit: TimeUnit, min: u32, max: u32) -> Self {
        Self {
            unit,
            min,
            max,
            bands: &[],
        }
    }

    /// The same range, quantised by `bands` (ascending `above`).
    #[must_use]
    pub const fn with_bands(self, bands: &'static [Band]) -> Self {
        Self { bands, ..self }
    }

    /// True when some amounts in range are not carried exactly.
    #[must_use]
    pub const fn is_quantised(&self) -> bool {
        !self.bands.is_empty()
    }

    /// `credit` in this range's unit, if it is a carried amount.
    ///
    /// # Errors
    /// [`CheckError::Unit`] when it is not a whole number of the unit, [`CheckError::OutOfRange`]
    /// outside `min..=max`, [`CheckError::Inexact`] between two carried amounts.
    pub fn amount(&self, credit: Credit) -> Result<u32, CheckError> {
        let found = amount_in(credit, self.unit).ok_or(CheckError::Unit {
            credit,
            unit: self.unit,
        })?;
        let amount = u32::try_from(found)
            .ok()
            .filter(|a| (self.min..=self.max).contains(a))
            .ok_or(CheckError::OutOfRange {
                found,
                range: *self,
            })?;
        let (below, above) = self.nearest(amount);
        if below == amount {
            Ok(amount)
        } else {
            Err(CheckError::Inexact {
                found: amount,
                below,
                above,
                unit: self.unit,
            })
        }
    }

    /// The carried amounts at or just below and just above `amount` (the same twice when it
    /// is carried).
    #[must_use]
    pub fn nearest(&self, amount: u32) -> (u32, u32) {
        let band = self.bands.iter().rev().find(|b| b.above < amount);
        match band {
            Some(b) if b.step > 1 => {
                let below = amount - (amount - b.above) % b.step;
                if below == amount {
                    (amount, amount)
                } else {
                    (below, below.saturating_add(b.step).min(self.max))
                }
            }
            _ => (amount, amount),
        }
    }
}

/// What a scheme (in one configuration) can carry. Built with [`Capabilities::new`] and the
/// `with_*` methods, so new fields can be added without breaking schemes outside the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Capabilities {
    /// The scheme's name, e.g. `openpaygo`.
    pub scheme: &'static str,
    /// The commands it issues.
    pub commands: &'static [CommandKind],
    /// Amounts of [`Command::AddCredit`]; `None` leaves the amount to the issuer.
    pub add_credit: Option<CreditRange>,
    /// Amounts of [`Command::SetCredit`]; `None` leaves the amount to the issuer.
    pub set_credit: Option<CreditRange>,
    /// The device's keys.
    pub keypad: Keypad,
    /// Keys a person types for one token.
    pub token_len: u8,
    /// The issuer counter of a device that has never had a token.
    pub first_counter: u32,
}

impl Capabilities {
    /// A scheme issuing `commands` as `token_len` presses of `keypad`; no credit limits and
    /// a first counter of 0 until set.
    #[must_use]
    pub const fn new(
        scheme: &'static str,
        commands: &'static [CommandKind],
        keypad: Keypad,
        token_len: u8,
    ) -> Self {
        Self {
            scheme,
            commands,
            add_credit: None,
            set_credit: None,
            keypad,
            token_len,
            first_counter: 0,
        }
    }

    /// The same with ADD amounts limited to `range`.
    #[must_use]
    pub const fn with_add_credit(self, range: CreditRange) -> Self {
        Self {
            add_credit: Some(range),
            ..self
        }
    }

    /// The same with SET amounts limited to `range`.
    #[must_use]
    pub const fn with_set_credit(self, range: CreditRange) -> Self {
        Self {
            set_credit: Some(range),
            ..self
        }
    }

    /// The same with another first counter.
    #[must_use]
    pub const fn with_first_counter(self, first_counter: u32) -> Self {
        Self {
            first_counter,
            ..self
        }
    }

    /// Whether the scheme issues commands of `kind`.
    #[must_use]
    pub fn supports(&self, kind: CommandKind) -> bool {
        self.commands.contains(&kind)
    }

    /// Refuses a command the scheme cannot carry: an unsupported kind, or credit that is not
    /// a carried amount. Values of other commands are left to the issuer.
    ///
    /// # Errors
    /// [`CheckError`] saying why; it converts into an [`IssueError`] for issuers.
    pub fn check(&self, command: &Command) -> Result<(), CheckError> {
        let kind = command.kind();
        if !self.supports(kind) {
            return Err(CheckError::Unsupported(kind));
        }
        let (range, credit) = match *command {
            Command::AddCredit(c) => (self.add_credit, c),
            Command::SetCredit(c) => (self.set_credit, c),
            _ => return Ok(()),
        };
        range.map_or(Ok(()), |r| r.amount(credit).map(drop))
    }
}

/// Why a command is not one a scheme can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The scheme has no command of this kind.
    #[error("the scheme has no {0} command")]
    Unsupported(CommandKind),
    /// The credit is not a whole number of the scheme's unit.
    #[error("{} is not a whole number of {}", Amount::of(*.credit), Plural(*.unit))]
    Unit {
        /// The credit asked for.
        credit: Credit,
        /// The unit the scheme carries.
        unit: TimeUnit,
    },
    /// The amount is outside the range.
    #[error("{} is outside {}", Amount::new(*.found, .range.unit), RangeText(*.range))]
    OutOfRange {
        /// The amount asked for, in the range's unit.
        found: u64,
        /// What the scheme carries.
        range: CreditRange,
    },
    /// The amount falls between two the scheme carries; a device would round it.
    #[error(
        "{} is not carried exactly; the nearest amounts are {} and {}",
        Amount::new((*.found).into(), *.unit), Amount::new((*.below).into(), *.unit),
        Amount::new((*.above).into(), *.unit)
    )]
    Inexact {
        /// The amount asked for.
        found: u32,
        /// The carried amount below it.
        below: u32,
        /// The carried amount above it.
        above: u32,
        /// The unit of the three.
        unit: TimeUnit,
    },
}

impl From<CheckError> for IssueError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Unsupported(_) => Self::Unsupported,
            CheckError::OutOfRange { found, range } => Self::OutOfRange {
                field: "credit",
                found,
                max: range.max.into(),
            },
            CheckError::Unit { .. } | CheckError::Inexact { .. } => Self::Unit,
        }
    }
}

/// Seconds in one `unit`, as a fraction `(numerator, denominator)`; `None` for a zero divider.
const fn seconds_per(unit: TimeUnit) -> Option<(u64, u64)> {
    match unit {
        TimeUnit::Seconds => Some((1, 1)),
        TimeUnit::Minutes => Some((60, 1)),
        TimeUnit::Hours => Some((3_600, 1)),
        TimeUnit::Days => Some((86_400, 1)),
        TimeUnit::DayFraction(0) => None,
        TimeUnit::DayFraction(n) => Some((86_400, n as u64)),
    }
}

/// `credit` as a whole number of `unit`s, if it is one. Exact, unlike [`Credit::seconds`],
/// which rounds fractions of a day down.
#[must_use]
pub const fn amount_in(credit: Credit, unit: TimeUnit) -> Option<u64> {
    let (Some((from_num, from_den)), Some((to_num, to_den))) =
        (seconds_per(credit.unit), seconds_per(unit))
    else {
        return None;
    };
    // At most 2^32 × 86 400 × 255 < 2^57: no overflow.
    let num = credit.amount as u64 * from_num * to_den;
    let den = from_den * to_num;
    if num.is_multiple_of(den) {
        Some(num / den)
    } else {
        None
    }
}

/// `credit` as a whole number of `unit`s that fits a `u32`: the one conversion every issuer's
/// credit goes through.
///
/// # Errors
/// [`IssueError::Unit`] when it is not a whole number of `unit`s, [`IssueError::OutOfRange`]
/// (naming `field`) when it does not fit a `u32`.
pub fn units_of(credit: Credit, unit: TimeUnit, field: &'static str) -> Result<u32, IssueError> {
    let units = amount_in(credit, unit).ok_or(IssueError::Unit)?;
    u32::try_from(units).map_err(|_| IssueError::OutOfRange {
        field,
        found: units,
        max: u32::MAX.into(),
    })
}

/// An amount of a unit as people read it: `1 day`, `405 days`, `3/4 days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Amount {
    /// How many.
    pub amount: u64,
    /// Of what.
    pub unit: TimeUnit,
}

impl Amount {
    /// `amount` of `unit`.
    #[must_use]
    pub const fn new(amount: u64, unit: TimeUnit) -> Self {
        Self { amount, unit }
    }

    /// The amount of `credit`.
    #[must_use]
    pub const fn of(credit: Credit) -> Self {
        Self::new(credit.amount as u64, credit.unit)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (one, many) = names(self.unit);
        match self.unit {
            TimeUnit::DayFraction(n) => write!(f, "{}/{n} {many}", self.amount),
            _ if self.amount == 1 => write!(f, "1 {one}"),
            _ => write!(f, "{} {many}", self.amount),
        }
    }
}

/// A unit's name, singular and plural.
const fn names(unit: TimeUnit) -> (&'static str, &'static str) {
    match unit {
        TimeUnit::Seconds => ("second", "seconds"),
        TimeUnit::Minutes => ("minute", "minutes"),
        TimeUnit::Hours => ("hour", "hours"),
        TimeUnit::Days | TimeUnit::DayFraction(_) => ("day", "days"),
    }
}

/// A unit in the plural (`hours`, `1/4 days`), for "a whole number of …".
struct Plural(TimeUnit);

impl fmt::Display for Plural {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            TimeUnit::DayFraction(n) => write!(f, "1/{n} days"),
            unit => f.write_str(names(unit).1),
        }
    }
}

/// A range as `1-405 days`.
struct RangeText(CreditRange);

impl fmt::Display for RangeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = Amount::new(self.0.max.into(), self.0.unit);
        write!(f, "{}-{max}", self.0.min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL_SET: CreditRange = CreditRange::new(TimeUnit::Days, 0, 960).with_bands(&[
        Band::new(90, 2),
        Band::new(180, 4),
        Band::new(360, 8),
        Band::new(720, 16),
    ]);

    fn days(n: u32) -> Credit {
        Credit::new(n, TimeUnit::Days)
    }

    #[test]
    fn exact_conversion_between_units() {
        assert_eq!(amount_in(days(7), TimeUnit::Hours), Some(168));
        assert_eq!(
            amount_in(Credit::new(90, TimeUnit::Minutes), TimeUnit::Hours),
            None
        );
        assert_eq!(amount_in(days(3), TimeUnit::DayFraction(4)), Some(12));
        let third = Credit::new(1, TimeUnit::DayFraction(3));
        assert_eq!(amount_in(third, TimeUnit::Hours), Some(8));
        assert_eq!(amount_in(third, TimeUnit::Days), None);
        assert_eq!(amount_in(days(1), TimeUnit::DayFraction(0)), None);
        assert_eq!(
            amount_in(Credit::new(u32::MAX, TimeUnit::Days), TimeUnit::Seconds),
            Some(u64::from(u32::MAX) * 86_400)
        );
    }

    #[test]
    fn bands_give_the_carried_amounts_either_side() {
        assert_eq!(SMALL_SET.amount(days(90)), Ok(90));
        assert_eq!(SMALL_SET.amount(days(92)), Ok(92));
        assert_eq!(SMALL_SET.nearest(91), (90, 92));
        assert_eq!(SMALL_SET.nearest(185), (184, 188));
        assert_eq!(SMALL_SET.amount(days(960)), Ok(960));
        assert_eq!(
            SMALL_SET.amount(days(737)),
            Err(CheckError::Inexact {
                found: 737,
                below: 736,
                above: 752,
                unit: TimeUnit::Days
            })
        );
        assert!(SMALL_SET.is_quantised());
        assert!(!CreditRange::new(TimeUnit::Hours, 0, 9).is_quantised());
    }

    #[test]
    fn check_names_the_reason() {
        const KINDS: &[CommandKind] = &[CommandKind::AddCredit, CommandKind::SetCredit];
        let caps = Capabilities::new("x", KINDS, Keypad::Digits, 9)
            .with_add_credit(CreditRange::new(TimeUnit::Days, 1, 405))
            .with_set_credit(SMALL_SET);
        assert_eq!(caps.check(&Command::AddCredit(days(405))), Ok(()));
        assert_eq!(
            caps.check(&Command::Unlock),
            Err(CheckError::Unsupported(CommandKind::Unlock))
        );
        let e = caps.check(&Command::AddCredit(days(500))).unwrap_err();
        assert_eq!(e.to_string(), "500 days is outside 1-405 days");
        assert_eq!(
            IssueError::from(e),
            IssueError::OutOfRange {
                field: "credit",
                found: 500,
                max: 405
            }
        );
        let e = caps.check(&Command::SetCredit(days(91))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "91 days is not carried exactly; the nearest amounts are 90 days and 92 days"
        );
        let e = caps
            .check(&Command::AddCredit(Credit::new(36, TimeUnit::Hours)))
            .unwrap_err();
        assert_eq!(e.to_string(), "36 hours is not a whole number of days");
        assert_eq!(IssueError::from(e), IssueError::Unit);
        assert_eq!(Amount::new(1, TimeUnit::Days).to_string(), "1 day");
        assert_eq!(
            Amount::new(3, TimeUnit::DayFraction(4)).to_string(),
            "3/4 days"
        );
    }

    #[test]
    fn keys_of_a_printed_token() {
        let keys: String = Keypad::NexusFull.keys_of("*599 791 493 194 43#").collect();
        assert_eq!(keys, "*59979149319443#");
        assert_eq!(
            Command::SetParam { id: 1, value: 2 }.kind().name(),
            "SET_PARAM"
        );
    }
}
