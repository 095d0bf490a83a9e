//! Wrong-code lockout policies. The state lives in the persisted record, so a power cycle
//! never resets it; an entry refused while locked out is neither counted nor extends the wait.

/// How a device answers wrong codes. Only an INVALID verdict counts: a duplicate, a malformed
/// entry or a refusal while locked out does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lockout {
    /// No lockout (factory test rigs; never in the field).
    None,
    /// `free` wrong codes in a row cost nothing; the next locks for `base_seconds`, each
    /// further one for twice as long, up to `cap_seconds`. A valid code other than a TEST
    /// code resets the count.
    Doubling {
        /// Wrong codes in a row without a wait.
        free: u8,
        /// The first wait, in seconds.
        base_seconds: u32,
        /// The longest wait, in seconds.
        cap_seconds: u32,
    },
    /// A token bucket: every wrong code spends one attempt, one attempt comes back every
    /// `refill_seconds`, at most `max_attempts` are saved up; a new device has
    /// `initial_attempts`. Valid codes cost nothing and refund nothing.
    Bucket {
        /// Attempts saved up at most.
        max_attempts: u8,
        /// Attempts of a new device.
        initial_attempts: u8,
        /// Seconds to earn one attempt back.
        refill_seconds: u16,
    },
}

impl Lockout {
    /// OpenPAYGO's waiting period (docs/openpaygo.md §5.4): two free tries, then 1 min
    /// doubling to 512 min.
    pub const OPENPAYGO: Self = Self::Doubling {
        free: 2,
        base_seconds: 60,
        cap_seconds: 512 * 60,
    };
    /// Nexus's token bucket (docs/nexus.md §6): 6 attempts of grace, one more per 720 s,
    /// 128 at most.
    pub const NEXUS: Self = Self::Bucket {
        max_attempts: 128,
        initial_attempts: 6,
        refill_seconds: 720,
    };
    /// AST's recommended policy (docs/access.md §10): three free failures, then 60 s
    /// doubling to one day.
    pub const AST: Self = Self::Doubling {
        free: 3,
        base_seconds: 60,
        cap_seconds: 86_400,
    };

    /// The state of a new device whose clock reads `now`.
    #[must_use]
    pub fn fresh(self, now: u32) -> LockoutState {
        let bucket = match self {
            Self::Bucket {
                initial_attempts,
                refill_seconds,
                ..
            } => u32::from(initial_attempts) * u32::from(refill_seconds),
            _ => 0,
        };
        LockoutState {
            fails: 0,
            until: 0,
            bucket,
            bucket_at: now,
        }
    }

    /// Seconds until an entry is accepted for checking (0: now).
    #[must_use]
    #[inline(always)] // a subtraction for a doubling policy; the bucket's wait is out of line
    pub fn seconds_left(self, state: &LockoutState, now: u32) -> u32 {
        match self {
            Self::None => 0,
            Self::Doubling { .. } => state.until.saturating_sub(now),
            Self::Bucket {
                max_attempts,
                refill_seconds,
                ..
            } => state.bucket_wait(now, max_attempts, refill_seconds),
        }
    }

    /// Counts a wrong code entered at `now`.
    pub fn wrong(self, state: &mut LockoutState, now: u32) {
        match self {
            Self::None => {}
            Self::Doubling {
                free,
                base_seconds,
                cap_seconds,
            } => {
                state.fails = state.fails.saturating_add(1);
                if state.fails > free {
                    let doublings = u32::from(state.fails - free - 1);
                    // base · 2^doublings if that is at most the cap (then it cannot overflow).
                    let wait = match cap_seconds.checked_shr(doublings) {
                        Some(limit) if base_seconds <= limit => base_seconds << doublings,
                        _ => cap_seconds,
                    };
                    state.until = now.saturating_add(wait);
                }
            }
            Self::Bucket {
                max_attempts,
                refill_seconds,
                ..
            } => {
                let level = state.level(now, max_attempts, refill_seconds);
                state.bucket = level.saturating_sub(refill_seconds.into());
                state.bucket_at = now;
            }
        }
    }

    /// A valid code (not a TEST code) resets the doubling count.
    pub fn valid(self, state: &mut LockoutState) {
        if let Self::Doubling { .. } = self {
            state.fails = 0;
        }
    }
}

/// Where a device's [`Lockout`] comes from: the value itself, chosen at run time, or a type
/// that fixes it when the firmware is built ([`OpenPaygoLockout`], [`NexusLockout`],
/// [`AstLockout`]). The engine keeps its configuration in memory that its record writes can
/// reach, so a run-time policy links every policy's code; a fixed one is a constant the
/// optimiser folds, and only its own arithmetic is linked.
pub trait LockoutPolicy: Copy {
    /// The policy.
    fn lockout(self) -> Lockout;
}

impl LockoutPolicy for Lockout {
    #[inline(always)]
    fn lockout(self) -> Lockout {
        self
    }
}

/// [`Lockout::OPENPAYGO`], fixed at build time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpenPaygoLockout;

/// [`Lockout::NEXUS`], fixed at build time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NexusLockout;

/// [`Lockout::AST`], fixed at build time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AstLockout;

impl LockoutPolicy for OpenPaygoLockout {
    #[inline(always)]
    fn lockout(self) -> Lockout {
        Lockout::OPENPAYGO
    }
}

impl LockoutPolicy for NexusLockout {
    #[inline(always)]
    fn lockout(self) -> Lockout {
        Lockout::NEXUS
    }
}

impl LockoutPolicy for AstLockout {
    #[inline(always)]
    fn lockout(self) -> Lockout {
        Lockout::AST
    }
}

/// What the lockout persists. `fails` / `until` serve [`Lockout::Doubling`], `bucket` /
/// `bucket_at` (seconds of attempts saved up, and when) serve [`Lockout::Bucket`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LockoutState {
    /// Wrong codes in a row (saturating).
    pub fails: u8,
    /// Entries are refused until this time.
    pub until: u32,
    /// Bucket level in seconds at `bucket_at`.
    pub bucket: u32,
    /// When `bucket` was read.
    pub bucket_at: u32,
}

impl LockoutState {
    /// Seconds until the bucket holds an attempt again. One copy for `Engine::enter` and
    /// `Engine::status`.
    #[inline(never)]
    fn bucket_wait(&self, now: u32, max_attempts: u8, refill_seconds: u16) -> u32 {
        u32::from(refill_seconds).saturating_sub(self.level(now, max_attempts, refill_seconds))
    }

    /// The bucket level at `now`: refilled by the time since it was last read, capped. A
    /// clock reading before `bucket_at` refills nothing.
    fn level(&self, now: u32, max_attempts: u8, refill_seconds: u16) -> u32 {
        let cap = u32::from(max_attempts) * u32::from(refill_seconds);
        self.bucket
            .saturating_add(now.saturating_sub(self.bucket_at))
            .min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The waits of consecutive wrong codes, each entered when the previous wait is over.
    fn waits(policy: Lockout, n: usize) -> Vec<u32> {
        let mut state = policy.fresh(0);
        let mut now = 0;
        (0..n)
            .map(|_| {
                now += policy.seconds_left(&state, now);
                policy.wrong(&mut state, now);
                policy.seconds_left(&state, now)
            })
            .collect()
    }

    #[test]
    fn openpaygo_waits_as_the_issue_states() {
        let mut expected = vec![0, 0];
        expected.extend((0..9).map(|k| 60 << k));
        expected.extend([30_720, 30_720, 30_720]);
        assert_eq!(waits(Lockout::OPENPAYGO, 14), expected);
        assert_eq!(*expected.get(11).unwrap(), 512 * 60);
    }

    #[test]
    fn doubling_waits_are_base_doubled_and_capped_for_any_parameters() {
        // base · 2^doublings where that fits in 32 bits, capped; the cap where it does not.
        let reference = |free: u8, base: u32, cap: u32, fails: u8| -> u32 {
            let doublings = u32::from(fails - free - 1);
            base.checked_shl(doublings)
                .filter(|w| w >> doublings == base)
                .map_or(cap, |w| w.min(cap))
        };
        let bases = [0, 1, 7, 60, 1 << 20, u32::MAX / 2 + 1, u32::MAX];
        let caps = [0, 1, 59, 60, 30_720, 86_400, u32::MAX - 1, u32::MAX];
        for free in [0, 2, 3, 254] {
            for base_seconds in bases {
                for cap_seconds in caps {
                    let policy = Lockout::Doubling {
                        free,
                        base_seconds,
                        cap_seconds,
                    };
                    let mut state = policy.fresh(0);
                    for _ in 0..300 {
                        policy.wrong(&mut state, 0);
                        let want = if state.fails > free {
                            reference(free, base_seconds, cap_seconds, state.fails)
                        } else {
                            0
                        };
                        assert_eq!(state.until, want, "{free} {base_seconds} {cap_seconds}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_valid_code_resets_the_doubling() {
        let policy = Lockout::OPENPAYGO;
        let mut state = policy.fresh(0);
        for _ in 0..2 {
            policy.wrong(&mut state, 0);
        }
        policy.valid(&mut state);
        policy.wrong(&mut state, 0);
        assert_eq!(policy.seconds_left(&state, 0), 0);
        policy.wrong(&mut state, 0);
        policy.wrong(&mut state, 0);
        assert_eq!(policy.seconds_left(&state, 0), 60);
    }

    #[test]
    fn bucket_grants_grace_then_one_per_refill_and_caps() {
        let policy = Lockout::NEXUS;
        let mut state = policy.fresh(1_000);
        for _ in 0..6 {
            assert_eq!(policy.seconds_left(&state, 1_000), 0);
            policy.wrong(&mut state, 1_000);
        }
        assert_eq!(policy.seconds_left(&state, 1_000), 720);
        assert_eq!(policy.seconds_left(&state, 1_700), 20);
        assert_eq!(policy.seconds_left(&state, 1_720), 0);
        // A year idle saves up 128 attempts, no more.
        let later = 1_000 + 365 * 86_400;
        let mut spent = 0;
        while policy.seconds_left(&state, later) == 0 {
            policy.wrong(&mut state, later);
            spent += 1;
        }
        assert_eq!(spent, 128);
        // A clock reading in the past refills nothing.
        assert_eq!(policy.seconds_left(&state, 5), 720);
    }

    #[test]
    fn none_never_locks() {
        let mut state = Lockout::None.fresh(0);
        for _ in 0..1_000 {
            Lockout::None.wrong(&mut state, 0);
        }
        assert_eq!(Lockout::None.seconds_left(&state, 0), 0);
    }
}
