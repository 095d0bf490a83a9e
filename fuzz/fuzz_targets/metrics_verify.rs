//! The server's verification of a report: any text never panics; a report built and signed on
//! the device side is accepted, and with any one byte changed it is refused or means the same
//! (every part its method signs is unchanged).
#![no_main]

mod metrics_common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use metrics_common::Report;
use paylock::Key;
use paylock::metrics::AuthMethod;
use paylock_metrics::{Compat, Device, Options, VerifiedReport, verify};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    key: [u8; 16],
    compat: bool,
    last_count: Option<u32>,
    /// Bit 0: build a signed report from `report` and change it; otherwise verify `text`.
    build: bool,
    report: Report,
    /// Where and how the built report is changed.
    at: u16,
    byte: u8,
    text: &'a [u8],
}

/// What `method` signs, from a verified report.
fn signed(report: &VerifiedReport, method: AuthMethod) -> (String, u64, u64, Option<String>) {
    let data = method.covers_data().then(|| {
        let m = &report.metrics;
        format!("{:?} {:?}", m.get("data"), m.get("historical_data"))
    });
    let ts = if matches!(method, AuthMethod::Simple | AuthMethod::Counter) {
        0
    } else {
        report.timestamp
    };
    let rc = if matches!(method, AuthMethod::Simple | AuthMethod::Timestamp) {
        0
    } else {
        report.request_count
    };
    (report.serial_number.clone(), ts, rc, data)
}

fuzz_target!(|input: Input<'_>| {
    let key = Key::new(input.key);
    let format = metrics_common::format();
    let device = Device {
        data_format: Some(&format),
        last_request_count: input.last_count.map(u64::from),
        ..Device::new(&key)
    };
    let options = Options {
        received_at: 1_700_000_000,
        compat: if input.compat {
            Compat::Openpaygo063
        } else {
            Compat::Paylock
        },
    };
    if !input.build {
        if let Ok(text) = core::str::from_utf8(input.text) {
            let _ = verify(text, &device, &options);
        }
        return;
    }
    let fresh = Device {
        last_request_count: None,
        ..device
    };
    let mut buf = vec![0u8; 16 * 1024];
    let Some(text) = metrics_common::build(&input.report, &key, &mut buf) else {
        return;
    };
    let original = match verify(&text, &fresh, &options) {
        Ok(report) => report,
        // Only freshness and dates may refuse a report the device signed.
        Err(e) => {
            assert!(matches!(e.kind(), "not_fresh" | "row"), "{e}: {text}");
            return;
        }
    };
    let mut changed = text.into_bytes();
    let at = usize::from(input.at) % changed.len();
    if changed[at] == input.byte {
        return;
    }
    changed[at] = input.byte;
    let Ok(changed) = String::from_utf8(changed) else {
        return;
    };
    // Accepted, it carries what the original did in every part its own method signs. (A `da`
    // report without timestamp, data or rows has the hash of `ca`: relabelled, it is the same
    // report under a method that signs less; `Device::method` pins a device's method.)
    if let Ok(report) = verify(&changed, &fresh, &options) {
        let method = report.auth_method;
        assert_eq!(
            signed(&report, method),
            signed(&original, method),
            "a changed report was accepted: {changed}"
        );
        let pinned = Device {
            method: Some(original.auth_method),
            ..fresh
        };
        if method != original.auth_method {
            assert!(verify(&changed, &pinned, &options).is_err(), "{changed}");
        }
    }
});
