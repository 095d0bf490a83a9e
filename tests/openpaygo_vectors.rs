//! Replays every published OpenPAYGO vector in `test-vectors/openpaygo/`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::Key;
use paylock::openpaygo::{
    self, Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret, OpenPaygoState,
    OpenPaygoVerdict, OpenPaygoVerifier, digits,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/openpaygo/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn generated() -> Value {
    load("openpaygo_generated_vectors.json")
}

fn key(v: &Value) -> Key {
    Key::from_hex(v.as_str().unwrap()).unwrap()
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

fn form(v: &Value) -> Form {
    Form {
        extended: v["extended_token"].as_bool().unwrap_or(false),
        restricted_digit_set: v["restricted_digit_set"].as_bool().unwrap(),
    }
}

fn message(token_type: &str, value: Option<u32>) -> OpenPaygoMessage {
    match token_type {
        "ADD_TIME" => OpenPaygoMessage::AddTime(value.unwrap()),
        "SET_TIME" => OpenPaygoMessage::SetTime(value.unwrap()),
        "DISABLE_PAYG" => OpenPaygoMessage::DisablePayg,
        "COUNTER_SYNC" => OpenPaygoMessage::CounterSync,
        other => panic!("unknown token type {other}"),
    }
}

#[test]
fn lowlevel_siphash24() {
    let all = generated();
    let cases = all["lowlevel"]["siphash24"].as_array().unwrap();
    assert_eq!(cases.len(), 50);
    for c in cases {
        let msg = hex_bytes(c["msg_hex"].as_str().unwrap());
        let h = openpaygo::siphash24(&key(&c["key"]), &msg);
        assert_eq!(h, c["hash_u64"].as_u64().unwrap(), "{c}");
        assert_eq!(format!("{h:016x}"), c["hash_hex_u64_be"].as_str().unwrap());
        let le: String = h.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(le, c["digest_bytes_le_hex"].as_str().unwrap());
    }
}

#[test]
fn lowlevel_chain_steps() {
    let all = generated();
    let std_cases = all["lowlevel"]["next_code_standard"].as_array().unwrap();
    let ext_cases = all["lowlevel"]["next_code_extended"].as_array().unwrap();
    assert_eq!((std_cases.len(), ext_cases.len()), (50, 50));
    for c in std_cases {
        let out = openpaygo::next_standard(&key(&c["key"]), u32_of(&c["input"]));
        assert_eq!(out, u32_of(&c["output"]), "{c}");
    }
    for c in ext_cases {
        let out = openpaygo::next_extended(&key(&c["key"]), c["input"].as_u64().unwrap());
        assert_eq!(out, c["output"].as_u64().unwrap(), "{c}");
    }
}

#[test]
fn lowlevel_starting_code_and_restricted_digits() {
    let all = generated();
    let starts = all["lowlevel"]["starting_code_from_key"]
        .as_array()
        .unwrap();
    assert_eq!(starts.len(), 10);
    for c in starts {
        let sc = openpaygo::starting_code_from_key(&key(&c["key"]));
        assert_eq!(sc, u32_of(&c["starting_code"]), "{c}");
    }
    let rds = all["lowlevel"]["restricted_digits"].as_array().unwrap();
    assert_eq!(rds.len(), 23);
    for c in rds {
        let bits = u32_of(&c["bits"]);
        let value = c["value"].as_u64().unwrap();
        let text = c["digits"].as_str().unwrap();
        assert_eq!(digits::to_restricted(value, bits).unwrap(), text, "{c}");
        let width = usize::try_from(bits / 2).unwrap();
        assert_eq!(
            digits::parse(text.as_bytes(), width, true),
            Ok(value),
            "{c}"
        );
    }
}

#[test]
fn encode_342() {
    let all = generated();
    let cases = all["encode"].as_array().unwrap();
    assert_eq!(cases.len(), 342);
    for c in cases {
        let k = key(&c["key"]);
        let sc = match c["starting_code"].as_u64() {
            Some(sc) => u32::try_from(sc).unwrap(),
            None => openpaygo::starting_code_from_key(&k),
        };
        assert_eq!(sc, u32_of(&c["starting_code_effective"]), "{c}");
        let f = form(c);
        let raw = c["value_raw"].as_u64().map(|v| u32::try_from(v).unwrap());
        if let (Some(days), Some(raw)) = (c["value"].as_f64(), raw) {
            let divider = u8::try_from(c["value_divider"].as_u64().unwrap()).unwrap();
            assert_eq!(
                openpaygo::days_to_raw(days, divider, f.max_value()),
                Ok(raw),
                "{c}"
            );
        }
        let secret = OpenPaygoSecret::new(k, sc).unwrap();
        let msg = message(c["token_type"].as_str().unwrap(), raw);
        let out = OpenPaygoIssuer::new(f)
            .generate(&secret, u32_of(&c["count"]), msg)
            .unwrap();
        assert_eq!(out.token, c["expected_token"].as_str().unwrap(), "{c}");
        assert_eq!(out.count, u32_of(&c["expected_new_count"]), "{c}");
    }
}

fn official_lines(cases: &[Value]) {
    assert_eq!(cases.len(), 80);
    for c in cases {
        let secret = OpenPaygoSecret::new(key(&c["key"]), u32_of(&c["starting_code"])).unwrap();
        let raw = c["value_raw"].as_u64().map(|v| u32::try_from(v).unwrap());
        let msg = message(c["token_type"].as_str().unwrap(), raw);
        let out = OpenPaygoIssuer::new(form(c))
            .generate(&secret, u32_of(&c["count"]), msg)
            .unwrap();
        assert_eq!(out.token, c["token"].as_str().unwrap(), "{c}");
        assert_eq!(out.count, u32_of(&c["new_count"]), "{c}");
    }
}

#[test]
fn official_python_test_tokens() {
    let text =
        std::fs::read_to_string(format!("{DIR}OpenPAYGO-python__test__test_tokens.jsonl")).unwrap();
    let cases: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    official_lines(&cases);
}

#[test]
fn official_js_sample_tokens() {
    let cases = load("OpenPAYGO-js__test__sample_tokens.json");
    official_lines(cases.as_array().unwrap());
}

/// The Go samples are raw chain positions (token at exactly `token_count` steps), not generator output.
#[test]
fn go_samples_as_raw_chain() {
    let cases = load("OpenPAYGO-go__token__sample_tokens.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 24);
    for c in cases {
        let secret = OpenPaygoSecret::new(key(&c["key"]), u32_of(&c["starting_code"])).unwrap();
        let encoder = OpenPaygoIssuer::new(form(c));
        let token = encoder
            .token_at(&secret, u32_of(&c["token_count"]), u32_of(&c["value_raw"]))
            .unwrap();
        assert_eq!(token, c["token"].as_str().unwrap(), "{c}");
    }
}

fn state_of(v: &Value) -> OpenPaygoState {
    let max = v.get("max_count").or_else(|| v.get("count")).unwrap();
    OpenPaygoState {
        max_count: u32_of(max),
        used_counts: u16::try_from(v["used_counts_bitmask"].as_u64().unwrap()).unwrap(),
    }
}

/// Even counts below the max that the device would still accept.
fn reusable_older(state: &OpenPaygoState) -> Vec<u64> {
    let max = state.max_count;
    (max.saturating_sub(15)..max)
        .filter(|n| *n != 0 && n % 2 == 0 && state.used_counts & (1 << (max - 1 - n)) == 0)
        .map(u64::from)
        .collect()
}

/// Whether the vector takes a counter sync at or below the count again ("replay COUNTER_SYNC
/// → VALID"), which paylock's decoder refuses unless it allows sync replays.
fn is_sync_replay(want: &Value, before: &OpenPaygoState) -> bool {
    want["status"] == "VALID"
        && want["meaning"] == "COUNTER_SYNC"
        && want["count"].as_u64() <= Some(before.max_count.into())
}

/// Decodes `token` from `state` and checks it against a `recommended_model` object.
///
/// Where the model takes a counter sync again at or below the count, paylock's decoder answers
/// ALREADY_USED and changes nothing (so a pending older ADD stays usable); the step is then
/// replayed with [`OpenPaygoVerifier::allowing_sync_replays`], the model's behaviour, which the vectors
/// need for their later steps.
fn check_recommended(
    secret: &OpenPaygoSecret,
    f: Form,
    state: &mut OpenPaygoState,
    token: &str,
    want: &Value,
    ctx: &str,
) -> bool {
    let before = *state;
    let replay = is_sync_replay(want, &before);
    let mut decoder = OpenPaygoVerifier::new(f);
    if replay {
        let verdict = decoder.decode(secret, state, token.as_bytes()).unwrap();
        assert_eq!(
            (verdict, *state),
            (OpenPaygoVerdict::AlreadyUsed, before),
            "{ctx}"
        );
        decoder = decoder.allowing_sync_replays();
    }
    let verdict = decoder.decode(secret, state, token.as_bytes()).unwrap();
    match (want["status"].as_str().unwrap(), verdict) {
        ("VALID", OpenPaygoVerdict::Valid(a)) => {
            assert_eq!(u64::from(a.value), want["value"].as_u64().unwrap(), "{ctx}");
            assert_eq!(u64::from(a.count), want["count"].as_u64().unwrap(), "{ctx}");
            assert_eq!(a.meaning.name(), want["meaning"].as_str().unwrap(), "{ctx}");
        }
        ("ALREADY_USED", OpenPaygoVerdict::AlreadyUsed)
        | ("INVALID", OpenPaygoVerdict::Invalid) => {
            assert_eq!(*state, before, "state changed on a refusal: {ctx}");
        }
        (status, got) => panic!("expected {status}, got {got:?}: {ctx}"),
    }
    assert_eq!(*state, state_of(want), "{ctx}");
    let reusable: Vec<u64> = want["reusable_older_counts_after"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(reusable_older(state), reusable, "{ctx}");
    replay
}

#[test]
fn decode_320_against_recommended_model() {
    let all = generated();
    let cases = all["decode"].as_array().unwrap();
    assert_eq!(cases.len(), 320);
    let mut sync_replays = 0;
    for c in cases {
        let secret = OpenPaygoSecret::new(key(&c["key"]), u32_of(&c["starting_code"])).unwrap();
        let mut state = state_of(&c["state_before"]);
        let token = c["token"].as_str().unwrap();
        let ctx = c["id"].as_str().unwrap();
        sync_replays += usize::from(check_recommended(
            &secret,
            form(c),
            &mut state,
            token,
            &c["recommended_model"],
            ctx,
        ));
    }
    assert_eq!(sync_replays, 27);
}

#[test]
fn decode_scenarios_every_step() {
    let all = generated();
    let scenarios = all["decode_scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 6);
    let (mut steps, mut sync_replays) = (0, 0);
    for s in scenarios {
        let secret = OpenPaygoSecret::new(key(&s["key"]), u32_of(&s["starting_code"])).unwrap();
        let f = form(s);
        let mut state = state_of(&s["steps"][0]["recommended_state_before"]);
        for (i, step) in s["steps"].as_array().unwrap().iter().enumerate() {
            let ctx = format!("{} step {i} ({})", s["scenario"], step["label"]);
            assert_eq!(state, state_of(&step["recommended_state_before"]), "{ctx}");
            let token = step["token"].as_str().unwrap();
            sync_replays += usize::from(check_recommended(
                &secret,
                f,
                &mut state,
                token,
                &step["recommended_model"],
                &ctx,
            ));
            steps += 1;
        }
    }
    assert_eq!((steps, sync_replays), (124, 2));
}

/// The case the default refuses: a counter sync entered again on carried state used to be
/// VALID a second time and to spend every older count, so a pending older ADD was reported
/// ALREADY_USED although it was never entered.
#[test]
fn a_re_entered_counter_sync_leaves_a_pending_add_usable() {
    let secret = OpenPaygoSecret::new(Key::new([5; 16]), 123_456_789).unwrap();
    let enc = OpenPaygoIssuer::new(Form::STANDARD);
    let add_2 = enc
        .generate(&secret, 0, OpenPaygoMessage::AddTime(1))
        .unwrap();
    let sync_3 = enc
        .generate(&secret, 2, OpenPaygoMessage::CounterSync)
        .unwrap();
    let add_4 = enc
        .generate(&secret, 3, OpenPaygoMessage::AddTime(2))
        .unwrap();
    let add_6 = enc
        .generate(&secret, 4, OpenPaygoMessage::AddTime(3))
        .unwrap();
    assert_eq!(
        (add_2.count, sync_3.count, add_4.count, add_6.count),
        (2, 3, 4, 6)
    );
    let run = |decoder: OpenPaygoVerifier| {
        let mut state = OpenPaygoState::default();
        let mut verdicts = Vec::new();
        for token in [&sync_3, &add_6, &sync_3, &add_4] {
            let verdict = decoder
                .decode(&secret, &mut state, token.token.as_bytes())
                .unwrap();
            verdicts.push(verdict);
        }
        verdicts
    };
    let safe = run(OpenPaygoVerifier::new(Form::STANDARD));
    assert_eq!(safe[2], OpenPaygoVerdict::AlreadyUsed, "{safe:?}");
    assert!(
        matches!(safe[3], OpenPaygoVerdict::Valid(a) if a.count == 4 && a.value == 2),
        "the pending ADD at count 4 must apply: {safe:?}"
    );
    // The vectors' model: the sync is VALID again and the pending ADD is lost.
    let model = run(OpenPaygoVerifier::new(Form::STANDARD).allowing_sync_replays());
    assert!(
        matches!(model[2], OpenPaygoVerdict::Valid(a) if a.count == 3),
        "{model:?}"
    );
    assert_eq!(model[3], OpenPaygoVerdict::AlreadyUsed, "{model:?}");
}

/// Extended tokens follow the standard window rules with 998/999 as plain values (spec decision
/// 5). Against `openpaygo` 0.6.3 that gives: the same status, value, count and token type where
/// Python answers; INVALID where Python raises `UnboundLocalError` (C also says invalid); and
/// Python's `meaning` of DISABLE_PAYG / COUNTER_SYNC for 998 / 999 becomes SET_TIME (Python's own
/// `token_type`), because an extended token cannot say DISABLE or SYNC.
#[test]
fn decode_extended_where_we_differ_from_python() {
    let all = generated();
    let cases = all["decode_extended"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for c in cases {
        let secret = OpenPaygoSecret::new(key(&c["key"]), u32_of(&c["starting_code"])).unwrap();
        let before = &c["state_before"];
        let max = u32_of(&before["count"]);
        let used: Vec<u32> = before["used_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(u32_of)
            .collect();
        let mask = (0..16u32)
            .filter(|i| max > *i && used.contains(&(max - 1 - i)))
            .fold(0u16, |m, i| m | (1 << i));
        let mut state = OpenPaygoState {
            max_count: max,
            used_counts: mask,
        };
        let py = &c["python_openpaygo_0_6_3"];
        let verdict = OpenPaygoVerifier::new(form(c))
            .decode(&secret, &mut state, c["token"].as_str().unwrap().as_bytes())
            .unwrap();
        let ctx = c["id"].as_str().unwrap();
        if py.get("error").is_some() {
            assert_eq!(verdict, OpenPaygoVerdict::Invalid, "{ctx}");
            assert_eq!(c["c_openpaygo_hw_extended"]["value"], -1, "{ctx}");
            continue;
        }
        match (py["token_type"].as_str().unwrap(), verdict) {
            ("ALREADY_USED", OpenPaygoVerdict::AlreadyUsed) => {}
            (ty, OpenPaygoVerdict::Valid(a)) => {
                assert_eq!(a.meaning.name(), ty, "{ctx}");
                assert_eq!(u64::from(a.value), py["value"].as_u64().unwrap(), "{ctx}");
                assert_eq!(u64::from(a.count), py["count"].as_u64().unwrap(), "{ctx}");
                let py_used: Vec<u64> = py["used_counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_u64().unwrap_or(0))
                    .collect();
                let py_reusable: Vec<u64> = (u64::from(a.count.max(max)).saturating_sub(15)
                    ..u64::from(a.count.max(max)))
                    .filter(|n| *n != 0 && n % 2 == 0 && !py_used.contains(n))
                    .collect();
                assert_eq!(reusable_older(&state), py_reusable, "{ctx}");
            }
            (ty, got) => panic!("python says {ty}, we say {got:?}: {ctx}"),
        }
    }
}

/// The documentation's quick test, entered in order on a fresh device (count 0).
#[test]
fn doc_quick_test_csv() {
    let text = std::fs::read_to_string(format!("{DIR}doc_quick_test.csv")).unwrap();
    let secret = OpenPaygoSecret::new(
        Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap(),
        123_456_789,
    )
    .unwrap();
    let decoder = OpenPaygoVerifier::new(Form::STANDARD);
    let mut state = OpenPaygoState::default();
    let mut seen = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let expected = cols[5];
        let verdict = decoder
            .decode(&secret, &mut state, cols[4].as_bytes())
            .unwrap();
        let ok = match verdict {
            // The docs call step 1 "invalid"; C and we answer "already used" (count 0 is spent).
            OpenPaygoVerdict::AlreadyUsed => {
                expected.starts_with("invalid") || expected.starts_with("already")
            }
            OpenPaygoVerdict::Valid(a) if expected.starts_with("ADD_TIME") => {
                a.meaning.name() == "ADD_TIME" && expected.contains(&format!(" {} day", a.value))
            }
            OpenPaygoVerdict::Valid(a) if expected.starts_with("SET_TIME") => {
                a.meaning.name() == "SET_TIME" && expected.contains(&format!(" {} day", a.value))
            }
            OpenPaygoVerdict::Valid(a) => expected.starts_with(a.meaning.name()),
            OpenPaygoVerdict::Invalid => expected.starts_with("invalid"),
        };
        assert!(ok, "{line}: got {verdict:?}");
        seen.push(verdict);
    }
    assert_eq!(seen.len(), 7);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
