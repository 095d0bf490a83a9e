//! Nexus timings: issuing a whole keycode, and verifying one on a device (entered into a
//! device from a fixed state, copied per iteration).
//!
//! `cargo bench --bench nexus -- --quick` for figures, `-- --test` as a CI smoke run.
#![allow(
    clippy::expect_used,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylock::Key;
use paylock::nexus::{
    FullIssuer, Keycode, KeycodeProcessor, NexusConfig, NexusState, PaygState, Platform, Processed,
    Response, SetTarget, SmallIssuer,
};

/// The key of the spec's worked examples.
const KEY: [u8; 16] = *b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef";
/// A message ID inside a fresh device's window.
const ID: u32 = 42;
/// An extended code's ID that collides with no other ID near it under `KEY` for 84 days.
const EXTENDED_ID: u32 = 51;

/// A product with a seconds counter.
#[derive(Clone, Copy, Debug, Default)]
struct Product {
    credit: u32,
}

impl Platform for Product {
    fn payg_state(&self) -> PaygState {
        if self.credit > 0 {
            PaygState::Enabled
        } else {
            PaygState::Disabled
        }
    }
    fn add_credit(&mut self, seconds: u32) {
        self.credit = self.credit.saturating_add(seconds);
    }
    fn set_credit(&mut self, seconds: u32) {
        self.credit = seconds;
    }
    fn unlock(&mut self) {}
    fn user_facing_id(&self) -> u32 {
        123_456_789
    }
}

fn issue(c: &mut Criterion) {
    let key = Key::new(KEY);
    let (full, small) = (FullIssuer::new(), SmallIssuer::new());
    let mut g = c.benchmark_group("nexus/issue");
    g.bench_function("full_add_credit", |b| {
        b.iter(|| full.add_credit(black_box(&key), black_box(ID), black_box(168)));
    });
    g.bench_function("small_add_credit", |b| {
        b.iter(|| small.add_credit(black_box(&key), black_box(ID), black_box(7)));
    });
    // The collision check over the IDs around it: about 17 MACs.
    g.bench_function("small_extended", |b| {
        b.iter(|| {
            small.extended_set_credit_wipe_restricted(
                black_box(&key),
                black_box(EXTENDED_ID),
                black_box(SetTarget::Days(84)),
            )
        });
    });
    g.finish();
}

/// Enters `code` into `device` from `state` (both copied), as firmware would: rate limiting
/// on, the grace attempts of a fresh device.
fn enter(device: &KeycodeProcessor, state: NexusState, key: &Key, code: &[u8]) -> Processed {
    let (mut device, mut state, mut product) = (device.clone(), state, Product::default());
    device.enter_keycode(code, 0, key, &mut state, &mut product)
}

fn verify(c: &mut Criterion) {
    let key = Key::new(KEY);
    let state = NexusState::FRESH;
    let full_device = KeycodeProcessor::new(NexusConfig::full(), &state);
    let small_device = KeycodeProcessor::new(NexusConfig::small(), &state);
    let small = SmallIssuer::new();
    let full_code = FullIssuer::new()
        .add_credit(&key, ID, 168)
        .expect("ID and hours in range");
    let small_code = small.add_credit(&key, ID, 7).expect("ID and days in range");
    let extended_code = small
        .extended_set_credit_wipe_restricted(&key, EXTENDED_ID, SetTarget::Days(84))
        .expect("no collision at this ID");
    let cases: [(&str, &KeycodeProcessor, Keycode, Response); 3] = [
        ("full", &full_device, full_code, Response::ValidApplied),
        ("small", &small_device, small_code, Response::ValidApplied),
        // Extended codes carry 2 ID bits: the device tries the 16 unused IDs that match.
        (
            "small_extended",
            &small_device,
            extended_code,
            Response::None,
        ),
    ];
    let mut g = c.benchmark_group("nexus/verify");
    for (name, device, code, response) in cases {
        let keys = code.keys().as_bytes();
        assert_eq!(
            enter(device, state, &key, keys).response,
            response,
            "{name}"
        );
        g.bench_function(name, |b| {
            b.iter(|| enter(device, black_box(state), black_box(&key), black_box(keys)));
        });
    }
    // A wrong check digit: the whole parse and one MAC, then refused.
    let mut bad = full_code.keys().as_bytes().to_vec();
    if let Some(digit) = bad.iter_mut().rev().nth(1) {
        *digit = if *digit == b'0' { b'1' } else { b'0' };
    }
    assert_eq!(
        enter(&full_device, state, &key, &bad).response,
        Response::Invalid
    );
    g.bench_function("full_invalid", |b| {
        b.iter(|| {
            enter(
                &full_device,
                black_box(state),
                black_box(&key),
                black_box(&bad),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, issue, verify);
criterion_main!(benches);
