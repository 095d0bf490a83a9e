//! The `paylock` binary on Nexus: the batch `generate` / `enter` contract, its error kinds,
//! the human commands, the vector check and the demo.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

#[path = "support/cli.rs"]
mod support;

use support::{assert_refused, batch, paylock};

use serde_json::{Value, json};

const KEY: &str = "deadbeefdeadbeefdeadbeefdeadbeef";

fn generate(protocol: &str, message_type: &str, fields: &Value) -> Value {
    let mut r = json!({
        "scheme": "nexus", "op": "generate", "protocol": protocol, "message_type": message_type,
        "secret_key_hex": KEY, "message_id": 42, "params": {},
    });
    for (k, v) in fields.as_object().unwrap() {
        if v.is_null() {
            r.as_object_mut().unwrap().remove(k);
        } else {
            r[k] = v.clone();
        }
    }
    r
}

fn fresh() -> Value {
    json!({ "pd_index": 23, "received_flags": "000000", "credit_seconds": 0, "unlocked": false })
}

fn enter(protocol: &str, keys: &str, state: &Value) -> Value {
    json!({
        "scheme": "nexus", "op": "enter", "protocol": protocol, "device_key_hex": KEY,
        "keycode_keys": keys, "state": state,
    })
}

#[test]
fn batch_generates_the_readme_codes_of_every_protocol() {
    let answers = batch(&[
        generate("full", "ADD_CREDIT", &json!({ "params": { "hours": 168 } })),
        generate("small", "ADD_CREDIT", &json!({ "params": { "days": 7 } })),
        generate(
            "full",
            "FACTORY_OQC_TEST",
            &json!({ "secret_key_hex": null, "message_id": null, "params": { "minutes": 60 } }),
        ),
        generate(
            "small",
            "TEST_SHORT_TEST",
            &json!({ "secret_key_hex": null, "message_id": 0 }),
        ),
        generate(
            "full/channel_origin",
            "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES",
            &json!({ "secret_key_hex": null, "message_id": null,
                     "controller_key_hex": "cd".repeat(16),
                     "params": { "controller_command_count": 7 } }),
        ),
    ]);
    assert_eq!(
        answers[0].to_string(),
        r#"{"ok":true,"keycode":"*599 791 493 194 43#","keycode_keys":"*59979149319443#"}"#,
        "contract and key order"
    );
    let keycodes: Vec<&str> = answers
        .iter()
        .map(|a| a["keycode"].as_str().unwrap())
        .collect();
    assert_eq!(
        keycodes,
        [
            "*599 791 493 194 43#",
            "135 242 422 455 244",
            "*500 060 694 509#",
            "143 253 222 433 244",
            "*810 023 592 81#"
        ]
    );
}

#[test]
fn collisions_and_high_ids_are_typed_refusals() {
    let extended = "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG";
    let answers = batch(&[
        generate(
            "small",
            extended,
            &json!({ "message_id": 50, "params": { "days": 84 } }),
        ),
        generate(
            "small",
            extended,
            &json!({ "message_id": 51, "params": { "days": 84 } }),
        ),
        generate(
            "small",
            "SET_CREDIT",
            &json!({ "message_id": 63, "params": { "days": 1 } }),
        ),
        generate("full", "UNLOCK", &json!({ "message_id": 65_535 })),
        generate(
            "full",
            "UNLOCK",
            &json!({ "message_id": 65_535, "allow_ids_above_65534": true }),
        ),
        // No ID follows 4294967295: nexus-keycode names 2^32, which no u32 device holds.
        generate(
            "small",
            "SET_CREDIT",
            &json!({ "message_id": 4_294_967_295_u32, "allow_ids_above_65534": true,
                     "params": { "days": 1 } }),
        ),
    ]);
    let collision = &answers[0]["error"];
    assert_eq!(collision["kind"], "id_collision");
    assert_eq!(collision["next_valid_id"], 51);
    assert!(
        collision["message"]
            .as_str()
            .unwrap()
            .contains("next valid ID is 51")
    );
    assert_eq!(answers[1]["keycode"], "145 545 244 442 435");
    assert_eq!(answers[2]["error"]["kind"], "id_reserved");
    assert_eq!(answers[2]["error"]["next_valid_id"], 64);
    assert_eq!(answers[3]["error"]["kind"], "out_of_range");
    assert!(
        answers[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allow_ids_above_65534")
    );
    assert!(answers[3]["error"].get("next_valid_id").is_none());
    assert_eq!(answers[4]["keycode"], "*878 579 024 461 08#");
    let exhausted = &answers[5]["error"];
    assert_eq!(exhausted["kind"], "counter_exhausted");
    assert!(exhausted.get("next_valid_id").is_none(), "{exhausted}");
    assert!(
        exhausted["message"]
            .as_str()
            .unwrap()
            .contains("field \"message_id\": this code needs a later message ID"),
        "{exhausted}"
    );
}

/// `[overrides of a full ADD_CREDIT generate request (null removes), kind, text of the message]`.
fn bad_generate_requests() -> Value {
    json!([
        [{ "protocol": "fool" }, "invalid_protocol", "full, small, full/channel_origin"],
        [{ "message_type": "ADD_DAYS" }, "invalid_message_type", "ADD_CREDIT, SET_CREDIT"],
        [{ "protocol": "small", "message_type": "DEMO" }, "invalid_message_type", "\"message_type\""],
        [{ "message_type": "DEMO", "params": { "minutes": 30 } }, "unsupported_command", "\"allow_demo_codes\":true"],
        [{ "message_type": "DEMO", "allow_demo_codes": "yes", "params": { "minutes": 30 } }, "wrong_type", "allow_demo_codes"],
        [{}, "missing_field", "params.hours"],
        [{ "params": { "hours": 100_000 } }, "out_of_range", "params.hours"],
        [{ "params": { "hours": -1 } }, "out_of_range", "params.hours"],
        [{ "params": { "hours": "7" } }, "wrong_type", "params.hours"],
        [{ "message_id": null, "params": { "hours": 1 } }, "missing_field", "message_id"],
        [{ "secret_key_hex": "00", "params": { "hours": 1 } }, "invalid_key", "secret_key_hex"],
        [{ "message_type": "UNLOCK", "params": { "hours": 5 } }, "conflicting_field", "params.hours"],
        [{ "message_type": "WIPE_STATE", "params": { "target": 4 } }, "out_of_range", "params.target"],
        [{ "message_type": "WIPE_STATE", "params": { "target": 1, "flags": "WIPE_IDS_ALL" } },
         "conflicting_field", "params.flags"],
        [{ "message_type": "FACTORY_ALLOW_TEST", "message_id": null }, "field_not_allowed", "secret_key_hex"],
        [{ "message_type": "FACTORY_OQC_TEST", "secret_key_hex": null, "message_id": null,
           "params": { "minutes": 0 } }, "out_of_range", "params.minutes"],
        [{ "message_type": "PASSTHROUGH_COMMAND", "secret_key_hex": null, "message_id": 7 },
         "field_not_allowed", "message_id"],
        [{ "message_type": "PASSTHROUGH_COMMAND", "secret_key_hex": null, "message_id": null },
         "missing_field", "params.application_id"],
        [{ "message_type": "PASSTHROUGH_COMMAND", "secret_key_hex": null, "message_id": null,
           "params": { "application_id": 0, "passthrough_digits": "923828478287" } },
         "invalid_length", "params.passthrough_digits"],
        [{ "message_type": "PASSTHROUGH_COMMAND", "secret_key_hex": null, "message_id": null,
           "params": { "application_id": 0, "passthrough_digits": "12a" } }, "wrong_type", "character 2"],
        [{ "protocol": "small", "params": { "days": 406 } }, "out_of_range", "params.days"],
        [{ "protocol": "small", "params": { "days": "forever" } }, "wrong_type", "params.days"],
        [{ "protocol": "small", "message_type": "SET_CREDIT_LOCK", "params": { "days": 3 } },
         "conflicting_field", "params.days"],
        [{ "protocol": "small", "message_type": "MAINTENANCE_WIPE_IDS_ALL", "message_id": null,
           "params": { "function": 1 } }, "conflicting_field", "params.function"],
        [{ "protocol": "small", "message_type": "PASSTHROUGH", "secret_key_hex": null, "message_id": null,
           "params": { "bits26": "101" } }, "wrong_type", "params.bits26"],
        [{ "protocol": "small", "params": { "days": 1, "key_dict": { "0": "a" } } },
         "missing_field", "params.key_dict.1"],
        [{ "protocol": "full/channel_origin", "message_type": "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES",
           "message_id": null, "controller_key_hex": KEY, "params": { "controller_command_count": 1 } },
         "field_not_allowed", "secret_key_hex"],
        [{ "protocol": "full/channel_origin", "message_type": "CHANNEL_ORIGIN_UNLINK_ACCESSORY",
           "secret_key_hex": null, "message_id": null, "controller_key_hex": KEY,
           "params": { "controller_command_count": 1, "accessory_nexus_id": "1000000000000" } },
         "out_of_range", "params.accessory_nexus_id"],
        [{ "op": "decode" }, "unknown_op", "generate, enter"],
    ])
}

#[test]
fn every_bad_request_names_its_field() {
    let mut cases: Vec<(Value, Value, Value)> = bad_generate_requests()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let request = generate("full", "ADD_CREDIT", &c[0]);
            (request, c[1].clone(), c[2].clone())
        })
        .collect();
    let bad_states = json!([
        [{ "pd_index": 23, "received_flags": "1000000", "credit_seconds": 0, "unlocked": false },
         "wrong_type", "state.received_flags"],
        [{ "pd_index": 23, "received_flags": "000000", "credit_seconds": 5, "unlocked": false,
           "payg_state": "DISABLED" }, "conflicting_field", "state.payg_state"],
        [{ "received_flags": "000000", "credit_seconds": 0, "unlocked": false },
         "missing_field", "state.pd_index"],
    ]);
    for c in bad_states.as_array().unwrap() {
        cases.push((enter("full", "*1#", &c[0]), c[1].clone(), c[2].clone()));
    }
    let channel = enter("full/channel_origin", "*1#", &fresh());
    cases.push((
        channel,
        json!("invalid_protocol"),
        json!("must be one of: full, small"),
    ));
    let mut requests: Vec<Value> = cases.iter().map(|c| c.0.clone()).collect();
    requests.push(generate("full", "UNLOCK", &json!({ "message_id": 44 })));
    let answers = batch(&requests);
    for ((request, kind, needle), answer) in cases.iter().zip(&answers) {
        let (kind, needle) = (kind.as_str().unwrap(), needle.as_str().unwrap());
        let given = ["fool", "ADD_DAYS", "forever", "DISABLED", "100000", "406"];
        assert_refused(
            request,
            answer,
            kind,
            needle,
            &[&[KEY][..], &given].concat(),
        );
    }
    assert_eq!(
        answers.last().unwrap()["keycode"],
        "*578 396 697 305 45#",
        "the run goes on"
    );
}

#[test]
fn enter_applies_then_refuses_a_replay_and_a_typo() {
    let first = batch(&[enter("full", "*59979149319443#", &fresh())]).remove(0);
    assert_eq!(
        first,
        json!({
            "ok": true, "response": "VALID_APPLIED", "feedback": ["MESSAGE_APPLIED"],
            "platform_calls": ["add:604800"],
            "state": { "pd_index": 42, "received_flags": "800000", "credit_seconds": 604_800,
                       "unlocked": false, "payg_state": "ENABLED", "qc_short_count": 0,
                       "qc_long_count": 0, "restricted_flag": false },
        })
    );
    let mut built = first["state"].clone();
    built["user_facing_id"] = json!(123_456_789);
    let answers = batch(&[
        enter("full", "*59979149319443#", &first["state"]),
        enter("full", "*59979149319444#", &first["state"]),
        enter("full", "*7123456789#", &built),
        enter("small", "143253222433244", &fresh()),
    ]);
    assert_eq!(answers[0]["response"], "VALID_DUPLICATE");
    assert_eq!(answers[0]["platform_calls"], json!([]));
    assert_eq!(answers[1]["response"], "INVALID");
    assert_eq!(answers[1]["feedback"], json!(["MESSAGE_INVALID"]));
    assert_eq!(answers[1]["state"], first["state"]);
    assert_eq!(answers[2]["response"], "VALID_APPLIED");
    assert_eq!(
        answers[2]["state"]["user_facing_id"], 123_456_789,
        "build fields are echoed"
    );
    assert_eq!(answers[3]["platform_calls"], json!(["add:127"]));
    assert_eq!(answers[3]["state"]["payg_state"], "ENABLED");
}

fn run_ok(args: &[&str]) -> String {
    let out = paylock(args, "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn human_commands_print_text_and_json() {
    let text = run_ok(&[
        "nexus",
        "generate",
        "--protocol",
        "full",
        "--type",
        "add-credit",
        "--key",
        KEY,
        "--id",
        "42",
        "--hours",
        "168",
    ]);
    assert_eq!(
        text,
        "keycode: *599 791 493 194 43#\nkeys:    *59979149319443#\n"
    );
    let json_text = run_ok(&[
        "nexus",
        "generate",
        "--protocol",
        "small",
        "--type",
        "unlock",
        "--key",
        KEY,
        "--id",
        "45",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v["keycode"], "152 323 254 454 322");
    let link = run_ok(&[
        "nexus",
        "generate",
        "--protocol",
        "channel",
        "--type",
        "link-accessory-mode-3",
        "--controller-key",
        &"cd".repeat(16),
        "--accessory-key",
        &"ab".repeat(16),
        "--controller-count",
        "5",
        "--accessory-count",
        "2",
    ]);
    assert!(link.contains("*817 307 500 565 772#"), "{link}");

    let entered = run_ok(&[
        "nexus",
        "enter",
        "--protocol",
        "small",
        "--key",
        KEY,
        "--keys",
        "135 242 422 455 244",
    ]);
    assert!(
        entered.contains("response: VALID_APPLIED") && entered.contains("calls:    add:604800"),
        "{entered}"
    );
    let state = entered
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("state:")
        .trim();
    let again = run_ok(&[
        "nexus",
        "enter",
        "--protocol",
        "small",
        "--key",
        KEY,
        "--keys",
        "135242422455244",
        "--state-json",
        state,
        "--json",
    ]);
    let v: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(v["response"], "VALID_DUPLICATE");

    let out = paylock(
        &[
            "nexus",
            "generate",
            "--protocol",
            "small",
            "--type",
            "extended-set-credit-wipe-restricted-flag",
            "--key",
            KEY,
            "--id",
            "50",
            "--days",
            "84",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("id_collision") && err.contains("next valid ID is 51"),
        "{err}"
    );

    // Demo codes add credit every time they are entered: only with the flag.
    let demo = [
        "nexus",
        "generate",
        "--type",
        "demo",
        "--key",
        KEY,
        "--id",
        "5",
        "--minutes",
        "30",
    ];
    let out = paylock(&demo, "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unsupported_command") && err.contains("allow_demo_codes"),
        "{err}"
    );
    let text = run_ok(&[&demo[..], &["--allow-demo-codes"]].concat());
    assert!(text.starts_with("keycode: *"), "{text}");
}

const VECTOR_FILES: [&str; 2] = [
    "nexus_keycode_vectors.json",
    "official_vectors_extracted.json",
];

fn vector_path(name: &str) -> String {
    format!(
        "{}/../test-vectors/nexus/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn vectors_check_passes_on_the_nexus_files() {
    let paths = VECTOR_FILES.map(vector_path);
    let text = run_ok(&["vectors", "check", &paths[0], &paths[1]]);
    for line in [
        "PASS nexus_keycode_vectors.json encode (keycodes via generate) (319 cases)",
        "PASS nexus_keycode_vectors.json encode device_expected (via enter) (318 cases; uint16 quirk fixed: 9 codes differ as documented)",
        "PASS nexus_keycode_vectors.json generator errors (refused by generate) (10 cases)",
        "PASS nexus_keycode_vectors.json negative decodes (via enter) (27 cases)",
        "PASS nexus_keycode_vectors.json scenarios (every step, via enter) (92 cases; uint16 quirk fixed: 3 steps differ as documented)",
        "PASS official_vectors_extracted.json vectors (official values) (27 cases;",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn vectors_check_fails_on_a_corrupted_copy() {
    let original = std::fs::read_to_string(vector_path(VECTOR_FILES[0])).unwrap();
    // One keycode of the encode vectors and the credit of the first scenario step.
    let at = original.find("\"SCEN-FULL-WINDOW\"").unwrap();
    let (encode, scenarios) = original.split_at(at);
    let corrupted = encode.replacen("\"*228 530 189 980 95#\"", "\"*228 530 189 980 96#\"", 1)
        + &scenarios.replacen("\"add:86400\"", "\"add:86401\"", 1);
    assert_ne!(corrupted, original);
    let path =
        std::env::temp_dir().join(format!("paylock-nexus-corrupt-{}.json", std::process::id()));
    std::fs::write(&path, corrupted).unwrap();
    let out = paylock(&["vectors", "check", path.to_str().unwrap()], "");
    std::fs::remove_file(&path).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL")
            && text.contains("encode (keycodes via generate) (1 of 319 cases failed)"),
        "{text}"
    );
    assert!(text.contains("FULL-ADD_CREDIT-001: keycode"), "{text}");
    assert!(
        text.contains("scenarios (every step, via enter) (1 of 92 cases failed)")
            && text.contains("SCEN-FULL-WINDOW step 0: platform_calls"),
        "{text}"
    );
}

/// A vector file may hold any number: a 1-day SET at the last u32 ID expects
/// `counter_exhausted`, and an ID past u64 range is a failed case, never an overflow.
#[test]
fn vectors_check_takes_error_vectors_at_the_last_ids() {
    let error = "PossibleMessageCollisionError: Cannot generate SET_CREDIT small protocol message \
                 with ID where LSB 6 bits are equal to 63!";
    let case = |id: &str, message_id: u64| {
        json!({ "id": id, "protocol": "small", "api": "SetCreditSmallMessage",
                "args": { "id_": message_id, "days": 1 }, "error": error })
    };
    let doc = json!({
        "format": "nexus-keycode test vectors",
        "encode_vectors": [],
        "generator_error_vectors": [
            case("LAST-U32", u64::from(u32::MAX)),
            case("BELOW-IT", u64::from(u32::MAX) - 64),
            case("LAST-U64", u64::MAX),
        ],
    });
    let path =
        std::env::temp_dir().join(format!("paylock-nexus-edges-{}.json", std::process::id()));
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = paylock(&["vectors", "check", path.to_str().unwrap()], "");
    std::fs::remove_file(&path).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("generator errors (refused by generate) (1 of 3 cases failed)")
            && text.contains("LAST-U64"),
        "{text}"
    );
}

#[test]
fn demo_has_a_nexus_part_for_each_keypad() {
    let text = run_ok(&["demo"]);
    let nexus = &text[text.find("Nexus, full protocol").unwrap()..];
    assert!(nexus.contains("*599 791 493 194 43#"), "{nexus}");
    assert!(nexus.contains("Nexus, small protocol"));
    assert!(
        nexus.contains("145 545 244 442 435"),
        "the collision-free ID 51"
    );
    assert!(nexus.contains("next valid ID is 51"));
    assert_eq!(nexus.matches("already used (replay)").count(), 2);
    assert_eq!(nexus.matches("invalid (typo").count(), 2);
    assert!(text.contains("662 486 790"), "the OpenPAYGO part stays");
}
