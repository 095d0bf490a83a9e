//! The device-side decoder: the recommended model of spec §5.3.
//!
//! Differences from the upstream decoders, on purpose: a count-0 token is never credit (Python
//! accepts it), a counter sync never lowers the stored count (Python's README pattern does), a
//! counter sync at or below the stored count is already used (upstream and the vectors' model
//! take it again and spend every older count,
//! [`OpenPaygoVerifier::allowing_sync_replays`]), and the used-count mask keeps its bits when
//! the count advances (the C shift bug loses them).

use super::chain::COUNT_CEILING;
use super::chain::{self, Chain, Extended, Standard};
use super::digits;
use super::form::{COUNTER_SYNC_VALUE, DISABLE_PAYG_VALUE, Form};
use super::secret::OpenPaygoSecret;
use super::state::OpenPaygoState;
use crate::siphash::SipHash24;
use crate::token::ParseError;

/// The acceptance window (spec §5.2). The defaults are the reference constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenPaygoWindow {
    /// How far above `max_count` a token may be (64).
    pub max_jump: u32,
    /// How far above `max_count` a counter sync may be (100).
    pub max_jump_sync: u32,
    /// How many counts below `max_count` unused ADD tokens stay valid (16, at most 16).
    pub older: u32,
    /// No count above this is ever accepted; bounds the hashes per entry.
    pub count_ceiling: u32,
}

impl Default for OpenPaygoWindow {
    fn default() -> Self {
        Self {
            max_jump: 64,
            max_jump_sync: 100,
            older: 16,
            count_ceiling: COUNT_CEILING,
        }
    }
}

/// What a valid token means to the device. The value decides before the count's parity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Meaning {
    /// Add time (even count).
    AddTime,
    /// Set time (odd count); re-enables PAYG.
    SetTime,
    /// Value 998 (standard): PAYG off for good.
    DisablePayg,
    /// Value 999 (standard): only the count moves.
    CounterSync,
    /// Value 996 or 997 (standard): reserved, consumed without effect.
    Reserved,
}

impl Meaning {
    /// The name used in vectors, the CLI and the batch protocol.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AddTime => "ADD_TIME",
            Self::SetTime => "SET_TIME",
            Self::DisablePayg => "DISABLE_PAYG",
            Self::CounterSync => "COUNTER_SYNC",
            Self::Reserved => "RESERVED",
        }
    }
}

/// An accepted token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenPaygoActivation {
    /// The raw value (activation units, or 998 / 999).
    pub value: u32,
    /// The token's count.
    pub count: u32,
    /// What to do.
    pub meaning: Meaning,
}

/// The result of a well-formed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenPaygoVerdict {
    /// Accepted; the state now records it.
    Valid(OpenPaygoActivation),
    /// A genuine token whose count is spent; the state is unchanged.
    AlreadyUsed,
    /// No count in the window matches; the state is unchanged.
    Invalid,
}

/// Verifies entered tokens of one form.
///
/// Every token is valid once: a counter sync at or below the stored count is
/// [`OpenPaygoVerdict::AlreadyUsed`], like any other spent count, unless
/// [`Self::allowing_sync_replays`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPaygoVerifier {
    form: Form,
    window: OpenPaygoWindow,
    time_divider: u8,
    sync_replays: bool,
}

impl OpenPaygoVerifier {
    /// A decoder for `form` with the reference window.
    #[must_use]
    pub fn new(form: Form) -> Self {
        Self {
            form,
            window: OpenPaygoWindow::default(),
            time_divider: 1,
            sync_replays: false,
        }
    }

    /// The same decoder taking a COUNTER_SYNC at or below the stored count again, within the
    /// sync window (`count + max_jump > max_count`), as upstream and the published vectors'
    /// recommended model do ("replay COUNTER_SYNC → VALID"): it is reported VALID again and
    /// spends every older count, so a pending older ADD is lost. For replaying those vectors;
    /// a device should keep the default.
    #[must_use]
    pub const fn allowing_sync_replays(self) -> Self {
        Self {
            sync_replays: true,
            ..self
        }
    }

    /// Whether [`Self::allowing_sync_replays`] was used.
    #[must_use]
    pub const fn allows_sync_replays(&self) -> bool {
        self.sync_replays
    }

    /// The same decoder with another window.
    #[must_use]
    pub const fn with_window(self, window: OpenPaygoWindow) -> Self {
        Self { window, ..self }
    }

    /// The same decoder for a device with another time divider (1-255; 0 is taken as 1). Only
    /// the [`crate::Verifier`] conversion to credit uses it.
    #[must_use]
    pub const fn with_time_divider(self, time_divider: u8) -> Self {
        let time_divider = if time_divider == 0 { 1 } else { time_divider };
        Self {
            time_divider,
            ..self
        }
    }

    /// The time divider.
    #[must_use]
    pub const fn time_divider(&self) -> u8 {
        self.time_divider
    }

    /// The window.
    #[must_use]
    pub const fn window(&self) -> OpenPaygoWindow {
        self.window
    }

    /// The form it accepts.
    #[must_use]
    pub const fn form(&self) -> Form {
        self.form
    }

    /// Checks `input` (the digits as entered) and, if valid, records it in `state`.
    ///
    /// Work is bounded: at most `min(max_count + jump, count_ceiling) + 1` chain steps.
    ///
    /// # Errors
    /// [`ParseError`] for a character outside the keypad's digits or a wrong length; the state is
    /// untouched.
    pub fn decode(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut OpenPaygoState,
        input: &[u8],
    ) -> Result<OpenPaygoVerdict, ParseError> {
        let code = digits::parse(input, self.form.token_len(), self.form.restricted_digit_set)?;
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        let verdict = if self.form.extended {
            self.scan::<Extended>(&sip, sc, code, state, false)
        } else {
            self.scan::<Standard>(&sip, sc, code, state, true)
        };
        Ok(verdict)
    }

    fn scan<C: Chain>(
        &self,
        sip: &SipHash24,
        sc: u64,
        token: u64,
        state: &mut OpenPaygoState,
        special_values: bool,
    ) -> OpenPaygoVerdict {
        let base = C::low(token);
        let value = value_of::<C>(base, sc);
        let sync = special_values && value == COUNTER_SYNC_VALUE;
        let jump = if sync {
            self.window.max_jump_sync
        } else {
            self.window.max_jump
        };
        let last = state
            .max_count
            .saturating_add(jump)
            .min(self.window.count_ceiling);
        let target = C::high(token);
        let mut code = sc - C::low(sc) + base;
        let mut seen = false;
        for count in 0..=last {
            if C::high(code) == target {
                let meaning = meaning(value, count, special_values);
                if self.count_is_valid(count, sync, state) {
                    let spends_all = count % 2 == 1
                        || matches!(meaning, Meaning::DisablePayg | Meaning::CounterSync);
                    *state = updated(*state, count, spends_all);
                    return OpenPaygoVerdict::Valid(OpenPaygoActivation {
                        value,
                        count,
                        meaning,
                    });
                }
                seen = true;
            }
            code = C::step(sip, code);
        }
        if seen {
            OpenPaygoVerdict::AlreadyUsed
        } else {
            OpenPaygoVerdict::Invalid
        }
    }

    /// C's validity rules: a sync above the max (anywhere above `max - 64` when sync replays
    /// are allowed); otherwise above the max, or an unused even count in the `older` counts
    /// below it, never count 0. Inlined into its one caller: out of line it costs ~70 B of
    /// Cortex-M flash.
    #[inline(always)]
    fn count_is_valid(&self, count: u32, sync: bool, state: &OpenPaygoState) -> bool {
        let max = state.max_count;
        if sync {
            let below = if self.sync_replays {
                self.window.max_jump
            } else {
                0
            };
            return count.saturating_add(below) > max;
        }
        if count > max {
            return true;
        }
        let older = self.window.older.min(16);
        count != 0
            && count.is_multiple_of(2)
            && count < max
            && count.saturating_add(older) > max
            && !is_used(state, count)
    }
}

/// The value a token base carries for this device: `(base - sc) mod M`.
fn value_of<C: Chain>(base: u64, sc: u64) -> u32 {
    let v = (base + C::MODULUS - C::low(sc)) % C::MODULUS;
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn meaning(value: u32, count: u32, special_values: bool) -> Meaning {
    match value {
        COUNTER_SYNC_VALUE if special_values => Meaning::CounterSync,
        DISABLE_PAYG_VALUE if special_values => Meaning::DisablePayg,
        996 | 997 if special_values => Meaning::Reserved,
        _ if count % 2 == 1 => Meaning::SetTime,
        _ => Meaning::AddTime,
    }
}

/// Bit `max - 1 - count` of the mask, for `count < max`.
fn is_used(state: &OpenPaygoState, count: u32) -> bool {
    mask_bit(state.max_count, count).is_some_and(|bit| state.used_counts & bit != 0)
}

/// The mask bit of an older `count`, or `None` if it is not in the 16 counts below `max`.
fn mask_bit(max: u32, count: u32) -> Option<u16> {
    let index = max.checked_sub(count)?.checked_sub(1)?;
    1u16.checked_shl(index)
}

/// The state after accepting `count`: a SET, DISABLE or SYNC spends every older count; an ADD
/// above the max shifts the mask and marks the old max; an older ADD sets its own bit.
fn updated(state: OpenPaygoState, count: u32, spends_all: bool) -> OpenPaygoState {
    let max = state.max_count;
    let used_counts = if spends_all {
        u16::MAX
    } else if let Some(shift) = count.checked_sub(max).filter(|s| *s > 0) {
        let moved = u32::from(state.used_counts).checked_shl(shift).unwrap_or(0);
        let old_max = 1u32.checked_shl(shift - 1).unwrap_or(0);
        low16(moved | old_max)
    } else {
        state.used_counts | mask_bit(max, count).unwrap_or(0)
    };
    OpenPaygoState {
        max_count: max.max(count),
        used_counts,
    }
}

/// Keeps the 16 bits the mask has room for.
#[allow(clippy::cast_possible_truncation)]
const fn low16(x: u32) -> u16 {
    x as u16
}
