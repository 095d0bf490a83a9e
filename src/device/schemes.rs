//! The built-in schemes' replay states as record fields, and their secrets as record keys.

use super::record::{Persist, Reader, RecordKey, Writer, derive_key};
use crate::access::{self, Mode, Params, State};
use crate::key::Key;
use crate::nexus::{NexusState, Window};
use crate::openpaygo::{self, DeviceState};

/// From the key; the starting code adds nothing a 128-bit key lacks.
impl RecordKey for openpaygo::Secret {
    fn record_key(&self) -> Key {
        derive_key(self.key())
    }
}

/// Nexus's secret is the device key itself.
impl RecordKey for Key {
    fn record_key(&self) -> Key {
        derive_key(self)
    }
}

/// From the device key (not the batch key it may have been derived from).
impl RecordKey for access::Secret {
    fn record_key(&self) -> Key {
        derive_key(self.key())
    }
}

/// 6 bytes: the highest count and the used-count bits.
impl Persist for DeviceState {
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

/// 61 bytes: the window, mode, credit register, the 16 parameters and the lockout and TEST
/// fields (spec §9.1).
impl Persist for State {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::record::{self, MAX_LEN, Snapshot};
    use crate::device::{CreditState, Lockout};

    fn round_trip<T: Persist + PartialEq + core::fmt::Debug>(state: T) {
        let snap = Snapshot {
            credit: CreditState::default(),
            lockout: Lockout::NEXUS.fresh(3),
            checkpoint: 4,
            correction: 5,
            scheme: state,
        };
        let key = Key::new([3; 16]);
        let mut buf = [0u8; MAX_LEN];
        let len = record::encode(9, &snap, &key, &mut buf).unwrap();
        assert_eq!(len, record::OVERHEAD + T::LEN);
        assert_eq!(record::decode::<T>(&buf[..len], &key), Some((9, snap)));
    }

    #[test]
    fn scheme_states_round_trip_and_fit_the_budget() {
        round_trip(DeviceState {
            max_count: 0xDEAD_BEEF,
            used_counts: 0xA5A5,
        });
        let mut nexus = NexusState::FRESH;
        nexus.window.pd_index = 70_000;
        nexus.window.received = 0x00AB_CDEF;
        nexus.restricted = true;
        nexus.qc_long_count = 3;
        round_trip(nexus);
        let mut ast = State::FRESH;
        ast.max_counter = 12;
        ast.used = u64::MAX - 1;
        ast.mode = Mode::Unlocked;
        ast.params.set(0, 7);
        ast.params.set(15, u16::MAX);
        ast.fails = 4;
        ast.test_count = 2;
        round_trip(ast);
        assert!(record::len::<DeviceState>() <= 64);
        assert!(record::len::<NexusState>() <= 64);
    }
}
