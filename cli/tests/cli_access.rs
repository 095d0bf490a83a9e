//! The `paylock` binary on AST v1: the batch `derive_key` / `generate` / `verify` contract and
//! its error kinds, the human commands, the vector check, `keys new`, the OpenPAYGO factory CSV
//! and the demo.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

#[path = "support/cli.rs"]
mod support;

use support::{assert_refused, batch, paylock, stdout};

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};

/// Spec §14, example 1: batch key, device, device key and the ADD_CREDIT 72 token at counter 1.
const BATCH_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const DEVICE_ID: u32 = 123_456_789;
const DEVICE_KEY: &str = "fe1f7d36faeb962c0f941cedc93646f5";
const TOKEN: &str = "3359 3381 3865 7142 9876";
/// Spec §14: the public L SHOW_INFO code of suite 0.
const SHOW_INFO_L0: &str = "5976 7509 2685 5830 8296";

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/access/");
const EXAMPLE_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../test-vectors/openpaygo/OpenPAYGO-Token__documentation__examples__example_device_list.csv"
);

/// A file in the temp directory, unique to this run and `name`.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("paylock-access-{}-{name}", std::process::id()))
}

/// `base` with the fields of `changes` set; a dotted name reaches into an object, null removes.
fn with(base: &Value, changes: &[(&str, Value)]) -> Value {
    let mut r = base.clone();
    for (path, value) in changes {
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap();
        let mut target = &mut r;
        for part in parts {
            target = &mut target[part];
        }
        if value.is_null() {
            target.as_object_mut().unwrap().remove(last);
        } else {
            target[last] = value.clone();
        }
    }
    r
}

fn fresh_state() -> Value {
    json!({
        "max_counter": 0, "used": "0000000000000000", "mode": "PAYG", "credit": 0, "params": {},
        "fails": 0, "lock_until": 0, "test_window_start": 0, "test_count": 0,
    })
}

fn derive_request() -> Value {
    json!({
        "scheme": "access", "op": "derive_key", "suite": 0, "batch_key_hex": BATCH_KEY,
        "device_id": DEVICE_ID, "key_rev": 0,
    })
}

fn generate_request() -> Value {
    json!({
        "scheme": "access", "op": "generate", "suite": 0, "profile": "L",
        "device_key_hex": DEVICE_KEY, "device_id": DEVICE_ID, "key_rev": 0, "counter": 1,
        "type": "ADD_CREDIT", "value": 72,
    })
}

fn verify_request(input: &str, state: &Value) -> Value {
    json!({
        "scheme": "access", "op": "verify",
        "config": { "suite": 0, "profile": "L", "device_id": DEVICE_ID, "device_key": DEVICE_KEY,
                    "key_rev": 0, "unit": "hours" },
        "state": state, "input": input, "now": 1_000,
    })
}

#[test]
fn batch_derives_generates_and_verifies_the_spec_example() {
    let test = json!({ "scheme": "access", "op": "generate", "suite": 0, "profile": "L",
                       "type": "TEST", "test_id": 0 });
    let answers = batch(&[
        derive_request(),
        generate_request(),
        test,
        verify_request(TOKEN, &fresh_state()),
    ]);
    assert_eq!(
        answers[0],
        json!({ "ok": true, "device_key_hex": DEVICE_KEY })
    );
    assert_eq!(
        answers[1].to_string(),
        format!(
            r#"{{"ok":true,"text":"{TOKEN}","digits":"{}"}}"#,
            TOKEN.replace(' ', "")
        ),
        "contract key order"
    );
    assert_eq!(answers[2]["text"], SHOW_INFO_L0);
    let applied = &answers[3];
    assert_eq!(
        applied["result"].to_string(),
        r#"{"status":"APPLIED","reason":null,"type":"ADD_CREDIT","counter":1,"value":72}"#
    );
    let mut after = fresh_state();
    after["max_counter"] = json!(1);
    after["used"] = json!("0000000000000001");
    after["credit"] = json!(72);
    assert_eq!(applied["state"], after);

    // The state carries on: a replay, a typo, a malformed entry (an answer, not a refusal).
    let state = &applied["state"];
    let typo = TOKEN.replace("9876", "9877");
    let answers = batch(&[
        verify_request(TOKEN, state),
        verify_request(&typo, state),
        verify_request("3359 3381 3865 7142 987x", state),
    ]);
    assert_eq!(answers[0]["result"]["status"], "DUPLICATE");
    assert_eq!(answers[0]["result"]["reason"], "USED");
    assert_eq!(answers[0]["state"], *state);
    let invalid = &answers[1]["result"];
    assert_eq!(invalid["status"], "INVALID");
    assert!(invalid["diag"]["tag"].is_u64() && invalid["lock_seconds"] == 0);
    assert_eq!(answers[1]["state"]["fails"], 1);
    assert_eq!(answers[2]["ok"], true);
    assert_eq!(
        answers[2]["result"],
        json!({ "status": "MALFORMED", "reason": "BAD_CHAR",
                "detail": { "position": 23, "char": "x" } })
    );
}

#[test]
fn traces_expose_the_intermediates_of_the_spec_example() {
    let answers = batch(&[
        with(&derive_request(), &[("trace", json!(true))]),
        with(&generate_request(), &[("trace", json!(true))]),
    ]);
    assert_eq!(
        answers[0]["trace"]["kdf_inputs_hex"],
        json!(["000000014153543120646576696365206b65790000075bcd150000000080"])
    );
    let trace = &answers[1]["trace"];
    assert_eq!(trace["type_name"], "ADD_CREDIT");
    assert_eq!(trace["frame"], TOKEN.replace(' ', ""));
    for name in [
        "mac_input_hex",
        "mac_full_hex",
        "whitening_input_hex",
        "frame_hex",
    ] {
        assert!(trace[name].is_string(), "{name}");
    }
}

#[test]
fn every_bad_request_gets_a_precise_error_and_the_run_goes_on() {
    let g = generate_request();
    let d = derive_request();
    let v = verify_request(TOKEN, &fresh_state());
    let test = with(&g, &[("type", json!("TEST")), ("test_id", json!(0))]);
    let param = with(&g, &[("type", json!("SET_PARAM")), ("value", Value::Null)]);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&g, &[("op", json!("frobnicate"))]),
            "unknown_op",
            "derive_key, generate, verify",
        ),
        (
            with(&g, &[("suite", json!(3))]),
            "invalid_suite",
            "\"suite\"",
        ),
        (
            with(&g, &[("suite", json!("0"))]),
            "wrong_type",
            "\"suite\"",
        ),
        (
            with(&g, &[("profile", json!("X"))]),
            "invalid_profile",
            "\"profile\"",
        ),
        (
            with(&g, &[("type", json!("KEY_CHANGE"))]),
            "invalid_token_type",
            "ADD_CREDIT, SET_CREDIT",
        ),
        (
            with(&g, &[("device_key_hex", json!("zz"))]),
            "invalid_key",
            "\"device_key_hex\"",
        ),
        (
            with(&g, &[("device_id", json!(4_294_967_295u64))]),
            "out_of_range",
            "0xFFFFFFFF",
        ),
        (
            with(&g, &[("device_id", json!(-1))]),
            "out_of_range",
            "\"device_id\"",
        ),
        (
            with(&g, &[("key_rev", json!(256))]),
            "out_of_range",
            "\"key_rev\"",
        ),
        (
            with(&g, &[("counter", json!(0))]),
            "out_of_range",
            "\"counter\"",
        ),
        (
            with(&g, &[("counter", json!(4_294_967_296u64))]),
            "out_of_range",
            "\"counter\"",
        ),
        (
            with(&g, &[("value", json!(65_536))]),
            "out_of_range",
            "profile L",
        ),
        (
            with(&g, &[("value", json!(1.5))]),
            "wrong_type",
            "\"value\"",
        ),
        (
            with(&g, &[("value", Value::Null)]),
            "missing_field",
            "\"value\"",
        ),
        (
            with(&g, &[("type", json!("UNLOCK_PERMANENT"))]),
            "conflicting_field",
            "\"value\"",
        ),
        (
            with(
                &param,
                &[("param_id", json!(16)), ("param_value", json!(1))],
            ),
            "out_of_range",
            "\"param_id\"",
        ),
        (
            with(&param, &[("param_id", json!(1))]),
            "missing_field",
            "\"param_value\"",
        ),
        (
            with(
                &param,
                &[
                    ("param_id", json!(1)),
                    ("param_value", json!(2)),
                    ("value", json!(3)),
                ],
            ),
            "conflicting_field",
            "\"value\"",
        ),
        (test.clone(), "field_not_allowed", "\"device_key_hex\""),
        (
            with(&g, &[("trace", json!("yes"))]),
            "wrong_type",
            "\"trace\"",
        ),
        (
            with(&d, &[("batch_key_hex", json!("2b7e"))]),
            "invalid_key",
            "\"batch_key_hex\"",
        ),
        (
            with(&d, &[("device_id", Value::Null)]),
            "missing_field",
            "\"device_id\"",
        ),
        (
            with(&v, &[("config", Value::Null)]),
            "missing_field",
            "\"config\"",
        ),
        (
            with(&v, &[("config.suite", json!(9))]),
            "invalid_suite",
            "\"config.suite\"",
        ),
        (
            with(&v, &[("config.device_key", json!(5))]),
            "wrong_type",
            "\"config.device_key\"",
        ),
        (
            with(&v, &[("config.unit", json!("weeks"))]),
            "invalid_unit",
            "\"config.unit\"",
        ),
        (
            with(&v, &[("state.used", json!("0".repeat(17)))]),
            "wrong_type",
            "\"state.used\"",
        ),
        (
            with(&v, &[("state.used", json!("xyz"))]),
            "wrong_type",
            "\"state.used\"",
        ),
        (
            with(&v, &[("state.mode", json!("OFF"))]),
            "invalid_mode",
            "\"state.mode\"",
        ),
        (
            with(&v, &[("state.fails", json!(256))]),
            "out_of_range",
            "\"state.fails\"",
        ),
        (
            with(&v, &[("state.params", json!({ "16": 1 }))]),
            "out_of_range",
            "\"state.params\" has a key above 15",
        ),
        (
            with(&v, &[("state.params", json!({ "1": 4096 }))]),
            "out_of_range",
            "\"state.params.1\"",
        ),
        (
            with(&v, &[("state.params", json!({ "a": 1 }))]),
            "wrong_type",
            "\"state.params\" has a key that is not a parameter id",
        ),
        (
            with(&v, &[("state.lock_until", Value::Null)]),
            "missing_field",
            "\"state.lock_until\"",
        ),
        (with(&v, &[("input", json!(5))]), "wrong_type", "\"input\""),
        (with(&v, &[("now", json!(-1))]), "out_of_range", "\"now\""),
    ];
    let mut requests: Vec<Value> = cases.iter().map(|c| c.0.clone()).collect();
    requests.push(g.clone());
    let answers = batch(&requests);
    assert_eq!(answers.len(), cases.len() + 1);
    for ((request, kind, needle), answer) in cases.iter().zip(&answers) {
        assert_refused(request, answer, kind, needle, &[DEVICE_KEY, BATCH_KEY]);
    }
    assert_eq!(answers.last().unwrap()["text"], TOKEN, "the run goes on");
}

fn vector_file(name: &str) -> String {
    format!("{VECTORS}{name}")
}

#[test]
fn vectors_check_passes_on_the_published_files_and_fails_on_corrupted_copies() {
    let files = [
        "ast_v1_vectors.json",
        "ast_v1_decode.json",
        "ast_v1_sequences.json",
    ]
    .map(vector_file);
    let mut args = vec!["vectors", "check"];
    args.extend(files.iter().map(String::as_str));
    let out = paylock(&args, "");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for group in [
        "derive_key (KDF blocks and device key via derive_key) (270 cases)",
        "generate (text, digits and every intermediate via generate) (324 cases)",
        "decode (result and state via verify) (294 cases)",
        "sequences (device key, then every step via verify) (942 cases)",
    ] {
        let passed = text
            .lines()
            .any(|l| l.starts_with("PASS ") && l.contains(group));
        assert!(passed, "{group} in\n{text}");
    }
    assert!(!text.contains("FAIL"));

    let corrupt = |name: &str, from: &str, to: &str| {
        let original = std::fs::read_to_string(vector_file(name)).unwrap();
        let changed = original.replacen(from, to, 1);
        assert_ne!(changed, original, "{from} not in {name}");
        let path = temp_path(name);
        std::fs::write(&path, changed).unwrap();
        path
    };
    let generate = corrupt(
        "ast_v1_vectors.json",
        "\"text\": \"2535 3944 9162 3754 9696\"",
        "\"text\": \"2535 3944 9162 3754 9697\"",
    );
    let decode = corrupt(
        "ast_v1_decode.json",
        "\"credit\": 27762",
        "\"credit\": 27763",
    );
    let out = paylock(
        &[
            "vectors",
            "check",
            generate.to_str().unwrap(),
            decode.to_str().unwrap(),
        ],
        "",
    );
    std::fs::remove_file(&generate).unwrap();
    std::fs::remove_file(&decode).unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL") && text.contains("(1 of 324 cases failed)"),
        "{text}"
    );
    assert!(text.contains("V0000-L-0-ADD_CREDIT: text"), "{text}");
    assert!(text.contains("(1 of 294 cases failed)"), "{text}");
    assert!(
        text.contains("state.credit: got 27762, expected 27763"),
        "{text}"
    );
    assert!(
        text.contains("PASS") && text.contains("derive_key"),
        "{text}"
    );
}

#[test]
fn human_commands_print_text_and_json() {
    let device = ["--suite", "0", "--device-id", "123456789"];
    let mut args = vec!["access", "derive-key", "--batch-key", BATCH_KEY];
    args.extend(device);
    let text = stdout(&paylock(&args, ""));
    assert_eq!(text, format!("device key: {DEVICE_KEY}\n"));

    let mut args = vec![
        "access",
        "generate",
        "--batch-key",
        BATCH_KEY,
        "--profile",
        "L",
    ];
    args.extend(device);
    args.extend(["--counter", "1", "--type", "add-credit", "--value", "72"]);
    let text = stdout(&paylock(&args, ""));
    assert!(text.contains(&format!("token:  {TOKEN}")), "{text}");

    let text = stdout(&paylock(
        &[
            "access",
            "generate",
            "--suite",
            "0",
            "--type",
            "test",
            "--test-id",
            "0",
        ],
        "",
    ));
    assert!(text.contains(SHOW_INFO_L0), "{text}");

    let verify = |token: &str, state: Option<&str>| {
        let mut args = vec![
            "access", "verify", "--key", DEVICE_KEY, "--token", token, "--json",
        ];
        args.extend(device);
        if let Some(s) = state {
            args.extend(["--state-json", s]);
        }
        let out = paylock(&args, "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    let first = verify(TOKEN, None);
    assert_eq!(first["result"]["status"], "APPLIED");
    let state = first["state"].to_string();
    let again = verify(&TOKEN.replace(' ', "-"), Some(&state));
    assert_eq!(again["result"]["reason"], "USED");

    let mut args = vec!["access", "verify", "--key", DEVICE_KEY, "--token", TOKEN];
    args.extend(device);
    let text = stdout(&paylock(&args, ""));
    assert!(
        text.contains("status:  APPLIED") && text.contains("ADD_CREDIT value 72 (counter 1)"),
        "{text}"
    );

    let mut args = vec![
        "access",
        "generate",
        "--key",
        "00",
        "--counter",
        "1",
        "--value",
        "1",
    ];
    args.extend(device);
    let out = paylock(&args, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key: the key must be 32 hex"));
}

fn is_key(line: &str) -> bool {
    line.len() == 32
        && line
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn keys_new_prints_fresh_random_keys() {
    let one = stdout(&paylock(&["keys", "new"], ""));
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 1, "{one}");
    assert!(is_key(lines[0]), "{one}");

    let many = stdout(&paylock(&["keys", "new", "--count", "5"], ""));
    let keys: HashSet<&str> = many.lines().collect();
    assert_eq!(keys.len(), 5, "{many}");
    assert!(keys.iter().all(|k| is_key(k)));

    let again = stdout(&paylock(&["keys", "new"], ""));
    assert_ne!(again, one, "two runs give different keys");
    assert!(
        !paylock(&["keys", "new", "--count", "0"], "")
            .status
            .success()
    );
}

fn check_csv(path: &str) -> Output {
    paylock(&["openpaygo", "factory-csv", "check", path], "")
}

#[test]
fn factory_csv_new_then_check_round_trips() {
    let path = temp_path("devices.csv");
    let _ = std::fs::remove_file(&path);
    let p = path.to_str().unwrap();
    let new = [
        "openpaygo",
        "factory-csv",
        "new",
        "--count",
        "4",
        "--serial-prefix",
        "SLT2200",
        "--time-divider",
        "4",
        "--restricted",
        "--hardware-model",
        "SuperLight",
        "--version",
        "X20",
        "-o",
        p,
    ];
    let out = paylock(&new, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&path).unwrap();
    let example = std::fs::read_to_string(EXAMPLE_CSV).unwrap();
    let rows: Vec<&str> = written.split_terminator("\r\n").collect();
    assert_eq!(
        rows[0],
        example.lines().next().unwrap().trim_end(),
        "the example's header"
    );
    assert_eq!(rows.len(), 5);
    let mut keys = HashSet::new();
    for (i, row) in rows[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 9, "{row}");
        assert_eq!(cells[0], format!("SLT22000000{}", i + 1));
        let starting_code: u32 = cells[1].parse().unwrap();
        assert!((1..=999_999_999).contains(&starting_code), "{row}");
        assert!(is_key(cells[2]) && keys.insert(cells[2]), "{row}");
        assert_eq!(
            &cells[3..],
            ["1", "4", "1", "SuperLight", "X20", ""],
            "{row}"
        );
    }

    let out = check_csv(p);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("4 device rows, every row valid"), "{text}");

    let again = paylock(&new, "");
    assert_eq!(again.status.code(), Some(2), "never overwrites");
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    std::fs::remove_file(&path).unwrap();

    let to_stdout = stdout(&paylock(
        &[
            "openpaygo",
            "factory-csv",
            "new",
            "--count",
            "2",
            "--serial-prefix",
            "X",
        ],
        "",
    ));
    assert_eq!(to_stdout.lines().count(), 3, "{to_stdout}");
}

#[test]
fn factory_csv_check_passes_the_published_example_and_names_bad_rows() {
    let out = check_csv(EXAMPLE_CSV);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 device rows, every row valid"), "{text}");

    let example = std::fs::read_to_string(EXAMPLE_CSV).unwrap();
    let bad = example
        .replace(
            "dac86b1a29ab82edc5fbbc41ec9530f6,1,4,0",
            "dac86b1a29ab82edc5fbbc41ec9530f,1,0,2",
        )
        .replace("516959010", "1516959010")
        + "\r\nSLT220000001,5,000102030405060708090a0b0c0d0e0f,1,1,0,,\r\n";
    let path = temp_path("bad.csv");
    std::fs::write(&path, bad).unwrap();
    let out = check_csv(path.to_str().unwrap());
    std::fs::remove_file(&path).unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for needle in [
        "line 2: Starting Code: is outside 0-999999999",
        "line 3: Key: a key is 32 hex characters (16 bytes), got 31 characters",
        "line 3: Time Divider: is outside 1-255",
        "line 3: Restricted Digit Mode: is outside 0-1",
        "line 4: has 8 fields, a row has 9",
        "FAIL",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    for cell in ["1516959010", "dac86b1a29ab82edc5fbbc41ec9530f"] {
        assert!(!text.contains(cell), "{cell} printed in\n{text}");
    }
}

#[test]
fn demo_tells_the_ast_story() {
    let out = paylock(&["demo"], "");
    assert!(out.status.success());
    let text = stdout(&out);
    let ast = &text[text.find("AST v1").unwrap()..];
    for needle in [
        &format!("device key {DEVICE_KEY}"),
        TOKEN,
        "APPLIED  ADD_CREDIT 72 h (counter 1)",
        "duplicate, USED",
        "REFUSED  invalid (",
        "malformed (BAD_CHAR)",
        "APPLIED  SET_CREDIT 48 h",
        "keypad locked for 60 s",
        "locked out, unread",
        "APPLIED  ADD_CREDIT 168 h",
    ] {
        assert!(ast.contains(needle), "{needle:?} not in\n{ast}");
    }
}
