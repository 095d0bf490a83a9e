//! The lock state machine: credit as an expiry time on the device clock, and the PAYG mode.
//! Scheme rules (Nexus ignoring ADD while unlocked, OpenPAYGO's 998 / 999 values, demo and
//! test credit) stay in the verifiers; what reaches here is already a scheme-neutral command.

use crate::scheme::{Command, Credit, Payg, TimeUnit};

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
        // One conversion site, so the optimiser keeps only the units the verifier produces.
        let (from, credit) = match *command {
            Command::AddCredit(c) => (self.expiry.max(now), c),
            Command::SetCredit(c) => {
                self.payg = Payg::Enabled;
                (now, c)
            }
            Command::Unlock => {
                self.payg = Payg::Unlocked;
                return;
            }
            _ => return,
        };
        self.expiry = from.saturating_add(seconds(credit));
    }
}

/// [`Credit::seconds`] on the u32 clock: rounded down, saturating, 0 for a zero divider. In
/// 32-bit arithmetic, so that firmware links no 64-bit division routine (about 0.9 KB on
/// Cortex-M) for it. The engine's credit arithmetic; also what a C binding reports.
#[must_use]
pub const fn seconds(c: Credit) -> u32 {
    // `num` seconds per `den` units: one formula for every unit, rather than one per unit.
    let (num, den) = match c.unit {
        TimeUnit::Seconds => (1, 1),
        TimeUnit::Minutes => (60, 1),
        TimeUnit::Hours => (3_600, 1),
        TimeUnit::Days => (86_400, 1),
        TimeUnit::DayFraction(0) => return 0,
        TimeUnit::DayFraction(n) => (86_400, n as u32),
    };
    // amount = q·den + r: q·num seconds, and r·num / den < num (r < den ≤ 255, no overflow).
    (c.amount / den)
        .saturating_mul(num)
        .saturating_add(c.amount % den * num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn seconds_match_credit_seconds_on_the_u32_clock() {
        let units = [
            TimeUnit::Seconds,
            TimeUnit::Minutes,
            TimeUnit::Hours,
            TimeUnit::Days,
            TimeUnit::DayFraction(0),
            TimeUnit::DayFraction(1),
            TimeUnit::DayFraction(7),
            TimeUnit::DayFraction(24),
            TimeUnit::DayFraction(255),
        ];
        let amounts = [
            0,
            1,
            2,
            254,
            255,
            997,
            49_710,
            49_711,
            1 << 24,
            u32::MAX - 1,
            u32::MAX,
        ];
        for unit in units {
            for amount in amounts {
                let c = Credit::new(amount, unit);
                let want = c
                    .seconds()
                    .map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX));
                assert_eq!(seconds(c), want, "{amount} {unit:?}");
            }
        }
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
