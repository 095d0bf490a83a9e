//! The device's reading of an answer: any bytes never panic; an answer the server signed is
//! accepted with the tokens, time and settings it carries, and with any one byte changed it is
//! refused or carries the same.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::Key;
use paylock::metrics::{Answer as DeviceAnswer, Sent, Unverified};
use paylock_metrics::{Answer, Device, Options, verify};
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    key: [u8; 16],
    serial: String,
    count: u32,
    until: bool,
    tokens: Vec<u32>,
    target: Option<u32>,
    settings: Vec<(String, i32)>,
    build: bool,
    at: u16,
    byte: u8,
    text: &'a [u8],
}

/// Everything a device takes from an answer (no settings and empty settings are the same:
/// neither is signed).
fn read(answer: &DeviceAnswer<'_>) -> String {
    let members = |m: Option<paylock::metrics::Object<'_>>| {
        m.map(|m| {
            m.map(|(k, v)| (k.chars().collect::<String>(), v.raw().to_owned()))
                .collect::<Vec<_>>()
        })
        .filter(|m| !m.is_empty())
    };
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        answer.tokens().collect::<Vec<_>>(),
        answer.active_until(),
        answer.active_seconds_left(),
        members(answer.settings()),
        members(answer.extra_data()),
    )
}

fuzz_target!(|input: Input<'_>| {
    let key = Key::new(input.key);
    let sent = Sent {
        serial_number: &input.serial,
        timestamp: 0,
        request_count: u64::from(input.count),
    };
    if !input.build {
        if let Ok(parsed) = Unverified::parse(input.text) {
            let _ = parsed.tokens().count();
            if let Ok(answer) = parsed.verify(&key, &sent) {
                let _ = read(&answer);
            }
        }
        return;
    }
    if input.count == 0 {
        return;
    }
    // The server's side: a report asking for a time, verified, then answered.
    let flag = if input.until {
        "active_until_timestamp_requested"
    } else {
        "active_seconds_left_requested"
    };
    let mut buf = vec![0u8; 4096];
    let mut request =
        paylock::metrics::Request::new(&mut buf, paylock::metrics::Layout::Simple, &input.serial)
            .unwrap();
    request.request_count(u64::from(input.count)).unwrap();
    request.data(|d| d.bool(flag, true)).unwrap();
    let text = request
        .sign(&key, paylock::metrics::AuthMethod::RecursiveData)
        .unwrap()
        .to_owned();
    let report = verify(
        &text,
        &Device::new(&key),
        &Options {
            received_at: 1_700_000_000,
            ..Options::default()
        },
    )
    .expect("a signed report verifies");
    let mut answer = Answer::new();
    answer.tokens(
        input
            .tokens
            .iter()
            .take(8)
            .map(|&t| Value::from(t))
            .collect(),
    );
    answer
        .time(
            &report,
            input.target.map(i64::from),
            1_700_000_000,
            Default::default(),
        )
        .unwrap();
    let settings: Map<String, Value> = input
        .settings
        .iter()
        .take(4)
        .map(|(k, v)| (k.clone(), Value::from(*v)))
        .collect();
    answer.settings(settings);
    let signed = paylock_metrics::respond(&report, Some(&key), &answer);
    let original = read(
        &DeviceAnswer::verify(signed.as_bytes(), &key, &sent).expect("a signed answer verifies"),
    );

    let mut changed = signed.into_bytes();
    let at = usize::from(input.at) % changed.len();
    if changed[at] == input.byte {
        return;
    }
    changed[at] = input.byte;
    if let Ok(answer) = DeviceAnswer::verify(&changed, &key, &sent) {
        assert_eq!(
            read(&answer),
            original,
            "a changed answer was accepted: {:?}",
            String::from_utf8_lossy(&changed)
        );
    }
});
