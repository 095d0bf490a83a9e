//! The device side: key entry, rate limiting, and the hand-off to each protocol's parser,
//! matching nexus-embedded 2.0.1 (decision 3) with `u32` message IDs end to end.
//!
//! The product is reached through [`Platform`]; what must survive a power cycle is the small
//! [`NexusState`]; what does not (the half-typed code, the rate-limit bucket) is in
//! [`KeycodeProcessor`].

use super::apply::Ctx;
use core::marker::PhantomData;

use super::config::{AnyProtocol, NexusConfig, Protocol, Protocols};
use super::keys::{KeyBuffer, KeyStep};
use super::platform::{Feedback, Platform, Processed};
use super::rate_limit::Bucket;
use super::state::NexusState;
use super::{full, small};
use crate::key::Key;

/// A keycode device: the RAM half of the engine (entry buffer and rate-limit bucket).
///
/// Each call takes the device key, the persisted [`NexusState`] and the [`Platform`], and a
/// reading `now` of a monotonic seconds clock (uptime) for the entry timeout and the limiter.
/// Work per call is bounded: at most one frame of 30 keys and 16 MACs.
//
// Flash: a firmware builds one protocol, and the optimiser drops the other protocol's parser
// only if it can see that `config` never changes while keys come in. `repr(C)` keeps `config`
// in front of the key buffer, so that stores into the buffer (at a run-time index) provably
// miss it; `finish` hands the parsers a copy, so no pointer into the device escapes; `tick`
// is inlined for the same reason. Together about 1.7 KB on Cortex-M (firmware/size.sh).
///
/// `S` says which protocols it parses: by default the one the configuration names; firmware
/// whose configuration the optimiser cannot see (a C device) fixes it with [`FullOnly`] or
/// [`SmallOnly`] and [`KeycodeProcessor::with_protocols`], so only that parser is linked.
///
/// [`FullOnly`]: super::config::FullOnly
/// [`SmallOnly`]: super::config::SmallOnly
#[derive(Clone, Debug)]
#[repr(C)]
pub struct KeycodeProcessor<S = AnyProtocol> {
    config: NexusConfig,
    entry: KeyBuffer,
    bucket: Bucket,
    protocols: PhantomData<S>,
}

impl KeycodeProcessor {
    /// A device after boot: the bucket holds the grace attempts saved in `state`.
    #[must_use]
    pub fn new(config: NexusConfig, state: &NexusState) -> Self {
        Self::boot(config, state)
    }
}

impl<S: Protocols> KeycodeProcessor<S> {
    /// A device after boot that parses only the protocols of `S`: `None` when `config` names
    /// another one.
    #[must_use]
    pub fn with_protocols(config: NexusConfig, state: &NexusState) -> Option<Self> {
        if S::FIXED.is_some_and(|fixed| fixed != config.protocol) {
            return None;
        }
        Some(Self::boot(config, state))
    }

    fn boot(config: NexusConfig, state: &NexusState) -> Self {
        let limit = config.rate_limit.unwrap_or_default();
        Self {
            config,
            entry: KeyBuffer::new(),
            bucket: Bucket::boot(limit, state.grace_keycodes),
            protocols: PhantomData,
        }
    }

    /// The protocol parsed: the fixed one, a constant the optimiser folds, or the configuration's.
    #[inline]
    fn protocol(&self) -> Protocol {
        S::FIXED.unwrap_or(self.config.protocol)
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &NexusConfig {
        &self.config
    }

    /// One key press (`nx_keycode_handle_single_key`). Returns the outcome when the key
    /// finished a code (`#`, or the 14th small symbol), `None` otherwise.
    pub fn press_key<P: Platform + ?Sized>(
        &mut self,
        key: u8,
        now: u32,
        secret: &Key,
        state: &mut NexusState,
        platform: &mut P,
    ) -> Option<Processed> {
        self.tick(now, state);
        if self.is_rate_limited() {
            platform.feedback(Feedback::KeyRejected);
            return None;
        }
        match self.entry.key(key, now, self.protocol()) {
            KeyStep::Accepted => {
                platform.feedback(Feedback::KeyAccepted);
                None
            }
            KeyStep::Rejected => {
                platform.feedback(Feedback::KeyRejected);
                None
            }
            KeyStep::Finished => Some(self.finish(secret, state, platform)),
        }
    }

    /// A whole code at once (`nx_keycode_handle_complete_keycode`): the first key must be the
    /// start key. Full codes: the last key is dropped unread (it should be `#`). Small codes:
    /// the 14 keys after the start key are read and any more are ignored.
    pub fn enter_keycode<P: Platform + ?Sized>(
        &mut self,
        keys: &[u8],
        now: u32,
        secret: &Key,
        state: &mut NexusState,
        platform: &mut P,
    ) -> Processed {
        self.tick(now, state);
        if self.is_rate_limited() || !self.entry.whole(keys, self.protocol()) {
            platform.feedback(Feedback::MessageInvalid);
            return Processed::invalid();
        }
        self.finish(secret, state, platform)
    }

    /// Lets time pass: refills the bucket, saves the grace count, drops a timed-out code.
    /// Every other call does this too; call it when idle so the grace count stays current.
    #[inline]
    pub fn tick(&mut self, now: u32, state: &mut NexusState) {
        self.entry.expire(now, self.config.entry_timeout_seconds);
        if let Some(limit) = self.config.rate_limit {
            self.bucket.elapse(limit, now);
            state.grace_keycodes = self.bucket.grace(limit);
        }
    }

    /// True while codes are refused for lack of attempts.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.config
            .rate_limit
            .is_some_and(|limit| self.bucket.is_empty(limit))
    }

    /// Attempts left before the limiter refuses codes (`None` without rate limiting).
    #[must_use]
    pub fn attempts_left(&self) -> Option<u32> {
        self.config
            .rate_limit
            .map(|limit| self.bucket.attempts(limit))
    }

    /// Processes the assembled frame, charges one attempt, clears the buffer.
    fn finish<P: Platform + ?Sized>(
        &mut self,
        secret: &Key,
        state: &mut NexusState,
        platform: &mut P,
    ) -> Processed {
        // A copy: the parsers get no pointer into the device (see the note on `KeycodeProcessor`).
        let config = self.config;
        let protocol = self.protocol();
        let processed = match self.entry.frame() {
            Some(frame) => {
                let mut ctx = Ctx {
                    key: secret,
                    state,
                    platform,
                    config: &config,
                };
                process_frame(&mut ctx, protocol, frame)
            }
            None => {
                platform.feedback(Feedback::MessageInvalid);
                Processed::invalid()
            }
        };
        self.entry.clear();
        if let Some(limit) = self.config.rate_limit {
            self.bucket.charge(limit);
            state.grace_keycodes = self.bucket.grace(limit);
        }
        processed
    }
}

/// Parses and applies one frame (the keys between the start key and the end) with the parser
/// of `protocol`, then starts the response's feedback. No rate limiting and no clock: the
/// caller owns those.
///
/// Inlined: with the protocol a constant at the call (a fixed [`Protocols`]), the other
/// protocol's parser is not linked, whatever the optimisation level.
#[inline(always)]
pub(crate) fn process_frame<P: Platform + ?Sized>(
    ctx: &mut Ctx<'_, P>,
    protocol: Protocol,
    frame: &[u8],
) -> Processed {
    let processed = match protocol {
        Protocol::Full => full::verify::process(ctx, frame),
        Protocol::Small => small::verify::process(ctx, frame),
    };
    if let Some(feedback) = processed.response.feedback() {
        ctx.platform.feedback(feedback);
    }
    processed
}

/// Processes a whole code without a [`KeycodeProcessor`]: no rate limiting, no timeout. For
/// verifiers that have no clock ([`crate::Verifier`]); firmware should use [`KeycodeProcessor`].
pub(crate) fn enter_unlimited<P: Platform + ?Sized>(
    ctx: &mut Ctx<'_, P>,
    keys: &[u8],
) -> Processed {
    let mut entry = KeyBuffer::new();
    if !entry.whole(keys, ctx.config.protocol) {
        ctx.platform.feedback(Feedback::MessageInvalid);
        return Processed::invalid();
    }
    match entry.frame() {
        Some(frame) => process_frame(ctx, ctx.config.protocol, frame),
        None => {
            ctx.platform.feedback(Feedback::MessageInvalid);
            Processed::invalid()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexus::full::FullIssuer;
    use crate::nexus::platform::{PaygState, Response};
    use crate::nexus::small::{SetTarget, SmallIssuer};

    #[derive(Default)]
    struct Product {
        credit: u32,
        feedback: Vec<Feedback>,
    }

    impl Platform for Product {
        fn payg_state(&self) -> PaygState {
            if self.credit > 0 {
                PaygState::Enabled
            } else {
                PaygState::Disabled
            }
        }
        fn add_credit(&mut self, seconds: u32) {
            self.credit += seconds;
        }
        fn set_credit(&mut self, seconds: u32) {
            self.credit = seconds;
        }
        fn unlock(&mut self) {}
        fn user_facing_id(&self) -> u32 {
            7
        }
        fn feedback(&mut self, feedback: Feedback) {
            self.feedback.push(feedback);
        }
    }

    fn key() -> Key {
        Key::new([0x42; 16])
    }

    #[test]
    fn rate_limit_six_then_one_per_720_seconds_and_reboots_keep_it() {
        let (k, mut state, mut p) = (key(), NexusState::FRESH, Product::default());
        let mut device = KeycodeProcessor::new(NexusConfig::full(), &state);
        let good = FullIssuer::new().add_credit(&k, 0, 1).unwrap();
        for now in 0..6 {
            let r = device.enter_keycode(b"*1234#", now, &k, &mut state, &mut p);
            assert_eq!(r.response, Response::Invalid);
        }
        assert_eq!(state.grace_keycodes, 0);
        assert_eq!(device.attempts_left(), Some(0));
        let refused = device.enter_keycode(good.keys().as_bytes(), 10, &k, &mut state, &mut p);
        assert_eq!(refused.response, Response::Invalid);
        assert_eq!(device.press_key(b'*', 11, &k, &mut state, &mut p), None);
        assert_eq!(p.feedback.last(), Some(&Feedback::KeyRejected));
        // A reboot restores only the saved grace: none.
        let mut rebooted = KeycodeProcessor::new(NexusConfig::full(), &state);
        assert!(rebooted.is_rate_limited());
        let later = rebooted.enter_keycode(good.keys().as_bytes(), 0, &k, &mut state, &mut p);
        assert_eq!(later.response, Response::Invalid);
        rebooted.tick(720, &mut state);
        assert_eq!(state.grace_keycodes, 1);
        let ok = rebooted.enter_keycode(good.keys().as_bytes(), 720, &k, &mut state, &mut p);
        assert_eq!(ok.response, Response::ValidApplied);
        assert_eq!(p.credit, 3_600);
    }

    #[test]
    fn a_slow_key_drops_the_half_code() {
        let (k, mut state, mut p) = (key(), NexusState::FRESH, Product::default());
        let mut device = KeycodeProcessor::new(NexusConfig::full().without_rate_limit(), &state);
        let code = FullIssuer::new().add_credit(&k, 3, 2).unwrap();
        let keys = code.keys().as_bytes();
        for (i, &b) in keys.iter().enumerate().take(5) {
            assert_eq!(
                device.press_key(b, u32::try_from(i).unwrap(), &k, &mut state, &mut p),
                None
            );
        }
        // 17 s of silence: the next keys no longer belong to a code.
        for &b in keys.iter().skip(5) {
            assert_eq!(device.press_key(b, 21, &k, &mut state, &mut p), None);
        }
        assert_eq!(p.feedback.last(), Some(&Feedback::KeyRejected));
        let mut last = None;
        for &b in keys {
            last = device.press_key(b, 30, &k, &mut state, &mut p);
        }
        assert_eq!(last.map(|r| r.response), Some(Response::ValidApplied));
    }

    #[test]
    fn extended_codes_can_be_turned_off() {
        let k = key();
        let id = SmallIssuer::new()
            .next_extended_id(&k, 23, SetTarget::Days(5))
            .unwrap();
        let code = SmallIssuer::new()
            .extended_set_credit_wipe_restricted(&k, id, SetTarget::Days(5))
            .unwrap();
        for (enabled, credit) in [(false, 0), (true, 5 * 86_400)] {
            let (mut state, mut p) = (NexusState::FRESH, Product::default());
            let config = NexusConfig {
                extended_small_codes: enabled,
                ..NexusConfig::small().without_rate_limit()
            };
            let mut device = KeycodeProcessor::new(config, &state);
            let r = device.enter_keycode(code.keys().as_bytes(), 0, &k, &mut state, &mut p);
            assert_eq!(r.response, Response::None);
            assert_eq!(p.credit, credit);
        }
    }

    #[test]
    fn device_id_confirmation_and_names() {
        let (k, mut state, mut p) = (key(), NexusState::FRESH, Product::default());
        let mut device = KeycodeProcessor::new(NexusConfig::full().without_rate_limit(), &state);
        let mine = FullIssuer::device_id_confirmation(7);
        let other = FullIssuer::device_id_confirmation(8);
        let r = device.enter_keycode(mine.keys().as_bytes(), 0, &k, &mut state, &mut p);
        assert_eq!(r.response, Response::ValidApplied);
        let r = device.enter_keycode(other.keys().as_bytes(), 0, &k, &mut state, &mut p);
        assert_eq!(r.response, Response::ValidDuplicate);
        assert_eq!(Response::ValidDuplicate.name(), "VALID_DUPLICATE");
        assert_eq!(Feedback::DisplaySerialId as u8, 7);
    }

    #[test]
    fn a_fixed_protocol_refuses_the_other_and_parses_its_own() {
        use crate::nexus::config::{FullOnly, SmallOnly};
        let k = key();
        let state = NexusState::FRESH;
        assert!(
            KeycodeProcessor::<FullOnly>::with_protocols(NexusConfig::small(), &state).is_none()
        );
        assert!(
            KeycodeProcessor::<SmallOnly>::with_protocols(NexusConfig::full(), &state).is_none()
        );
        let full = FullIssuer::new().add_credit(&k, 0, 1).unwrap();
        let small = SmallIssuer::new().add_credit(&k, 0, 1).unwrap();
        for (config, code, credit) in [
            (NexusConfig::full(), &full, 3_600),
            (NexusConfig::small(), &small, 86_400),
        ] {
            let keys = code.keys().as_bytes();
            let (mut s1, mut p1) = (state, Product::default());
            let (mut s2, mut p2) = (state, Product::default());
            let r = match config.protocol {
                Protocol::Full => KeycodeProcessor::<FullOnly>::with_protocols(config, &state)
                    .unwrap()
                    .enter_keycode(keys, 0, &k, &mut s1, &mut p1),
                Protocol::Small => KeycodeProcessor::<SmallOnly>::with_protocols(config, &state)
                    .unwrap()
                    .enter_keycode(keys, 0, &k, &mut s1, &mut p1),
            };
            let any =
                KeycodeProcessor::new(config, &state).enter_keycode(keys, 0, &k, &mut s2, &mut p2);
            assert_eq!(r.response, Response::ValidApplied);
            assert_eq!((r, s1, p1.credit), (any, s2, p2.credit));
            assert_eq!(p1.credit, credit);
        }
    }
}
