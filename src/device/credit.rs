//! The lock state machine: credit as an expiry time on the device clock, and the PAYG mode.
//! Scheme rules (Nexus ignoring ADD while unlocked, OpenPAYGO's 998 / 999 values, demo and
//! test credit) stay in the verifiers; what reaches here is already a scheme-neutral command.

use crate::scheme::{Command, Payg};

/// Credit and mode, as persisted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CreditState {
    /// PAYG enabled, or unlocked for good.
    pub payg: Payg,
    /// The device time the credit runs out at (0 or in the past: none left).
    pub expiry: u32,
}

impl CreditState {
    /// The product may run at `now`: unlocked, or credit left.
    #[must_use]
    pub const fn active(&self, now: u32) -> bool {
        matches!(self.payg, Payg::Unlocked) || self.expiry > now
    }

    /// Seconds of credit left at `now` (kept, but not needed, while unlocked).
    #[must_use]
    pub const fn seconds_left(&self, now: u32) -> u32 {
        self.expiry.saturating_sub(now)
    }

    /// Applies an accepted command at `now`. ADD extends from the later of now and the
    /// expiry, so credit bought early is never lost; SET replaces it from now and re-enables
    /// PAYG; UNLOCK ends PAYG and keeps the credit. Everything else leaves credit alone.
    pub fn apply(&mut self, command: &Command, now: u32) {
        match *command {
            Command::AddCredit(c) => {
                self.expiry = self.expiry.max(now).saturating_add(seconds(c.seconds()));
            }
            Command::SetCredit(c) => {
                self.expiry = now.saturating_add(seconds(c.seconds()));
                self.payg = Payg::Enabled;
            }
            Command::Unlock => self.payg = Payg::Unlocked,
            _ => {}
        }
    }
}

/// Credit seconds on the u32 clock; more than it can hold saturates.
fn seconds(s: Option<u64>) -> u32 {
    s.map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::{Credit, TimeUnit};

    fn days(n: u32) -> Credit {
        Credit::new(n, TimeUnit::Days)
    }

    #[test]
    fn add_extends_from_the_later_of_now_and_expiry() {
        let mut c = CreditState::default();
        c.apply(&Command::AddCredit(days(1)), 1_000);
        assert_eq!(c.expiry, 1_000 + 86_400);
        c.apply(&Command::AddCredit(days(1)), 2_000);
        assert_eq!(c.expiry, 1_000 + 2 * 86_400);
        c.apply(&Command::AddCredit(days(1)), 500_000);
        assert_eq!(c.expiry, 500_000 + 86_400);
        assert!(c.active(500_000));
        assert!(!c.active(500_000 + 86_400));
    }

    #[test]
    fn set_replaces_from_now_and_relocks() {
        let mut c = CreditState::default();
        c.apply(&Command::AddCredit(days(30)), 0);
        c.apply(&Command::Unlock, 10);
        assert_eq!((c.payg, c.expiry), (Payg::Unlocked, 30 * 86_400));
        assert!(c.active(u32::MAX));
        c.apply(&Command::SetCredit(days(2)), 100);
        assert_eq!((c.payg, c.expiry), (Payg::Enabled, 100 + 2 * 86_400));
        c.apply(&Command::SetCredit(days(0)), 200);
        assert!(!c.active(200));
    }

    #[test]
    fn huge_credit_saturates() {
        let mut c = CreditState::default();
        c.apply(
            &Command::AddCredit(Credit::new(u32::MAX, TimeUnit::Days)),
            5,
        );
        assert_eq!(c.expiry, u32::MAX);
        c.apply(&Command::AddCredit(days(1)), 5);
        assert_eq!(c.expiry, u32::MAX);
        c.apply(&Command::CounterSync, 7);
        assert_eq!(c.expiry, u32::MAX);
    }
}
