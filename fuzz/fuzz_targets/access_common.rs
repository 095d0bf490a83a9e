//! Helpers shared by the AST v1 targets.

#![allow(dead_code, reason = "each target uses part of these helpers")]

use paylock::Key;
use paylock::access::{AstConfig, AstSecret, AstState, Profile, Suite, Unit};

/// The profile a selector byte picks.
pub fn profile(selector: u8) -> Profile {
    Profile::ALL[usize::from(selector % 3)]
}

/// The suite a selector byte picks.
pub fn suite(selector: u8) -> Suite {
    Suite::ALL[usize::from(selector % 3)]
}

/// A device secret, or `None` for the reserved TEST device id.
pub fn secret(
    key: [u8; 16],
    suite_sel: u8,
    profile_sel: u8,
    device_id: u32,
    key_rev: u8,
) -> Option<AstSecret> {
    let config = AstConfig {
        suite: suite(suite_sel),
        profile: profile(profile_sel),
        device_id,
        key_rev,
        unit: if key_rev & 0x80 == 0 {
            Unit::Hours
        } else {
            Unit::Days
        },
    };
    AstSecret::new(Key::new(key), config).ok()
}

/// Persisted device state, field by field as `seeds.py` writes it.
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy)]
pub struct RawState {
    pub max_counter: u32,
    pub used: u64,
    pub unlocked: bool,
    pub credit: u32,
    /// Bit `i` set: parameter `i` holds `param_values[i]`.
    pub params_set: u16,
    pub param_values: [u16; 16],
    pub fails: u8,
    pub lock_until: u32,
    pub test_window_start: u32,
    pub test_count: u8,
}

impl RawState {
    /// The state; `used` is cut to the profile's back window, as a device keeps it.
    pub fn state(&self, profile: Profile) -> AstState {
        let mut state = AstState {
            max_counter: self.max_counter,
            used: self.used & profile.used_mask(),
            mode: if self.unlocked {
                paylock::access::Mode::Unlocked
            } else {
                paylock::access::Mode::Payg
            },
            credit: self.credit,
            fails: self.fails,
            lock_until: self.lock_until,
            test_window_start: self.test_window_start,
            test_count: self.test_count,
            ..AstState::FRESH
        };
        for (id, &value) in (0u8..16).zip(&self.param_values) {
            if self.params_set >> id & 1 == 1 {
                state.params.set(id, value);
            }
        }
        state
    }
}
