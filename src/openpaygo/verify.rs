//! The device-side decoder: the recommended model of spec §5.3.
//!
//! Differences from the upstream decoders, on purpose: a count-0 token is never credit (Python
//! accepts it), a counter sync never lowers the stored count (Python's README pattern does), a
//! counter sync at or below the stored count is already used (upstream and the vectors' model
//! take it again and spend every older count,
//! [`OpenPaygoVerifier::allowing_sync_replays`]), and the used-count mask keeps its bits when
//! the count advances (the C shift bug loses them).

use super::chain::COUNT_CEILING;
use super::chain::{self, Chain, ChainPoint, Extended, Standard};
use super::digits;
use super::form::{COUNTER_SYNC_VALUE, DISABLE_PAYG_VALUE, Form, TokenForm};
use super::secret::OpenPaygoSecret;
use super::state::{OpenPaygoDeviceState, OpenPaygoState};
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

/// Verifies entered tokens of one form: a [`Form`] chosen at run time (the default), or one
/// fixed at compile time ([`TokenForm`]), which links only that form's decoder.
///
/// Every token is valid once: a counter sync at or below the stored count is
/// [`OpenPaygoVerdict::AlreadyUsed`], like any other spent count, unless
/// [`Self::allowing_sync_replays`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPaygoVerifier<F = Form> {
    form: F,
    window: OpenPaygoWindow,
    time_divider: u8,
    sync_replays: bool,
}

impl<F: TokenForm> OpenPaygoVerifier<F> {
    /// A decoder for `form` with the reference window.
    #[must_use]
    pub fn new(form: F) -> Self {
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
    pub fn form(&self) -> Form {
        self.form.form()
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
        let form = self.form();
        let code = digits::parse(input, form.token_len(), form.restricted_digit_set)?;
        Ok(self.decode_code(secret, state, code))
    }

    /// [`Self::decode`] of a token already read as a number: the decimal value of a decimal
    /// token, the bits of a restricted one (two per digit, as [`digits::parse`] reads them).
    /// What firmware that assembles the number from key presses calls (the OpenPAYGO-HW
    /// interface). A number no token of the form reads as is [`OpenPaygoVerdict::Invalid`].
    pub fn decode_code(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut OpenPaygoState,
        code: u64,
    ) -> OpenPaygoVerdict {
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        if self.form().extended {
            self.scan::<Extended>(&sip, sc, code, state, false)
        } else {
            self.scan::<Standard>(&sip, sc, code, state, true)
        }
    }

    /// [`Self::decode`] on a device's state: the chain walk starts from the state's chain
    /// point when the token carries the point's value, so that it costs at most one window of
    /// steps (79 links; 100 for a counter sync) whatever the count, instead of one per count
    /// since the starting code. The point then moves to the bottom of the new window, or to
    /// the accepted token's value.
    ///
    /// The verdict is [`Self::decode`]'s on the counts, with one exception by design: a
    /// genuine token of the point's value whose count is below the point (older than the
    /// window, hence spent) is not reached, and is [`OpenPaygoVerdict::Invalid`] instead of
    /// [`OpenPaygoVerdict::AlreadyUsed`]. A token of any other value walks from the starting
    /// code, as [`Self::decode`] does: each value has a chain of its own, and a device keeps
    /// the point of one.
    ///
    /// # Errors
    /// As [`Self::decode`]; the state is untouched.
    pub fn decode_from_point(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut OpenPaygoDeviceState,
        input: &[u8],
    ) -> Result<OpenPaygoVerdict, ParseError> {
        let form = self.form();
        let code = digits::parse(input, form.token_len(), form.restricted_digit_set)?;
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        Ok(if form.extended {
            self.scan_from_point::<Extended>(&sip, sc, code, state, false)
        } else {
            self.scan_from_point::<Standard>(&sip, sc, code, state, true)
        })
    }

    fn scan<C: Chain>(
        &self,
        sip: &SipHash24,
        sc: u64,
        token: u64,
        state: &mut OpenPaygoState,
        special_values: bool,
    ) -> OpenPaygoVerdict {
        if token >= C::TOKENS {
            return OpenPaygoVerdict::Invalid;
        }
        let base = C::low(token);
        let value = value_of::<C>(base, sc);
        let sync = special_values && value == COUNTER_SYNC_VALUE;
        let last = self.last(state.max_count, sync);
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

    /// [`Self::scan`] from the state's chain point where it serves this token: the walk
    /// starts at the point when it is of the token's value and at or below the lowest count
    /// the token could be valid at, else at the starting code. The codes of the last 16 counts
    /// are kept so that after a match the point can move to the new window's bottom, which
    /// the walk passed at most 15 counts before.
    fn scan_from_point<C: Chain>(
        &self,
        sip: &SipHash24,
        sc: u64,
        token: u64,
        state: &mut OpenPaygoDeviceState,
        special_values: bool,
    ) -> OpenPaygoVerdict {
        if token >= C::TOKENS {
            return OpenPaygoVerdict::Invalid;
        }
        let counts = state.counts;
        let base = C::low(token);
        let value = value_of::<C>(base, sc);
        let sync = special_values && value == COUNTER_SYNC_VALUE;
        let last = self.last(counts.max_count, sync);
        let floor = self.floor(counts.max_count, sync);
        let (mut count, mut code) = match state.point {
            Some(p) if p.value() == value && p.count() <= floor => (p.count(), p.code()),
            _ => (0, sc - C::low(sc) + base),
        };
        let target = C::high(token);
        let mut recent = [0u64; RECENT];
        let mut seen = false;
        while count <= last {
            if let Some(slot) = recent.get_mut(ring_index(count)) {
                *slot = code;
            }
            if C::high(code) == target {
                let meaning = meaning(value, count, special_values);
                if self.count_is_valid(count, sync, &counts) {
                    let spends_all = count % 2 == 1
                        || matches!(meaning, Meaning::DisablePayg | Meaning::CounterSync);
                    let after = updated(counts, count, spends_all);
                    // The bottom of the new window for this value: passed by the walk, at most
                    // 15 counts back (with sync replays allowed it can be further: no point).
                    let bottom = self.floor(after.max_count, sync).min(count);
                    let point = recent
                        .get(ring_index(bottom))
                        .filter(|_| count - bottom < RECENT_COUNTS)
                        .map(|&code| ChainPoint::new(value, bottom, code));
                    *state = OpenPaygoDeviceState {
                        counts: after,
                        point: point.or(state.point),
                    };
                    return OpenPaygoVerdict::Valid(OpenPaygoActivation {
                        value,
                        count,
                        meaning,
                    });
                }
                seen = true;
            }
            if count == last {
                break;
            }
            code = C::step(sip, code);
            count += 1;
        }
        if seen {
            OpenPaygoVerdict::AlreadyUsed
        } else {
            OpenPaygoVerdict::Invalid
        }
    }

    /// The highest count a token may have: `max_count` plus the jump, below the ceiling.
    fn last(&self, max_count: u32, sync: bool) -> u32 {
        let jump = if sync {
            self.window.max_jump_sync
        } else {
            self.window.max_jump
        };
        max_count
            .saturating_add(jump)
            .min(self.window.count_ceiling)
    }

    /// The lowest count [`Self::count_is_valid`] can accept at `max_count`: the bottom of
    /// the window (above the max for a sync, the `older` counts below it otherwise).
    fn floor(&self, max_count: u32, sync: bool) -> u32 {
        let below = match (sync, self.sync_replays) {
            (true, true) => self.window.max_jump,
            (true, false) => 0,
            (false, _) => self.window.older.min(16),
        };
        max_count.saturating_add(1).saturating_sub(below)
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

/// Codes a walk keeps: the window below the max is at most 16 counts.
const RECENT: usize = 16;
const RECENT_COUNTS: u32 = 16;

/// Where the code of `count` is kept among the [`RECENT`] last ones.
fn ring_index(count: u32) -> usize {
    usize::try_from(count % RECENT_COUNTS).unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::super::chain::tests::steps;
    use super::super::issue::{OpenPaygoIssuer, OpenPaygoMessage};
    use super::*;
    use crate::key::Key;
    use proptest::prelude::*;

    fn secret() -> OpenPaygoSecret {
        OpenPaygoSecret::new(
            Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap(),
            123_456_789,
        )
        .unwrap()
    }

    /// Another token of the same value: its code moved by one above the value digits (a
    /// wrong code, barring a one-in-a-million chance).
    fn wrong(token: &[u8], form: Form) -> Vec<u8> {
        let code = digits::parse(token, form.token_len(), form.restricted_digit_set).unwrap();
        let (modulus, tokens, width, bits) = if form.extended {
            (1_000_000, 1_000_000_000_000, 12, 40)
        } else {
            (1_000, 1_000_000_000, 9, 30)
        };
        let moved = (code + modulus) % tokens;
        digits::to_text(moved, width, bits, form.restricted_digit_set)
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    /// Chain steps `decode_from_point` takes for `input`.
    fn cost(
        v: &OpenPaygoVerifier,
        state: &mut OpenPaygoDeviceState,
        input: &[u8],
    ) -> (u64, OpenPaygoVerdict) {
        let before = steps();
        let verdict = v.decode_from_point(&secret(), state, input).unwrap();
        (steps() - before, verdict)
    }

    /// A device at `max_count` that just accepted `message` (issued after `max_count`): its
    /// point is of that message's value.
    fn device(form: Form, max_count: u32, message: OpenPaygoMessage) -> OpenPaygoDeviceState {
        let v = OpenPaygoVerifier::new(form);
        let issued = OpenPaygoIssuer::new(form)
            .generate(&secret(), max_count, message)
            .unwrap();
        let mut state = OpenPaygoDeviceState::from(OpenPaygoState {
            max_count,
            used_counts: 0,
        });
        let verdict = v.decode_from_point(&secret(), &mut state, issued.token.as_bytes());
        assert!(
            matches!(verdict, Ok(OpenPaygoVerdict::Valid(_))),
            "{verdict:?}"
        );
        assert_eq!(state.point.map(|p| p.value()), Some(message.value()));
        state
    }

    #[test]
    fn a_token_of_the_points_value_costs_one_window_at_any_count() {
        for form in [Form::STANDARD, Form::EXTENDED, Form::STANDARD_RESTRICTED] {
            let v = OpenPaygoVerifier::new(form);
            let issuer = OpenPaygoIssuer::new(form);
            for max_count in [0, 1, 15, 16, 17, 1_000, 30_000, COUNT_CEILING - 200] {
                let add = OpenPaygoMessage::AddTime(7);
                let mut state = device(form, max_count, add);
                let last = state.counts.max_count;
                // A wrong code of the point's value: one window, whatever the count.
                let token = issuer.generate(&secret(), last, add).unwrap().token;
                let (n, verdict) = cost(&v, &mut state.clone(), &wrong(token.as_bytes(), form));
                assert_eq!(verdict, OpenPaygoVerdict::Invalid);
                assert!(n <= 79, "{form:?} at {max_count}: {n} steps");
                // The next genuine token of that value, and the one after: one window each.
                for _ in 0..2 {
                    let count = state.counts.max_count;
                    let token = issuer.generate(&secret(), count, add).unwrap().token;
                    let (n, verdict) = cost(&v, &mut state, token.as_bytes());
                    assert!(matches!(verdict, OpenPaygoVerdict::Valid(_)), "{verdict:?}");
                    assert!(n <= 79, "{form:?} at {max_count}: {n} steps");
                }
                // A token of another value walks from the starting code.
                let other = issuer
                    .generate(
                        &secret(),
                        state.counts.max_count,
                        OpenPaygoMessage::AddTime(8),
                    )
                    .unwrap()
                    .token;
                let (n, _) = cost(&v, &mut state.clone(), &wrong(other.as_bytes(), form));
                assert!(u64::from(state.counts.max_count) <= n);
            }
        }
    }

    #[test]
    fn a_counter_sync_of_the_points_value_costs_at_most_100_steps() {
        let (form, v) = (Form::STANDARD, OpenPaygoVerifier::new(Form::STANDARD));
        let issuer = OpenPaygoIssuer::new(form);
        for max_count in [0, 5, 30_000, COUNT_CEILING - 200] {
            let sync = OpenPaygoMessage::CounterSync;
            let mut state = device(form, max_count, sync);
            let count = state.counts.max_count;
            let token = issuer.generate(&secret(), count, sync).unwrap().token;
            let (n, verdict) = cost(&v, &mut state.clone(), &wrong(token.as_bytes(), form));
            assert_eq!(verdict, OpenPaygoVerdict::Invalid);
            assert!(n <= 100, "{n} steps");
            // The sync just entered, again: spent, within the same window.
            let again = issuer
                .token_at(&secret(), count, COUNTER_SYNC_VALUE)
                .unwrap();
            let (n, verdict) = cost(&v, &mut state.clone(), again.as_bytes());
            assert_eq!(verdict, OpenPaygoVerdict::AlreadyUsed);
            assert!(n <= 100, "{n} steps");
            let (n, verdict) = cost(&v, &mut state, token.as_bytes());
            assert!(matches!(verdict, OpenPaygoVerdict::Valid(_)), "{verdict:?}");
            assert!(n <= 100, "{n} steps");
        }
    }

    fn messages() -> impl Strategy<Value = OpenPaygoMessage> {
        prop_oneof![
            4 => (0..4u32).prop_map(OpenPaygoMessage::AddTime),
            2 => (0..4u32).prop_map(OpenPaygoMessage::SetTime),
            1 => Just(OpenPaygoMessage::CounterSync),
            1 => Just(OpenPaygoMessage::DisablePayg),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// After any history, any entry of the point's value costs at most 100 steps.
        #[test]
        fn entries_of_the_points_value_are_bounded(
            start in 0..40_000u32,
            history in proptest::collection::vec((messages(), 0..3u32, any::<bool>()), 1..24),
        ) {
            let form = Form::STANDARD;
            let (v, issuer) = (OpenPaygoVerifier::new(form), OpenPaygoIssuer::new(form));
            let mut state = OpenPaygoDeviceState::from(OpenPaygoState { max_count: start, used_counts: 0 });
            let mut count = start;
            for (message, skip, enter_wrong) in history {
                // Tokens the device never sees move the issuer's count on.
                for _ in 0..skip {
                    count = issuer.generate(&secret(), count, message).unwrap().count;
                }
                let issued = issuer.generate(&secret(), count, message).unwrap();
                count = issued.count;
                let input = if enter_wrong { wrong(issued.token.as_bytes(), form) } else { issued.token.as_bytes().to_vec() };
                let serves = state.point.is_some_and(|p| p.value() == message.value());
                let (n, _) = cost(&v, &mut state, &input);
                if serves {
                    prop_assert!(n <= 100, "{} steps", n);
                }
            }
        }
    }
}
