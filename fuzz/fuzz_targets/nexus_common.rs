//! Helpers shared by the Nexus targets: a product that records what the engine asks of it,
//! keypad decoding, and the invariants every call of the device must keep.

use arbitrary::Arbitrary;
use paylock::Key;
use paylock::nexus::{
    Feedback, KeycodeProcessor, NexusConfig, NexusState, PaygState, Platform, Processed, Protocol,
    RateLimit, Response, Window,
};

/// Most keys one input enters: bounds the work (a finished code costs at most 16 MACs).
pub const MAX_KEYS: usize = 256;
/// The entry timeout of the default configuration, in seconds.
const ENTRY_TIMEOUT: u32 = 16;

/// A product with a seconds counter that records what the engine asked of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Product {
    pub credit: u64,
    pub unlocked: bool,
    /// What `passthrough` answers.
    pub passthrough_ok: bool,
    pub user_facing_id: u32,
    /// Credit, unlock and restricted-flag calls so far.
    pub calls: u32,
    /// The last feedback started.
    pub feedback: Option<Feedback>,
}

impl Platform for Product {
    fn payg_state(&self) -> PaygState {
        if self.unlocked {
            PaygState::Unlocked
        } else if self.credit > 0 {
            PaygState::Enabled
        } else {
            PaygState::Disabled
        }
    }
    fn add_credit(&mut self, seconds: u32) {
        self.calls += 1;
        self.credit += u64::from(seconds);
    }
    fn set_credit(&mut self, seconds: u32) {
        self.calls += 1;
        self.credit = u64::from(seconds);
    }
    fn unlock(&mut self) {
        self.calls += 1;
        self.unlocked = true;
    }
    fn restricted_flag_changed(&mut self, value: bool) {
        assert!(!value, "the engine never sets the restricted flag");
        self.calls += 1;
    }
    fn passthrough(&mut self, digits: &[u8]) -> bool {
        assert!(digits.len() >= 2 && digits.iter().all(u8::is_ascii_digit));
        self.passthrough_ok
    }
    fn user_facing_id(&self) -> u32 {
        self.user_facing_id
    }
    fn feedback(&mut self, feedback: Feedback) {
        self.feedback = Some(feedback);
    }
}

/// What the engine persists besides the limiter's grace count.
pub fn persisted(s: &NexusState) -> (Window, u8, u8, bool) {
    (s.window, s.qc_short_count, s.qc_long_count, s.restricted)
}

/// True for an outcome that may change state: a finished code that is neither INVALID nor an
/// unauthenticated hand-off (passthrough, or an extended small code that matched no ID).
pub fn authentic(outcome: Option<Processed>) -> bool {
    outcome.is_some_and(|p| match p.response {
        Response::Invalid => false,
        Response::None => p.message_id.is_some(),
        _ => true,
    })
}

/// The invariants of one device call that gave `outcome`, from `before` to `after`.
pub fn check_step(
    config: &NexusConfig,
    before: (&NexusState, u32),
    after: (&NexusState, &Product),
    outcome: Option<Processed>,
) {
    let ((b, calls), (a, product)) = (before, after);
    if !authentic(outcome) {
        assert_eq!(persisted(a), persisted(b), "{outcome:?} changed the state");
        assert_eq!(product.calls, calls, "{outcome:?} changed the credit");
    }
    if let Some(p) = outcome {
        if let Some(feedback) = p.response.feedback() {
            assert_eq!(product.feedback, Some(feedback), "{p:?}");
        }
        // Only extended small codes answer NONE with an ID; they carry 2 ID bits.
        if let (Response::None, Some(id)) = (p.response, p.message_id) {
            assert_eq!(config.protocol, Protocol::Small);
            assert!(
                b.window.lowest() <= id && id <= b.window.highest() && !b.window.is_received(id)
            );
        }
    }
    // A window wipe: back to a fresh window and QC counters at 0.
    let qc = |s: &NexusState| (s.qc_short_count, s.qc_long_count);
    let fresh = |s: &NexusState| s.window == Window::FRESH && qc(s) == (0, 0);
    let wiped = fresh(a) && !fresh(b);
    if wiped {
        assert!(authentic(outcome), "{outcome:?} wiped the window");
    } else {
        // The window only moves up, and a used ID stays used while it is in the window.
        assert!(a.window.pd_index >= b.window.pd_index, "{b:?} -> {a:?}");
        for id in b.window.lowest()..=b.window.pd_index {
            if b.window.is_received(id) && id >= a.window.lowest() {
                assert!(
                    a.window.is_received(id),
                    "ID {id} forgotten: {b:?} -> {a:?}"
                );
            }
        }
        // QC counters only count up, by one code at a time, to their limits.
        for (before, after, max) in [
            (b.qc_short_count, a.qc_short_count, config.qc_short_max),
            (b.qc_long_count, a.qc_long_count, config.qc_long_max),
        ] {
            assert!(before <= after && after <= before.max(max.min(15)));
            assert!(after - before <= u8::from(outcome.is_some()));
        }
    }
    assert!(
        b.restricted || !a.restricted,
        "the engine set the restricted flag"
    );
    if config.rate_limit.is_some() {
        assert!(a.grace_keycodes <= RateLimit::DEFAULT.initial_attempts);
    }
}

/// Any device state, any product state, any keys, key by key or as whole codes.
///
/// Byte layout (what `seeds.py` writes): the fields in order, integers little-endian, booleans
/// one byte (bit 0), then the keys. Keys are keypad keys picked by `byte % 12` (`0-9*#`) or
/// `byte % 5` (`1-5`); the rest of the byte picks the pause before the key ([`STEPS`]).
#[derive(Arbitrary, Debug)]
#[allow(dead_code)] // the round-trip target includes this module without using this
pub struct ParseInput<'a> {
    pub key: [u8; 16],
    pub pd_index: u32,
    pub received: u32,
    pub qc_short_count: u8,
    pub qc_long_count: u8,
    pub restricted: bool,
    pub grace_keycodes: u8,
    pub credit: u32,
    pub user_facing_id: u32,
    /// Bit 0 unlocked, 1 passthrough accepted, 2 rate limiting off, 3 extended small codes off,
    /// 4 whole codes (split at pauses longer than the entry timeout) rather than key by key,
    /// 5 raw bytes as keys (no pauses) rather than keypad keys.
    pub flags: u8,
    /// QC lifetime limits: short in the low nibble, long in the high one.
    pub qc_limits: u8,
    pub keys: &'a [u8],
}

/// Seconds before a key, by `byte / keypad size % 16`: mostly none, sometimes past the entry
/// timeout, or one limiter refill.
const STEPS: [u32; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 8, 17, 721];

/// The key and the pause before it that an input byte stands for.
fn decode(protocol: Protocol, raw: bool, byte: u8) -> (u8, u32) {
    if raw {
        return (byte, 0);
    }
    let keypad: &[u8] = match protocol {
        Protocol::Full => b"0123456789*#",
        Protocol::Small => b"12345",
    };
    let n = keypad.len();
    let i = usize::from(byte);
    (keypad[i % n], STEPS[i / n % STEPS.len()])
}

/// The body of the `nexus_full_parse` and `nexus_small_parse` targets.
#[allow(dead_code)] // the round-trip target includes this module without using this
pub fn parse(protocol: Protocol, input: ParseInput<'_>) {
    let flags = input.flags;
    let mut config =
        NexusConfig::new(protocol).with_qc_limits(input.qc_limits & 15, input.qc_limits >> 4);
    if flags & 4 != 0 {
        config = config.without_rate_limit();
    }
    config.extended_small_codes = flags & 8 == 0;
    let key = Key::new(input.key);
    let mut state = NexusState {
        window: Window {
            pd_index: input.pd_index,
            received: input.received,
        },
        qc_short_count: input.qc_short_count,
        qc_long_count: input.qc_long_count,
        restricted: input.restricted,
        grace_keycodes: input.grace_keycodes,
    };
    let mut product = Product {
        credit: input.credit.into(),
        unlocked: flags & 1 != 0,
        passthrough_ok: flags & 2 != 0,
        user_facing_id: input.user_facing_id,
        ..Product::default()
    };
    let mut device = KeycodeProcessor::new(config, &state);
    let keys = input.keys.get(..MAX_KEYS).unwrap_or(input.keys);
    let raw = flags & 0x20 != 0;
    let mut now = 0u32;
    let mut step = |device: &mut KeycodeProcessor, code: &[u8], k: Option<u8>, now: u32| {
        let (before, calls) = (state, product.calls);
        let outcome = match k {
            Some(k) => device.press_key(k, now, &key, &mut state, &mut product),
            None => Some(device.enter_keycode(code, now, &key, &mut state, &mut product)),
        };
        check_step(&config, (&before, calls), (&state, &product), outcome);
    };
    if flags & 0x10 == 0 {
        for &byte in keys {
            let (k, pause) = decode(protocol, raw, byte);
            now = now.saturating_add(pause);
            step(&mut device, &[], Some(k), now);
        }
    } else {
        let mut code = Vec::with_capacity(keys.len());
        for &byte in keys {
            let (k, pause) = decode(protocol, raw, byte);
            if pause > ENTRY_TIMEOUT && !code.is_empty() {
                step(&mut device, &code, None, now);
                code.clear();
            }
            now = now.saturating_add(pause);
            code.push(k);
        }
        step(&mut device, &code, None, now);
    }
}
