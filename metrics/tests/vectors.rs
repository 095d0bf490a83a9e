//! Replays the OpenPAYGO Metrics vectors on the server side: every request verifies and expands
//! to the reference's `get_simple_metrics()` text, every negative case gets its labelled error
//! (and, where paylock fixes 0.6.3, the compatibility switch gets 0.6.3's result), every answer
//! is rebuilt byte for byte in both forms. Expected values are `openpaygo` 0.6.3's.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock::Key;
use paylock_metrics::{
    Answer, AuthMethod, Compat, DataFormat, Device, Dialect, Options, Request, VerifiedReport,
    verify,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/openpaygo/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn key(v: &Value) -> Key {
    Key::from_hex(v.as_str().unwrap()).unwrap()
}

fn format(v: &Value) -> Option<DataFormat> {
    (!v.is_null()).then(|| serde_json::from_value(v.clone()).unwrap())
}

/// Verifies `payload` as the reference server in `server` did.
fn check(
    payload: &str,
    key: &Key,
    server: &Value,
    dialect: Dialect,
    compat: Compat,
) -> Result<VerifiedReport, paylock_metrics::MetricsError> {
    check_pinned(payload, key, server, dialect, compat, None)
}

/// [`check`] for a device known to sign with `method` only.
fn check_pinned(
    payload: &str,
    key: &Key,
    server: &Value,
    dialect: Dialect,
    compat: Compat,
    method: Option<AuthMethod>,
) -> Result<VerifiedReport, paylock_metrics::MetricsError> {
    let format = format(&server["data_format"]);
    let device = Device {
        key,
        data_format: format.as_ref(),
        last_request_count: server["last_request_count"].as_u64(),
        last_timestamp: server["last_request_timestamp"].as_u64(),
        dialect,
        method,
    };
    let options = Options {
        received_at: server["received_at"].as_i64().unwrap(),
        compat,
    };
    verify(payload, &device, &options)
}

#[test]
fn shared_auth_vectors_verify() {
    let vectors = load("metrics_auth.json");
    // The names and interval the shared vectors' simple form shows.
    let format: DataFormat = serde_json::from_str(
        r#"{"id":1234,"data_order":["token_count","tampered","firmware_version"],
            "historical_data_order":["panel_voltage","battery_voltage","panel_current","battery_current"],
            "historical_data_interval":3600}"#,
    )
    .unwrap();
    let mut reports = Vec::new();
    for v in vectors["metrics_auth"].as_array().unwrap() {
        let k = key(&v["key"]);
        let payload = v["payload"].as_str().unwrap();
        let device = Device {
            data_format: Some(&format),
            ..Device::new(&k)
        };
        let report = verify(payload, &device, &Options::default()).unwrap();
        assert_eq!(
            report.auth_method.prefix(),
            v["auth_method"].as_str().unwrap()
        );
        reports.push(report.metrics_json());
        let wrong = Key::new([0; 16]);
        let refused = verify(payload, &Device::new(&wrong), &Options::default());
        assert_eq!(refused.unwrap_err().kind(), "auth_mismatch");
    }
    // Both forms of the same report expand to the same simple metrics.
    assert!(reports.iter().all(|r| r == &reports[0]));
}

#[test]
fn requests_verify_and_expand_as_the_reference() {
    let vectors = load("metrics_requests.json");
    let requests = vectors["requests"].as_array().unwrap();
    assert!(requests.len() >= 30);
    for v in requests {
        let name = v["name"].as_str().unwrap();
        let server = &v["server"];
        assert_eq!(server["is_auth_valid"]["value"], true, "{name}");
        let report = check(
            v["payload"].as_str().unwrap(),
            &key(&v["key"]),
            server,
            Dialect::Standard,
            Compat::Paylock,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            report.auth_method.prefix(),
            v["auth_method"].as_str().unwrap()
        );
        assert_eq!(
            report.metrics_json(),
            server["simple_metrics"]["json"].as_str().unwrap(),
            "{name}"
        );
        // Expanded without verifying (the Python drop-in's get_simple_metrics): the same.
        let format = format(&server["data_format"]);
        let options = Options {
            received_at: server["received_at"].as_i64().unwrap(),
            compat: Compat::Paylock,
        };
        let alone = Request::parse(v["payload"].as_str().unwrap())
            .unwrap()
            .expand(format.as_ref(), &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(alone, report.metrics, "{name}");
    }
}

/// Checks one labelled outcome: `{"ok": true}` (optionally with the expected report) or
/// `{"error": kind}`.
fn expect(
    name: &str,
    label: &Value,
    got: &Result<VerifiedReport, paylock_metrics::MetricsError>,
    reference: &Value,
) {
    if let Some(kind) = label["error"].as_str() {
        match got {
            Err(e) => assert_eq!(e.kind(), kind, "{name}: {e}"),
            Ok(_) => panic!("{name}: accepted, want {kind}"),
        }
        return;
    }
    let report = got.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = label["simple_metrics"]["json"]
        .as_str()
        .or_else(|| reference["json"].as_str())
        .unwrap_or_else(|| panic!("{name}: no expected report"));
    assert_eq!(report.metrics_json(), want, "{name}");
}

#[test]
fn negative_cases_get_their_labels() {
    let vectors = load("metrics_negative.json");
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 100);
    let mut fixed = 0;
    for v in cases {
        let name = v["name"].as_str().unwrap();
        let dialect = match v["dialect"].as_str() {
            Some("hdk_trailing_nul") => Dialect::HdkTrailingNul,
            _ => Dialect::Standard,
        };
        let payload = v["payload"].as_str().unwrap();
        let k = key(&v["key"]);
        let server = &v["server"];
        let reference = &server["simple_metrics"];
        let pinned = v["method"]
            .as_str()
            .and_then(|m| AuthMethod::from_prefix(m.as_bytes()));
        let got = check_pinned(payload, &k, server, dialect, Compat::Paylock, pinned);
        expect(name, &v["paylock"], &got, reference);
        let compat = check_pinned(payload, &k, server, dialect, Compat::Openpaygo063, pinned);
        match v.get("paylock_compat_openpaygo_0_6_3") {
            Some(label) => {
                fixed += 1;
                expect(name, label, &compat, reference);
            }
            None => assert_eq!(
                compat.map(|r| r.metrics_json()).map_err(|e| e.kind()),
                got.map(|r| r.metrics_json()).map_err(|e| e.kind()),
                "{name}: the switch changes nothing here"
            ),
        }
        // Wherever the reference accepts and paylock does too, the reports are the same.
        if server["is_auth_valid"]["value"] == true && v["paylock"]["ok"] == true {
            assert!(reference["json"].is_string() || v["paylock"]["simple_metrics"].is_object());
        }
    }
    assert!(fixed >= 5);
}

#[test]
fn answers_rebuild_in_both_forms() {
    let vectors = load("metrics_responses.json");
    let answers = vectors["answers"].as_array().unwrap();
    assert!(answers.len() >= 40);
    for v in answers {
        let name = v["name"].as_str().unwrap();
        let k = key(&v["key"]);
        let format = format(&v["data_format"]);
        let device = Device {
            data_format: format.as_ref(),
            ..Device::new(&k)
        };
        let now = v["now"].as_i64().unwrap();
        let options = Options {
            received_at: now,
            compat: Compat::Paylock,
        };
        let report = verify(v["request"].as_str().unwrap(), &device, &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.auth_method, AuthMethod::RecursiveData);
        for (mode, compat) in [
            ("openpaygo_0_6_3", Compat::Openpaygo063),
            ("paylock", Compat::Paylock),
        ] {
            let mut answer = Answer::new();
            for call in v["calls"].as_array().unwrap() {
                let argument = &call[1];
                match call[0].as_str().unwrap() {
                    "tokens" => {
                        answer.tokens(argument.as_array().unwrap().clone());
                    }
                    "time" => {
                        answer
                            .time(&report, argument.as_i64(), now, compat)
                            .unwrap();
                    }
                    "settings" => {
                        answer.settings(argument.as_object().unwrap().clone());
                    }
                    "base_url" => {
                        answer.base_url(argument.as_str().unwrap());
                    }
                    "extra_data" => {
                        answer.extra_data(argument.as_object().unwrap().clone());
                    }
                    other => panic!("unknown call {other}"),
                }
            }
            let signing = v["signed"].as_bool().unwrap().then_some(&k);
            assert_eq!(
                paylock_metrics::respond(&report, signing, &answer),
                v[mode]["payload"].as_str().unwrap(),
                "{name} {mode}"
            );
        }
    }
}
