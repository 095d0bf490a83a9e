//! What both protocols' issuers share: the message ID limit, and why an issuer produced no
//! keycode. Nothing is produced for out-of-range input.

/// The highest message ID issuers accept by default: nexus-embedded 2.0.1 tracks IDs in
/// 16 bits and lets codes from 65535 up be replayed.
pub const MAX_ISSUED_ID: u32 = 65_534;

/// Refuses `id` above `max`.
pub(crate) fn check_id(id: u32, max: u32) -> Result<(), NexusIssueError> {
    if id > max {
        Err(NexusIssueError::IdTooHigh { id, max })
    } else {
        Ok(())
    }
}

/// A keycode request the issuer refuses. Each variant says what to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NexusIssueError {
    /// The message ID is above the issuer's limit (65534 unless raised on purpose: firmware
    /// 2.0.1 keeps IDs in 16 bits, so codes from 65535 up can be replayed there).
    #[error("message ID {id} is above {max}; firmware 2.0.1 cannot track higher IDs")]
    IdTooHigh {
        /// The ID given.
        id: u32,
        /// The largest ID allowed.
        max: u32,
    },
    /// A value outside what the message can carry.
    #[error("{field} is {found}, allowed {min}-{max}")]
    OutOfRange {
        /// Which input.
        field: &'static str,
        /// The value given.
        found: u64,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// Demo codes add credit every time they are entered; the issuer was not made with
    /// [`crate::nexus::FullIssuer::allowing_demo_codes`].
    #[error("demo codes add credit each time they are entered: issue them only on request")]
    DemoNotAllowed,
    /// Passthrough data must be decimal digits.
    #[error("passthrough character {position} is not a digit")]
    NotADigit {
        /// Zero-based position in the data.
        position: usize,
    },
    /// A passthrough body (subtype + data) of exactly 13 digits makes a 14-digit frame, which
    /// the device reads as an activation code.
    #[error("a passthrough body cannot be 13 digits: the frame would read as an activation code")]
    PassthroughBody13,
    /// A small SET_CREDIT of 1 day at an ID whose low 6 bits are 63 looks like an old test code.
    #[error("small SET_CREDIT of 1 day cannot use ID {id} (low 6 bits are 63); use {next}")]
    SetCreditId63 {
        /// The ID given.
        id: u32,
        /// The next ID, which is safe.
        next: u32,
    },
    /// Another ID near this one gives the same 12-bit authentication, so the device could
    /// apply the code under the wrong ID.
    #[error("ID {id} yields a MAC collision, next valid ID is {next_valid}")]
    ExtendedCollision {
        /// The ID given.
        id: u32,
        /// The first ID above it without a collision.
        next_valid: u32,
    },
    /// No message ID follows `id` within the issuer's limit (the ID space is exhausted): a
    /// code that must move on to the next ID cannot be issued, and no ID wraps back to 0.
    #[error("message ID {id} is the last one: the ID space is exhausted")]
    CounterExhausted {
        /// The ID given.
        id: u32,
    },
    /// Every ID in the 40 from `id` collides (never seen in practice).
    #[error("no collision-free ID in the 40 IDs from {id}")]
    NoCollisionFreeId {
        /// The ID given.
        id: u32,
    },
}

impl NexusIssueError {
    /// A [`NexusIssueError::OutOfRange`] for `field`.
    pub(crate) fn range(field: &'static str, found: impl Into<u64>, min: u64, max: u64) -> Self {
        Self::OutOfRange {
            field,
            found: found.into(),
            min,
            max,
        }
    }
}
