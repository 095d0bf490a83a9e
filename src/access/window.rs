//! Counter reconstruction and the replay window (spec §9.2-§9.4): one candidate per entry,
//! a `B`-bit bitmap below `max_counter`, and barriers that void everything lower.

use super::message::TokenType;
use super::profile::Profile;
use super::verdict::DuplicateReason;

/// The unique `N ≡ low (mod 2^k)` in `[base, base + 2^k − 1]`, `base = max(max_counter − B, 0)`.
/// It may exceed `2^32 − 1`; the device then refuses it (INVALID/COUNTER).
#[must_use]
pub fn reconstruct(max_counter: u32, back_window: u32, low: u64, k: u32) -> u64 {
    let base = u64::from(max_counter.saturating_sub(back_window));
    let modulus_mask = u64::MAX.checked_shr(64 - k.min(64)).unwrap_or(0);
    base + (low.wrapping_sub(base) & modulus_mask)
}

/// Whether counter `n` below `max_counter` is marked used (bit `max − 1 − n`).
fn is_used(max_counter: u32, used: u64, n: u32) -> bool {
    let Some(index) = max_counter.checked_sub(n).and_then(|d| d.checked_sub(1)) else {
        return false;
    };
    used.checked_shr(index).is_some_and(|bits| bits & 1 == 1)
}

/// Step 8: why a MAC-valid token at counter `n` is not new, if it is not.
pub(crate) fn replay(
    max_counter: u32,
    used: u64,
    token_type: TokenType,
    n: u32,
) -> Option<DuplicateReason> {
    if n == max_counter || is_used(max_counter, used, n) {
        return Some(DuplicateReason::Used);
    }
    // ADD may arrive in any order; ordered and barrier types only as the newest counter.
    if token_type != TokenType::AddCredit && n < max_counter {
        return Some(DuplicateReason::Superseded);
    }
    None
}

/// §9.4: the window after accepting counter `n`, as `(max_counter, used)`.
pub(crate) fn accept(
    profile: Profile,
    max_counter: u32,
    used: u64,
    token_type: TokenType,
    n: u32,
) -> (u32, u64) {
    let b = profile.back_window();
    let mask = profile.used_mask();
    if n > max_counter {
        let d = n - max_counter;
        let used = if token_type.is_barrier() {
            mask
        } else if d > b {
            0
        } else {
            // 1 ≤ d ≤ B ≤ 64: bits shifted past 64 fall outside the mask anyway, and u64
            // shifts keep u128 arithmetic out of firmware.
            let shifted = used.checked_shl(d).unwrap_or(0) | 1u64 << (d - 1);
            shifted & mask
        };
        (n, used)
    } else {
        // Only an ADD below max gets here (step 8 refused `n == max`); checked all the same.
        let index = max_counter.checked_sub(n).and_then(|d| d.checked_sub(1));
        let bit = index.and_then(|i| 1u64.checked_shl(i)).unwrap_or(0);
        (max_counter, (used | bit) & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstruct_examples() {
        // §14: examples 1, 2, 3, 4 and 6.
        assert_eq!(reconstruct(0, 64, 1, 8), 1);
        assert_eq!(reconstruct(40, 16, 42, 6), 42);
        assert_eq!(reconstruct(9, 8, 7, 5), 7);
        assert_eq!(reconstruct(70, 64, 5000, 24), 5000);
        assert_eq!(reconstruct(300, 16, 43, 6), 299);
        // Past 2^32 − 1: reported, not wrapped.
        assert_eq!(reconstruct(u32::MAX - 3, 64, 187, 8), 4_294_967_483);
    }

    #[test]
    fn window_update_rules() {
        let l = Profile::L;
        // Example 6: 299 below max 300 marks bit 0.
        assert_eq!(
            accept(Profile::M, 300, 0x000a, TokenType::AddCredit, 299),
            (300, 0x000b)
        );
        // A jump by exactly B keeps only the previous max's bit at the top.
        assert_eq!(
            accept(l, 100, u64::MAX, TokenType::AddCredit, 164),
            (164, 1 << 63)
        );
        assert_eq!(
            accept(l, 100, u64::MAX, TokenType::AddCredit, 165),
            (165, 0)
        );
        assert_eq!(accept(l, 100, 0, TokenType::SetParam, 101), (101, 1));
        assert_eq!(
            accept(l, 100, 0, TokenType::CounterSync, 9_000),
            (9_000, u64::MAX)
        );
        assert_eq!(
            replay(300, 0x000b, TokenType::AddCredit, 299),
            Some(DuplicateReason::Used)
        );
        assert_eq!(
            replay(300, 0, TokenType::SetCredit, 299),
            Some(DuplicateReason::Superseded)
        );
        assert_eq!(
            replay(300, 0, TokenType::SetCredit, 300),
            Some(DuplicateReason::Used)
        );
        assert_eq!(replay(300, 0, TokenType::AddCredit, 284), None);
    }
}
