//! What a full-protocol frame carries: its digit layout, the message type digits and the wipe
//! targets, shared by the issuer and the device.

/// Digits in an activation frame: type, 2-digit ID, 5-digit body, 6-digit check.
pub const ACTIVATION_DIGITS: usize = 14;
/// The SET_CREDIT hours that mean UNLOCK.
pub const UNLOCK_HOURS: u32 = 99_999;
/// Largest 5-digit body (hours or minutes).
pub const MAX_BODY: u32 = 99_999;

/// Message type digits (the first digit of the de-obscured frame).
pub(crate) mod kind {
    pub(crate) const ADD_CREDIT: u8 = 0;
    pub(crate) const SET_CREDIT: u8 = 1;
    pub(crate) const WIPE_STATE: u8 = 2;
    pub(crate) const DEMO: u8 = 3;
    pub(crate) const ALLOW_TEST: u8 = 4;
    pub(crate) const OQC_TEST: u8 = 5;
    pub(crate) const DISPLAY_PAYG_ID: u8 = 6;
    pub(crate) const DEVICE_ID_CONFIRMATION: u8 = 7;
    pub(crate) const PASSTHROUGH: u8 = 8;
}

/// What a WIPE_STATE code (full type 2) or a small maintenance code clears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WipeTarget {
    /// Credit only (set to 0). Upstream `TARGET_FLAGS_0`.
    Credit = 0,
    /// Credit, the used-ID window and the QC counters. Upstream `TARGET_FLAGS_1`.
    CreditAndWindow = 1,
    /// The used-ID window and the QC counters only. Upstream `WIPE_IDS_ALL`.
    ///
    /// Factory use only: after it, every old code with an ID 0-63 works again, and the wipe
    /// code itself can be re-entered while `Pd <= id + 23` (spec §12, the wipe-replay loop).
    Window = 2,
    /// The product's "restricted" flag. Upstream `WIPE_RESTRICTED_FLAG`.
    RestrictedFlag = 3,
}

impl WipeTarget {
    /// The target for a digit 0-3.
    #[must_use]
    pub const fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            0 => Some(Self::Credit),
            1 => Some(Self::CreditAndWindow),
            2 => Some(Self::Window),
            3 => Some(Self::RestrictedFlag),
            _ => None,
        }
    }

    /// The digit carried in the code.
    #[must_use]
    pub const fn digit(self) -> u8 {
        self as u8
    }
}

/// The low `digits.len()` digits (values 0-9) as a number; wraps like the C parser.
pub(crate) fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |v, &d| v.wrapping_mul(10).wrapping_add(u32::from(d)))
}

/// Credit of ALLOW_TEST (and of the small SHORT_TEST).
pub(crate) const SHORT_TEST_SECONDS: u32 = 127;
/// The QC code that may stack on an enabled device (and the small OQC_TEST's credit).
pub(crate) const QC_LONG_SECONDS: u32 = 3_600;
