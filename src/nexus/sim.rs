//! A simulated product for tests, demos and the batch protocol's `enter` op: a credit counter
//! in seconds that records every call the keycode engine makes, in the notation of the test
//! vectors (`add:86400`, `set:0`, `unlock`, `flag:0`, `passthrough:<digits>`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::platform::{Feedback, PaygState, Platform};

/// A product with a credit counter that remembers what the engine asked of it.
///
/// PAYG state: unlocked once unlocked (until a SET), enabled while credit is above 0, disabled
/// otherwise. Passthrough data is always taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimProduct {
    /// Credit left, in seconds.
    pub credit_seconds: u64,
    /// Paid off.
    pub unlocked: bool,
    /// The ID printed on the product.
    pub user_facing_id: u32,
    /// The calls since the last [`SimProduct::take`], as `add:<s>`, `set:<s>`, `unlock`,
    /// `flag:<0|1>` and `passthrough:<digits>`.
    pub calls: Vec<String>,
    /// The feedback started since the last [`SimProduct::take`].
    pub feedback: Vec<Feedback>,
}

impl SimProduct {
    /// A product with this credit, lock state and printed ID, and nothing recorded yet.
    #[must_use]
    pub const fn new(credit_seconds: u64, unlocked: bool, user_facing_id: u32) -> Self {
        Self {
            credit_seconds,
            unlocked,
            user_facing_id,
            calls: Vec::new(),
            feedback: Vec::new(),
        }
    }

    /// The calls and the feedback names recorded so far; both lists start again empty.
    pub fn take(&mut self) -> (Vec<String>, Vec<&'static str>) {
        let feedback = self.feedback.drain(..).map(Feedback::name).collect();
        (core::mem::take(&mut self.calls), feedback)
    }
}

impl Platform for SimProduct {
    fn payg_state(&self) -> PaygState {
        if self.unlocked {
            PaygState::Unlocked
        } else if self.credit_seconds > 0 {
            PaygState::Enabled
        } else {
            PaygState::Disabled
        }
    }

    fn add_credit(&mut self, seconds: u32) {
        self.calls.push(format!("add:{seconds}"));
        self.credit_seconds = self.credit_seconds.saturating_add(u64::from(seconds));
    }

    fn set_credit(&mut self, seconds: u32) {
        self.calls.push(format!("set:{seconds}"));
        self.credit_seconds = u64::from(seconds);
        self.unlocked = false;
    }

    fn unlock(&mut self) {
        self.calls.push("unlock".into());
        self.unlocked = true;
    }

    fn restricted_flag_changed(&mut self, value: bool) {
        self.calls.push(format!("flag:{}", u8::from(value)));
    }

    fn passthrough(&mut self, digits: &[u8]) -> bool {
        let text: String = digits.iter().map(|&d| char::from(d)).collect();
        self.calls.push(format!("passthrough:{text}"));
        true
    }

    fn user_facing_id(&self) -> u32 {
        self.user_facing_id
    }

    fn feedback(&mut self, feedback: Feedback) {
        self.feedback.push(feedback);
    }
}

/// Upstream's name of a PAYG state, as the vectors spell it: `DISABLED`, `ENABLED`, `UNLOCKED`.
#[must_use]
pub const fn payg_state_name(state: PaygState) -> &'static str {
    match state {
        PaygState::Disabled => "DISABLED",
        PaygState::Enabled => "ENABLED",
        PaygState::Unlocked => "UNLOCKED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_vector_notation() {
        let mut p = SimProduct::new(0, false, 7);
        assert_eq!(payg_state_name(p.payg_state()), "DISABLED");
        p.add_credit(60);
        p.restricted_flag_changed(false);
        assert!(p.passthrough(b"0123"));
        p.feedback(Feedback::MessageApplied);
        assert_eq!(payg_state_name(p.payg_state()), "ENABLED");
        p.unlock();
        assert_eq!(payg_state_name(p.payg_state()), "UNLOCKED");
        p.set_credit(0);
        assert_eq!(
            p.take(),
            (
                ["add:60", "flag:0", "passthrough:0123", "unlock", "set:0"]
                    .map(String::from)
                    .to_vec(),
                vec!["MESSAGE_APPLIED"]
            )
        );
        assert!(p.calls.is_empty() && !p.unlocked && p.credit_seconds == 0);
    }
}
