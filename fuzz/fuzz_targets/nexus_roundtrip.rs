//! Issue a code for an ID in the window of any device state, enter it twice. Each entry gives
//! exactly the response, credit calls and state a model of the protocol predicts for the state
//! it meets; the second is never applied again, except for the codes reusable by design: demo
//! codes, factory and test codes (within their lifetime QC counters), passthrough, device-ID
//! confirmations, small maintenance codes, and window wipes whose ID the fresh window accepts.
#![no_main]

mod nexus_common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nexus_common::{Product, check_step};
use paylock::Key;
use paylock::nexus::full::{MAX_BODY, UNLOCK_HOURS};
use paylock::nexus::small::{self, MAX_ADD_DAYS, MAX_SET_DAYS};
use paylock::nexus::{
    Activation, FactoryCode, FullIssuer, Keycode, KeycodeProcessor, MAX_ISSUED_ID, Maintenance,
    NexusConfig, NexusIssueError, NexusState, Processed, Protocol, Response, SetTarget,
    SmallIssuer, TestCode, Window, WipeTarget,
};

/// Byte layout (what `seeds.py` writes): the fields in order, integers little-endian, booleans
/// one byte (bit 0).
#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 16],
    pd_index: u32,
    received: u32,
    /// The low 6 bits of the message ID: the window holds exactly one such ID.
    id_bits: u8,
    qc_short_count: u8,
    qc_long_count: u8,
    restricted: bool,
    credit: u32,
    user_facing_id: u32,
    /// Bit 0 small protocol, 1 unlocked, 2 passthrough accepted, 3 key by key, 4 the issuer
    /// takes IDs above 65534, 5 `pd_index` below 65,600 (IDs around the issuers' limit), 6 the
    /// issuer issues demo codes.
    flags: u8,
    /// QC lifetime limits: short in the low nibble, long in the high one.
    qc_limits: u8,
    /// The message kind (`% 13` full, `% 10` small); the rest sets a passthrough's length.
    message: u8,
    /// Hours, minutes, days, target... (one past the maximum checks the refusal).
    value: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Message {
    Activation(Activation),
    Factory(FactoryCode),
    DeviceId(u32),
    Passthrough {
        subtype: u8,
        data: u32,
        width: usize,
    },
    UartKey,
    SmallAdd(u16),
    SmallUnlock,
    SmallSet(SetTarget),
    SmallWipeFlag,
    Maintenance(Maintenance),
    Test(TestCode),
    Extended(SetTarget),
    SmallPassthrough(u32),
}

fn message(protocol: Protocol, selector: u8, v: u32, user_facing_id: u32) -> Message {
    let days = |max: u16| u16::try_from(v % (u32::from(max) + 2)).unwrap_or(0);
    let target = if v >> 31 == 1 {
        SetTarget::Unlock
    } else {
        SetTarget::Days(days(MAX_SET_DAYS))
    };
    match protocol {
        Protocol::Full => match selector % 13 {
            0 | 12 => Message::Activation(Activation::AddCredit {
                hours: v % (MAX_BODY + 2),
            }),
            1 => Message::Activation(Activation::SetCredit {
                hours: v % (UNLOCK_HOURS + 1),
            }),
            2 => Message::Activation(Activation::Unlock),
            3 => Message::Activation(Activation::WipeState(
                WipeTarget::from_digit((v % 4) as u8).expect("0-3"),
            )),
            4 => Message::Activation(Activation::Demo {
                minutes: v % (MAX_BODY + 2),
            }),
            5 => Message::Factory(FactoryCode::AllowTest),
            6 => Message::Factory(FactoryCode::OqcTest {
                minutes: (v % 101) as u8,
            }),
            7 => Message::Factory(FactoryCode::OqcTestLegacy151),
            8 => Message::Factory(FactoryCode::DisplayPaygId),
            9 if v & 1 == 0 => Message::DeviceId(user_facing_id),
            9 => Message::DeviceId(v >> 1),
            10 => Message::Passthrough {
                subtype: (v % 10) as u8,
                data: v / 10,
                width: 1 + usize::from(selector / 13),
            },
            _ => Message::UartKey,
        },
        Protocol::Small => match selector % 10 {
            0 | 9 => Message::SmallAdd(days(MAX_ADD_DAYS)),
            1 => Message::SmallSet(target),
            2 => Message::SmallUnlock,
            3 => Message::SmallWipeFlag,
            4 => Message::Maintenance(match v % 3 {
                0 => Maintenance::WipeState0,
                1 => Maintenance::WipeState1,
                _ => Maintenance::WipeIdsAll,
            }),
            5 => Message::Test(TestCode::ShortTest),
            6 => Message::Test(TestCode::OqcTest),
            7 => Message::Extended(target),
            _ => Message::SmallPassthrough(v % (1 << 26)),
        },
    }
}

impl Message {
    /// Whether the code carries the message ID (and the issuer checks it).
    fn has_id(self) -> bool {
        matches!(
            self,
            Self::Activation(_)
                | Self::SmallAdd(_)
                | Self::SmallUnlock
                | Self::SmallSet(_)
                | Self::SmallWipeFlag
                | Self::Extended(_)
        )
    }

    /// Whether entering the code again may apply it again, by design.
    fn reusable(self, id: u32) -> bool {
        match self {
            Self::Activation(Activation::Demo { .. })
            | Self::Factory(_)
            | Self::DeviceId(_)
            | Self::Passthrough { .. }
            | Self::UartKey
            | Self::Maintenance(_)
            | Self::Test(_)
            | Self::SmallPassthrough(_) => true,
            // The window is back to IDs 0-63: the wipe-replay loop (spec §12).
            Self::Activation(Activation::WipeState(
                WipeTarget::CreditAndWindow | WipeTarget::Window,
            )) => id <= 63,
            _ => false,
        }
    }

    /// The errors the issuers may give for this message at `id`.
    fn refusals(self, id: u32, allow_high: bool, allow_demo: bool) -> Vec<&'static str> {
        let mut r = Vec::new();
        if matches!(self, Self::Activation(Activation::Demo { .. })) && !allow_demo {
            r.push("DemoNotAllowed");
        }
        if self.has_id() && !allow_high && id > MAX_ISSUED_ID {
            r.push("IdTooHigh");
        }
        let out_of_range = match self {
            Self::Activation(Activation::AddCredit { hours }) => hours > MAX_BODY,
            Self::Activation(Activation::SetCredit { hours }) => hours >= UNLOCK_HOURS,
            Self::Activation(Activation::Demo { minutes }) => minutes > MAX_BODY,
            Self::Factory(FactoryCode::OqcTest { minutes }) => !(1..=99).contains(&minutes),
            Self::SmallAdd(days) => !(1..=MAX_ADD_DAYS).contains(&days),
            Self::SmallSet(SetTarget::Days(days)) | Self::Extended(SetTarget::Days(days)) => {
                days > MAX_SET_DAYS
            }
            _ => false,
        };
        if out_of_range {
            r.push("OutOfRange");
        }
        if self == Self::SmallSet(SetTarget::Days(1)) && id & 63 == 63 {
            // The next ID is the way out; after the last one there is none.
            r.push(if id == u32::MAX {
                "CounterExhausted"
            } else {
                "SetCreditId63"
            });
        }
        if matches!(self, Self::Passthrough { width: 12, .. }) {
            r.push("PassthroughBody13");
        }
        r
    }
}

fn error_name(e: NexusIssueError) -> &'static str {
    match e {
        NexusIssueError::IdTooHigh { .. } => "IdTooHigh",
        NexusIssueError::OutOfRange { .. } => "OutOfRange",
        NexusIssueError::SetCreditId63 { .. } => "SetCreditId63",
        NexusIssueError::PassthroughBody13 => "PassthroughBody13",
        NexusIssueError::ExtendedCollision { .. } => "ExtendedCollision",
        NexusIssueError::NoCollisionFreeId { .. } => "NoCollisionFreeId",
        NexusIssueError::CounterExhausted { .. } => "CounterExhausted",
        NexusIssueError::DemoNotAllowed => "DemoNotAllowed",
        _ => "other",
    }
}

fn issue(
    msg: Message,
    key: &Key,
    id: u32,
    (allow_high, allow_demo): (bool, bool),
) -> Result<Keycode, NexusIssueError> {
    let (mut full, mut small) = (FullIssuer::new(), SmallIssuer::new());
    if allow_high {
        (full, small) = (
            full.allowing_ids_above_65534(),
            small.allowing_ids_above_65534(),
        );
    }
    if allow_demo {
        full = full.allowing_demo_codes();
    }
    match msg {
        Message::Activation(a) => full.activation(key, id, a),
        Message::Factory(f) => FullIssuer::factory(f),
        Message::DeviceId(x) => Ok(FullIssuer::device_id_confirmation(x)),
        Message::Passthrough {
            subtype,
            data,
            width,
        } => {
            let digits = format!("{data:0width$}");
            FullIssuer::passthrough(subtype, &digits[digits.len() - width..])
        }
        Message::UartKey => Ok(FullIssuer::uart_key_passthrough(key)),
        Message::SmallAdd(days) => small.add_credit(key, id, days),
        Message::SmallUnlock => small.unlock(key, id),
        Message::SmallSet(target) => small.set_credit(key, id, target),
        Message::SmallWipeFlag => small.wipe_restricted_flag(key, id),
        Message::Maintenance(m) => Ok(small.maintenance(key, m)),
        Message::Test(t) => Ok(small.test(t)),
        Message::Extended(target) => small.extended_set_credit_wipe_restricted(key, id, target),
        Message::SmallPassthrough(bits) => small.passthrough(bits),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Credit {
    Same,
    Add(u32),
    Set(u32),
    Unlock,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Same,
    One(u32),
    UpTo(u32),
    /// Marks, then back to a fresh window with the QC counters at 0.
    UpToThenReset(u32),
    Reset,
}

/// What the device does with a code: its answer and its effects.
#[derive(Clone, Copy, Debug)]
struct Effect {
    response: Response,
    id: Option<u32>,
    credit: Credit,
    mark: Mark,
    /// +1 on the short (`Some(true)`) or long QC counter.
    qc: Option<bool>,
    clear_flag: bool,
}

impl Effect {
    fn of(response: Response, id: Option<u32>) -> Self {
        Self {
            response,
            id,
            credit: Credit::Same,
            mark: Mark::Same,
            qc: None,
            clear_flag: false,
        }
    }

    fn applied(id: Option<u32>, credit: Credit, mark: Mark) -> Self {
        Self::of(Response::ValidApplied, id).with(credit, mark)
    }

    fn with(self, credit: Credit, mark: Mark) -> Self {
        Self {
            credit,
            mark,
            ..self
        }
    }

    /// The model's state and product after the effect.
    fn apply(self, state: &mut NexusState, product: &mut Product) {
        let reset = |state: &mut NexusState| {
            state.window.reset();
            (state.qc_short_count, state.qc_long_count) = (0, 0);
        };
        match self.mark {
            Mark::Same => {}
            Mark::One(id) => state.window.mark(id),
            Mark::UpTo(id) => state.window.mark_up_to(id),
            Mark::UpToThenReset(id) => {
                state.window.mark_up_to(id);
                reset(state);
            }
            Mark::Reset => reset(state),
        }
        match self.qc {
            Some(true) => state.qc_short_count += 1,
            Some(false) => state.qc_long_count += 1,
            None => {}
        }
        match self.credit {
            Credit::Same => {}
            Credit::Add(s) => product.credit += u64::from(s),
            Credit::Set(s) => product.credit = u64::from(s),
            Credit::Unlock => product.unlocked = true,
        }
        product.calls += u32::from(self.credit != Credit::Same) + u32::from(self.clear_flag);
        if self.clear_flag {
            state.restricted = false;
        }
    }
}

const DAY: u32 = 86_400;

/// The SET credit a small SET or extended code carries.
fn small_set(target: SetTarget) -> Credit {
    match target {
        SetTarget::Unlock => Credit::Unlock,
        SetTarget::Days(0) => Credit::Set(0),
        SetTarget::Days(days) => {
            let inc = small::set_credit_increment(days).expect("issued");
            Credit::Set(u32::from(small::set_credit_days(inc).expect("below 240")) * DAY)
        }
    }
}

/// The model: what the device in `s` with product `p` does with `msg` issued at `id`.
/// Extended codes and passthrough bits are checked in `round` instead.
fn expect(msg: Message, id: u32, s: &NexusState, p: &Product, config: &NexusConfig) -> Effect {
    let disabled = !p.unlocked && p.credit == 0;
    if msg.has_id() && s.window.infer((id & 63) as u8) != Some(id) {
        // The device reads another ID from the 6 bits: the MAC fails.
        return Effect::of(Response::Invalid, None);
    }
    if msg.has_id() && s.window.is_received(id) {
        return Effect::of(Response::ValidDuplicate, Some(id));
    }
    let (on, dup) = (Some(id), Effect::of(Response::ValidDuplicate, Some(id)));
    match msg {
        Message::Activation(Activation::AddCredit { hours }) => Effect {
            mark: Mark::One(id),
            ..if p.unlocked {
                dup
            } else {
                Effect::applied(on, Credit::Add(hours * 3_600), Mark::Same)
            }
        },
        Message::Activation(Activation::SetCredit { hours }) => {
            Effect::applied(on, Credit::Set(hours * 3_600), Mark::UpTo(id))
        }
        Message::Activation(Activation::Unlock) => {
            Effect::applied(on, Credit::Unlock, Mark::UpTo(id))
        }
        Message::Activation(Activation::WipeState(target)) => match target {
            WipeTarget::Credit => Effect::applied(on, Credit::Set(0), Mark::UpTo(id)),
            WipeTarget::CreditAndWindow => {
                Effect::applied(on, Credit::Set(0), Mark::UpToThenReset(id))
            }
            WipeTarget::Window => Effect::applied(on, Credit::Same, Mark::UpToThenReset(id)),
            WipeTarget::RestrictedFlag => Effect {
                clear_flag: true,
                ..Effect::applied(on, Credit::Same, Mark::UpTo(id))
            },
        },
        Message::Activation(Activation::Demo { minutes }) => {
            let credit = if p.unlocked {
                Credit::Same
            } else {
                Credit::Add(minutes * 60)
            };
            Effect::applied(on, credit, Mark::Same)
        }
        Message::Factory(FactoryCode::AllowTest) | Message::Test(TestCode::ShortTest) => {
            if disabled {
                Effect::applied(None, Credit::Add(127), Mark::Same)
            } else {
                Effect::of(Response::ValidDuplicate, None)
            }
        }
        Message::Factory(FactoryCode::OqcTest { minutes }) => {
            let seconds = u32::from(minutes) * 60;
            let short = seconds <= 600;
            let (count, max) = if short {
                (s.qc_short_count, config.qc_short_max)
            } else {
                (s.qc_long_count, config.qc_long_max)
            };
            if !p.unlocked && (seconds == 3_600 || disabled) && count < max.min(15) {
                Effect {
                    qc: Some(short),
                    ..Effect::applied(None, Credit::Add(seconds), Mark::Same)
                }
            } else {
                Effect::of(Response::ValidDuplicate, None)
            }
        }
        Message::Test(TestCode::OqcTest) => {
            if !p.unlocked && s.qc_long_count < config.qc_long_max.min(15) {
                Effect {
                    qc: Some(false),
                    ..Effect::applied(None, Credit::Add(3_600), Mark::Same)
                }
            } else {
                Effect::of(Response::ValidDuplicate, None)
            }
        }
        // Firmware 2.0.1 reads `5` + 3 reserved + 2 minute digits + check: 7 digits are too few.
        Message::Factory(FactoryCode::OqcTestLegacy151) => Effect::of(Response::Invalid, None),
        Message::Factory(FactoryCode::DisplayPaygId) => Effect::of(Response::DisplayDeviceId, None),
        Message::DeviceId(x) if x == p.user_facing_id => Effect::of(Response::ValidApplied, None),
        Message::DeviceId(_) => Effect::of(Response::ValidDuplicate, None),
        Message::Passthrough { .. } | Message::UartKey if p.passthrough_ok => {
            Effect::of(Response::None, None)
        }
        Message::Passthrough { .. } | Message::UartKey => Effect::of(Response::Invalid, None),
        Message::SmallAdd(_) | Message::SmallUnlock => {
            let credit = match msg {
                Message::SmallAdd(days) => {
                    let inc = small::add_credit_increment(days).expect("issued");
                    Credit::Add(u32::from(small::add_credit_days(inc).expect("not 255")) * DAY)
                }
                _ => Credit::Unlock,
            };
            Effect {
                mark: Mark::One(id),
                ..if p.unlocked {
                    dup
                } else {
                    Effect::applied(on, credit, Mark::Same)
                }
            }
        }
        Message::SmallSet(target) => Effect::applied(on, small_set(target), Mark::UpTo(id)),
        Message::SmallWipeFlag => Effect {
            clear_flag: true,
            ..Effect::applied(on, Credit::Same, Mark::UpTo(id))
        },
        Message::Maintenance(m) => match m {
            Maintenance::WipeState0 => Effect::applied(None, Credit::Set(0), Mark::Same),
            Maintenance::WipeState1 => Effect::applied(None, Credit::Set(0), Mark::Reset),
            Maintenance::WipeIdsAll => Effect::applied(None, Credit::Same, Mark::Reset),
        },
        Message::Extended(_) | Message::SmallPassthrough(_) => unreachable!("checked in round"),
    }
}

/// The device, the product and the code under test.
struct Trial {
    key: Key,
    config: NexusConfig,
    device: KeycodeProcessor,
    state: NexusState,
    product: Product,
    msg: Message,
    id: u32,
    code: Keycode,
    by_key: bool,
    /// The issuer's options: IDs above 65534, demo codes.
    options: (bool, bool),
    now: u32,
}

impl Trial {
    /// Enters the code once, key by key or whole.
    fn enter(&mut self) -> Processed {
        let keys = self.code.keys().as_bytes();
        if !self.by_key {
            return self.device.enter_keycode(
                keys,
                self.now,
                &self.key,
                &mut self.state,
                &mut self.product,
            );
        }
        let mut last = None;
        for (i, &k) in keys.iter().enumerate() {
            self.now += 1;
            last =
                self.device
                    .press_key(k, self.now, &self.key, &mut self.state, &mut self.product);
            assert_eq!(last.is_some(), i + 1 == keys.len(), "key {i} of {keys:?}");
        }
        last.expect("the last key finishes the code")
    }

    /// Enters the code and checks the outcome against the model; `None` when the device took
    /// the code under another ID whose MAC collides, which ends the trial.
    fn round(&mut self) -> Option<Processed> {
        let (before, product_before) = (self.state, self.product.clone());
        let got = self.enter();
        check_step(
            &self.config,
            (&before, product_before.calls),
            (&self.state, &self.product),
            Some(got),
        );
        let effect = match self.msg {
            Message::Extended(target) => {
                let Some(x) = got.message_id else {
                    // No unused ID of the window matches: ours must be used or outside.
                    let w = &before.window;
                    assert!(
                        w.is_received(self.id) || !(w.lowest()..=w.highest()).contains(&self.id),
                        "{got:?}"
                    );
                    assert_eq!(got.response, Response::None);
                    assert_eq!(
                        (self.state, self.product.calls),
                        (before, product_before.calls)
                    );
                    return Some(got);
                };
                // The issuer rules out a collision with every ID from id - 23 to id + 40 (also
                // past 65535, unlike nexus-keycode). The device takes the lowest unused match,
                // so any other is outside the checked range.
                let checked = self.id.saturating_sub(23)..=self.id.saturating_add(40);
                assert!(x == self.id || !checked.contains(&x), "{x} for {}", self.id);
                assert_eq!(x & 3, self.id & 3);
                Effect {
                    clear_flag: true,
                    ..Effect::of(Response::None, Some(x))
                }
                .with(small_set(target), Mark::UpTo(x))
            }
            Message::SmallPassthrough(bits) => {
                // Only bit 25 set reads as an extended code; random bits match about one
                // unused ID in 256 (spec §12): the model stops at the answer.
                let want = if bits >> 25 == 1 {
                    Response::None
                } else {
                    Response::Invalid
                };
                assert_eq!(got.response, want);
                return None;
            }
            msg => expect(msg, self.id, &before, &product_before, &self.config),
        };
        if effect.response == Response::Invalid
            && self.msg.has_id()
            && nexus_common::authentic(Some(got))
        {
            // After a wipe the window reads another ID from the 6 bits: a MAC collision
            // (one in 10^6 full, 4096 small) makes the code valid for that ID too.
            let other = before
                .window
                .infer((self.id & 63) as u8)
                .expect("in the window");
            let twin = issue(self.msg, &self.key, other, self.options);
            assert_eq!(twin.ok(), Some(self.code), "{got:?} for ID {other}");
            return None;
        }
        assert_eq!(
            (got.response, got.message_id),
            (effect.response, effect.id),
            "{:?} at {} on {before:?}, {product_before:?}",
            self.msg,
            self.id
        );
        let (mut state, mut product) = (before, product_before);
        effect.apply(&mut state, &mut product);
        assert_eq!(self.state, state, "{:?}", self.msg);
        assert_eq!(
            (
                self.product.credit,
                self.product.unlocked,
                self.product.calls
            ),
            (product.credit, product.unlocked, product.calls),
            "{:?}",
            self.msg
        );
        Some(got)
    }
}

fuzz_target!(|input: Input| {
    let flags = input.flags;
    let protocol = if flags & 1 == 0 {
        Protocol::Full
    } else {
        Protocol::Small
    };
    let config = NexusConfig::new(protocol)
        .without_rate_limit()
        .with_qc_limits(input.qc_limits & 15, input.qc_limits >> 4);
    let pd_index = if flags & 0x20 == 0 {
        input.pd_index
    } else {
        input.pd_index % 65_600
    };
    let state = NexusState {
        window: Window {
            pd_index,
            received: input.received,
        },
        qc_short_count: input.qc_short_count,
        qc_long_count: input.qc_long_count,
        restricted: input.restricted,
        grace_keycodes: 6,
    };
    // At the very top of the u32 range the window is cut short.
    let Some(mut id) = state.window.infer(input.id_bits & 63) else {
        return;
    };
    let msg = message(protocol, input.message, input.value, input.user_facing_id);
    let key = Key::new(input.key);
    let allow_high = flags & 0x10 != 0;
    let options = (allow_high, flags & 0x40 != 0);
    let refusals = msg.refusals(id, allow_high, options.1);
    let code = match issue(msg, &key, id, options) {
        Ok(code) => code,
        // Extended codes: the issuer names the next ID free of MAC collisions.
        Err(NexusIssueError::ExtendedCollision {
            id: refused,
            next_valid,
        }) if refusals.is_empty() => {
            assert!(refused == id && next_valid > id);
            if state.window.highest() < next_valid || !allow_high && next_valid > MAX_ISSUED_ID {
                return;
            }
            id = next_valid;
            issue(msg, &key, id, options).expect("the next valid ID")
        }
        Err(NexusIssueError::NoCollisionFreeId { .. }) if refusals.is_empty() => return,
        // Extended codes near the issuer's last ID: the next valid one would be past it.
        Err(NexusIssueError::CounterExhausted { id: refused })
            if refusals.is_empty() && matches!(msg, Message::Extended(_)) =>
        {
            assert_eq!(refused, id);
            return;
        }
        Err(e) => {
            assert!(refusals.contains(&error_name(e)), "{msg:?} at {id}: {e}");
            return;
        }
    };
    assert!(refusals.is_empty(), "{msg:?} at {id} issued: {refusals:?}");
    let product = Product {
        credit: input.credit.into(),
        unlocked: flags & 2 != 0,
        passthrough_ok: flags & 4 != 0,
        user_facing_id: input.user_facing_id,
        ..Product::default()
    };
    let mut trial = Trial {
        key,
        config,
        device: KeycodeProcessor::new(config, &state),
        state,
        product,
        msg,
        id,
        code,
        by_key: flags & 8 != 0,
        options,
        now: 0,
    };
    let Some(first) = trial.round() else { return };
    let Some(again) = trial.round() else { return };
    let applied = |p: Processed| {
        p.response == Response::ValidApplied
            || (p.response == Response::None && p.message_id.is_some())
    };
    if applied(again) && !msg.reusable(id) {
        // Extended codes: another ID of the window, outside the issuer's collision check.
        assert!(
            matches!(msg, Message::Extended(_)) && again.message_id != first.message_id,
            "{msg:?} at {id} applied twice: {first:?}, {again:?}"
        );
    }
});
