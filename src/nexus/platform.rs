//! The product as the keycode engine sees it ([`Platform`]), and what the engine tells it: the
//! product's PAYG state, the feedback to show, the response to a finished code.

/// The product's PAYG state, as it reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaygState {
    /// No credit left: the product is off.
    Disabled,
    /// Running on credit.
    Enabled,
    /// Paid off: PAYG is over.
    Unlocked,
}

/// Feedback the product should show (`nxp_keycode_feedback_start`); the numbers are upstream's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Feedback {
    /// The code is not valid.
    MessageInvalid = 1,
    /// A genuine code that changed nothing (already used, or not applicable now).
    MessageValid = 2,
    /// The code was applied.
    MessageApplied = 4,
    /// A key was taken.
    KeyAccepted = 5,
    /// A key was refused (no code started, or rate-limited).
    KeyRejected = 6,
    /// Show the device's PAYG ID.
    DisplaySerialId = 7,
}

impl Feedback {
    /// Upstream's name, as the vectors spell it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::MessageInvalid => "MESSAGE_INVALID",
            Self::MessageValid => "MESSAGE_VALID",
            Self::MessageApplied => "MESSAGE_APPLIED",
            Self::KeyAccepted => "KEY_ACCEPTED",
            Self::KeyRejected => "KEY_REJECTED",
            Self::DisplaySerialId => "DISPLAY_SERIAL_ID",
        }
    }
}

/// What the device made of a finished code (`nexus_keycode_pro_response`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// Not a valid code; nothing changed.
    Invalid,
    /// A genuine code that changed no credit: already used, or not applicable now.
    ValidDuplicate,
    /// Applied.
    ValidApplied,
    /// The product should show its PAYG ID.
    DisplayDeviceId,
    /// Handed on without a verdict: passthrough data, or an extended small code (which gives
    /// its own feedback).
    None,
}

impl Response {
    /// Upstream's name, as the vectors spell it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Invalid => "INVALID",
            Self::ValidDuplicate => "VALID_DUPLICATE",
            Self::ValidApplied => "VALID_APPLIED",
            Self::DisplayDeviceId => "DISPLAY_DEVICE_ID",
            Self::None => "NONE",
        }
    }

    /// The feedback this response starts (none for [`Response::None`]).
    #[must_use]
    pub const fn feedback(self) -> Option<Feedback> {
        match self {
            Self::Invalid => Some(Feedback::MessageInvalid),
            Self::ValidDuplicate => Some(Feedback::MessageValid),
            Self::ValidApplied => Some(Feedback::MessageApplied),
            Self::DisplayDeviceId => Some(Feedback::DisplaySerialId),
            Self::None => None,
        }
    }
}

/// The product, as the keycode engine sees it. Credit is in seconds (hours, days and minutes
/// are converted before these calls).
pub trait Platform {
    /// The current PAYG state.
    fn payg_state(&self) -> PaygState;
    /// Add `seconds` of credit.
    fn add_credit(&mut self, seconds: u32);
    /// Replace the credit with `seconds` (0 disables). Leaving UNLOCKED is the product's call.
    fn set_credit(&mut self, seconds: u32);
    /// End PAYG for good.
    fn unlock(&mut self);
    /// The "restricted" flag in [`NexusState`](super::NexusState) was written by a keycode
    /// (`false`: cleared).
    fn restricted_flag_changed(&mut self, value: bool) {
        let _ = value;
    }
    /// Full-protocol passthrough data (the ASCII digits after the `8`: subtype, then data).
    /// Return `true` if the product took it; `false` makes the code INVALID.
    fn passthrough(&mut self, digits: &[u8]) -> bool {
        let _ = digits;
        false
    }
    /// The ID printed on the product, checked by the type-7 confirmation code.
    fn user_facing_id(&self) -> u32;
    /// Show feedback to the user.
    fn feedback(&mut self, feedback: Feedback) {
        let _ = feedback;
    }
}

/// The outcome of a finished code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Processed {
    /// The response (its feedback has already gone to the platform).
    pub response: Response,
    /// The full message ID of an authentic code that carries one (ADD, SET, WIPE, DEMO,
    /// extended), whether applied or a duplicate.
    pub message_id: Option<u32>,
}

impl Processed {
    pub(crate) const fn invalid() -> Self {
        Self::of(Response::Invalid)
    }

    pub(crate) const fn of(response: Response) -> Self {
        Self {
            response,
            message_id: None,
        }
    }

    pub(crate) const fn with_id(response: Response, id: u32) -> Self {
        Self {
            response,
            message_id: Some(id),
        }
    }
}
