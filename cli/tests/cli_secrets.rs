//! Secrets and the `paylock` binary: keys and starting codes come from a file, an environment
//! variable or (for tests) a flag, exactly one of them; and no output, stderr included, ever
//! repeats a key or a starting code put into any field of any request, flag or CSV cell.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

#[path = "support/cli.rs"]
mod support;

use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};
use support::{paylock_env, stdout};

/// The OpenPAYGO documentation's quick test: key, starting code, and the first ADD_TIME 1 token.
const KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";
const START: &str = "123456789";
const TOKEN: &str = "662486790";
/// Spec §14, example 1 of AST v1: batch key, device id, device key, ADD_CREDIT 72 at counter 1.
const BATCH_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const DEVICE_KEY: &str = "fe1f7d36faeb962c0f941cedc93646f5";
const AST_TOKEN: &str = "3359 3381 3865 7142 9876";

/// A file in the temp directory, unique to this run and `name`, holding `content`.
fn temp_file(name: &str, content: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("paylock-secrets-{}-{name}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `paylock args…` with secret variables `vars`; stdout on success, else the test fails.
fn ok(args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = paylock_env(args, b"", vars);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `paylock args…` with secret variables `vars`, which must fail (exit 2): its stderr.
fn refused(args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = paylock_env(args, b"", vars);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
    stderr(&out)
}

const OPG: [&str; 6] = ["openpaygo", "generate", "--count", "0", "--value", "1"];

#[test]
fn a_key_file_or_variable_gives_what_the_flag_gives() {
    let flags = [&OPG[..], &["--key", KEY, "--starting-code", START]].concat();
    assert!(ok(&flags, &[]).contains(TOKEN));
    let key = temp_file("key", format!("{KEY}\n").as_bytes());
    let code = temp_file("code", format!("{START}\r\n").as_bytes());
    let files = [
        &OPG[..],
        &["--key-file", key.to_str().unwrap()],
        &["--starting-code-file", code.to_str().unwrap()],
    ]
    .concat();
    assert!(ok(&files, &[]).contains(TOKEN));
    let vars = [("PAYLOCK_KEY", KEY), ("PAYLOCK_STARTING_CODE", START)];
    assert!(ok(&OPG, &vars).contains(TOKEN));
    // A file without its line end works too.
    let bare = temp_file("bare", KEY.as_bytes());
    let mixed = [&OPG[..], &["--key-file", bare.to_str().unwrap()]].concat();
    assert!(ok(&mixed, &[("PAYLOCK_STARTING_CODE", START)]).contains(TOKEN));

    let derive = [
        "access",
        "derive-key",
        "--suite",
        "0",
        "--device-id",
        "123456789",
    ];
    let batch_key = temp_file("batch", format!("{BATCH_KEY}\n").as_bytes());
    let path = batch_key.to_str().unwrap();
    for (extra, vars) in [
        (&["--batch-key", BATCH_KEY][..], &[][..]),
        (&["--batch-key-file", path][..], &[][..]),
        (&[][..], &[("PAYLOCK_BATCH_KEY", BATCH_KEY)][..]),
    ] {
        let text = ok(&[&derive[..], extra].concat(), vars);
        assert!(text.contains(DEVICE_KEY), "{extra:?} {vars:?}: {text}");
    }
    let generate = [
        "access",
        "generate",
        "--suite",
        "0",
        "--device-id",
        "123456789",
        "--counter",
        "1",
        "--value",
        "72",
    ];
    let device_key = temp_file("device", format!("{DEVICE_KEY}\n").as_bytes());
    for (extra, vars) in [
        (&["--batch-key-file", path][..], &[][..]),
        (&["--key-file", device_key.to_str().unwrap()][..], &[][..]),
        (&[][..], &[("PAYLOCK_KEY", DEVICE_KEY)][..]),
        (&[][..], &[("PAYLOCK_BATCH_KEY", BATCH_KEY)][..]),
    ] {
        let text = ok(&[&generate[..], extra].concat(), vars);
        assert!(text.contains(AST_TOKEN), "{extra:?} {vars:?}: {text}");
    }

    // Nexus: the device key and a Channel controller's key.
    let nexus = ["nexus", "generate", "--id", "42", "--hours", "168"];
    let dead = temp_file("dead", b"deadbeefdeadbeefdeadbeefdeadbeef\n");
    let dead = dead.to_str().unwrap();
    let text = ok(&[&nexus[..], &["--key-file", dead]].concat(), &[]);
    assert!(text.contains("*599 791 493 194 43#"), "{text}");
    let unlink = [
        "nexus",
        "generate",
        "--protocol",
        "channel",
        "--type",
        "unlink-all-accessories",
        "--controller-count",
        "1",
    ];
    let by_file = ok(
        &[&unlink[..], &["--controller-key-file", dead]].concat(),
        &[],
    );
    let by_flag = ok(
        &[
            &unlink[..],
            &["--controller-key", "deadbeefdeadbeefdeadbeefdeadbeef"],
        ]
        .concat(),
        &[],
    );
    let by_var = ok(
        &unlink,
        &[("PAYLOCK_CONTROLLER_KEY", "deadbeefdeadbeefdeadbeefdeadbeef")],
    );
    assert!(by_file.starts_with("keycode: "), "{by_file}");
    assert_eq!((&by_file, &by_file), (&by_flag, &by_var));
    for f in [key, code, bare, batch_key, device_key] {
        std::fs::remove_file(f).unwrap();
    }
    std::fs::remove_file(dead).unwrap();
}

#[test]
fn exactly_one_source_each_named_in_the_refusal() {
    let key = temp_file("one", format!("{KEY}\n").as_bytes());
    let key = key.to_str().unwrap();
    let code = ("PAYLOCK_STARTING_CODE", START);
    let two = refused(
        &[&OPG[..], &["--key", KEY, "--key-file", key]].concat(),
        &[code],
    );
    assert!(
        two.contains("the key is given by --key and --key-file"),
        "{two}"
    );
    let var = refused(
        &[&OPG[..], &["--key-file", key]].concat(),
        &[code, ("PAYLOCK_KEY", KEY)],
    );
    assert!(var.contains("--key-file and PAYLOCK_KEY"), "{var}");
    let none = refused(&OPG, &[code]);
    assert!(
        none.contains("the key is required: give --key-file PATH or PAYLOCK_KEY"),
        "{none}"
    );
    let no_code = refused(&[&OPG[..], &["--key-file", key]].concat(), &[]);
    assert!(
        no_code.contains("the starting code is required"),
        "{no_code}"
    );
    let both = refused(
        &[
            "access",
            "generate",
            "--suite",
            "0",
            "--device-id",
            "1",
            "--counter",
            "1",
            "--value",
            "1",
            "--key-file",
            key,
        ],
        &[("PAYLOCK_BATCH_KEY", BATCH_KEY)],
    );
    assert!(
        both.contains("the device key and the batch key exclude each other"),
        "{both}"
    );
    for text in [two, var, none, no_code, both] {
        assert!(!text.contains(KEY) && !text.contains(BATCH_KEY), "{text}");
    }
    std::fs::remove_file(key).unwrap();
}

#[test]
fn a_bad_source_is_named_by_path_or_variable_never_by_content() {
    let code = ("PAYLOCK_STARTING_CODE", START);
    let missing = std::env::temp_dir().join("paylock-secrets-no-such-file");
    let text = refused(
        &[&OPG[..], &["--key-file", missing.to_str().unwrap()]].concat(),
        &[code],
    );
    assert!(
        text.contains(&format!("--key-file {}: ", missing.display())),
        "{text}"
    );
    // Each bad content is a real key with something wrong: the message must not repeat it.
    let almost = &KEY[..31];
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "short",
            format!("{almost}\n").into_bytes(),
            "got 31 characters",
        ),
        (
            "space",
            format!("{KEY} \n").into_bytes(),
            "got 33 characters",
        ),
        (
            "two",
            format!("{KEY}\n\n").into_bytes(),
            "got 33 characters",
        ),
        (
            "z",
            format!("{almost}z").into_bytes(),
            "character 31 is not a hex digit",
        ),
        (
            "long",
            format!("{KEY}\n").repeat(3).into_bytes(),
            "more than 64 bytes",
        ),
    ];
    for (name, content, why) in cases {
        let path = temp_file(name, &content);
        let text = refused(
            &[&OPG[..], &["--key-file", path.to_str().unwrap()]].concat(),
            &[code],
        );
        assert!(
            text.contains(&format!("--key-file {}: ", path.display())),
            "{text}"
        );
        assert!(text.contains(why), "{name}: {text}");
        assert!(!text.contains(almost), "{name}: {text}");
        std::fs::remove_file(path).unwrap();
    }
    let var = refused(&OPG, &[code, ("PAYLOCK_KEY", almost)]);
    assert!(
        var.contains("PAYLOCK_KEY: the key must be 32 hex characters"),
        "{var}"
    );
    assert!(!var.contains(almost), "{var}");
    let code_file = temp_file("code9", b"1234567890\n");
    let text = refused(
        &[
            &OPG[..],
            &["--starting-code-file", code_file.to_str().unwrap()],
        ]
        .concat(),
        &[("PAYLOCK_KEY", KEY)],
    );
    assert!(
        text.contains("the starting code must be a whole number of up to 9 digits"),
        "{text}"
    );
    assert!(!text.contains("1234567890"), "{text}");
    std::fs::remove_file(code_file).unwrap();
}

#[test]
fn help_says_the_flag_form_is_for_tests() {
    let root = ok(&["--help"], &[]);
    assert!(
        root.contains("PAYLOCK_KEY") && root.contains("for tests"),
        "{root}"
    );
    for command in [
        &["openpaygo", "generate"][..],
        &["openpaygo", "decode"],
        &["nexus", "generate"],
        &["nexus", "enter"],
        &["access", "derive-key"],
        &["access", "generate"],
        &["access", "verify"],
    ] {
        let help = ok(&[command, &["--help"]].concat(), &[]);
        assert!(help.contains("for tests only"), "{command:?}: {help}");
        assert!(help.contains("-file <PATH>"), "{command:?}: {help}");
        assert!(help.contains("PAYLOCK_"), "{command:?}: {help}");
    }
}

/// The secret the sweeps below put everywhere: a key and a starting code no template uses.
const SECRET_KEY: &str = "5f3c9a1e7b2d4c6081a9e3f5b7d9c1e3";
/// `SECRET_KEY` as a decimal integer.
const SECRET_KEY_DECIMAL: &str = "126591323317124353918740396671013339619";
const SECRET_CODE: u32 = 918_273_645;

/// Every form in which the secrets must never be printed.
fn secret_forms() -> Vec<String> {
    vec![
        SECRET_KEY.to_owned(),
        SECRET_KEY.to_uppercase(),
        SECRET_KEY_DECIMAL.to_owned(),
        SECRET_CODE.to_string(),
        format!("{SECRET_CODE:x}"),
        format!("{SECRET_CODE:X}"),
    ]
}

/// The secret forms found in `text`.
fn leaked(text: &str) -> Vec<String> {
    secret_forms()
        .into_iter()
        .filter(|form| text.contains(form.as_str()))
        .collect()
}

/// Marks where a JSON number too wide for `serde_json::Value` goes into a request line.
const KEY_NUMBER: &str = "\"@key as a number@\"";

/// The values put into each field: the key as text (both cases, decimal) and as a number, the
/// starting code as a number, in decimal and in hex.
fn planted() -> Vec<Value> {
    vec![
        json!(SECRET_KEY),
        json!(SECRET_KEY.to_uppercase()),
        json!(SECRET_KEY_DECIMAL),
        json!("@key as a number@"),
        json!(SECRET_CODE),
        json!(SECRET_CODE.to_string()),
        json!(format!("{SECRET_CODE:x}")),
    ]
}

/// One valid request of every op and form of the protocol, reaching every field it reads.
fn templates() -> Vec<Value> {
    let opg_state = json!({ "max_count": 0, "used_counts_bitmask": 0 });
    let opg = json!({
        "scheme": "openpaygo", "key": KEY, "starting_code": 123_456_789,
        "restricted_digit_set": false, "extended_token": false,
    });
    let with = |base: &Value, fields: Value| {
        let mut r = base.clone();
        for (k, v) in fields.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    let full = |kind: &str, fields: Value| {
        with(
            &json!({ "scheme": "nexus", "op": "generate", "protocol": "full", "message_type": kind }),
            fields,
        )
    };
    let small = |kind: &str, fields: Value| {
        with(
            &json!({ "scheme": "nexus", "op": "generate", "protocol": "small", "message_type": kind }),
            fields,
        )
    };
    let dead = "deadbeefdeadbeefdeadbeefdeadbeef";
    let channel = |kind: &str, params: Value| {
        json!({ "scheme": "nexus", "op": "generate", "protocol": "full/channel_origin",
                "message_type": kind, "controller_key_hex": dead, "accessory_key_hex": dead,
                "params": params })
    };
    let ast_config = json!({ "suite": 0, "profile": "L", "device_id": 123_456_789,
                             "device_key": DEVICE_KEY, "key_rev": 0, "unit": "hours" });
    let ast_state = json!({ "max_counter": 0, "used": "0", "mode": "PAYG", "credit": 0,
                            "params": { "1": 5 }, "fails": 0, "lock_until": 0,
                            "test_window_start": 0, "test_count": 0 });
    let ast = json!({ "scheme": "access", "op": "generate", "suite": 0, "profile": "L",
                      "device_key_hex": DEVICE_KEY, "device_id": 123_456_789, "key_rev": 0,
                      "counter": 1, "trace": true });
    let events = json!([
        { "at": 1, "enter": TOKEN, "cut_power_after_bytes": 3 },
        { "at": 2, "power_off": true }, { "at": 3, "power_on": true }, { "at": 4, "status": true },
    ]);
    vec![
        with(
            &opg,
            json!({ "op": "generate", "count": 0, "token_type": "ADD_TIME", "value": 1 }),
        ),
        with(
            &opg,
            json!({ "op": "generate", "count": 0, "token_type": "COUNTER_SYNC" }),
        ),
        with(
            &opg,
            json!({ "op": "decode", "token": TOKEN, "state": opg_state }),
        ),
        full(
            "ADD_CREDIT",
            json!({ "secret_key_hex": dead, "message_id": 42,
                                    "params": { "hours": 168 } }),
        ),
        full(
            "UNLOCK",
            json!({ "secret_key_hex": dead, "message_id": 42,
                                "params": { "hours": 99_999 } }),
        ),
        full(
            "WIPE_STATE",
            json!({ "secret_key_hex": dead, "message_id": 42,
                                    "params": { "target": 1, "flags": "TARGET_FLAGS_1" } }),
        ),
        full(
            "DEMO",
            json!({ "secret_key_hex": dead, "message_id": 42,
                              "params": { "minutes": 10 } }),
        ),
        full("FACTORY_OQC_TEST", json!({ "params": { "minutes": 10 } })),
        full(
            "NOMAC_DEVICE_ID_CONFIRMATION",
            json!({ "params": { "device_id": 12_345 } }),
        ),
        full(
            "PASSTHROUGH_COMMAND",
            json!({ "params": { "application_id": 0,
                                                         "passthrough_digits": "1234" } }),
        ),
        full(
            "PASSTHROUGH_UART_KEY",
            json!({ "secret_key_hex": dead,
                                              "params": { "application_id": 0 } }),
        ),
        small(
            "ADD_CREDIT",
            json!({ "secret_key_hex": dead, "message_id": 42,
            "allow_ids_above_65534": false,
            "params": { "days": 7, "prefix": "1",
                        "key_dict": { "0": "2", "1": "3", "2": "4", "3": "5" } } }),
        ),
        small(
            "SET_CREDIT_LOCK",
            json!({ "secret_key_hex": dead, "message_id": 42,
                                          "params": { "days": 0 } }),
        ),
        small(
            "CUSTOM_WIPE_RESTRICTED_FLAG",
            json!({ "secret_key_hex": dead, "message_id": 42,
                                                      "params": { "increment_id": 253 } }),
        ),
        small(
            "MAINTENANCE_WIPE_IDS_ALL",
            json!({ "secret_key_hex": dead,
                                                   "params": { "function": 2 } }),
        ),
        small(
            "PASSTHROUGH",
            json!({ "params": { "bits26": "10101010101010101010101010" } }),
        ),
        channel(
            "CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3",
            json!({ "controller_command_count": 1, "accessory_command_count": 1 }),
        ),
        channel(
            "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES",
            json!({ "controller_command_count": 1, "controller_action": 0 }),
        ),
        channel(
            "CHANNEL_ORIGIN_UNLOCK_ACCESSORY",
            json!({ "controller_command_count": 1, "accessory_nexus_id": "0102948372a4" }),
        ),
        json!({ "scheme": "nexus", "op": "enter", "protocol": "small", "device_key_hex": dead,
                "keycode_keys": "135242422455244",
                "state": { "pd_index": 23, "received_flags": "000000", "credit_seconds": 0,
                           "unlocked": false, "payg_state": "DISABLED", "qc_short_count": 0,
                           "qc_long_count": 0, "restricted_flag": false, "user_facing_id": 7,
                           "qc_short_max": 5, "qc_long_max": 5 } }),
        json!({ "scheme": "access", "op": "derive_key", "suite": 0, "batch_key_hex": BATCH_KEY,
                "device_id": 123_456_789, "key_rev": 0, "trace": true }),
        with(&ast, json!({ "type": "ADD_CREDIT", "value": 72 })),
        with(
            &ast,
            json!({ "type": "SET_PARAM", "param_id": 1, "param_value": 5 }),
        ),
        with(&ast, json!({ "type": "COUNTER_SYNC", "value": 0 })),
        json!({ "scheme": "access", "op": "generate", "suite": 0, "profile": "S", "type": "TEST",
                "test_id": 0 }),
        json!({ "scheme": "access", "op": "verify", "config": ast_config, "state": ast_state,
                "input": AST_TOKEN, "now": 1_000 }),
        json!({ "op": "simulate", "scheme": "openpaygo", "events": events,
                "device": { "key": KEY, "starting_code": 123_456_789, "time_divider": 1,
                            "restricted_digit_set": false, "extended_token": false,
                            "clock": "rtc", "lockout": "default" } }),
        json!({ "op": "simulate", "scheme": "nexus", "events": events,
                "device": { "protocol": "full", "device_key_hex": dead, "user_facing_id": 7,
                            "clock": "runtime", "lockout": "none" } }),
        json!({ "op": "simulate", "scheme": "access", "events": events, "device": ast_config }),
    ]
}

/// Every leaf of `v` by path (`state.params.1`, `events.0.at`), and every object (to which a
/// field named by the key is added).
fn paths(
    v: &Value,
    at: &mut Vec<String>,
    leaves: &mut Vec<Vec<String>>,
    objects: &mut Vec<Vec<String>>,
) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(map) => {
            objects.push(at.clone());
            map.iter().map(|(k, v)| (k.clone(), v)).collect()
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => {
            leaves.push(at.clone());
            return;
        }
    };
    for (name, child) in children {
        at.push(name);
        paths(child, at, leaves, objects);
        at.pop();
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, part| match v {
        Value::Array(items) => &mut items[part.parse::<usize>().unwrap()],
        other => &mut other[part.as_str()],
    })
}

/// Fields whose value a successful answer hands back by contract: the state to store, the
/// device's build, the timeline's event times, what a Nexus code carries in clear (a device id
/// to confirm, passthrough digits) and the intermediates of an AST `"trace":true` (the MAC
/// input holds the device id and the counter). Only there may a planted number show up.
const ECHOED: [&str; 20] = [
    "params.device_id",
    "params.passthrough_digits",
    "device_id",
    "counter",
    "state.max_count",
    "state.used_counts_bitmask",
    "state.pd_index",
    "state.credit_seconds",
    "state.user_facing_id",
    "state.max_counter",
    "state.credit",
    "state.lock_until",
    "state.test_window_start",
    "state.params.1",
    "events.0.at",
    "events.1.at",
    "events.2.at",
    "events.3.at",
    "events.0.cut_power_after_bytes",
    "now",
];

#[test]
fn no_batch_answer_repeats_a_secret_put_into_any_field() {
    let mut lines = Vec::new();
    let mut cases = Vec::new();
    for template in templates() {
        let (mut leaves, mut objects) = (Vec::new(), Vec::new());
        paths(&template, &mut Vec::new(), &mut leaves, &mut objects);
        for path in leaves.iter().chain(&objects) {
            for value in planted() {
                let mut request = template.clone();
                *at_path(&mut request, path) = value;
                cases.push((template.clone(), path.join(".")));
                lines.push(request.to_string().replace(KEY_NUMBER, SECRET_KEY_DECIMAL));
            }
        }
        for path in objects {
            let mut request = template.clone();
            at_path(&mut request, &path)[SECRET_KEY] = json!(1);
            cases.push((template.clone(), format!("{}.<key>", path.join("."))));
            lines.push(request.to_string());
        }
        // An AST parameter id, a map key that the answer reads.
        if template["op"] == "verify" {
            let mut request = template.clone();
            request["state"]["params"] = json!({ SECRET_KEY: 1, SECRET_CODE.to_string(): 2 });
            cases.push((template.clone(), "state.params.<key>".into()));
            lines.push(request.to_string());
        }
    }
    let out = paylock_env(&["batch"], (lines.join("\n") + "\n").as_bytes(), &[]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let answers = stdout(&out);
    let answers: Vec<&str> = answers.lines().collect();
    assert_eq!(answers.len(), lines.len());
    let (mut refused, mut failures) = (0, Vec::new());
    for ((template, path), answer) in cases.iter().zip(&answers) {
        let ok = answer.starts_with("{\"ok\":true");
        refused += usize::from(!ok);
        let found = leaked(answer);
        let echoed = ok && ECHOED.contains(&path.as_str());
        if !found.is_empty() && !echoed {
            failures.push(format!(
                "{} {} / {path}: {found:?} in {answer}",
                template["scheme"], template["op"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The sweep exercised the refusals: most planted values are wrong for their field.
    assert!(refused > lines.len() / 2, "{refused} of {}", lines.len());
}

/// Flags whose value a successful command prints by contract: cells of the CSV it writes, the
/// state it decoded from, what a Nexus code carries in clear.
const PRINTED: [&str; 7] = [
    "--serial-prefix",
    "--serial-start",
    "--hardware-model",
    "--version",
    "--max-count",
    "--device-id",
    "--digits",
];

/// A valid run of every subcommand that takes values (`batch` reads requests, swept above;
/// `simulate`, `vectors check` and the `*-file` flags take paths, which errors print on
/// purpose), each value a separate argument after its flag.
fn commands() -> Vec<Vec<&'static str>> {
    let dead = "deadbeefdeadbeefdeadbeefdeadbeef";
    let nexus = ["nexus", "generate", "--protocol"];
    let access = [
        "--suite",
        "0",
        "--profile",
        "L",
        "--key",
        DEVICE_KEY,
        "--device-id",
        "123456789",
        "--key-rev",
        "0",
    ];
    vec![
        vec!["openpaygo", "generate", "--key", KEY, "--starting-code", START, "--count", "0", "--type", "add-time", "--value", "1"],
        vec!["openpaygo", "generate", "--key", KEY, "--starting-code", START, "--count", "0", "--days", "1", "--time-divider", "1"],
        vec!["openpaygo", "decode", "--key", KEY, "--starting-code", START, "--token", TOKEN, "--max-count", "0", "--used-counts", "0"],
        vec!["openpaygo", "factory-csv", "new", "--count", "2", "--serial-prefix", "X", "--serial-start", "1", "--time-divider", "1", "--count-start", "1", "--hardware-model", "M", "--version", "V"],
        [&nexus[..], &["full", "--type", "add-credit", "--key", dead, "--id", "42", "--hours", "168"]].concat(),
        [&nexus[..], &["full", "--type", "demo", "--key", dead, "--id", "42", "--minutes", "10", "--allow-demo-codes"]].concat(),
        [&nexus[..], &["full", "--type", "wipe-state", "--key", dead, "--id", "42", "--target", "1"]].concat(),
        [&nexus[..], &["full", "--type", "nomac-device-id-confirmation", "--device-id", "12345"]].concat(),
        [&nexus[..], &["full", "--type", "passthrough-command", "--application-id", "0", "--digits", "1234"]].concat(),
        [&nexus[..], &["small", "--type", "add-credit", "--key", dead, "--id", "42", "--days", "7"]].concat(),
        [&nexus[..], &["small", "--type", "passthrough", "--bits26", "10101010101010101010101010"]].concat(),
        [&nexus[..], &["channel", "--type", "link-accessory-mode-3", "--controller-key", dead, "--controller-count", "1", "--accessory-key", dead, "--accessory-count", "1"]].concat(),
        [&nexus[..], &["channel", "--type", "unlock-accessory", "--controller-key", dead, "--controller-count", "1", "--nexus-id", "0102948372a4"]].concat(),
        vec!["nexus", "enter", "--protocol", "small", "--key", dead, "--keys", "135242422455244", "--state-json", r#"{"pd_index":23,"received_flags":"000000","credit_seconds":0,"unlocked":false}"#],
        vec!["access", "derive-key", "--suite", "0", "--batch-key", BATCH_KEY, "--device-id", "123456789", "--key-rev", "0"],
        [&["access", "generate"][..], &access, &["--type", "add-credit", "--counter", "1", "--value", "72"]].concat(),
        [&["access", "generate"][..], &access, &["--type", "set-param", "--counter", "1", "--param-id", "1", "--param-value", "5"]].concat(),
        vec!["access", "generate", "--suite", "0", "--profile", "L", "--type", "test", "--test-id", "0"],
        [&["access", "verify"][..], &access, &["--unit", "hours", "--token", AST_TOKEN, "--now", "0", "--state-json", r#"{"max_counter":0,"used":"0","mode":"PAYG","credit":0,"params":{},"fails":0,"lock_until":0,"test_window_start":0,"test_count":0}"#]].concat(),
        vec!["keys", "new", "--count", "1"],
    ]
}

/// The whole output of a run, stdout and stderr, and whether it succeeded.
fn printed(args: &[&str], vars: &[(&str, &str)]) -> (String, bool) {
    let out = paylock_env(args, b"", vars);
    (
        format!("{}{}", stdout(&out), stderr(&out)),
        out.status.success(),
    )
}

#[test]
fn no_command_prints_a_secret_given_in_any_flag_argument_or_variable() {
    let key = SECRET_KEY.to_owned();
    let code = SECRET_CODE.to_string();
    let mut failures = Vec::new();
    // A flag of `PRINTED` may show its value in the output of a run that succeeds, never in
    // an error.
    let mut check = |args: &[&str], vars: &[(&str, &str)], printed_flag: bool| {
        let (text, success) = printed(args, vars);
        let found = leaked(&text);
        let by_contract = printed_flag && success;
        if !found.is_empty() && !by_contract {
            failures.push(format!("{args:?} {vars:?}: {found:?} in {text}"));
        }
    };
    for base in commands() {
        let check_ok = paylock_env(&base, b"", &[]);
        assert!(check_ok.status.success(), "{base:?}: {}", stderr(&check_ok));
        let flags = base.iter().position(|a| a.starts_with("--")).unwrap();
        for i in flags..base.len() {
            if base[i].starts_with("--") {
                continue;
            }
            for secret in [&key, &code, &format!("--{key}")] {
                let mut args = base.clone();
                args[i] = secret;
                check(&args, &[], PRINTED.contains(&base[i - 1]));
                // The same value glued to its flag.
                let glued = format!("{}={secret}", base[i - 1]);
                let mut args = base.clone();
                args.splice(i - 1..=i, [glued.as_str()]);
                check(&args, &[], PRINTED.contains(&base[i - 1]));
            }
        }
        for secret in [&key, &code] {
            // A stray argument, an unknown flag, and every variable paylock reads.
            check(&[&base[..], &[secret.as_str()]].concat(), &[], false);
            let flag = format!("--kee={secret}");
            check(&[&base[..], &[flag.as_str()]].concat(), &[], false);
            for var in support::SECRET_VARS {
                check(&base, &[(var, secret)], false);
            }
            // A secret typed where a subcommand goes.
            for at in 0..flags {
                let mut args = base[..at].to_vec();
                args.push(secret);
                check(&args, &[], false);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `factory-csv check` on `text`: what it printed.
fn check_csv(name: &str, text: &str) -> String {
    let path = temp_file(name, text.as_bytes());
    let (out, _) = printed(
        &["openpaygo", "factory-csv", "check", path.to_str().unwrap()],
        &[],
    );
    std::fs::remove_file(path).unwrap();
    out
}

#[test]
fn factory_csv_check_never_prints_a_cell() {
    let header = "Serial Number,Starting Code,Key,Count,Time Divider,Restricted Digit Mode,\
                  Hardware Model,Version,Test Code";
    let row = |cells: [&str; 9]| cells.join(",");
    let good = ["SLT1", "5", KEY, "1", "1", "0", "M", "V", ""];
    let other = ["SLT2", "6", BATCH_KEY, "1", "1", "0", "M", "V", ""];
    let key = SECRET_KEY.to_owned();
    let code = SECRET_CODE.to_string();
    let mut files = Vec::new();
    for secret in [&key, &code, &key.to_uppercase(), &format!("{key},{code}")] {
        for column in 0..9 {
            let mut cells = good;
            cells[column] = secret;
            let rows = [header.to_owned(), row(cells), row(other)];
            files.push(rows.join("\r\n"));
            // In the header, and in a second row that repeats the first one's cell.
            let mut names: Vec<&str> = header.split(',').collect();
            names[column] = secret;
            files.push([names.join(","), row(good)].join("\n"));
            let mut again = other;
            again[column] = secret;
            files.push([header.to_owned(), row(cells), row(again)].join("\n"));
        }
    }
    // A file without its header, a row of one cell, and a row with swapped columns.
    let device = ["SLT9", &code, &key, "1", "1", "0", "", "", ""];
    files.push([row(device), row(good)].join("\n"));
    files.push([header, &key].join("\n"));
    files.push(
        [
            header.to_owned(),
            row(["SLT9", &key, &code, "1", "1", "0", "", "", ""]),
        ]
        .join("\n"),
    );
    files.push([header.to_owned(), format!("SLT9,{code},\"{key}")].join("\n"));
    let mut failures = Vec::new();
    for (i, text) in files.iter().enumerate() {
        let out = check_csv(&format!("sweep{i}.csv"), text);
        let found = leaked(&out);
        if !found.is_empty() {
            failures.push(format!("{text:?}: {found:?} in {out}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
