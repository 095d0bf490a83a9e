//! What a device persists (spec §9.1): the replay window, credit, mode, parameters and the
//! lockout and TEST-rate fields, and how the device-lock engine stores them. The configuration
//! is not here: no v1 token changes it.

use super::secret::AstSecret;
use crate::key::Key;
use crate::persist::{Persist, Reader, RecordKey, Writer, derive_record_key};

/// Whether the device is still pay-as-you-go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Credit runs down; the product is enabled while credit remains.
    #[default]
    Payg,
    /// Paid off: always enabled. Tokens are still processed; a SET_CREDIT re-locks.
    Unlocked,
}

impl Mode {
    /// The name used in the vector files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Payg => "PAYG",
            Self::Unlocked => "UNLOCKED",
        }
    }
}

/// Parameters set by SET_PARAM tokens: ids 0-15, each unset or holding a payload. Every id is
/// recorded, including ones the product ignores (spec §9.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Params {
    set: u16,
    values: [u16; 16],
}

impl Params {
    /// No parameter set.
    pub const EMPTY: Self = Self {
        set: 0,
        values: [0; 16],
    };

    /// The payload of parameter `id`, if a token set it.
    #[must_use]
    pub fn get(&self, id: u8) -> Option<u16> {
        let bit = 1u16.checked_shl(u32::from(id))?;
        if self.set & bit == 0 {
            return None;
        }
        self.values.get(usize::from(id)).copied()
    }

    /// Records parameter `id` (ids above 15 are ignored: no token can carry them).
    pub fn set(&mut self, id: u8, value: u16) {
        if let (Some(bit), Some(slot)) = (
            1u16.checked_shl(u32::from(id)),
            self.values.get_mut(usize::from(id)),
        ) {
            self.set |= bit;
            *slot = value;
        }
    }

    /// The set parameters in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, u16)> + '_ {
        (0..16u8).filter_map(|id| self.get(id).map(|v| (id, v)))
    }

    /// True when no parameter was set.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.set == 0
    }
}

/// What a device persists (spec §9.1). The configuration is not here: no v1 token changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AstState {
    /// Highest accepted counter (0 when new). Never decreases.
    pub max_counter: u32,
    /// Bit `i` set: counter `max_counter − 1 − i` is used; only the low `B` bits count.
    pub used: u64,
    /// PAYG or unlocked.
    pub mode: Mode,
    /// Credit register in device units: ADD adds (saturating), SET sets. Running credit down
    /// with the clock is the product's job.
    pub credit: u32,
    /// Parameters set by tokens.
    pub params: Params,
    /// Consecutive counted failures (saturating).
    pub fails: u8,
    /// Entries are refused while `now < lock_until`.
    pub lock_until: u32,
    /// Start of the TEST rate window.
    pub test_window_start: u32,
    /// MAC-valid TEST codes accepted in the window.
    pub test_count: u8,
}

impl AstState {
    /// A newly provisioned device.
    pub const FRESH: Self = Self {
        max_counter: 0,
        used: 0,
        mode: Mode::Payg,
        credit: 0,
        params: Params::EMPTY,
        fails: 0,
        lock_until: 0,
        test_window_start: 0,
        test_count: 0,
    };
}

/// 61 bytes: the window, mode, credit register, the 16 parameters and the lockout and TEST
/// fields (spec §9.1).
impl Persist for AstState {
    const TAG: u8 = 3;
    const LEN: usize = 61;
    const FRESH: Self = Self::FRESH;

    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.max_counter);
        out.u64(self.used);
        out.u8(match self.mode {
            Mode::Payg => 0,
            Mode::Unlocked => 1,
        });
        out.u32(self.credit);
        let mut set = 0u16;
        for (id, _) in self.params.iter() {
            set |= 1 << id;
        }
        out.u16(set);
        for id in 0..16 {
            out.u16(self.params.get(id).unwrap_or(0));
        }
        out.u8(self.fails);
        out.u32(self.lock_until);
        out.u32(self.test_window_start);
        out.u8(self.test_count);
    }

    /// Inlined into the record's decoding, where the reader's length is a constant: each
    /// field's bounds check then folds away (out of line they stay, ~150 B on Cortex-M).
    #[inline(always)]
    fn load(input: &mut Reader<'_>) -> Option<Self> {
        let max_counter = input.u32()?;
        let used = input.u64()?;
        let mode = match input.u8()? {
            0 => Mode::Payg,
            1 => Mode::Unlocked,
            _ => return None,
        };
        let credit = input.u32()?;
        let set = input.u16()?;
        let mut params = Params::EMPTY;
        for id in 0..16u8 {
            let value = input.u16()?;
            if set >> id & 1 == 1 {
                params.set(id, value);
            } else if value != 0 {
                return None;
            }
        }
        Some(Self {
            max_counter,
            used,
            mode,
            credit,
            params,
            fails: input.u8()?,
            lock_until: input.u32()?,
            test_window_start: input.u32()?,
            test_count: input.u8()?,
        })
    }
}

/// From the device key (not the batch key it may have been derived from).
impl RecordKey for AstSecret {
    fn record_key(&self) -> Key {
        derive_record_key(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_in_61_bytes() {
        let mut ast = AstState::FRESH;
        ast.max_counter = 12;
        ast.used = u64::MAX - 1;
        ast.mode = Mode::Unlocked;
        ast.params.set(0, 7);
        ast.params.set(15, u16::MAX);
        ast.fails = 4;
        ast.test_count = 2;
        crate::persist::round_trip(ast);
    }

    #[test]
    fn params_record_every_id() {
        let mut p = Params::EMPTY;
        assert!(p.is_empty());
        p.set(9, 0);
        p.set(16, 1);
        assert_eq!(p.get(9), Some(0));
        assert_eq!(p.get(8), None);
        assert_eq!(p.iter().collect::<Vec<_>>(), [(9, 0)]);
    }
}
