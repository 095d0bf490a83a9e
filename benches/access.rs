//! AST v1 timings per suite: generating a token, and verifying one on a device from a fixed
//! state (copied per iteration). Profile L for every suite, plus M and S for one suite each.
//!
//! `cargo bench --bench access -- --quick` for figures, `-- --test` as a CI smoke run.
#![allow(
    clippy::expect_used,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylock::Key;
use paylock::access::{
    self, Action, AstConfig, AstSecret, AstState, AstStatus, Profile, Suite, Unit,
};

/// The device key of the spec's first example.
const KEY: [u8; 16] = *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c";
/// A counter past the fixed state's `max_counter`.
const COUNTER: u32 = 43;

/// The measured cases: (name, suite, profile).
const CASES: [(&str, Suite, Profile); 5] = [
    ("suite0_L", Suite::AesCmac, Profile::L),
    ("suite1_L", Suite::HmacSha256, Profile::L),
    ("suite2_L", Suite::SipHash24, Profile::L),
    ("suite0_M", Suite::AesCmac, Profile::M),
    ("suite2_S", Suite::SipHash24, Profile::S),
];

fn secret(suite: Suite, profile: Profile) -> AstSecret {
    let config = AstConfig {
        suite,
        profile,
        device_id: 123_456_789,
        key_rev: 0,
        unit: Unit::Hours,
    };
    AstSecret::new(Key::new(KEY), config).expect("every suite is compiled in for benches")
}

/// A device that has taken counters up to 40.
const STATE: AstState = AstState {
    max_counter: 40,
    used: 0b1011,
    ..AstState::FRESH
};

fn generate(c: &mut Criterion) {
    let mut g = c.benchmark_group("access/generate");
    for (name, suite, profile) in CASES {
        let secret = secret(suite, profile);
        g.bench_function(name, |b| {
            b.iter(|| {
                access::generate(
                    black_box(&secret),
                    black_box(COUNTER),
                    black_box(Action::AddCredit(72)),
                )
            });
        });
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("access/verify");
    for (name, suite, profile) in CASES {
        let secret = secret(suite, profile);
        let issued =
            access::generate(&secret, COUNTER, Action::AddCredit(72)).expect("counter in range");
        let token = issued.token.as_bytes();
        let mut state = STATE;
        assert_eq!(
            access::verify(&secret, &mut state, token, 1_000).status(),
            AstStatus::Applied,
            "{name}"
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut state = black_box(STATE);
                access::verify(
                    black_box(&secret),
                    &mut state,
                    black_box(token),
                    black_box(1_000),
                )
            });
        });
    }
    g.finish();
}

criterion_group!(benches, generate, verify);
criterion_main!(benches);
