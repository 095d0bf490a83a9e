//! The device's chain point changes no verdict but one: replays of the published scenarios
//! and random long histories through `OpenPaygoVerifier::decode_from_point` (the device path:
//! the `Verifier` trait, the device-lock engine, the C API) against `decode`, the reference
//! model that walks every chain from the starting code.
//!
//! The one difference, by design: a genuine token of the point's value whose every occurrence
//! on its chain lies below the point (older than the window, so spent) is INVALID instead of
//! ALREADY_USED. Each time a test meets it, an independent walk of the value's chain (with the
//! public chain step) checks that this is the case.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::device::{ClockModel, Config, Engine, Entry, Lockout, MemStorage};
use paylock::openpaygo::{
    COUNTER_SYNC_VALUE, Form, OpenPaygoDeviceState, OpenPaygoIssuer, OpenPaygoMessage,
    OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier, digits, next_extended,
    next_standard,
};
use paylock::persist::{Persist, Reader, Writer};
use paylock::{Context, Key, Outcome, ParseError, Rejection, Verifier};
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/test-vectors/openpaygo/openpaygo_generated_vectors.json"
);

/// The counts at which `token` lies on its value's chain, up to `last`: an independent walk
/// with the public chain step.
fn occurrences(secret: &OpenPaygoSecret, form: Form, token: &[u8], last: u32) -> Vec<u32> {
    let Ok(code) = digits::parse(token, form.token_len(), form.restricted_digit_set) else {
        return Vec::new();
    };
    let m: u64 = if form.extended { 1_000_000 } else { 1_000 };
    let sc = u64::from(secret.starting_code());
    let base = code % m;
    let mut chain = sc - sc % m + base;
    let mut found = Vec::new();
    for count in 0..=last {
        if chain / m == code / m {
            found.push(count);
        }
        chain = if form.extended {
            next_extended(secret.key(), chain)
        } else {
            u64::from(next_standard(secret.key(), u32::try_from(chain).unwrap()))
        };
    }
    found
}

/// The value a token carries on this device.
fn value_of(secret: &OpenPaygoSecret, form: Form, token: &[u8]) -> Option<u32> {
    let code = digits::parse(token, form.token_len(), form.restricted_digit_set).ok()?;
    let m: u64 = if form.extended { 1_000_000 } else { 1_000 };
    let sc = u64::from(secret.starting_code());
    u32::try_from((code % m + m - sc % m) % m).ok()
}

/// Checks one entry: `reference` is `decode` on the counts, `device` is `decode_from_point`
/// on the device state, both from the same counts. Returns whether the by-design difference
/// was met.
fn agree(
    secret: &OpenPaygoSecret,
    form: Form,
    before: &OpenPaygoDeviceState,
    token: &[u8],
    reference: OpenPaygoVerdict,
    device: OpenPaygoVerdict,
    ctx: &str,
) -> bool {
    if reference == device {
        return false;
    }
    assert_eq!(
        (reference, device),
        (OpenPaygoVerdict::AlreadyUsed, OpenPaygoVerdict::Invalid),
        "{ctx}"
    );
    let point = before.point.expect("only a point hides a count");
    assert_eq!(value_of(secret, form, token), Some(point.value()), "{ctx}");
    let found = occurrences(secret, form, token, before.counts.max_count + 100);
    assert!(!found.is_empty(), "{ctx}: the reference saw the token");
    assert!(
        found.iter().all(|&c| c < point.count()),
        "{ctx}: found at {found:?}, point at {}",
        point.count()
    );
    true
}

fn form_of(v: &Value) -> Form {
    Form {
        extended: v["extended_token"].as_bool().unwrap_or(false),
        restricted_digit_set: v["restricted_digit_set"].as_bool().unwrap(),
    }
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

/// Every step of the six published scenarios on one device each, its point carried from step
/// to step; the verdicts are the reference decoder's (which the vector tests hold to the
/// recommended model), on the same counts. A counter sync the model takes again (which both
/// refuse by default) is replayed on both with sync replays allowed, as the model needs.
#[test]
fn published_scenarios_through_the_point() {
    let all: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let (mut steps, mut hidden, mut served) = (0, Vec::new(), 0);
    for s in all["decode_scenarios"].as_array().unwrap() {
        let key = Key::from_hex(s["key"].as_str().unwrap()).unwrap();
        let secret = OpenPaygoSecret::new(key, u32_of(&s["starting_code"])).unwrap();
        let form = form_of(s);
        let first = &s["steps"][0]["recommended_state_before"];
        let mut counts = OpenPaygoState {
            max_count: u32_of(&first["max_count"]),
            used_counts: u16::try_from(first["used_counts_bitmask"].as_u64().unwrap()).unwrap(),
        };
        let mut device = OpenPaygoDeviceState::from(counts);
        for (i, step) in s["steps"].as_array().unwrap().iter().enumerate() {
            let ctx = format!("{} step {i}", s["scenario"]);
            let token = step["token"].as_str().unwrap().as_bytes();
            let want = &step["recommended_model"];
            let replay = want["status"] == "VALID"
                && want["meaning"] == "COUNTER_SYNC"
                && want["count"].as_u64() <= Some(counts.max_count.into());
            let mut v = OpenPaygoVerifier::new(form);
            if replay {
                v = v.allowing_sync_replays();
            }
            let before = device;
            served +=
                usize::from(before.point.map(|p| p.value()) == value_of(&secret, form, token));
            let reference = v.decode(&secret, &mut counts, token).unwrap();
            let got = v.decode_from_point(&secret, &mut device, token).unwrap();
            if agree(&secret, form, &before, token, reference, got, &ctx) {
                hidden.push(step["label"].as_str().unwrap().to_owned());
            }
            assert_eq!(device.counts, counts, "{ctx}");
            steps += 1;
        }
    }
    assert_eq!(steps, 124);
    // The point served some steps. Two met the by-design difference: the "reset" counter
    // syncs at counts 1 and 0, entered on a device whose point is the sync value's at its
    // count; the reference finds them spent (ALREADY_USED), the point never reaches them.
    assert!(served >= 10, "{served}");
    assert_eq!(
        hidden,
        [
            "COUNTER_SYNC at count 1 ('reset' token)",
            "COUNTER_SYNC at count 0 (starting code base + 999)"
        ]
    );
}

/// What one entry of a random history is.
#[derive(Clone, Copy, Debug)]
enum Act {
    /// The next token, entered now.
    Next(OpenPaygoMessage),
    /// The next token, kept back to be entered later.
    Hold(OpenPaygoMessage),
    /// A token issued earlier (held back or already entered), entered again.
    Old(usize),
    /// A wrong code carrying the value of the token issued `.0` tokens ago.
    Wrong(usize),
    /// Any digits.
    Random(u64),
}

fn messages(extended: bool) -> impl Strategy<Value = OpenPaygoMessage> {
    let max: u32 = if extended { 999_999 } else { 995 };
    let special: BoxedStrategy<OpenPaygoMessage> = if extended {
        Just(OpenPaygoMessage::AddTime(1)).boxed()
    } else {
        prop_oneof![
            Just(OpenPaygoMessage::CounterSync),
            Just(OpenPaygoMessage::DisablePayg)
        ]
        .boxed()
    };
    prop_oneof![
        // A few values, so that the point serves often; any value now and then.
        6 => (1..4u32).prop_map(OpenPaygoMessage::AddTime),
        2 => (0..=max).prop_map(OpenPaygoMessage::AddTime),
        3 => (1..4u32).prop_map(OpenPaygoMessage::SetTime),
        1 => special,
    ]
}

fn acts(extended: bool) -> impl Strategy<Value = Vec<Act>> {
    let act = prop_oneof![
        8 => messages(extended).prop_map(Act::Next),
        2 => messages(extended).prop_map(Act::Hold),
        2 => any::<usize>().prop_map(Act::Old),
        3 => (0..4usize).prop_map(Act::Wrong),
        1 => any::<u64>().prop_map(Act::Random),
    ];
    proptest::collection::vec(act, 1..60)
}

fn forms() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::STANDARD),
        Just(Form::STANDARD_RESTRICTED),
        Just(Form::EXTENDED),
        Just(Form::EXTENDED_RESTRICTED),
    ]
}

/// The text of `code` in `form`.
fn text(form: Form, code: u64) -> Vec<u8> {
    let (width, bits) = if form.extended { (12, 40) } else { (9, 30) };
    let modulus: u64 = if form.extended {
        1_000_000_000_000
    } else {
        1_000_000_000
    };
    digits::to_text(code % modulus, width, bits, form.restricted_digit_set)
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// Runs a random history from `start` on both decoders and returns how often the by-design
/// difference was met and how often the point served.
fn run(secret: &OpenPaygoSecret, form: Form, start: u32, acts: &[Act]) -> (usize, usize) {
    let v = OpenPaygoVerifier::new(form);
    let issuer = OpenPaygoIssuer::new(form);
    let mut counts = OpenPaygoState {
        max_count: start,
        used_counts: 0,
    };
    let mut device = OpenPaygoDeviceState::from(counts);
    let mut issued: Vec<Vec<u8>> = Vec::new();
    let mut count = start;
    let (mut hidden, mut served) = (0, 0);
    for (i, act) in acts.iter().enumerate() {
        let token = match *act {
            Act::Next(m) | Act::Hold(m) => {
                let Ok(t) = issuer.generate(secret, count, m) else {
                    continue;
                };
                count = t.count;
                issued.push(t.token.as_bytes().to_vec());
                if matches!(act, Act::Hold(_)) {
                    continue;
                }
                t.token.as_bytes().to_vec()
            }
            Act::Old(k) if !issued.is_empty() => issued[k % issued.len()].clone(),
            Act::Wrong(back) if back < issued.len() => {
                let token = &issued[issued.len() - 1 - back];
                let code =
                    digits::parse(token, form.token_len(), form.restricted_digit_set).unwrap();
                let m = if form.extended { 1_000_000 } else { 1_000 };
                text(form, code + m * (1 + u64::try_from(i).unwrap()))
            }
            Act::Old(_) | Act::Wrong(_) => continue,
            Act::Random(x) => text(form, x),
        };
        let before = device;
        let ctx = format!("{form:?} from {start}, act {i} {act:?}");
        served += usize::from(before.point.map(|p| p.value()) == value_of(secret, form, &token));
        let reference = v.decode(secret, &mut counts, &token).unwrap();
        let got = v.decode_from_point(secret, &mut device, &token).unwrap();
        hidden += usize::from(agree(secret, form, &before, &token, reference, got, &ctx));
        assert_eq!(device.counts, counts, "{ctx}");
    }
    (hidden, served)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random long histories (tokens in order, held back and entered late, entered again,
    /// wrong codes of recent values, any digits) from any count up to 3,000.
    #[test]
    fn random_histories_agree(
        key in any::<[u8; 16]>(),
        sc in 0..=999_999_999u32,
        (form, acts) in forms().prop_flat_map(|f| (Just(f), acts(f.extended))),
        start in prop_oneof![0..40u32, 0..3_000u32],
    ) {
        let secret = OpenPaygoSecret::new(Key::new(key), sc).unwrap();
        run(&secret, form, start, &acts);
    }
}

/// The same at high counts, fewer cases: each walk from the starting code costs the count.
#[test]
fn random_histories_agree_at_high_counts() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(12));
    let strategy = (
        forms().prop_flat_map(|f| (Just(f), acts(f.extended))),
        25_000..40_000u32,
    );
    let secret = OpenPaygoSecret::new(Key::new([0x3c; 16]), 470_219_003).unwrap();
    runner
        .run(&strategy, |((form, acts), start)| {
            run(&secret, form, start, &acts);
            Ok(())
        })
        .unwrap();
}

/// Old tokens entered again after the window moved on: the by-design difference, met on
/// purpose. A device that took ADD tokens of one value at counts 2, 4, …, 60 answers the one
/// at count 2 INVALID (the reference: ALREADY_USED); the one at count 58, inside the window,
/// ALREADY_USED on both.
#[test]
fn a_spent_token_older_than_the_window_is_invalid_on_the_point() {
    let secret = OpenPaygoSecret::new(Key::new([9; 16]), 123_456_789).unwrap();
    let form = Form::STANDARD;
    let (v, issuer) = (OpenPaygoVerifier::new(form), OpenPaygoIssuer::new(form));
    let mut counts = OpenPaygoState::default();
    let mut device = OpenPaygoDeviceState::default();
    let mut tokens = Vec::new();
    let mut count = 0;
    for _ in 0..30 {
        let t = issuer
            .generate(&secret, count, OpenPaygoMessage::AddTime(5))
            .unwrap();
        count = t.count;
        let r = v.decode(&secret, &mut counts, t.token.as_bytes()).unwrap();
        let d = v
            .decode_from_point(&secret, &mut device, t.token.as_bytes())
            .unwrap();
        assert!(matches!(
            (r, d),
            (OpenPaygoVerdict::Valid(_), OpenPaygoVerdict::Valid(_))
        ));
        tokens.push(t.token);
    }
    assert_eq!(device.point.map(|p| (p.value(), p.count())), Some((5, 45)));
    let before = device;
    let first = tokens[0].as_bytes();
    let r = v.decode(&secret, &mut counts, first).unwrap();
    let d = v.decode_from_point(&secret, &mut device, first).unwrap();
    assert!(agree(&secret, form, &before, first, r, d, "count 2"));
    let recent = tokens[28].as_bytes();
    let r = v.decode(&secret, &mut counts, recent).unwrap();
    let d = v.decode_from_point(&secret, &mut device, recent).unwrap();
    assert_eq!(
        (r, d),
        (OpenPaygoVerdict::AlreadyUsed, OpenPaygoVerdict::AlreadyUsed)
    );
    // A counter sync (another value) walks from the starting code: its point replaces the
    // ADD's, at its own count.
    let sync = issuer
        .generate(&secret, count, OpenPaygoMessage::CounterSync)
        .unwrap();
    let d = v
        .decode_from_point(&secret, &mut device, sync.token.as_bytes())
        .unwrap();
    assert!(matches!(d, OpenPaygoVerdict::Valid(a) if a.value == COUNTER_SYNC_VALUE));
    assert_eq!(
        device.point.map(|p| (p.value(), p.count())),
        Some((COUNTER_SYNC_VALUE, sync.count))
    );
}

/// The reference decoder as a [`Verifier`] with a state of its own (the counts alone), for the
/// engine comparison.
#[derive(Clone, Copy, Debug)]
struct Reference(OpenPaygoVerifier);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts(OpenPaygoState);

impl Persist for Counts {
    const TAG: u8 = 200;
    const LEN: usize = 6;
    const FRESH: Self = Self(OpenPaygoState {
        max_count: 0,
        used_counts: 0,
    });
    fn save(&self, out: &mut Writer<'_>) {
        out.u32(self.0.max_count);
        out.u16(self.0.used_counts);
    }
    fn load(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self(OpenPaygoState {
            max_count: input.u32()?,
            used_counts: input.u16()?,
        }))
    }
}

impl Verifier for Reference {
    type Secret = OpenPaygoSecret;
    type State = Counts;

    fn verify(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut Counts,
        input: &[u8],
        ctx: &Context,
    ) -> Outcome {
        // The device verifier on a state without a point walks from the starting code: it is
        // the reference decoder.
        let mut device = OpenPaygoDeviceState::from(state.0);
        let outcome = self.0.verify(secret, &mut device, input, ctx);
        state.0 = device.counts;
        outcome
    }

    fn screen(&self, secret: &OpenPaygoSecret, input: &[u8]) -> Result<(), ParseError> {
        self.0.screen(secret, input)
    }
}

/// The device-lock engine on the point against the engine on the reference decoder: the same
/// entries at the same times give the same answers and the same credit, but for a spent token
/// older than the window (REJECTED INVALID instead of DUPLICATE).
#[test]
fn the_engine_on_the_point_answers_as_on_the_reference() {
    let secret = || OpenPaygoSecret::new(Key::new([0x51; 16]), 987_654_321).unwrap();
    let form = Form::STANDARD;
    let config = Config::new(ClockModel::Rtc, Lockout::None);
    let v = OpenPaygoVerifier::new(form);
    let (mut device, _) = Engine::boot(v, secret(), config, MemStorage::<128>::new(), 0).unwrap();
    let (mut reference, _) =
        Engine::boot(Reference(v), secret(), config, MemStorage::<128>::new(), 0).unwrap();
    let issuer = OpenPaygoIssuer::new(form);
    // A seeded history of 400 acts, mostly tokens of three values.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let acts: Vec<Act> = (0..400)
        .map(|_| {
            let value = u32::try_from(1 + next(3)).unwrap();
            match next(16) {
                0..=7 => Act::Next(OpenPaygoMessage::AddTime(value)),
                8 => Act::Next(OpenPaygoMessage::SetTime(value)),
                9 => Act::Hold(OpenPaygoMessage::AddTime(value)),
                10 | 11 => Act::Old(usize::try_from(next(1 << 20)).unwrap()),
                12..=14 => Act::Wrong(usize::try_from(next(3)).unwrap()),
                _ => Act::Random(next(u64::MAX)),
            }
        })
        .collect();
    let mut count = 0;
    let mut issued: Vec<Vec<u8>> = Vec::new();
    let (mut served, mut hidden) = (0, 0);
    for round in 0..2 {
        for (i, act) in acts.iter().enumerate() {
            let token = match *act {
                Act::Next(m) | Act::Hold(m) => {
                    let t = issuer.generate(&secret(), count, m).unwrap();
                    count = t.count;
                    issued.push(t.token.as_bytes().to_vec());
                    if matches!(act, Act::Hold(_)) {
                        continue;
                    }
                    t.token.as_bytes().to_vec()
                }
                Act::Old(k) if !issued.is_empty() => issued[k % issued.len()].clone(),
                Act::Wrong(back) if back < issued.len() => {
                    let last = &issued[issued.len() - 1 - back];
                    let code = digits::parse(last, 9, false).unwrap();
                    text(form, code + 1_000 * u64::try_from(i + 1).unwrap())
                }
                Act::Old(_) | Act::Wrong(_) => continue,
                Act::Random(x) => text(form, x),
            };
            let now = u32::try_from(round * 1_000 + i).unwrap();
            let before = *device.snapshot();
            served += usize::from(
                before.scheme.point.map(|p| p.value()) == value_of(&secret(), form, &token),
            );
            let got = device.enter(&token, now).unwrap();
            let want = reference.enter(&token, now).unwrap();
            let ctx = format!("round {round} act {i} {act:?}");
            if got != want {
                assert_eq!(
                    (want, got),
                    (Entry::Duplicate, Entry::Rejected(Rejection::Invalid)),
                    "{ctx}"
                );
                let r = OpenPaygoVerdict::AlreadyUsed;
                let d = OpenPaygoVerdict::Invalid;
                assert!(agree(&secret(), form, &before.scheme, &token, r, d, &ctx));
                hidden += 1;
            }
            assert_eq!(
                device.snapshot().scheme.counts,
                reference.snapshot().scheme.0,
                "{ctx}"
            );
            assert_eq!(
                device.snapshot().credit,
                reference.snapshot().credit,
                "{ctx}"
            );
        }
    }
    assert!(served > 100, "{served}");
    // Old tokens come back often enough to meet the difference.
    assert!(hidden > 0);
}
