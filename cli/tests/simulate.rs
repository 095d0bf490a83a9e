//! The `simulate` batch op and `paylock simulate`: the contract (row fields, outcome
//! names, OpenPAYGO's exact waiting period, power cuts mid-write, the two clock models) and
//! its precise errors. Expected values come from the rules, tokens from the issuers.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::panic_in_result_fn,
    missing_docs
)] // test code

#[path = "support/cli.rs"]
mod support;

use paylock::Key;
use paylock::openpaygo::{Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret};
use serde_json::{Value, json};
use support::{paylock, stdout};

const KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";
const START: u32 = 123_456_789;
const DAY: u64 = 86_400;

/// OpenPAYGO standard tokens adding `days`, in issue order from count 0.
fn tokens(days: &[u32]) -> Vec<String> {
    let secret = OpenPaygoSecret::new(Key::from_hex(KEY).unwrap(), START).unwrap();
    let mut count = 0;
    days.iter()
        .map(|&d| {
            let g = OpenPaygoIssuer::new(Form::STANDARD)
                .generate(&secret, count, OpenPaygoMessage::AddTime(d))
                .unwrap();
            count = g.count;
            g.token.as_str().to_owned()
        })
        .collect()
}

fn device(clock: &str, lockout: &str) -> Value {
    json!({"key": KEY, "starting_code": START, "restricted_digit_set": false,
           "extended_token": false, "clock": clock, "lockout": lockout})
}

fn simulate(device: Value, events: Value) -> Result<Vec<Value>, (String, String)> {
    let request =
        json!({"op": "simulate", "scheme": "openpaygo", "device": device, "events": events});
    match paylock_protocol::batch::handle(&request) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["ok"], true);
            Ok(v["timeline"].as_array().unwrap().clone())
        }
        Err(e) => Err((e.kind.to_string(), e.message)),
    }
}

fn outcomes(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r["outcome"].as_str().unwrap_or("null"))
        .collect()
}

#[test]
fn rows_carry_the_contract_fields_in_order() {
    let [t] = &tokens(&[1])[..] else { panic!() };
    let rows = simulate(
        device("rtc", "default"),
        json!([{"at": 5, "enter": t}, {"at": 6, "status": true}]),
    )
    .unwrap();
    let keys: Vec<&str> = rows[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "at",
            "event",
            "outcome",
            "active",
            "credit_seconds_left",
            "payg",
            "lockout_seconds_left"
        ]
    );
    assert_eq!(rows[0]["outcome"], "APPLIED");
    assert_eq!(rows[0]["credit_seconds_left"], DAY);
    assert_eq!(rows[0]["command"], "ADD_CREDIT");
    assert_eq!(rows[1]["credit_seconds_left"], DAY - 1);
    assert_eq!(rows[1]["payg"], "ENABLED");
    assert_eq!(rows[1]["outcome"], Value::Null);
}

/// The rule: 1st and 2nd wrong codes free, 3rd 60 s, 4th 120 s, doubling to 512 min;
/// LOCKED_OUT entries neither count nor extend; a valid code resets the count.
#[test]
fn openpaygo_waiting_period_is_exact() {
    let mut events = Vec::new();
    let mut at = 1_000u64;
    let mut expected_waits = Vec::new();
    for k in 1..=14u32 {
        events.push(json!({"at": at, "enter": format!("{:09}", 100_000_000 + k)}));
        let wait = match k {
            1 | 2 => 0,
            _ => (60u64 << (k - 3)).min(512 * 60),
        };
        expected_waits.push(wait);
        // Try once while locked (refused, no effect), then wait it out.
        if wait > 0 {
            events.push(json!({"at": at + 1, "enter": "999999999"}));
        }
        at += wait.max(1);
    }
    let rows = simulate(device("rtc", "default"), Value::Array(events)).unwrap();
    let mut i = 0;
    for wait in expected_waits {
        assert_eq!(rows[i]["outcome"], "INVALID", "row {i}");
        assert_eq!(rows[i]["lockout_seconds_left"], wait, "row {i}");
        i += 1;
        if wait > 0 {
            assert_eq!(rows[i]["outcome"], "LOCKED_OUT", "row {i}");
            assert_eq!(
                rows[i]["lockout_seconds_left"],
                wait - 1,
                "row {i}: not extended"
            );
            i += 1;
        }
    }
    assert_eq!(i, rows.len());
    assert_eq!(60u64 << 9, 512 * 60);
}

#[test]
fn a_valid_code_resets_the_count_and_duplicates_do_not_count() {
    let t = tokens(&[1, 1]);
    let rows = simulate(
        device("rtc", "default"),
        json!([
            {"at": 0, "enter": "100000001"}, {"at": 1, "enter": "100000002"},
            {"at": 2, "enter": t[0]}, {"at": 3, "enter": t[0]}, {"at": 4, "enter": t[0]},
            {"at": 5, "enter": "100000003"}, {"at": 6, "enter": "100000004"},
            {"at": 7, "enter": "100000005"},
        ]),
    )
    .unwrap();
    assert_eq!(
        outcomes(&rows),
        [
            "INVALID",
            "INVALID",
            "APPLIED",
            "DUPLICATE",
            "DUPLICATE",
            "INVALID",
            "INVALID",
            "INVALID"
        ]
    );
    let waits: Vec<u64> = rows
        .iter()
        .map(|r| r["lockout_seconds_left"].as_u64().unwrap())
        .collect();
    assert_eq!(waits, [0, 0, 0, 0, 0, 0, 0, 60]);
}

#[test]
fn lockout_none_never_locks() {
    let events: Vec<Value> = (0..20)
        .map(|k| json!({"at": k, "enter": format!("{:09}", 200_000_000 + k)}))
        .collect();
    let rows = simulate(device("rtc", "none"), Value::Array(events)).unwrap();
    assert!(
        rows.iter()
            .all(|r| r["outcome"] == "INVALID" && r["lockout_seconds_left"] == 0)
    );
}

/// An applied code writes twice: the attempt counted as a wrong code (one 60-byte OpenPAYGO
/// record), then the result. A cut in the first write loses the entry before its code is
/// checked (`outcome` null); a cut in the second shows the verdict the device had computed and
/// leaves the attempt counted, the code unused; past both, the entry took effect. Never is
/// earlier credit lost or the code applied twice.
#[test]
fn power_cut_after_every_byte_of_a_write() {
    const RECORD: u64 = 60;
    let t = tokens(&[1, 2]);
    let mut seen_interrupted = 0;
    for n in 0..=u32::try_from(2 * RECORD + 4).unwrap() {
        let rows = simulate(
            device("rtc", "default"),
            json!([
                {"at": 10, "enter": t[0]},
                {"at": 20, "enter": t[1], "cut_power_after_bytes": n},
                {"at": 30, "enter": t[1]},
                {"at": 40, "enter": t[0]},
            ]),
        )
        .unwrap();
        let cut = &rows[1]["power_cut"];
        let (n, w) = (u64::from(n), format!("n={n}"));
        // The writes begun: the count, and once it is in, the result.
        let writes = if n < RECORD { 1 } else { 2 };
        assert_eq!(cut["write_bytes"], writes * RECORD, "{w}");
        let interrupted = n < 2 * RECORD;
        assert_eq!(cut["interrupted"], interrupted, "{w}");
        assert_eq!(rows[1]["boot"], "restored");
        let took = cut["took_effect"].as_bool().unwrap();
        let counted = cut["counted"].as_bool().unwrap();
        assert!(!(took && counted), "{w}");
        if n < RECORD {
            // Cut before the code was checked.
            assert_eq!(rows[1]["outcome"], Value::Null, "{w}");
            assert!(!took, "{w}");
        } else {
            assert_eq!(rows[1]["outcome"], "APPLIED", "{w}");
            assert_eq!(rows[1]["command"], "ADD_CREDIT", "{w}");
        }
        if interrupted {
            seen_interrupted += 1;
            assert!(
                rows[1]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("power was cut")
            );
        } else {
            assert!(took, "{w}");
        }
        if (RECORD..2 * RECORD - 1).contains(&n) {
            // The count is in, the result is not.
            assert!(counted && !took, "{w}");
        }
        // Credit after the cut: the first day for sure, plus the second token's two if it took.
        let left = rows[1]["credit_seconds_left"].as_u64().unwrap();
        let expect = 10 + DAY - 20 + if took { 2 * DAY } else { 0 };
        assert_eq!(left, expect, "{w}");
        assert_eq!(
            rows[2]["outcome"],
            if took { "DUPLICATE" } else { "APPLIED" },
            "{w}"
        );
        assert_eq!(
            rows[2]["credit_seconds_left"].as_u64().unwrap(),
            10 + 3 * DAY - 30
        );
        assert_eq!(rows[3]["outcome"], "DUPLICATE");
    }
    assert_eq!(seen_interrupted, 2 * RECORD);
}

/// The device key, record size and honest wrong-code allowance of each scheme, and one wrong
/// code for it.
struct Device {
    scheme: &'static str,
    device: Value,
    wrong: &'static str,
    record: u32,
    /// INVALID answers within the first 60 s of wrong codes 1 s apart, as the schemes' rules
    /// say: OpenPAYGO 2 free then a 60 s wait, AST 3 free then 60 s, Nexus 6 attempts of grace
    /// with one more per 720 s.
    honest: usize,
}

fn devices() -> [Device; 3] {
    [
        Device {
            scheme: "openpaygo",
            device: device("rtc", "default"),
            wrong: "111111111",
            record: 60,
            honest: 3,
        },
        Device {
            scheme: "nexus",
            device: json!({"protocol": "full", "device_key_hex": "deadbeefdeadbeefdeadbeefdeadbeef",
                           "user_facing_id": 42}),
            wrong: "*11111111111111#",
            record: 54,
            honest: 6,
        },
        Device {
            scheme: "access",
            device: json!({"suite": 2, "profile": "L", "device_id": 4242,
                           "device_key": "00112233445566778899aabbccddeeff", "key_rev": 0}),
            wrong: "1111 1111 1111 1111 1111",
            record: 103,
            honest: 4,
        },
    ]
}

/// Wrong codes 1 s apart, each with the power cut after `k` bytes of its writes, for every `k`
/// from 0 to past two records: never more INVALID answers in the first 60 s than the device
/// gives with no cuts at all.
#[test]
fn cutting_power_at_any_byte_reveals_no_more_wrong_codes_than_the_lockout_allows() {
    for d in devices() {
        let run = |cut: Option<u32>| {
            let events: Vec<Value> = (1..=60)
                .map(|at| match cut {
                    Some(k) => json!({"at": at, "enter": d.wrong, "cut_power_after_bytes": k}),
                    None => json!({"at": at, "enter": d.wrong}),
                })
                .collect();
            let request = json!({"op": "simulate", "scheme": d.scheme, "device": d.device,
                                 "events": events});
            let v: Value =
                serde_json::from_str(&paylock_protocol::batch::handle(&request).unwrap()).unwrap();
            v["timeline"].as_array().unwrap().clone()
        };
        let invalid = |rows: &[Value]| rows.iter().filter(|r| r["outcome"] == "INVALID").count();
        let honest = run(None);
        assert_eq!(invalid(&honest), d.honest, "{} with no cuts", d.scheme);
        for k in 0..=2 * d.record + 2 {
            let rows = run(Some(k));
            let seen = invalid(&rows);
            assert!(
                seen <= d.honest,
                "{} cut after {k}: {seen} INVALID",
                d.scheme
            );
            // A cut in the count hides the verdict; once the count is in, the answer and the
            // lockout are the honest device's.
            if k < d.record {
                assert_eq!(seen, 0, "{} cut after {k}", d.scheme);
            } else {
                assert_eq!(
                    outcomes(&rows),
                    outcomes(&honest),
                    "{} cut after {k}",
                    d.scheme
                );
            }
        }
    }
}

/// The hashing a request may cost is bounded: an OpenPAYGO device with a high count makes
/// every entry scan that many counts, and a request that would pass the budget is refused with
/// a typed error naming the limit, before the event that would pass it runs. Each entry is
/// charged its worst case, locked out or not, so this one refuses after little real work.
#[test]
fn hashing_work_per_request_is_bounded() {
    use paylock_protocol::simulate::MAX_WORK;
    let secret = OpenPaygoSecret::new(Key::from_hex(KEY).unwrap(), START).unwrap();
    // Counter syncs 99 counts apart (a sync may jump 100) climb to count 5,000.
    let mut events = Vec::new();
    let mut count = 0;
    let mut at = 0;
    while count < 5_000 {
        let g = OpenPaygoIssuer::new(Form::STANDARD)
            .generate(&secret, count + 98, OpenPaygoMessage::CounterSync)
            .unwrap();
        count = g.count;
        at += 1;
        events.push(json!({"at": at, "enter": g.token.as_str()}));
    }
    let (climb, top) = (events.len(), u64::from(count));
    // Then wrong codes: each may scan every count up to 100 past the device's.
    for k in 0..5_000 {
        at += 1;
        events.push(json!({"at": at, "enter": format!("{:09}", 100_000_000 + k)}));
    }
    let request = json!({"op": "simulate", "scheme": "openpaygo",
                         "device": device("rtc", "default"), "events": events});
    let e = paylock_protocol::batch::handle(&request).unwrap_err();
    assert_eq!(e.kind, "too_much_work");
    assert!(e.message.contains(&MAX_WORK.to_string()), "{}", e.message);
    assert!(e.message.contains("field \"events\""), "{}", e.message);
    let at_event: usize = e
        .message
        .split("events[")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The climb costs about top² / 200; each wrong code then top + 101 and 8 for the record.
    let spent_climbing = top * top / 200;
    let expected = climb + usize::try_from((MAX_WORK - spent_climbing) / (top + 109)).unwrap();
    assert!(
        at_event.abs_diff(expected) < 20,
        "refused at events[{at_event}], expected about {expected}"
    );
    // The part before the refused event runs.
    let mut short = request.clone();
    short["events"] = Value::Array(events[..at_event].to_vec());
    assert!(paylock_protocol::batch::handle(&short).is_ok());
    // 100,000 events of any scheme at a low count fit.
    let many: Vec<Value> = (0..100_000u32)
        .map(|k| json!({"at": k, "enter": format!("{:09}", 100_000_000 + k)}))
        .collect();
    let request = json!({"op": "simulate", "scheme": "openpaygo",
                         "device": device("rtc", "default"), "events": many});
    if let Err(e) = paylock_protocol::batch::handle(&request) {
        panic!("{}: {}", e.kind, e.message);
    }
}

#[test]
fn runtime_clock_stops_while_off_and_rtc_does_not() {
    let [t] = &tokens(&[2])[..] else { panic!() };
    let events = json!([
        {"at": 0, "enter": t}, {"at": 3_600, "power_off": true},
        {"at": 100_000, "status": true}, {"at": 200_000, "power_on": true},
        {"at": 203_600, "status": true},
    ]);
    let runtime = simulate(device("runtime", "default"), events.clone()).unwrap();
    let left: Vec<u64> = runtime
        .iter()
        .map(|r| r["credit_seconds_left"].as_u64().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            2 * DAY,
            2 * DAY - 3_600,
            2 * DAY - 3_600,
            2 * DAY - 3_600,
            2 * DAY - 7_200
        ]
    );
    assert_eq!(runtime[3]["boot"], "restored");
    let rtc = simulate(device("rtc", "default"), events).unwrap();
    let left: Vec<u64> = rtc
        .iter()
        .map(|r| r["credit_seconds_left"].as_u64().unwrap())
        .collect();
    assert_eq!(left, [2 * DAY, 2 * DAY - 3_600, 2 * DAY - 100_000, 0, 0]);
    assert_eq!(rtc[4]["active"], false);
}

#[test]
fn a_lockout_survives_a_power_cycle() {
    let events = json!([
        {"at": 0, "enter": "100000001"}, {"at": 1, "enter": "100000002"},
        {"at": 2, "enter": "100000003"}, {"at": 10, "power_off": true},
        {"at": 20, "power_on": true}, {"at": 21, "enter": "100000004"},
    ]);
    for clock in ["rtc", "runtime"] {
        let rows = simulate(device(clock, "default"), events.clone()).unwrap();
        assert_eq!(rows[4]["boot"], "restored");
        assert_eq!(rows[5]["outcome"], "LOCKED_OUT", "{clock}");
        // RTC: 60 s from t=2; runtime: the 10 s off do not count.
        let left = if clock == "rtc" { 60 - 19 } else { 60 - 9 };
        assert_eq!(rows[5]["lockout_seconds_left"], left, "{clock}");
    }
}

#[test]
fn bad_requests_are_precise_errors() {
    let t = tokens(&[1]);
    let cases = [
        (
            json!([{"at": 5, "status": true}, {"at": 4, "status": true}]),
            "invalid_event",
            "field \"events[1].at\" is before the previous event's: events go forward in time",
        ),
        (
            json!([{"at": 5, "power_off": true}, {"at": 6, "enter": t[0]}]),
            "invalid_event",
            "events[1]: the device is off: power it on before entering a code",
        ),
        (
            json!([{"at": 5, "power_on": true}]),
            "invalid_event",
            "events[0]: the device is already on",
        ),
        (
            json!([{"at": 5, "status": true, "power_on": true}]),
            "invalid_event",
            "events[0] has power_on, status of \"enter\", \"power_off\", \"power_on\", \"status\"; it needs exactly one",
        ),
        (
            json!([{"at": 5}]),
            "invalid_event",
            "events[0] has none of \"enter\", \"power_off\", \"power_on\", \"status\"; it needs exactly one",
        ),
        (
            json!([{"at": 5, "status": true, "cut_power_after_bytes": 3}]),
            "invalid_event",
            "events[0]: \"cut_power_after_bytes\" goes with \"enter\", not \"status\"",
        ),
        (
            json!([{"at": 5, "status": false}]),
            "invalid_event",
            "events[0]: \"status\" must be true (omit it otherwise)",
        ),
        (
            json!([{"at": -1, "status": true}]),
            "out_of_range",
            "field \"events[0].at\"",
        ),
        (
            json!([{"status": true}]),
            "missing_field",
            "field \"events[0].at\" is required",
        ),
        (
            json!(["x"]),
            "wrong_type",
            "field \"events[0]\" must be an object",
        ),
        (
            json!({"at": 1}),
            "wrong_type",
            "field \"events\" must be an array",
        ),
    ];
    for (events, kind, message) in cases {
        let (k, m) = simulate(device("rtc", "default"), events.clone()).unwrap_err();
        assert_eq!(k, kind, "{events}: {m}");
        assert!(m.starts_with(message), "{events}: {m}");
    }
    let mut bad = device("sundial", "default");
    let (k, m) = simulate(bad.clone(), json!([])).unwrap_err();
    assert_eq!(
        (k.as_str(), m.contains("\"device.clock\"")),
        ("invalid_clock", true),
        "{m}"
    );
    bad["clock"] = "rtc".into();
    bad["lockout"] = "strict".into();
    assert_eq!(
        simulate(bad.clone(), json!([])).unwrap_err().0,
        "invalid_lockout"
    );
    bad["lockout"] = "default".into();
    bad["key"] = "xyz".into();
    let (k, m) = simulate(bad, json!([])).unwrap_err();
    assert_eq!(k, "invalid_key");
    assert!(m.contains("\"device.key\""), "{m}");
}

/// The scenario files shipped in examples/scenarios run, and the CLI prints them as a table.
#[test]
fn example_scenarios_run_through_the_cli() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios");
    let expected = [
        (
            "openpaygo.json",
            vec![
                "null",
                "INVALID",
                "APPLIED",
                "INVALID",
                "INVALID",
                "INVALID",
                "LOCKED_OUT",
                "null",
                "null",
                "null",
                "APPLIED",
                "DUPLICATE",
                "null",
                "APPLIED",
                "APPLIED",
                "null",
            ],
        ),
        (
            "access.json",
            vec![
                "APPLIED",
                "APPLIED",
                "INVALID",
                "INVALID",
                "INVALID",
                "INVALID",
                "LOCKED_OUT",
                "APPLIED",
                "DUPLICATE",
            ],
        ),
    ];
    for (file, want) in expected {
        let path = dir.join(file);
        let out = paylock(&["simulate", path.to_str().unwrap(), "--json"], "");
        assert!(out.status.success(), "{file}");
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(outcomes(v["timeline"].as_array().unwrap()), want, "{file}");
        let table = paylock(&["simulate", path.to_str().unwrap()], "");
        let text = stdout(&table);
        assert_eq!(text.lines().count(), want.len() + 1, "{file}");
        assert!(text.starts_with("   at (s)  event"), "{text}");
    }
    let nexus = paylock(
        &[
            "simulate",
            dir.join("nexus.json").to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let v: Value = serde_json::from_str(&stdout(&nexus)).unwrap();
    let rows = v["timeline"].as_array().unwrap();
    // Runtime clock: the day off costs nothing; ADD while unlocked adds nothing but uses up its
    // ID (applied, no credit change); SET re-locks.
    assert_eq!(rows[3]["credit_seconds_left"], DAY - 3_600);
    assert_eq!(outcomes(&rows[4..7]), ["APPLIED", "APPLIED", "APPLIED"]);
    assert_eq!(rows[5]["payg"], "UNLOCKED");
    assert_eq!(
        (&rows[5]["command"], &rows[5]["sequence"]),
        (&json!("SCHEME"), &json!(2))
    );
    assert_eq!(rows[5]["credit_seconds_left"], DAY - 3_600 - 200);
    assert_eq!(rows[6]["payg"], "ENABLED");
    assert_eq!(rows[6]["credit_seconds_left"], 12 * 3_600);
    assert!(outcomes(rows).contains(&"LOCKED_OUT"));
    let missing = paylock(&["simulate", "/nonexistent.json"], "");
    assert_eq!(missing.status.code(), Some(2));
}

/// Stepping a `SimulatedDevice` one event at a time gives the batch op's rows; a refused event
/// changes nothing and the next one still works.
#[test]
fn a_device_stepped_event_by_event_matches_the_batch_op() {
    use paylock_protocol::simulate::SimulatedDevice;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios/access.json"),
    )
    .unwrap();
    let scenario: Value = serde_json::from_str(&text).unwrap();
    let mut request = scenario.clone();
    request["op"] = "simulate".into();
    let whole: Value =
        serde_json::from_str(&paylock_protocol::batch::handle(&request).unwrap()).unwrap();
    let mut device = SimulatedDevice::new("access", &scenario["device"]).unwrap();
    for (i, event) in scenario["events"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            device.step(event).unwrap(),
            whole["timeline"][i],
            "event {i}"
        );
        let refused = device.step(&json!({"at": 0, "status": true})).unwrap_err();
        assert_eq!(refused.kind, "invalid_event");
    }
    assert_eq!(
        SimulatedDevice::new("sundial", &scenario["device"])
            .unwrap_err()
            .kind,
        "unknown_scheme"
    );
    assert_eq!(
        SimulatedDevice::new("access", &json!(3)).unwrap_err().kind,
        "wrong_type"
    );
}
