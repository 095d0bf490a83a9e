//! What an OpenPAYGO device persists, and how the device-lock engine stores it.

use super::secret::OpenPaygoSecret;
use crate::key::Key;
use crate::persist::{Persist, Reader, RecordKey, Writer, derive_record_key};

/// What the device persists between tokens. Same layout as the C reference's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OpenPaygoState {
    /// Highest count accepted so far. Never decreases.
    pub max_count: u32,
    /// Bit `i` set: count `max_count - 1 - i` is used. `max_count` itself and odd counts below it
    /// are always used.
    pub used_counts: u16,
}

/// 6 bytes: the highest count and the used-count bits.
impl Persist for OpenPaygoState {
    const TAG: u8 = 1;
    const LEN: usize = 6;
    const FRESH: Self = Self {
        max_count: 0,
        used_counts: 0,
    };

    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.max_count);
        out.u16(self.used_counts);
    }

    fn load(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self {
            max_count: input.u32()?,
            used_counts: input.u16()?,
        })
    }
}

/// From the key; the starting code adds nothing a 128-bit key lacks.
impl RecordKey for OpenPaygoSecret {
    fn record_key(&self) -> Key {
        derive_record_key(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_in_six_bytes() {
        crate::persist::round_trip(OpenPaygoState {
            max_count: 0xDEAD_BEEF,
            used_counts: 0xA5A5,
        });
        assert_eq!(OpenPaygoState::FRESH, OpenPaygoState::default());
    }
}
