//! The cost of the C boundary: one OpenPAYGO entry through `paylock_openpaygo_verify_standard`
//! (argument checks, the secret and state conversions, the panic guard) against the same entry
//! through the Rust API, measured in one run. `cargo bench -p paylock-ffi-bench --bench abi`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    missing_docs,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylock::Key;
use paylock::openpaygo::{
    Form, OpenPaygoDeviceState, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret, OpenPaygoState,
    OpenPaygoVerdict, OpenPaygoVerifier, StandardForm,
};
use paylock_ffi::PAYLOCK_VALID;
use paylock_ffi::openpaygo::{
    PaylockOpenPaygoActivation, PaylockOpenPaygoSecret, PaylockOpenPaygoState,
    paylock_openpaygo_verify_standard,
};

const KEY: [u8; 16] = *b"\xa2\x9a\xb8\x2e\xdc\x5f\xbb\xc4\x1e\xc9\x53\x0f\x6d\xac\x86\xb1";
const STARTING_CODE: u32 = 123_456_789;

fn entry(c: &mut Criterion) {
    let secret = OpenPaygoSecret::new(Key::new(KEY), STARTING_CODE).expect("9 digits");
    let verifier = OpenPaygoVerifier::new(StandardForm);
    let issuer = OpenPaygoIssuer::new(Form::STANDARD);
    let message = OpenPaygoMessage::AddTime(30);
    // A device at count ~1,000 whose last token carried the same value: it holds the point.
    let first = issuer.generate(&secret, 998, message).expect("count");
    let mut state = OpenPaygoDeviceState::from(OpenPaygoState {
        max_count: 990,
        used_counts: 0,
    });
    let applied = verifier.decode_from_point(&secret, &mut state, first.token.as_bytes());
    assert!(matches!(applied, Ok(OpenPaygoVerdict::Valid(_))));
    let next = issuer
        .generate(&secret, state.counts.max_count, message)
        .expect("count");
    let token = next.token.as_bytes();
    let c_secret = PaylockOpenPaygoSecret {
        key: KEY,
        starting_code: STARTING_CODE,
    };
    let c_state = PaylockOpenPaygoState::from(state);
    let mut g = c.benchmark_group("abi/openpaygo_valid_entry");
    g.bench_function("rust", |b| {
        b.iter(|| {
            verifier.decode_from_point(black_box(&secret), &mut black_box(state), black_box(token))
        });
    });
    g.bench_function("c_abi", |b| {
        b.iter(|| {
            let mut s = black_box(c_state);
            let mut out = PaylockOpenPaygoActivation::default();
            // SAFETY: every pointer is to a live local of the right type; `token` has its length.
            let r = unsafe {
                paylock_openpaygo_verify_standard(
                    black_box(&c_secret),
                    &mut s,
                    black_box(token).as_ptr(),
                    token.len(),
                    &mut out,
                )
            };
            assert_eq!(r, PAYLOCK_VALID);
            out
        });
    });
    g.finish();
}

criterion_group!(benches, entry);
criterion_main!(benches);
