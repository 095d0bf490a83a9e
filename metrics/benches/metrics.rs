//! OpenPAYGO Metrics timings: a server verifying and expanding a report, answering it, both
//! together (what 0.6.3's `is_auth_valid`, `get_simple_metrics`, `add_tokens_to_answer` and
//! `get_answer_payload` do per report), and the device signing a report and checking an answer.
//!
//! `cargo bench -p paylock-metrics --bench metrics -- --quick` for figures, `-- --test` as a CI
//! smoke run. `tests/differential/metrics_speed.py` compares with 0.6.3 in one run.
#![allow(
    clippy::expect_used,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylock::Key;
use paylock::metrics::{self as device, AuthMethod, Layout, Sent};
use paylock_metrics::{Answer, DataFormat, Device, Options, VerifiedReport, verify};
use serde_json::json;

const KEY: &str = "dac86b1a29ab82edc5fbbc41ec9530f6";
/// The shared vectors' report, condensed, signed with each method.
const CONDENSED_RA: &str = r#"{"sn":"aaa111222","df":1234,"ts":1611583070,"rc":42,"d":[3,false,"1.2.3"],"hd":[[12.31,12.32,1.23,-1.23],[12.3,12.31,1.22,-1.21]],"a":"rab238345b463539c4"}"#;
const SIMPLE_DA: &str = r#"{"serial_number":"aaa111222","data_format_id":1234,"timestamp":1611583070,"request_count":42,"data":{"token_count":3,"tampered":false,"firmware_version":"1.2.3"},"historical_data":[{"panel_voltage":12.31,"battery_voltage":12.32,"panel_current":1.23,"battery_current":-1.23},{"panel_voltage":12.3,"battery_voltage":12.31,"panel_current":1.22,"battery_current":-1.21}],"auth":"da472e8f4158ef0519"}"#;

fn format() -> DataFormat {
    serde_json::from_value(json!({
        "id": 1234,
        "data_order": ["token_count", "tampered", "firmware_version"],
        "historical_data_order": ["panel_voltage", "battery_voltage", "panel_current", "battery_current"],
        "historical_data_interval": 3600,
    }))
    .expect("a data format")
}

fn answer(report: &VerifiedReport, key: &Key) -> String {
    let mut answer = Answer::new();
    answer.tokens(vec![json!("123456789")]);
    paylock_metrics::respond(report, Some(key), &answer)
}

fn server(c: &mut Criterion) {
    let key = Key::from_hex(KEY).expect("a key");
    let format = format();
    let device = Device {
        data_format: Some(&format),
        last_request_count: Some(41),
        ..Device::new(&key)
    };
    let options = Options::default();
    let mut g = c.benchmark_group("metrics/server");
    for (name, text) in [("condensed_ra", CONDENSED_RA), ("simple_da", SIMPLE_DA)] {
        g.bench_function(format!("verify_{name}"), |b| {
            b.iter(|| verify(black_box(text), &device, &options).expect("authentic"));
        });
        let report = verify(text, &device, &options).expect("authentic");
        g.bench_function(format!("respond_{name}"), |b| {
            b.iter(|| answer(black_box(&report), &key));
        });
        g.bench_function(format!("verify_and_respond_{name}"), |b| {
            b.iter(|| {
                let report = verify(black_box(text), &device, &options).expect("authentic");
                answer(&report, &key)
            });
        });
    }
    g.finish();
}

fn on_device(c: &mut Criterion) {
    let key = Key::from_hex(KEY).expect("a key");
    let mut g = c.benchmark_group("metrics/device");
    let mut buf = [0u8; 512];
    for method in [AuthMethod::Counter, AuthMethod::RecursiveData] {
        g.bench_function(format!("sign_condensed_{}", method.prefix()), |b| {
            b.iter(|| {
                let mut report =
                    device::Request::new(&mut buf, Layout::Condensed, "aaa111222").expect("room");
                report.data_format_id(1234).expect("room");
                report.timestamp(1_611_583_070).expect("room");
                report.request_count(black_box(42)).expect("room");
                report
                    .data(|d| {
                        d.int("token_count", 3)?;
                        d.bool("tampered", false)?;
                        d.str("firmware_version", "1.2.3")
                    })
                    .expect("room");
                report
                    .historical_data(|hd| {
                        hd.row(|r| {
                            r.decimal("pv", 1231, 2)?;
                            r.decimal("bv", 1232, 2)?;
                            r.decimal("pc", 123, 2)?;
                            r.decimal("bc", -123, 2)
                        })
                    })
                    .expect("room");
                report.sign(&key, method).map(str::len).expect("signed")
            });
        });
    }
    let format = format();
    let server = Device {
        data_format: Some(&format),
        ..Device::new(&key)
    };
    let report = verify(CONDENSED_RA, &server, &Options::default()).expect("authentic");
    let text = answer(&report, &key);
    let sent = Sent {
        serial_number: "aaa111222",
        timestamp: 1_611_583_070,
        request_count: 42,
    };
    g.bench_function("verify_answer", |b| {
        b.iter(|| {
            device::Answer::verify(black_box(text.as_bytes()), &key, &sent)
                .expect("signed")
                .tokens()
                .count()
        });
    });
    g.finish();
}

criterion_group!(benches, server, on_device);
criterion_main!(benches);
