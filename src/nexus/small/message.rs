//! What a small-protocol frame carries: the 28-bit layout, the message types, and the day
//! increments with their tables, shared by the issuer and the device.

use crate::nexus::issue::NexusIssueError;

/// Message types (frame bits 6-7).
pub(crate) mod kind {
    pub(crate) const ADD_CREDIT: u8 = 0;
    pub(crate) const PASSTHROUGH: u8 = 1;
    pub(crate) const SET_CREDIT: u8 = 2;
    pub(crate) const MAINTENANCE_OR_TEST: u8 = 3;
}

/// ADD and SET increment meaning UNLOCK.
pub const UNLOCK_INCREMENT: u8 = 255;
/// SET increment meaning "set credit to 0" (lock).
pub const LOCK_INCREMENT: u8 = 254;
/// SET increment of the custom command that clears the restricted flag (credit unchanged).
pub const WIPE_RESTRICTED_FLAG_INCREMENT: u8 = 253;
/// Most days an ADD code carries.
pub const MAX_ADD_DAYS: u16 = 405;
/// Most days a SET code carries.
pub const MAX_SET_DAYS: u16 = 960;
/// Test and maintenance bodies above this are maintenance functions.
const MAX_TEST_FUNCTION: u8 = 127;

/// What a SET_CREDIT code (or an extended SET_CREDIT + wipe restricted flag code) sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetTarget {
    /// Credit of this many days from now, 0-960; 0 locks the device.
    Days(u16),
    /// End PAYG for good.
    Unlock,
}

impl SetTarget {
    /// The increment carried for this target.
    ///
    /// # Errors
    /// [`NexusIssueError::OutOfRange`] above 960 days.
    pub fn increment(self) -> Result<u8, NexusIssueError> {
        match self {
            Self::Unlock => Ok(UNLOCK_INCREMENT),
            Self::Days(days) => set_credit_increment(days),
        }
    }
}

/// Small maintenance codes (type 3, body `0x80 | function`, device key, ID 0). They carry no
/// ID and can be replayed at will: factory and support use only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Maintenance {
    /// Set credit to 0.
    WipeState0 = 0,
    /// Reset the used-ID window and QC counter, then set credit to 0.
    WipeState1 = 1,
    /// Reset the used-ID window and QC counter (old codes with IDs 0-63 work again).
    WipeIdsAll = 2,
}

/// Universal small test codes (type 3, body = function, key all `0xFF`, ID 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestCode {
    /// +127 s, only while disabled; unlimited. Always `143 253 222 433 244`.
    ShortTest = 0,
    /// +1 h unless unlocked, counted against the lifetime QC limit. Always `124 233 243 522 424`.
    OqcTest = 1,
}

/// The ADD increment for `days` (1-405; above 180, rounded down to a multiple of 3 past 180,
/// and the device then applies `add_credit_days` of it, which rounds up: 181 gives 183).
///
/// # Errors
/// [`NexusIssueError::OutOfRange`] outside 1-405.
pub fn add_credit_increment(days: u16) -> Result<u8, NexusIssueError> {
    let inc = match days {
        1..=180 => days - 1,
        181..=MAX_ADD_DAYS => 180 + (days - 181) / 3,
        _ => return Err(NexusIssueError::range("days", days, 1, MAX_ADD_DAYS.into())),
    };
    Ok(u8::try_from(inc).unwrap_or(UNLOCK_INCREMENT - 1))
}

/// The days a device adds for an ADD increment; `None` for [`UNLOCK_INCREMENT`].
#[must_use]
pub const fn add_credit_days(increment: u8) -> Option<u16> {
    let inc = increment as u16;
    match increment {
        UNLOCK_INCREMENT => None,
        0..180 => Some(inc + 1),
        _ => Some((inc - 179) * 3 + 180),
    }
}

/// The SET increment for `days` (0 = lock; 1-90 exact, then steps of 2, 4, 8 and 16 days,
/// rounded down here and up by the device, up to 960).
///
/// # Errors
/// [`NexusIssueError::OutOfRange`] above 960.
pub fn set_credit_increment(days: u16) -> Result<u8, NexusIssueError> {
    let inc = match days {
        0 => u16::from(LOCK_INCREMENT),
        1..=90 => days - 1,
        91..=180 => 90 + (days - 91) / 2,
        181..=360 => 135 + (days - 181) / 4,
        361..=720 => 180 + (days - 361) / 8,
        721..=MAX_SET_DAYS => 225 + (days - 721) / 16,
        _ => return Err(NexusIssueError::range("days", days, 0, MAX_SET_DAYS.into())),
    };
    Ok(u8::try_from(inc).unwrap_or(LOCK_INCREMENT))
}

/// The days a device sets for a SET increment below 240 (`None` for the special values
/// 240-255; the firmware sets 0 days for the reserved 240-252).
#[must_use]
pub const fn set_credit_days(increment: u8) -> Option<u16> {
    let inc = increment as u16;
    match increment {
        0..90 => Some(inc + 1),
        90..135 => Some((inc - 89) * 2 + 90),
        135..180 => Some((inc - 134) * 4 + 180),
        180..225 => Some((inc - 179) * 8 + 360),
        225..240 => Some((inc - 224) * 16 + 720),
        _ => None,
    }
}

/// Packs the four fields into the 28 frame bits.
pub(crate) const fn pack(compressed_id: u8, kind: u8, body: u8, mac12: u16) -> u32 {
    ((compressed_id as u32 & 0x3F) << 22)
        | ((kind as u32 & 3) << 20)
        | ((body as u32) << 12)
        | (mac12 as u32 & 0xFFF)
}

/// The fields of 28 frame bits: compressed ID, type, body, MAC.
#[allow(clippy::cast_possible_truncation)] // each field is masked to its width
pub(crate) const fn unpack(bits: u32) -> (u8, u8, u8, u16) {
    (
        ((bits >> 22) & 0x3F) as u8,
        ((bits >> 20) & 3) as u8,
        ((bits >> 12) & 0xFF) as u8,
        (bits & 0xFFF) as u16,
    )
}

/// A passthrough frame: the 26 bits with the type inserted after the first 6 (spec §4.5).
pub(crate) const fn passthrough_frame(bits26: u32) -> u32 {
    ((bits26 >> 20) << 22) | ((kind::PASSTHROUGH as u32) << 20) | (bits26 & 0xF_FFFF)
}

/// The 26 passthrough bits of a frame: all but the type bits.
pub(crate) const fn passthrough_bits(frame: u32) -> u32 {
    (((frame >> 22) & 0x3F) << 20) | (frame & 0xF_FFFF)
}

/// The 14 two-bit symbols of 28 frame bits, most significant first.
pub(crate) fn symbols(bits: u32) -> [u8; 14] {
    core::array::from_fn(|i| {
        let shift = 26 - 2 * i;
        u8::try_from((bits >> shift) & 3).unwrap_or(0)
    })
}

/// Whether a type-3 body is a test code (universal key) rather than maintenance.
pub(crate) const fn is_test(kind: u8, body: u8) -> bool {
    kind == kind::MAINTENANCE_OR_TEST && body <= MAX_TEST_FUNCTION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_increments_round_trip_through_the_device() {
        for days in 1..=MAX_ADD_DAYS {
            let inc = add_credit_increment(days).unwrap();
            let applied = add_credit_days(inc).unwrap();
            assert!(applied >= days && applied < days + 3, "{days} -> {applied}");
        }
        assert_eq!(
            add_credit_days(add_credit_increment(181).unwrap()),
            Some(183)
        );
        assert_eq!(add_credit_increment(405), Ok(254));
        assert!(add_credit_increment(0).is_err() && add_credit_increment(406).is_err());
        assert_eq!(add_credit_days(UNLOCK_INCREMENT), None);
    }

    #[test]
    fn set_increments_round_trip_through_the_device() {
        for days in 1..=MAX_SET_DAYS {
            let inc = set_credit_increment(days).unwrap();
            let applied = set_credit_days(inc).unwrap();
            assert!(
                applied >= days && applied < days + 16,
                "{days} -> {applied}"
            );
        }
        assert_eq!(set_credit_increment(0), Ok(LOCK_INCREMENT));
        assert_eq!(set_credit_increment(960), Ok(239));
        assert!(set_credit_increment(961).is_err());
        assert_eq!(set_credit_days(240), None);
    }

    #[test]
    fn frame_fields() {
        let bits = pack(42, 0, 6, 0xbca);
        assert_eq!(bits, 0b1010_1000_0000_0110_1011_1100_1010);
        assert_eq!(unpack(bits), (42, 0, 6, 0xbca));
        assert_eq!(symbols(bits)[..4], [2, 2, 2, 0]);
    }
}
