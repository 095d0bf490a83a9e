//! The keycode rate limiter (spec §6): a token bucket, counted in seconds, that stops brute
//! force of the short MACs. Every finished frame costs one attempt, valid or not.
//!
//! The bucket lives in RAM. What survives a power cycle is the "grace" count in the persisted
//! state, `min(initial, attempts left)`, so rebooting never grants more than the grace.

/// Token-bucket settings; [`RateLimit::DEFAULT`] is nexus-embedded's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Most attempts the bucket holds after a long idle time (128).
    pub max_attempts: u8,
    /// Attempts granted at first boot, and the most a reboot restores (6).
    pub initial_attempts: u8,
    /// Seconds to earn one attempt (720: five per hour).
    pub refill_seconds: u16,
}

impl RateLimit {
    /// 128 attempts at most, 6 of grace, one more every 720 s.
    pub const DEFAULT: Self = Self {
        max_attempts: 128,
        initial_attempts: 6,
        refill_seconds: 720,
    };

    fn capacity(self) -> u32 {
        u32::from(self.max_attempts) * u32::from(self.refill_seconds)
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The bucket and the clock reading it was last topped up at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bucket {
    seconds: u32,
    last_now: Option<u32>,
}

impl Bucket {
    /// After boot: the persisted grace attempts.
    pub(crate) fn boot(limit: RateLimit, grace: u8) -> Self {
        let attempts = grace.min(limit.max_attempts);
        Self {
            seconds: u32::from(attempts) * u32::from(limit.refill_seconds),
            last_now: None,
        }
    }

    /// Adds the time since the last reading of the monotonic clock `now` (seconds).
    pub(crate) fn elapse(&mut self, limit: RateLimit, now: u32) {
        let elapsed = self.last_now.map_or(0, |last| now.saturating_sub(last));
        self.last_now = Some(self.last_now.map_or(now, |last| last.max(now)));
        self.seconds = self.seconds.saturating_add(elapsed).min(limit.capacity());
    }

    /// Too few seconds for one attempt.
    pub(crate) fn is_empty(&self, limit: RateLimit) -> bool {
        self.seconds < u32::from(limit.refill_seconds)
    }

    /// Charges one attempt (nothing when already empty).
    pub(crate) fn charge(&mut self, limit: RateLimit) {
        if !self.is_empty(limit) {
            self.seconds -= u32::from(limit.refill_seconds);
        }
    }

    /// Whole attempts left.
    pub(crate) fn attempts(&self, limit: RateLimit) -> u32 {
        self.seconds
            .checked_div(u32::from(limit.refill_seconds))
            .unwrap_or(u32::MAX)
    }

    /// What to persist: attempts left, capped at the initial grace.
    pub(crate) fn grace(&self, limit: RateLimit) -> u8 {
        let attempts = self.attempts(limit).min(u32::from(limit.initial_attempts));
        u8::try_from(attempts).unwrap_or(limit.initial_attempts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: RateLimit = RateLimit::DEFAULT;

    #[test]
    fn six_then_one_per_720_seconds() {
        let mut b = Bucket::boot(L, 6);
        b.elapse(L, 1000);
        for _ in 0..6 {
            assert!(!b.is_empty(L));
            b.charge(L);
        }
        assert!(b.is_empty(L));
        assert_eq!(b.grace(L), 0);
        b.elapse(L, 1719);
        assert!(b.is_empty(L));
        b.elapse(L, 1720);
        assert!(!b.is_empty(L));
        assert_eq!(b.grace(L), 1);
    }

    #[test]
    fn caps_at_128_and_grace_at_6() {
        let mut b = Bucket::boot(L, 200);
        assert_eq!(b.attempts(L), 128);
        b.elapse(L, 0);
        b.elapse(L, u32::MAX);
        assert_eq!(b.attempts(L), 128);
        assert_eq!(b.grace(L), 6);
        for _ in 0..128 {
            b.charge(L);
        }
        assert!(b.is_empty(L));
    }

    #[test]
    fn a_clock_going_back_adds_nothing() {
        let mut b = Bucket::boot(L, 0);
        b.elapse(L, 5000);
        b.elapse(L, 10);
        b.elapse(L, 5719);
        assert!(b.is_empty(L));
        b.elapse(L, 5720);
        assert!(!b.is_empty(L));
    }

    #[test]
    fn zero_refill_never_limits_and_never_panics() {
        let z = RateLimit {
            refill_seconds: 0,
            ..L
        };
        let mut b = Bucket::boot(z, 6);
        b.elapse(z, 7);
        assert!(!b.is_empty(z));
        b.charge(z);
        assert_eq!(b.grace(z), 6);
    }
}
