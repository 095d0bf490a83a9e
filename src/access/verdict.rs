//! The device's answers (spec §9.6): a typed verdict per entry, with the flat status and
//! reason codes that logs, vectors and support tools use.

use super::frame::Fields;
use super::message::AstMessage;
use super::text::AstParseError;

/// The five result classes of spec §9.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AstStatus {
    /// Accepted and recorded.
    Applied,
    /// Genuine but not new; nothing changed.
    Duplicate,
    /// Refused and counted as a failed attempt.
    Invalid,
    /// Not a token of this profile; nothing changed, not counted.
    Malformed,
    /// Refused unread (lockout) or over the TEST quota; nothing changed.
    Locked,
}

impl AstStatus {
    /// The spec's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Applied => "APPLIED",
            Self::Duplicate => "DUPLICATE",
            Self::Invalid => "INVALID",
            Self::Malformed => "MALFORMED",
            Self::Locked => "LOCKED",
        }
    }
}

/// Why a genuine token is not new.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DuplicateReason {
    /// Entered before, voided by a barrier, or equal to `max_counter`.
    Used,
    /// An ordered or barrier token older than `max_counter`: reissue it.
    Superseded,
}

/// Why a well-formed entry was refused. Devices should show one message for all of them:
/// after whitening a typo lands in any field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidReason {
    /// Reserved type 6 or 7.
    Type,
    /// The key revision bits differ from the device's.
    KeyRev,
    /// The reconstructed counter is 0 or above `2^32 − 1`.
    Counter,
    /// The tag does not match.
    Mac,
}

/// Every reason code of spec §9.6, flat, for logs and support tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// DUPLICATE: entered before, voided, or equal to max.
    Used,
    /// DUPLICATE: an ordered token older than max.
    Superseded,
    /// INVALID: reserved type.
    Type,
    /// INVALID: key revision bits.
    KeyRev,
    /// INVALID: counter out of range.
    Counter,
    /// INVALID: tag mismatch.
    Mac,
    /// MALFORMED: not a digit or separator.
    BadChar,
    /// MALFORMED: digit outside 1-4 (S).
    BadDigit,
    /// MALFORMED: wrong number of digits.
    BadLength,
    /// MALFORMED: number too large for a frame.
    FrameRange,
    /// LOCKED: keypad lockout.
    Lockout,
    /// LOCKED: TEST quota spent.
    TestRate,
}

impl Reason {
    /// The spec's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Used => "USED",
            Self::Superseded => "SUPERSEDED",
            Self::Type => "TYPE",
            Self::KeyRev => "KEY_REV",
            Self::Counter => "COUNTER",
            Self::Mac => "MAC",
            Self::BadChar => "BAD_CHAR",
            Self::BadDigit => "BAD_DIGIT",
            Self::BadLength => "BAD_LENGTH",
            Self::FrameRange => "FRAME_RANGE",
            Self::Lockout => "LOCKOUT",
            Self::TestRate => "TEST_RATE",
        }
    }
}

/// What an INVALID entry looked like once unwhitened: unauthenticated, for support logs only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Diag {
    /// The unwhitened body fields.
    pub fields: Fields,
    /// The tag as entered.
    pub tag: u64,
    /// The reconstructed counter candidate, when reconstruction ran.
    pub counter: Option<u64>,
}

/// A LOCKED answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locked {
    /// The keypad is locked out; nothing was read.
    Lockout {
        /// `lock_until`.
        retry_at: u32,
    },
    /// A genuine TEST code over the hourly quota.
    TestRate {
        /// The TEST code.
        message: AstMessage,
        /// When the TEST window ends.
        retry_at: u32,
    },
}

/// The device's answer to one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum AstVerdict {
    /// Accepted; the state records it. Persist the state, then act on the message.
    Applied(AstMessage),
    /// Genuine but not new.
    Duplicate {
        /// The token.
        message: AstMessage,
        /// Why it is not new.
        reason: DuplicateReason,
    },
    /// Refused and counted as a failure.
    Invalid {
        /// Which check failed.
        reason: InvalidReason,
        /// The unauthenticated fields.
        diag: Diag,
        /// The lock this failure started (0 for none).
        lock_seconds: u32,
    },
    /// Not a token of the device's profile.
    Malformed(AstParseError),
    /// Refused without effect.
    Locked(Locked),
}

impl AstVerdict {
    /// The result class.
    #[must_use]
    pub const fn status(&self) -> AstStatus {
        match self {
            Self::Applied(_) => AstStatus::Applied,
            Self::Duplicate { .. } => AstStatus::Duplicate,
            Self::Invalid { .. } => AstStatus::Invalid,
            Self::Malformed(_) => AstStatus::Malformed,
            Self::Locked(_) => AstStatus::Locked,
        }
    }

    /// The reason code (none for APPLIED).
    #[must_use]
    pub const fn reason(&self) -> Option<Reason> {
        Some(match self {
            Self::Applied(_) => return None,
            Self::Duplicate { reason, .. } => match reason {
                DuplicateReason::Used => Reason::Used,
                DuplicateReason::Superseded => Reason::Superseded,
            },
            Self::Invalid { reason, .. } => match reason {
                InvalidReason::Type => Reason::Type,
                InvalidReason::KeyRev => Reason::KeyRev,
                InvalidReason::Counter => Reason::Counter,
                InvalidReason::Mac => Reason::Mac,
            },
            Self::Malformed(e) => match e {
                AstParseError::BadChar { .. } => Reason::BadChar,
                AstParseError::BadDigit { .. } => Reason::BadDigit,
                AstParseError::BadLength { .. } => Reason::BadLength,
                AstParseError::FrameRange { .. } => Reason::FrameRange,
            },
            Self::Locked(Locked::Lockout { .. }) => Reason::Lockout,
            Self::Locked(Locked::TestRate { .. }) => Reason::TestRate,
        })
    }

    /// The reason's name (none for APPLIED).
    #[must_use]
    pub const fn reason_name(&self) -> Option<&'static str> {
        match self.reason() {
            Some(r) => Some(r.name()),
            None => None,
        }
    }

    /// The authenticated message, when the MAC verified (APPLIED, DUPLICATE, TEST_RATE).
    #[must_use]
    pub const fn message(&self) -> Option<&AstMessage> {
        match self {
            Self::Applied(m)
            | Self::Duplicate { message: m, .. }
            | Self::Locked(Locked::TestRate { message: m, .. }) => Some(m),
            _ => None,
        }
    }
}
