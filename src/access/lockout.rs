//! Keypad lockout and the TEST rate limit (spec §10). They are what keeps the short S tags safe:
//! only an applied device-key token clears `fails`, never a duplicate or a public TEST code.

use super::state::AstState;

/// Failures without delay.
pub const GRACE: u8 = 3;
/// Lock after failure `GRACE + 1`, doubled per further failure.
pub const LOCK_BASE_S: u32 = 60;
/// Longest lock.
pub const LOCK_CAP_S: u32 = 86_400;
/// MAC-valid TEST codes accepted per window.
pub const TEST_RATE_MAX: u8 = 5;
/// Length of the TEST window.
pub const TEST_RATE_PERIOD_S: u32 = 3_600;

/// The lock started by failure number `fails`: 0 within the grace, then
/// `min(60 · 2^(fails − 4), 86400)` seconds.
#[must_use]
pub const fn lock_seconds(fails: u8) -> u32 {
    if fails <= GRACE {
        return 0;
    }
    let exponent = fails - GRACE - 1;
    if exponent >= 11 {
        LOCK_CAP_S
    } else {
        let secs = LOCK_BASE_S << exponent;
        if secs > LOCK_CAP_S { LOCK_CAP_S } else { secs }
    }
}

/// Counts an INVALID entry; returns the lock it starts. The lock end saturates at the clock's
/// range rather than wrapping to an early time.
pub(crate) fn record_failure(state: &mut AstState, now: u32) -> u32 {
    state.fails = state.fails.saturating_add(1);
    let secs = lock_seconds(state.fails);
    if secs > 0 {
        state.lock_until = now.saturating_add(secs);
    }
    secs
}

/// Charges a MAC-valid TEST code: `Err(retry_at)` when the window's quota is spent, leaving
/// `state` untouched.
pub(crate) fn charge_test(state: &mut AstState, now: u32) -> Result<(), u32> {
    let mut start = state.test_window_start;
    let mut count = state.test_count;
    if now.saturating_sub(start) >= TEST_RATE_PERIOD_S {
        start = now;
        count = 0;
    }
    if count >= TEST_RATE_MAX {
        return Err(start.saturating_add(TEST_RATE_PERIOD_S));
    }
    state.test_window_start = start;
    state.test_count = count + 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_schedule() {
        assert_eq!(lock_seconds(3), 0);
        assert_eq!(lock_seconds(4), 60);
        assert_eq!(lock_seconds(5), 120);
        assert_eq!(lock_seconds(14), 61_440);
        assert_eq!(lock_seconds(15), LOCK_CAP_S);
        assert_eq!(lock_seconds(255), LOCK_CAP_S);
    }

    #[test]
    fn test_quota_resets_after_an_hour() {
        let mut s = AstState {
            test_window_start: 100,
            test_count: 5,
            ..AstState::FRESH
        };
        assert_eq!(charge_test(&mut s, 3_699), Err(3_700));
        assert_eq!((s.test_window_start, s.test_count), (100, 5));
        assert_eq!(charge_test(&mut s, 3_700), Ok(()));
        assert_eq!((s.test_window_start, s.test_count), (3_700, 1));
    }
}
