//! OpenPAYGO timings: one chain step, token generation and device-side decoding.
//!
//! `cargo bench --bench openpaygo -- --quick` for figures, `-- --test` as a CI smoke run.
#![allow(
    clippy::expect_used,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use paylock::Key;
use paylock::openpaygo::{
    self, Form, OpenPaygoDeviceState, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret,
    OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
};
use siphasher::sip::SipHasher24;

const KEY: [u8; 16] = *b"\xa2\x9a\xb8\x2e\xdc\x5f\xbb\xc4\x1e\xc9\x53\x0f\x6d\xac\x86\xb1";
const STARTING_CODE: u32 = 123_456_789;
/// A code on the chain of `KEY` (the spec's second worked step).
const CODE: u32 = 643_134_301;
const COUNTS: [u32; 3] = [10, 1_000, 30_000];
/// Random digits that match no count in any window below.
const INVALID: &[u8] = b"384019275";

fn secret() -> OpenPaygoSecret {
    OpenPaygoSecret::new(Key::new(KEY), STARTING_CODE).expect("starting code has 9 digits")
}

fn chain_step(c: &mut Criterion) {
    let key = Key::new(KEY);
    let secret = secret();
    let encoder = OpenPaygoIssuer::new(Form::STANDARD);
    let mut g = c.benchmark_group("openpaygo/chain_step");
    g.bench_function("next_standard", |b| {
        b.iter(|| openpaygo::next_standard(black_box(&key), black_box(CODE)));
    });
    // Floor: SipHash-2-4 of the same 8 bytes under an already keyed hasher, no fold.
    let sip = SipHasher24::new_with_key(&KEY);
    let msg = (u64::from(CODE) << 32 | u64::from(CODE)).to_be_bytes();
    g.bench_function("siphash24_8_bytes", |b| {
        b.iter(|| black_box(&sip).hash(black_box(&msg)));
    });
    // From count 998 an ADD token lands on count 1000: exactly 1000 steps, hasher keyed once.
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("generate_1000_steps", |b| {
        b.iter(|| {
            encoder.generate(
                black_box(&secret),
                black_box(998),
                OpenPaygoMessage::AddTime(7),
            )
        });
    });
    g.finish();
}

fn generate(c: &mut Criterion) {
    let secret = secret();
    let mut g = c.benchmark_group("openpaygo/generate");
    for count in COUNTS {
        let encoder = OpenPaygoIssuer::new(Form::STANDARD);
        g.bench_with_input(BenchmarkId::from_parameter(count), &count, |b, &n| {
            b.iter(|| {
                encoder.generate(
                    black_box(&secret),
                    black_box(n),
                    OpenPaygoMessage::AddTime(30),
                )
            });
        });
    }
    // The same tokens continued from the point an earlier token of the value left (what the
    // ledger keeps per device): the cost no longer grows with the count.
    for count in COUNTS {
        let encoder = OpenPaygoIssuer::new(Form::STANDARD);
        let message = OpenPaygoMessage::AddTime(30);
        let (_, point) = encoder
            .generate_from(&secret, count - 2, message, None)
            .expect("count below the ceiling");
        g.bench_with_input(BenchmarkId::new("continued", count), &count, |b, &n| {
            b.iter(|| {
                encoder.generate_from(black_box(&secret), black_box(n), message, Some(&point))
            });
        });
    }
    g.finish();
    for (name, form) in [
        ("extended", Form::EXTENDED),
        ("restricted", Form::STANDARD_RESTRICTED),
    ] {
        let encoder = OpenPaygoIssuer::new(form);
        c.bench_function(&format!("openpaygo/generate_{name}/1000"), |b| {
            b.iter(|| {
                encoder.generate(
                    black_box(&secret),
                    black_box(1_000),
                    OpenPaygoMessage::AddTime(30),
                )
            });
        });
    }
}

fn decode(c: &mut Criterion) {
    let secret = secret();
    let encoder = OpenPaygoIssuer::new(Form::STANDARD);
    let decoder = OpenPaygoVerifier::new(Form::STANDARD);
    for count in COUNTS {
        let state = OpenPaygoState {
            max_count: count,
            used_counts: u16::MAX,
        };
        let next = encoder
            .generate(&secret, count, OpenPaygoMessage::AddTime(30))
            .expect("count below the ceiling");
        let decode = |token: &[u8]| {
            decoder
                .decode(&secret, &mut { state }, token)
                .expect("well-formed token")
        };
        assert!(
            matches!(decode(next.token.as_bytes()), OpenPaygoVerdict::Valid(a) if a.count == next.count)
        );
        assert_eq!(decode(INVALID), OpenPaygoVerdict::Invalid);

        // `state` is Copy: every iteration decodes against a fresh copy of it.
        c.bench_function(&format!("openpaygo/decode_valid/{count}"), |b| {
            b.iter(|| {
                decoder.decode(
                    &secret,
                    &mut black_box(state),
                    black_box(next.token.as_bytes()),
                )
            });
        });
        c.bench_function(&format!("openpaygo/decode_invalid/{count}"), |b| {
            b.iter(|| decoder.decode(&secret, &mut black_box(state), black_box(INVALID)));
        });
    }
}

/// The device path: a state whose chain point is of the entered token's value (the last
/// token accepted carried the same value), so an entry walks one window whatever the count;
/// and a wrong code of another value, which walks its own value's chain from the starting code.
fn decode_from_point(c: &mut Criterion) {
    let secret = secret();
    let encoder = OpenPaygoIssuer::new(Form::STANDARD);
    let decoder = OpenPaygoVerifier::new(Form::STANDARD);
    let message = OpenPaygoMessage::AddTime(30);
    for count in COUNTS {
        // The device accepts the token just below `count`, which leaves the point.
        let before = encoder
            .generate(&secret, count - 2, message)
            .expect("count below the ceiling");
        let mut state = OpenPaygoDeviceState::from(OpenPaygoState {
            max_count: count - 2,
            used_counts: 0,
        });
        let first = decoder
            .decode(&secret, &mut state.counts, before.token.as_bytes())
            .expect("well-formed token");
        assert!(matches!(first, OpenPaygoVerdict::Valid(_)));
        state = OpenPaygoDeviceState::from(OpenPaygoState {
            max_count: count - 4,
            used_counts: 0,
        });
        let applied = decoder
            .decode_from_point(&secret, &mut state, before.token.as_bytes())
            .expect("well-formed token");
        assert!(matches!(applied, OpenPaygoVerdict::Valid(_)));
        assert!(state.point.is_some());
        let next = encoder
            .generate(&secret, state.counts.max_count, message)
            .expect("count below the ceiling");
        // A wrong code of the same value: the last three digits kept, the first one changed.
        let mut wrong = next.token.as_bytes().to_vec();
        if let Some(d) = wrong.first_mut() {
            *d = if *d == b'9' { b'1' } else { *d + 1 };
        }
        let decode = |token: &[u8]| {
            decoder
                .decode_from_point(&secret, &mut { state }, token)
                .expect("well-formed token")
        };
        assert!(matches!(
            decode(next.token.as_bytes()),
            OpenPaygoVerdict::Valid(_)
        ));
        assert_eq!(decode(&wrong), OpenPaygoVerdict::Invalid);
        // A wrong code of another value: a token of 31 days at the same count, its first digit
        // changed. The point is of 30 days' chain, so this one walks its own from the start.
        let other = encoder
            .generate(
                &secret,
                state.counts.max_count,
                OpenPaygoMessage::AddTime(31),
            )
            .expect("count below the ceiling");
        let mut wrong_other = other.token.as_bytes().to_vec();
        if let Some(d) = wrong_other.first_mut() {
            *d = if *d == b'9' { b'1' } else { *d + 1 };
        }
        assert_eq!(decode(&wrong_other), OpenPaygoVerdict::Invalid);
        c.bench_function(&format!("openpaygo/point_valid/{count}"), |b| {
            b.iter(|| {
                decoder.decode_from_point(
                    &secret,
                    &mut black_box(state),
                    black_box(next.token.as_bytes()),
                )
            });
        });
        c.bench_function(&format!("openpaygo/point_invalid/{count}"), |b| {
            b.iter(|| decoder.decode_from_point(&secret, &mut black_box(state), black_box(&wrong)));
        });
        c.bench_function(&format!("openpaygo/point_invalid_other/{count}"), |b| {
            b.iter(|| {
                decoder.decode_from_point(&secret, &mut black_box(state), black_box(&wrong_other))
            });
        });
    }
}

criterion_group!(benches, chain_step, generate, decode, decode_from_point);
criterion_main!(benches);
