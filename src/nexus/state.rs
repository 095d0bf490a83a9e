//! What a Nexus device persists, and how the device-lock engine stores it. The secret is the
//! device [`Key`](crate::Key) itself, whose record key the persistence seam provides.

use super::rate_limit::RateLimit;
use super::window::Window;
use crate::persist::{Persist, Reader, Writer};

/// Everything the keycode engine persists: 12 bytes. Save it whenever a call changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NexusState {
    /// Accepted and used message IDs.
    pub window: Window,
    /// Full-protocol QC codes of 10 minutes or less accepted, ever (until a window wipe).
    pub qc_short_count: u8,
    /// Longer QC codes (and small OQC codes) accepted, ever (until a window wipe).
    pub qc_long_count: u8,
    /// The product-defined "restricted" flag: the product sets it; wipe codes clear it.
    pub restricted: bool,
    /// Rate-limit attempts a reboot restores (`min(initial, attempts left)`); a new device
    /// starts with the limiter's initial attempts (6 by default, as in [`NexusState::FRESH`]).
    pub grace_keycodes: u8,
}

impl NexusState {
    /// A new device: fresh window, no QC codes used, flag clear, full grace.
    pub const FRESH: Self = Self {
        window: Window::FRESH,
        qc_short_count: 0,
        qc_long_count: 0,
        restricted: false,
        grace_keycodes: RateLimit::DEFAULT.initial_attempts,
    };
}

impl Default for NexusState {
    fn default() -> Self {
        Self::FRESH
    }
}

/// 12 bytes: the window, the QC counts, the restricted flag and the grace count.
impl Persist for NexusState {
    const TAG: u8 = 2;
    const LEN: usize = 12;
    const FRESH: Self = Self::FRESH;

    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.window.pd_index);
        out.u32(self.window.received);
        out.u8(self.qc_short_count);
        out.u8(self.qc_long_count);
        out.u8(self.restricted.into());
        out.u8(self.grace_keycodes);
    }

    /// Inlined into the record's decoding, where the reader's length is a constant: each
    /// field's bounds check then folds away (out of line they stay, ~150 B on Cortex-M).
    #[inline(always)]
    fn load(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self {
            window: Window {
                pd_index: input.u32()?,
                received: input.u32()?,
            },
            qc_short_count: input.u8()?,
            qc_long_count: input.u8()?,
            restricted: input.bool()?,
            grace_keycodes: input.u8()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_small_and_round_trips_in_twelve_bytes() {
        assert_eq!(size_of::<NexusState>(), 12);
        let mut state = NexusState::FRESH;
        state.window.pd_index = 70_000;
        state.window.received = 0x00AB_CDEF;
        state.restricted = true;
        state.qc_long_count = 3;
        crate::persist::round_trip(state);
    }
}
