//! The `paylock` binary: batch contract, error kinds, vector checking, demo.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

#[path = "support/cli.rs"]
mod support;

use support::{assert_refused, batch_lines, paylock, paylock_bytes};

use serde_json::{Value, json};

fn generate(overrides: &Value) -> Value {
    let mut r = json!({
        "scheme": "openpaygo", "op": "generate", "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
        "starting_code": 123_456_789, "count": 0, "token_type": "ADD_TIME", "value": 1,
        "restricted_digit_set": false, "extended_token": false,
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            r.as_object_mut().unwrap().remove(k);
        } else {
            r[k] = v.clone();
        }
    }
    r
}

#[test]
fn batch_generates_and_decodes_the_doc_quick_test() {
    let decode = json!({
        "scheme": "openpaygo", "op": "decode", "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
        "starting_code": 123_456_789, "restricted_digit_set": false, "extended_token": false,
        "token": "662486790", "state": { "max_count": 0, "used_counts_bitmask": 0 },
    });
    let answers = batch_lines(&[generate(&json!({})).to_string(), decode.to_string()]);
    // Expected values from the OpenPAYGO documentation's quick test (doc_quick_test.csv).
    assert_eq!(
        answers[0],
        json!({ "ok": true, "token": "662486790", "count": 2 })
    );
    assert_eq!(
        answers[1],
        json!({ "ok": true, "status": "VALID", "value": 1, "count": 2, "meaning": "ADD_TIME",
                "state": { "max_count": 2, "used_counts_bitmask": 2 } })
    );
    let line = serde_json::to_string(&answers[0]).unwrap();
    assert_eq!(
        line, r#"{"ok":true,"token":"662486790","count":2}"#,
        "contract key order"
    );
}

#[test]
fn every_bad_line_gets_a_precise_error_and_the_run_goes_on() {
    let cases: Vec<(String, &str, &str)> = vec![
        ("{not json".into(), "invalid_json", "JSON"),
        ("[1,2]".into(), "invalid_request", "object"),
        (generate(&json!({ "scheme": "nexuz" })).to_string(), "unknown_scheme", "openpaygo, nexus, access"),
        (generate(&json!({ "op": "frobnicate" })).to_string(), "unknown_op", "generate, decode"),
        (generate(&json!({ "key": "a29ab82edc5fbbc41ec9530f6dac86" })).to_string(), "invalid_key", "\"key\""),
        (generate(&json!({ "key": "z29ab82edc5fbbc41ec9530f6dac86b1" })).to_string(), "invalid_key", "character 0"),
        (generate(&json!({ "key": 5 })).to_string(), "wrong_type", "\"key\""),
        (generate(&json!({ "value": 996 })).to_string(), "out_of_range", "\"value\""),
        (generate(&json!({ "value": -1 })).to_string(), "out_of_range", "\"value\""),
        (generate(&json!({ "value": 1.5 })).to_string(), "wrong_type", "\"value\""),
        (generate(&json!({ "value": null })).to_string(), "missing_field", "\"value\""),
        (generate(&json!({ "extended_token": true, "value": 1_000_000 })).to_string(), "out_of_range", "999999"),
        (generate(&json!({ "starting_code": 1_000_000_000u64 })).to_string(), "out_of_range", "\"starting_code\""),
        (generate(&json!({ "count": 131_072 })).to_string(), "counter_exhausted", "\"count\" is too high: the next token of this type"),
        (generate(&json!({ "count": 131_071, "token_type": "SET_TIME" })).to_string(), "counter_exhausted", "count is exhausted"),
        (generate(&json!({ "count": 131_073 })).to_string(), "out_of_range", "\"count\" is above the count ceiling"),
        (generate(&json!({ "token_type": "DISABLE_PAYG" })).to_string(), "value_not_allowed", "\"value\""),
        (generate(&json!({ "token_type": "ADD_DAYS" })).to_string(), "invalid_token_type", "ADD_TIME, SET_TIME"),
        (generate(&json!({ "restricted_digit_set": null })).to_string(), "missing_field", "restricted_digit_set"),
        (generate(&json!({ "op": "decode", "token": "12345678", "state": { "max_count": 0, "used_counts_bitmask": 0 } })).to_string(), "malformed_token", "8 characters"),
        (generate(&json!({ "op": "decode", "token": "1234a6789", "state": { "max_count": 0, "used_counts_bitmask": 0 } })).to_string(), "malformed_token", "character 4"),
        (generate(&json!({ "op": "decode", "restricted_digit_set": true, "token": "123451234512345", "state": { "max_count": 0, "used_counts_bitmask": 0 } })).to_string(), "malformed_token", "digit 4 is 5"),
        (generate(&json!({ "op": "decode", "token": "123456789", "state": { "max_count": 0, "used_counts_bitmask": 65536 } })).to_string(), "out_of_range", "used_counts_bitmask"),
    ];
    let mut lines: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
    lines.push(generate(&json!({})).to_string());
    let answers = batch_lines(&lines);
    assert_eq!(answers.len(), cases.len() + 1);
    for ((line, kind, needle), answer) in cases.iter().zip(&answers) {
        assert_refused(
            line,
            answer,
            kind,
            needle,
            // The key, and the bad values given: a message never repeats a value.
            &[
                "a29ab82edc5fbbc41ec9530f6dac86b1",
                "nexuz",
                "frobnicate",
                "ADD_DAYS",
                "996",
                "1000000000",
            ],
        );
    }
    assert_eq!(
        answers.last().unwrap()["token"],
        "662486790",
        "the run goes on after bad lines"
    );
}

/// The documented line cap of `paylock batch` (1 MiB, line end not counted).
const MAX_LINE: usize = 1 << 20;

#[test]
fn binary_and_overlong_lines_get_their_own_answer_and_the_run_goes_on() {
    let good = generate(&json!({})).to_string();
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"scheme\":\"openpaygo\",\"op\":\"\xff\xfe\"}\n");
    // A line of exactly the cap is read (and is JSON); one byte more is refused unread.
    let padded = |len: usize| good.clone() + &" ".repeat(len - good.len());
    input.extend_from_slice(padded(MAX_LINE).as_bytes());
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(padded(MAX_LINE + 1).as_bytes());
    input.push(b'\n');
    input.extend(core::iter::repeat_n(b'[', 3 * MAX_LINE));
    input.push(b'\n');
    input.extend_from_slice(good.as_bytes());
    let out = paylock_bytes(&["batch"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_refused(&"\\xff line", &answers[0], "invalid_utf8", "byte 28", &[]);
    assert_eq!(answers[1]["token"], "662486790");
    assert_refused(
        &"cap + 1",
        &answers[2],
        "line_too_long",
        "1048577 bytes",
        &[],
    );
    assert_refused(&"3 MiB", &answers[3], "line_too_long", "3145728 bytes", &[]);
    assert_eq!(answers[4]["token"], "662486790", "the run goes on");
}

/// `--threads` changes which threads answer, never the answers: one and three threads give the
/// same bytes, refusals included.
#[test]
fn batch_threads_give_the_answers_of_one_thread() {
    let lines: Vec<String> = (0..300)
        .map(|i| generate(&json!({ "count": i % 50 })).to_string())
        .collect();
    let mut input = lines.join("\n").into_bytes();
    input.extend_from_slice(b"\nnot json\n\xff\n");
    let one = paylock_bytes(&["batch", "--threads", "1"], &input);
    let three = paylock_bytes(&["batch", "--threads", "3"], &input);
    assert!(one.status.success() && three.status.success());
    assert_eq!(one.stdout.iter().filter(|&&b| b == b'\n').count(), 302);
    assert!(one.stdout == three.stdout, "the answers differ");
    let first = one.stdout.split(|&b| b == b'\n').next().unwrap();
    let first: Value = serde_json::from_slice(first).unwrap();
    assert_eq!(first["token"], "662486790");
    let zero = paylock_bytes(&["batch", "--threads", "0"], b"");
    assert!(!zero.status.success());
}

/// A co-process that writes one line and waits for its answer gets it, whatever the line.
#[test]
fn a_co_process_gets_each_answer_before_it_writes_the_next_line() {
    use core::time::Duration;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    let mut child = Command::new(env!("CARGO_BIN_EXE_paylock"))
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (send, answers) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                return;
            }
            send.send(line).unwrap();
        }
    });
    let long = vec![b'7'; 2 * MAX_LINE];
    let good = generate(&json!({})).to_string();
    let lines: [(&[u8], &str); 4] = [
        (b"\xc3\x28", "invalid_utf8"),
        (&long, "line_too_long"),
        (b"{\"op\":1}", "missing_field"),
        (good.as_bytes(), "662486790"),
    ];
    for (line, want) in lines {
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        let answer = answers.recv_timeout(Duration::from_secs(20)).unwrap();
        assert!(answer.contains(want), "{answer}");
    }
    drop(stdin);
    reader.join().unwrap();
    assert!(child.wait().unwrap().success());
}

/// A counter sync entered again is ALREADY_USED and changes nothing; the vectors' model (and
/// upstream) take it again only with `"allow_sync_replays":true`.
#[test]
fn batch_decode_takes_a_counter_sync_once() {
    let sync = generate(&json!({ "count": 40, "token_type": "COUNTER_SYNC", "value": null }));
    let token = batch_lines(&[sync.to_string()])[0]["token"].clone();
    let decode = |state: Value, replays: Option<bool>| {
        let mut r = json!({
            "scheme": "openpaygo", "op": "decode", "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
            "starting_code": 123_456_789, "restricted_digit_set": false, "extended_token": false,
            "token": token, "state": state,
        });
        if let Some(flag) = replays {
            r["allow_sync_replays"] = json!(flag);
        }
        r.to_string()
    };
    // After the sync (count 41) an ADD at 44 arrived; the one at 42 is still pending.
    let after = json!({ "max_count": 44, "used_counts_bitmask": 0xFFFC });
    let answers = batch_lines(&[
        decode(json!({ "max_count": 20, "used_counts_bitmask": 0 }), None),
        decode(after.clone(), None),
        decode(after.clone(), Some(false)),
        decode(after.clone(), Some(true)),
    ]);
    assert_eq!(answers[0]["status"], "VALID");
    assert_eq!(answers[0]["count"], 41);
    for answer in &answers[1..3] {
        assert_eq!(
            *answer,
            json!({ "ok": true, "status": "ALREADY_USED", "value": null, "count": null,
                    "meaning": null, "state": after })
        );
    }
    assert_eq!(answers[3]["status"], "VALID");
    assert_eq!(
        answers[3]["state"],
        json!({ "max_count": 44, "used_counts_bitmask": 65_535 })
    );
}

#[test]
fn vectors_check_passes_on_published_files_and_fails_on_a_corrupted_one() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/openpaygo/");
    let files: Vec<String> = [
        "openpaygo_generated_vectors.json",
        "OpenPAYGO-python__test__test_tokens.jsonl",
        "OpenPAYGO-js__test__sample_tokens.json",
        "OpenPAYGO-go__token__sample_tokens.json",
    ]
    .iter()
    .map(|f| format!("{dir}{f}"))
    .collect();
    let mut args = vec!["vectors", "check"];
    args.extend(files.iter().map(String::as_str));
    let out = paylock(&args, "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for group in [
        "encode (342 cases)",
        "decode (recommended model) (320 cases)",
        "(124 cases)",
        "official tokens (80 cases)",
    ] {
        assert!(text.contains(group), "missing {group} in\n{text}");
    }
    assert!(!text.contains("FAIL"));

    let jsonl = std::fs::read_to_string(&files[1]).unwrap();
    let corrupted = jsonl.replacen("\"token\": \"588224011\"", "\"token\": \"588224012\"", 1);
    assert_ne!(corrupted, jsonl);
    let path = std::env::temp_dir().join(format!("paylock-corrupt-{}.jsonl", std::process::id()));
    std::fs::write(&path, corrupted).unwrap();
    let out = paylock(&["vectors", "check", path.to_str().unwrap()], "");
    std::fs::remove_file(&path).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("FAIL") && text.contains("1 of 80"), "{text}");
}

#[test]
fn human_commands_print_text_and_json() {
    let args = [
        "openpaygo",
        "generate",
        "--key",
        "a29ab82edc5fbbc41ec9530f6dac86b1",
        "--starting-code",
        "123456789",
        "--count",
        "0",
        "--days",
        "1",
    ];
    let out = paylock(&args, "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("token:   662486790") && text.contains("count:   2"),
        "{text}"
    );
    let out = paylock(
        &[
            "openpaygo",
            "decode",
            "--key",
            "a29ab82edc5fbbc41ec9530f6dac86b1",
            "--starting-code",
            "123456789",
            "--token",
            "662486790",
            "--json",
        ],
        "",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "VALID");
    let out = paylock(
        &[
            "openpaygo",
            "generate",
            "--key",
            "00",
            "--starting-code",
            "1",
            "--count",
            "0",
            "--value",
            "1",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key: the key must be 32 hex"));
}

#[test]
fn demo_shows_applied_replay_and_typo() {
    let out = paylock(&["demo"], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("662 486 790"), "{text}");
    assert!(text.contains("already used"));
    assert!(text.contains("invalid (typo"));
    assert!(text.contains("malformed"));
}

/// A reader that stops early (`paylock simulate big.json | head -1`) ends the tool quietly
/// with 141, not a panic message. The table is far larger than a pipe's buffer, so the tool is
/// still writing when the reader goes away.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let events: Vec<Value> = (0..5_000)
        .map(|at| serde_json::json!({"at": at, "status": true}))
        .collect();
    let scenario = serde_json::json!({"scheme": "nexus", "device": {"protocol": "small",
        "device_key_hex": "deadbeefdeadbeefdeadbeefdeadbeef"}, "events": events});
    let path = std::env::temp_dir().join(format!("paylock-big-{}.json", std::process::id()));
    std::fs::write(&path, scenario.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paylock"))
        .args(["simulate", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is dropped here.
    let out = child.wait_with_output().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
