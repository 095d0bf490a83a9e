//! The receipt window (spec §5): which message IDs the device accepts and which it has used.
//!
//! IDs are `u32` end to end. nexus-embedded 2.0.1 passes them through `uint16_t` here, so
//! there codes with IDs from 65535 up can be replayed; here they cannot (decision 3).

/// IDs below the centre that are still accepted.
pub const BEFORE: u32 = 23;
/// IDs above the centre that are accepted.
pub const AFTER: u32 = 40;

/// The window's centre `Pd` and the 24-bit used-ID mask.
///
/// The device accepts IDs `Pd-23 ..= Pd+40` (64 IDs, so a 6-bit ID names exactly one).
/// Bit `i` of `received` says ID `Pd - 23 + i` was used; IDs above `Pd` are never used yet,
/// and IDs below the window are refused (their 6 bits name a higher ID, whose MAC fails).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// `Pd`, the highest ID that moved the window (23 on a fresh device).
    pub pd_index: u32,
    /// Used-ID flags; only the low 24 bits mean anything.
    pub received: u32,
}

/// The 24 flag bits.
const MASK: u32 = 0x00FF_FFFF;

impl Window {
    /// A fresh device's window: IDs 0-63 accepted, none used.
    pub const FRESH: Self = Self {
        pd_index: BEFORE,
        received: 0,
    };

    /// The lowest accepted ID.
    #[must_use]
    pub const fn lowest(&self) -> u32 {
        self.pd_index.saturating_sub(BEFORE)
    }

    /// The highest accepted ID.
    #[must_use]
    pub const fn highest(&self) -> u32 {
        self.pd_index.saturating_add(AFTER)
    }

    /// The accepted ID whose low 6 bits are `compressed` (`None` if it is not in the window,
    /// which only happens at the very ends of the `u32` range).
    #[must_use]
    pub fn infer(&self, compressed: u8) -> Option<u32> {
        let low = self.lowest();
        let mut id = (low & !0x3F) | u32::from(compressed & 0x3F);
        if id < low {
            id = id.checked_add(64)?;
        }
        (id <= self.highest()).then_some(id)
    }

    /// The flag bit of an ID at or below `Pd` in the window.
    fn bit(&self, id: u32) -> Option<u32> {
        let below = self.pd_index.checked_sub(id)?;
        let index = BEFORE.checked_sub(below)?;
        Some(1 << index)
    }

    /// Whether `id` was already used. IDs above `Pd` or below the window never are.
    #[must_use]
    pub fn is_received(&self, id: u32) -> bool {
        self.bit(id).is_some_and(|b| self.received & b != 0)
    }

    /// Moves the centre up to `id` if it is higher, dropping flags that leave the window.
    fn advance_to(&mut self, id: u32) {
        if let Some(k) = id.checked_sub(self.pd_index).filter(|k| *k > 0) {
            self.received = if k > BEFORE { 0 } else { self.received >> k };
            self.pd_index = id;
        }
    }

    /// Marks `id` used (an ADD code): only its own flag, so ADD codes may come in any order.
    pub fn mark(&mut self, id: u32) {
        self.advance_to(id);
        if let Some(b) = self.bit(id) {
            self.received |= b;
        }
    }

    /// Marks `id` and every lower ID in the window used (SET, UNLOCK, WIPE): a SET voids
    /// unused older codes. IDs below the window change nothing.
    pub fn mark_up_to(&mut self, id: u32) {
        self.advance_to(id);
        if let Some(b) = self.bit(id) {
            self.received |= (b << 1).wrapping_sub(1) & MASK;
        }
    }

    /// Back to [`Window::FRESH`] (WIPE targets 1 and 2): IDs 0-63 are accepted again.
    pub fn reset(&mut self) {
        *self = Self::FRESH;
    }
}

impl Default for Window {
    fn default() -> Self {
        Self::FRESH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_unique_id_in_the_window() {
        let w = Window::FRESH;
        assert_eq!(w.infer(0), Some(0));
        assert_eq!(w.infer(63), Some(63));
        let w = Window {
            pd_index: 100,
            received: 0,
        };
        assert_eq!(w.infer(5), Some(133));
        assert_eq!(w.infer(13), Some(77));
        assert_eq!(w.infer(12), Some(140));
        let top = Window {
            pd_index: u32::MAX,
            received: 0,
        };
        assert_eq!(top.infer(0x3F), Some(u32::MAX));
        assert_eq!(top.infer(0), None);
    }

    #[test]
    fn add_marks_one_set_marks_all_below() {
        let mut w = Window::FRESH;
        w.mark(0);
        w.mark(2);
        assert_eq!(w.received, 0b101);
        w.mark(40);
        assert_eq!((w.pd_index, w.received), (40, 0x80_0000));
        w.mark(17);
        assert_eq!(w.received, 0x80_0001);
        assert!(w.is_received(17) && w.is_received(40) && !w.is_received(18));
        w.mark_up_to(70);
        assert_eq!((w.pd_index, w.received), (70, MASK));
        w.mark_up_to(3);
        assert_eq!((w.pd_index, w.received), (70, MASK));
        w.reset();
        assert_eq!(w, Window::FRESH);
    }

    #[test]
    fn ids_outside_are_never_received() {
        let w = Window {
            pd_index: 100,
            received: MASK,
        };
        assert!(!w.is_received(76));
        assert!(w.is_received(77));
        assert!(w.is_received(100));
        assert!(!w.is_received(101));
    }

    #[test]
    fn ids_past_65535_are_tracked() {
        let mut w = Window {
            pd_index: 65_534,
            received: 0,
        };
        w.mark_up_to(65_535);
        assert!(w.is_received(65_535));
        w.mark(65_536);
        assert!(w.is_received(65_536) && w.is_received(65_535));
    }
}
