//! What both protocols' parsers share while applying one frame: the key, the persisted state,
//! the product and the configuration, and the effects every protocol has (wipes, the
//! restricted flag).

use super::config::NexusConfig;
use super::full::message::WipeTarget;
use super::platform::{PaygState, Platform};
use super::state::NexusState;
use crate::key::Key;

/// Everything a protocol parser needs while applying one frame.
pub(crate) struct Ctx<'a, P: Platform + ?Sized> {
    pub(crate) key: &'a Key,
    pub(crate) state: &'a mut NexusState,
    pub(crate) platform: &'a mut P,
    pub(crate) config: &'a NexusConfig,
}

impl<P: Platform + ?Sized> Ctx<'_, P> {
    pub(crate) fn is_unlocked(&self) -> bool {
        self.platform.payg_state() == PaygState::Unlocked
    }

    pub(crate) fn is_disabled(&self) -> bool {
        self.platform.payg_state() == PaygState::Disabled
    }

    pub(crate) fn clear_restricted_flag(&mut self) {
        self.state.restricted = false;
        self.platform.restricted_flag_changed(false);
    }

    /// Applies a wipe (full type 2, small maintenance).
    pub(crate) fn wipe(&mut self, target: WipeTarget) {
        match target {
            WipeTarget::Credit => self.platform.set_credit(0),
            WipeTarget::CreditAndWindow => {
                self.reset_window_and_qc();
                self.platform.set_credit(0);
            }
            WipeTarget::Window => self.reset_window_and_qc(),
            WipeTarget::RestrictedFlag => self.clear_restricted_flag(),
        }
    }

    fn reset_window_and_qc(&mut self) {
        self.state.window.reset();
        self.state.qc_short_count = 0;
        self.state.qc_long_count = 0;
    }
}
