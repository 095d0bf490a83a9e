//! Replays every AST v1 vector in `test-vectors/access/`: the 324 generate vectors with all
//! intermediates, the 294 single decodes with their full state after, and every step of the
//! 108 scenarios; then cross-checks the worked examples and TEST code table of `docs/access.md`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::Key;
use paylock::access::{
    self, Action, AstConfig, AstSecret, AstState, AstVerdict, Locked, Mode, Params, Profile, Suite,
    TokenType, Unit,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/access/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key(v: &Value) -> Key {
    Key::from_hex(v.as_str().unwrap()).unwrap()
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(u64_of(v)).unwrap()
}

fn u8_of(v: &Value) -> u8 {
    u8::try_from(u64_of(v)).unwrap()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn suite_of(v: &Value) -> Suite {
    Suite::from_code(u8_of(v)).unwrap()
}

fn profile_of(v: &Value) -> Profile {
    Profile::from_letter(str_of(v).as_bytes()[0]).unwrap()
}

/// Hex of `x` zero-padded to whole nibbles of `bits`.
fn hex_bits(x: u128, bits: u32) -> String {
    format!("{x:0width$x}", width = bits.div_ceil(4) as usize)
}

fn config_of(c: &Value) -> AstConfig {
    AstConfig {
        suite: suite_of(&c["suite"]),
        profile: profile_of(&c["profile"]),
        device_id: u32_of(&c["device_id"]),
        key_rev: u8_of(&c["key_rev"]),
        unit: match str_of(&c["unit"]) {
            "hours" => Unit::Hours,
            "days" => Unit::Days,
            other => panic!("unit {other}"),
        },
    }
}

fn state_of(s: &Value) -> AstState {
    let mut params = Params::EMPTY;
    for (id, value) in s["params"].as_object().unwrap() {
        params.set(id.parse().unwrap(), u16::try_from(u64_of(value)).unwrap());
    }
    AstState {
        max_counter: u32_of(&s["max_counter"]),
        used: u64::from_str_radix(str_of(&s["used"]), 16).unwrap(),
        mode: match str_of(&s["mode"]) {
            "PAYG" => Mode::Payg,
            "UNLOCKED" => Mode::Unlocked,
            other => panic!("mode {other}"),
        },
        credit: u32_of(&s["credit"]),
        params,
        fails: u8_of(&s["fails"]),
        lock_until: u32_of(&s["lock_until"]),
        test_window_start: u32_of(&s["test_window_start"]),
        test_count: u8_of(&s["test_count"]),
    }
}

/// Every field of `state` against the vector's, including the bitmap's printed width.
fn assert_state(profile: Profile, state: &AstState, want: &Value, id: &str) {
    assert_eq!(*state, state_of(want), "{id}: state");
    let width = (profile.back_window() / 4) as usize;
    assert_eq!(
        format!("{:0width$x}", state.used),
        str_of(&want["used"]),
        "{id}: used"
    );
    assert_eq!(state.mode.name(), str_of(&want["mode"]), "{id}: mode");
    let params: Vec<(String, u64)> = state
        .params
        .iter()
        .map(|(i, v)| (i.to_string(), u64::from(v)))
        .collect();
    let want_params: Vec<(String, u64)> = want["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(i, v)| (i.clone(), u64_of(v)))
        .collect();
    assert_eq!(params.len(), want_params.len(), "{id}: params");
    for p in &want_params {
        assert!(params.contains(p), "{id}: param {p:?}");
    }
}

/// Status, reason and every result field the vector gives (diagnostics included).
fn assert_result(profile: Profile, got: &AstVerdict, want: &Value, input: &str, id: &str) {
    assert_eq!(got.status().name(), str_of(&want["status"]), "{id}: status");
    assert_eq!(
        got.reason_name(),
        want["reason"].as_str(),
        "{id}: reason ({got:?})"
    );
    match got.message() {
        Some(m) => {
            assert_eq!(m.token_type().name(), str_of(&want["type"]), "{id}: type");
            assert_eq!(u64::from(m.counter), u64_of(&want["counter"]), "{id}");
            assert_eq!(u64::from(m.value), u64_of(&want["value"]), "{id}");
            match m.action {
                Action::SetParam { id: p, value } => {
                    assert_eq!(u64::from(p), u64_of(&want["param_id"]), "{id}");
                    assert_eq!(u64::from(value), u64_of(&want["param_value"]), "{id}");
                }
                Action::Test(t) => assert_eq!(u64::from(t), u64_of(&want["test_id"]), "{id}"),
                _ => assert!(want.get("param_id").is_none() && want.get("test_id").is_none()),
            }
        }
        None => assert!(want.get("type").is_none(), "{id}: no message expected"),
    }
    match *got {
        AstVerdict::Malformed(e) => {
            let d = &want["detail"];
            match e {
                access::AstParseError::BadChar { position, found }
                | access::AstParseError::BadDigit { position, found } => {
                    assert_eq!(position as u64, u64_of(&d["position"]), "{id}");
                    assert_eq!(
                        input[position..].chars().next().unwrap().to_string(),
                        str_of(&d["char"]),
                        "{id}"
                    );
                    assert_eq!(input.as_bytes()[position], found, "{id}");
                }
                access::AstParseError::BadLength { found, expected } => {
                    assert_eq!(found as u64, u64_of(&d["digits"]), "{id}");
                    assert_eq!(expected as u64, u64_of(&d["expected"]), "{id}");
                }
                access::AstParseError::FrameRange { frame } => {
                    assert_eq!(frame.to_string(), str_of(&d["frame"]), "{id}");
                }
            }
        }
        AstVerdict::Invalid {
            diag, lock_seconds, ..
        } => {
            let d = &want["diag"];
            let f = diag.fields;
            assert_eq!(u64::from(f.token_type), u64_of(&d["type"]), "{id}");
            assert_eq!(u64::from(f.key_rev_field), u64_of(&d["key_rev_field"]));
            assert_eq!(u64::from(f.value_field), u64_of(&d["value_field"]));
            assert_eq!(u64::from(f.counter_field), u64_of(&d["counter_field"]));
            assert_eq!(diag.tag, u64_of(&d["tag"]), "{id}");
            assert_eq!(diag.counter, d.get("counter").map(u64_of), "{id}");
            assert_eq!(
                u64::from(lock_seconds),
                u64_of(&want["lock_seconds"]),
                "{id}"
            );
            assert!(f.token_type < 8 && diag.tag >> profile.mac_bits() == 0);
        }
        AstVerdict::Locked(Locked::Lockout { retry_at } | Locked::TestRate { retry_at, .. }) => {
            assert_eq!(u64::from(retry_at), u64_of(&want["retry_at"]), "{id}");
        }
        AstVerdict::Applied(_) | AstVerdict::Duplicate { .. } => {}
    }
}

#[test]
fn generate_vectors() {
    let file = load("ast_v1_vectors.json");
    let constants = &file["constants"];
    assert_eq!(str_of(&constants["k_wht_hex"]), hex(&access::K_WHT));
    assert_eq!(str_of(&constants["k_test_hex"]), hex(&access::K_TEST));
    assert_eq!(str_of(&constants["domain_hex"]), hex(&access::DOMAIN));
    assert_eq!(str_of(&constants["kdf_label_hex"]), hex(access::KDF_LABEL));
    for profile in Profile::ALL {
        let c = &constants["profiles"][profile.name()];
        assert_eq!(profile.digits() as u64, u64_of(&c["digits"]));
        assert_eq!(u64::from(profile.frame_bits()), u64_of(&c["frame_bits"]));
        assert_eq!(
            u64::from(profile.key_rev_bits()),
            u64_of(&c["key_rev_bits"])
        );
        assert_eq!(u64::from(profile.value_bits()), u64_of(&c["value_bits"]));
        assert_eq!(
            u64::from(profile.counter_bits()),
            u64_of(&c["counter_bits"])
        );
        assert_eq!(u64::from(profile.mac_bits()), u64_of(&c["mac_bits"]));
        assert_eq!(u64::from(profile.back_window()), u64_of(&c["back_window"]));
        assert_eq!(
            u64::from(profile.forward_window()),
            u64_of(&c["forward_window"])
        );
        assert_eq!(
            u64::from(profile.param_value_bits()),
            u64_of(&c["param_value_bits"])
        );
    }

    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 324);
    let mut checked = 0;
    let mut per_type = [0usize; 6];
    for v in vectors {
        let id = str_of(&v["id"]);
        let suite = suite_of(&v["suite"]);
        let profile = profile_of(&v["profile"]);
        let token_type = TokenType::from_code(u8_of(&v["type"]));
        assert_eq!(token_type.name(), str_of(&v["type_name"]), "{id}");
        let counter = u32_of(&v["counter"]);
        let value = u32_of(&v["value"]);
        let device_id = u32_of(&v["device_id"]);
        let key_rev = u8_of(&v["key_rev"]);

        let (trace, secret) = if token_type == TokenType::Test {
            assert_eq!(str_of(&v["key"]), "K_TEST");
            assert_eq!(str_of(&v["key_hex"]), hex(&access::K_TEST));
            assert_eq!(
                (device_id, counter, key_rev),
                (access::TEST_DEVICE_ID, 0, 0)
            );
            let test_id = u16::try_from(value).unwrap();
            let trace = access::test_trace(suite, profile, test_id).unwrap();
            assert_eq!(
                access::test_code(suite, profile, test_id).unwrap(),
                trace.text
            );
            (trace, None)
        } else {
            // KDF: every block input and output, then the key.
            let batch = key(&v["batch_key_hex"]);
            let inputs = v["kdf_inputs_hex"].as_array().unwrap();
            let outputs = v["kdf_outputs_hex"].as_array().unwrap();
            assert_eq!(inputs.len(), access::kdf_blocks(suite) as usize, "{id}");
            for (i, (x, y)) in (1..).zip(inputs.iter().zip(outputs)) {
                let xi = access::kdf_input(i, suite, device_id, key_rev);
                assert_eq!(hex(&xi), str_of(x), "{id}: X_{i}");
                let out = suite.prf(&batch, &xi).unwrap();
                assert_eq!(hex(out.as_bytes()), str_of(y), "{id}: PRF(X_{i})");
            }
            let config = AstConfig {
                suite,
                profile,
                device_id,
                key_rev,
                unit: Unit::Hours,
            };
            let secret = AstSecret::derive(&batch, config).unwrap();
            assert_eq!(
                hex(secret.key().as_bytes()),
                str_of(&v["device_key_hex"]),
                "{id}"
            );
            let action = match token_type {
                TokenType::AddCredit => Action::AddCredit(value),
                TokenType::SetCredit => Action::SetCredit(value),
                TokenType::UnlockPermanent => Action::UnlockPermanent,
                TokenType::CounterSync => Action::CounterSync,
                TokenType::SetParam => Action::SetParam {
                    id: u8_of(&v["param_id"]),
                    value: u16::try_from(u64_of(&v["param_value"])).unwrap(),
                },
                other => panic!("{id}: type {other}"),
            };
            let trace = access::trace(&secret, counter, action).unwrap();
            let issued = access::generate(&secret, counter, action).unwrap();
            assert_eq!(
                (issued.token, issued.counter, issued.value),
                (trace.text, counter, value)
            );
            (trace, Some(secret))
        };

        // Every intermediate, in spec order.
        assert_eq!(trace.token_type, token_type, "{id}");
        assert_eq!((trace.counter, trace.value), (counter, value), "{id}");
        assert_eq!(
            u64::from(trace.fields.counter_field),
            u64_of(&v["counter_field"])
        );
        assert_eq!(
            u64::from(trace.fields.key_rev_field),
            u64_of(&v["key_rev_field"])
        );
        assert_eq!(
            u64::from(trace.fields.value_field),
            u64_of(&v["value_field"])
        );
        assert_eq!(u64::from(trace.fields.token_type), u64_of(&v["type"]));
        assert_eq!(hex(&trace.mac_input), str_of(&v["mac_input_hex"]), "{id}");
        assert_eq!(trace.mac_full.as_bytes().len(), suite.output_len());
        assert_eq!(
            hex(trace.mac_full.as_bytes()),
            str_of(&v["mac_full_hex"]),
            "{id}"
        );
        assert_eq!(trace.tag, u64_of(&v["mac_trunc"]), "{id}");
        let t = profile.mac_bits();
        let b = profile.body_bits();
        assert_eq!(
            hex_bits(trace.tag.into(), t),
            str_of(&v["mac_trunc_hex"]),
            "{id}"
        );
        assert_eq!(u64::from(trace.body), u64_of(&v["body"]), "{id}");
        assert_eq!(
            hex_bits(trace.body.into(), b),
            str_of(&v["body_hex"]),
            "{id}"
        );
        assert_eq!(
            hex(&trace.whitening_input),
            str_of(&v["whitening_input_hex"]),
            "{id}"
        );
        assert_eq!(
            hex(trace.whitening_full.as_bytes()),
            str_of(&v["whitening_full_hex"]),
            "{id}"
        );
        assert_eq!(u64::from(trace.keystream), u64_of(&v["keystream"]), "{id}");
        assert_eq!(
            hex_bits(trace.keystream.into(), b),
            str_of(&v["keystream_hex"])
        );
        assert_eq!(u64::from(trace.body_whitened), u64_of(&v["body_whitened"]));
        assert_eq!(
            hex_bits(trace.body_whitened.into(), b),
            str_of(&v["body_whitened_hex"])
        );
        assert_eq!(trace.frame.to_string(), str_of(&v["frame"]), "{id}");
        assert_eq!(
            hex_bits(trace.frame, profile.frame_bits()),
            str_of(&v["frame_hex"]),
            "{id}"
        );
        assert_eq!(trace.digits, str_of(&v["digits"]), "{id}");
        assert_eq!(trace.text, str_of(&v["text"]), "{id}");
        assert_eq!(
            access::parse(profile, trace.text.as_bytes()),
            Ok(trace.frame)
        );
        let (fields, tag) = access::unwhiten(suite, profile, trace.frame).unwrap();
        assert_eq!((fields, tag), (trace.fields, trace.tag), "{id}");

        // Decodes on a device one counter behind: APPLIED with the same counter and value.
        if let Some(secret) = secret {
            let state = AstState {
                max_counter: counter - 1,
                ..AstState::FRESH
            };
            let mut state = state;
            let verdict = access::verify(&secret, &mut state, trace.text.as_bytes(), 0);
            let AstVerdict::Applied(m) = verdict else {
                panic!("{id}: {verdict:?}")
            };
            assert_eq!(
                (m.token_type(), m.counter, m.value),
                (token_type, counter, value)
            );
        }
        per_type[usize::from(token_type.code())] += 1;
        checked += 1;
    }
    assert_eq!(checked, 324);
    assert_eq!(per_type, [54; 6]);
}

#[test]
fn decode_vectors() {
    let file = load("ast_v1_decode.json");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 294);
    let mut statuses = HashMap::new();
    for case in cases {
        let id = str_of(&case["id"]);
        let config = config_of(&case["config"]);
        let secret = AstSecret::new(key(&case["config"]["device_key"]), config).unwrap();
        let mut state = state_of(&case["state_before"]);
        let input = str_of(&case["input"]);
        let before = state;
        let verdict = access::verify(&secret, &mut state, input.as_bytes(), u32_of(&case["now"]));
        assert_result(config.profile, &verdict, &case["result"], input, id);
        assert_state(config.profile, &state, &case["state_after"], id);
        if !matches!(verdict, AstVerdict::Applied(_) | AstVerdict::Invalid { .. }) {
            assert_eq!(state, before, "{id}: only APPLIED and INVALID change state");
        }
        *statuses.entry(verdict.status().name()).or_insert(0) += 1;
    }
    let mut counts: Vec<_> = statuses.into_iter().collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        [
            ("APPLIED", 117),
            ("DUPLICATE", 36),
            ("INVALID", 87),
            ("LOCKED", 18),
            ("MALFORMED", 36)
        ]
    );
    assert_eq!(
        counts,
        [
            ("APPLIED", 117),
            ("DUPLICATE", 36),
            ("INVALID", 87),
            ("LOCKED", 18),
            ("MALFORMED", 36)
        ]
    );
}

#[test]
fn sequence_vectors() {
    let file = load("ast_v1_sequences.json");
    let scenarios = file["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 108);
    let mut names = HashSet::new();
    let mut steps_run = 0;
    for sc in scenarios {
        let name = str_of(&sc["name"]);
        names.insert(name.split('/').next().unwrap().to_owned());
        let config = config_of(&sc["config"]);
        let secret = AstSecret::derive(&key(&sc["batch_key_hex"]), config).unwrap();
        assert_eq!(
            hex(secret.key().as_bytes()),
            str_of(&sc["config"]["device_key"]),
            "{name}"
        );
        let mut state = state_of(&sc["initial_state"]);
        let mut last_now = 0;
        for step in sc["steps"].as_array().unwrap() {
            let id = format!("{name} step {}", step["step"]);
            let now = u32_of(&step["now"]);
            assert!(now >= last_now, "{id}: clock goes forward");
            last_now = now;
            let input = str_of(&step["input"]);
            let verdict = access::verify(&secret, &mut state, input.as_bytes(), now);
            assert_result(config.profile, &verdict, &step["result"], input, &id);
            assert_state(config.profile, &state, &step["state_after"], &id);
            steps_run += 1;
        }
    }
    assert_eq!(names.len(), 12);
    assert_eq!(steps_run, 834);
}

/// The `key = value` lines of one `### Example` block of the spec.
fn example_block(doc: &str, n: u32) -> Vec<(String, String)> {
    let start = doc.find(&format!("### Example {n}:")).unwrap();
    let block = &doc[start..];
    let open = block.find("```\n").unwrap() + 4;
    let close = open + block[open..].find("```").unwrap();
    block[open..close]
        .lines()
        .map(|line| match line.split_once(" = ") {
            Some((k, v)) if !line.starts_with("decode") && !line.starts_with(' ') => {
                (k.trim().to_owned(), v.trim().to_owned())
            }
            _ => (String::new(), line.to_owned()),
        })
        .collect()
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> &'a str {
    &block
        .iter()
        .find(|(k, _)| k.starts_with(name))
        .unwrap_or_else(|| panic!("{name}"))
        .1
}

/// The `name=value` words of a line (`0x` hex or decimal).
fn word(line: &str, name: &str) -> u64 {
    let w = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in {line}"));
    let w = w.trim_end_matches(':');
    match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => w.parse().unwrap(),
    }
}

fn hex_field(block: &[(String, String)], name: &str) -> u128 {
    let v = field(block, name);
    let h = v
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("0x");
    u128::from_str_radix(h, 16).unwrap()
}

#[test]
fn worked_examples_of_the_spec() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/access.md")).unwrap();
    for n in 1..=5 {
        let block = example_block(&doc, n);
        let head = &block[0].1;
        let suite = Suite::from_code(u8::try_from(word(head, "suite")).unwrap()).unwrap();
        let profile = Profile::from_letter(
            head.split_whitespace()
                .find_map(|w| w.strip_prefix("profile="))
                .unwrap()
                .as_bytes()[0],
        )
        .unwrap();
        let (trace, secret) = if head.contains(" TEST ") {
            let test_id = u16::try_from(word(head, "test_id")).unwrap();
            (access::test_trace(suite, profile, test_id).unwrap(), None)
        } else {
            let config = AstConfig {
                suite,
                profile,
                device_id: u32::try_from(word(head, "device_id")).unwrap(),
                key_rev: u8::try_from(word(head, "key_rev")).unwrap(),
                unit: Unit::Hours,
            };
            let batch = Key::from_hex(field(&block, "batch_key")).unwrap();
            let secret = AstSecret::derive(&batch, config).unwrap();
            assert_eq!(hex(secret.key().as_bytes()), field(&block, "device_key"));
            let xi = access::kdf_input(1, suite, config.device_id, config.key_rev);
            assert_eq!(hex(&xi), field(&block, "kdf_in[1]"), "example {n}");
            let counter = u32::try_from(word(head, "counter")).unwrap();
            let value = u32::try_from(word(head, "value")).unwrap();
            let action = match head
                .split_whitespace()
                .find_map(|w| w.strip_prefix("type="))
            {
                Some("ADD_CREDIT") => Action::AddCredit(value),
                Some("SET_CREDIT") => Action::SetCredit(value),
                Some("COUNTER_SYNC") => Action::CounterSync,
                other => panic!("{other:?}"),
            };
            (
                access::trace(&secret, counter, action).unwrap(),
                Some(secret),
            )
        };
        assert_eq!(
            hex(&trace.mac_input),
            field(&block, "mac_input"),
            "example {n}"
        );
        assert_eq!(hex(trace.mac_full.as_bytes()), field(&block, "mac_full"));
        assert_eq!(u128::from(trace.tag), hex_field(&block, "tag"));
        assert_eq!(u128::from(trace.body), hex_field(&block, "body"));
        assert_eq!(hex(&trace.whitening_input), field(&block, "wht_input"));
        assert_eq!(
            hex(trace.whitening_full.as_bytes()),
            field(&block, "wht_full")
        );
        assert_eq!(u128::from(trace.keystream), hex_field(&block, "keystream"));
        assert_eq!(
            u128::from(trace.body_whitened),
            hex_field(&block, "body^ks")
        );
        assert_eq!(trace.frame, hex_field(&block, "frame"));
        assert!(field(&block, "frame").ends_with(&format!("= {}", trace.frame)));
        assert_eq!(trace.text, field(&block, "token"), "example {n}");

        // The decode line, then the state it leads to.
        if let Some(secret) = secret {
            let decode = &block
                .iter()
                .find(|(_, v)| v.starts_with("decode"))
                .unwrap()
                .1;
            let after = &block
                .iter()
                .find(|(_, v)| v.contains("-> APPLIED"))
                .unwrap()
                .1;
            let state = AstState {
                max_counter: u32::try_from(word(decode, "max_counter")).unwrap(),
                ..AstState::FRESH
            };
            let mut s = state;
            let verdict = access::verify(&secret, &mut s, trace.text.as_bytes(), 0);
            assert!(matches!(verdict, AstVerdict::Applied(_)), "example {n}");
            assert_eq!(u64::from(s.max_counter), word(after, "max_counter"));
            assert_eq!(s.used, word(after, "used"), "example {n}");
            assert_eq!(u64::from(s.credit), word(after, "credit"));
            assert!(after.contains(&format!("mode={}", s.mode.name())));
        }
    }

    // Example 6: an out-of-order ADD on an M device, then its replay.
    let block = example_block(&doc, 6);
    let dev = &block[0].1;
    let config = AstConfig {
        suite: Suite::SipHash24,
        profile: Profile::M,
        device_id: u32::try_from(word(dev, "device_id")).unwrap(),
        key_rev: 0,
        unit: Unit::Days,
    };
    let secret = AstSecret::derive(
        &Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap())),
        config,
    )
    .unwrap();
    assert_eq!(
        format!("device_key={}", hex(secret.key().as_bytes())),
        dev.split_whitespace().last().unwrap()
    );
    let state = AstState {
        max_counter: 300,
        used: 0x000a,
        credit: 40,
        ..AstState::FRESH
    };
    let mut state = state;
    let AstVerdict::Applied(m) = access::verify(&secret, &mut state, b"26745 45641 44314", 0)
    else {
        panic!("example 6")
    };
    assert_eq!((m.counter, m.action), (299, Action::AddCredit(24)));
    assert_eq!((state.used, state.credit), (0x000b, 64));
    assert_eq!(
        access::verify(&secret, &mut state, b"26745 45641 44314", 0).reason_name(),
        Some("USED")
    );
}

#[test]
fn public_test_code_table() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/access.md")).unwrap();
    let mut rows = 0;
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() != 6
            || !(cells[1].ends_with("SHOW_INFO") || cells[1].ends_with("OUTPUT_TEST"))
        {
            continue;
        }
        let profile = Profile::from_letter(cells[1].as_bytes()[0]).unwrap();
        let test_id = if cells[1].ends_with("SHOW_INFO") {
            access::TEST_SHOW_INFO
        } else {
            access::TEST_OUTPUT
        };
        for suite in Suite::ALL {
            let code = access::test_code(suite, profile, test_id).unwrap();
            assert_eq!(format!("`{code}`"), cells[2 + usize::from(suite.code())]);
            // Any device of the suite and profile accepts it without touching its window.
            let config = AstConfig {
                suite,
                profile,
                device_id: 7,
                key_rev: 3,
                unit: Unit::Days,
            };
            let secret = AstSecret::new(Key::new([9; 16]), config).unwrap();
            let mut state = AstState {
                fails: 2,
                ..AstState::FRESH
            };
            let verdict = access::verify(&secret, &mut state, code.as_bytes(), 5_000);
            let AstVerdict::Applied(m) = verdict else {
                panic!("{verdict:?}")
            };
            assert_eq!((m.action, m.counter), (Action::Test(test_id), 0));
            assert_eq!(
                state,
                AstState {
                    fails: 2,
                    test_window_start: 5_000,
                    test_count: 1,
                    ..AstState::FRESH
                }
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 6);
}
