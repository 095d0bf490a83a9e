//! The device-lock engine's cost per entry next to the bare verifier, with the scheme's own
//! lockout, on in-memory flash: an applied token (the attempt counted, verify, credit, the
//! result: two record writes with read-back), a wrong code (the count: one write), a duplicate
//! (the count and its restoration: two writes), a malformed entry (refused on its shape, no
//! write), and a boot from a store holding records.
//!
//! `cargo bench --bench device -- --quick` for figures, `-- --test` as a CI smoke run.
#![allow(
    clippy::expect_used,
    reason = "a bench whose fixed setup fails must stop loudly"
)]

use core::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use paylock::device::{ClockModel, Config, Engine, Lockout, MemStorage};
use paylock::nexus::{FullIssuer, NexusVerifier};
use paylock::openpaygo::{
    Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret, OpenPaygoVerifier,
};
use paylock::persist::{Persist, RecordKey};
use paylock::{Command, Context, Credit, Issuer, Key, TimeUnit, Verifier};

type Flash = MemStorage<128>;

/// A device that has applied all `tokens` but the last, entering the last one, the one before
/// it again, `wrong` (a well-formed code that is not valid) or `malformed`.
fn bench_scheme<V>(
    c: &mut Criterion,
    name: &str,
    (verifier, secret, lockout): (V, &V::Secret, Lockout),
    tokens: &[String],
    (wrong, malformed): (&[u8], &[u8]),
) where
    V: Verifier + Clone,
    V::Secret: Clone + RecordKey,
    V::State: Persist + PartialEq,
{
    let (earlier, next) = tokens.split_at(tokens.len() - 1);
    let next = next.first().expect("one token left").as_bytes();
    let used = earlier.last().expect("a used token").as_bytes();
    let config = Config::new(ClockModel::Rtc, lockout);
    let (mut device, _) = Engine::boot(verifier.clone(), secret.clone(), config, Flash::new(), 0)
        .expect("blank store boots");
    for t in earlier {
        let _ = device.enter(t.as_bytes(), 1).expect("in-memory flash");
    }
    let state = device.snapshot().scheme;
    let store = device.into_storage();
    let boot = || {
        Engine::boot(verifier.clone(), secret.clone(), config, store.clone(), 2)
            .expect("store boots")
            .0
    };
    let mut g = c.benchmark_group(format!("device/{name}"));
    g.bench_function("verifier_only", |b| {
        b.iter_batched(
            || state,
            |mut s| verifier.verify(secret, &mut s, black_box(next), &Context::at(2)),
            BatchSize::SmallInput,
        );
    });
    for (entry, input) in [
        ("engine_applied", next),
        ("engine_wrong_code", wrong),
        ("engine_duplicate", used),
        ("engine_malformed", malformed),
    ] {
        g.bench_function(entry, |b| {
            b.iter_batched(
                boot,
                |mut d| d.enter(black_box(input), 2).expect("in-memory flash"),
                BatchSize::SmallInput,
            );
        });
    }
    g.bench_function("boot", |b| b.iter(|| black_box(boot())));
    g.finish();
}

fn openpaygo(c: &mut Criterion) {
    let secret = OpenPaygoSecret::new(Key::new([7; 16]), 123_456_789).expect("valid starting code");
    let encoder = OpenPaygoIssuer::new(Form::STANDARD);
    let mut count = 0;
    let tokens: Vec<String> = (0..5)
        .map(|_| {
            let g = encoder
                .generate(&secret, count, OpenPaygoMessage::AddTime(1))
                .expect("small count");
            count = g.count;
            g.token.as_str().to_owned()
        })
        .collect();
    let decoder = OpenPaygoVerifier::new(Form::STANDARD);
    bench_scheme(
        c,
        "openpaygo",
        (decoder, &secret, Lockout::OPENPAYGO),
        &tokens,
        (b"384019275", b"3840192"),
    );
}

fn nexus(c: &mut Criterion) {
    let key = Key::new([9; 16]);
    let mut id = 0;
    let tokens: Vec<String> = (0..5)
        .map(|_| {
            FullIssuer::new()
                .issue(
                    &key,
                    &mut id,
                    &Command::AddCredit(Credit::new(24, TimeUnit::Hours)),
                )
                .expect("valid message")
                .keys()
                .as_str()
                .to_owned()
        })
        .collect();
    let verifier = NexusVerifier::full(1);
    // Nexus has no "malformed": any entry is a keycode attempt, and counts.
    bench_scheme(
        c,
        "nexus_full",
        (verifier, &key, Lockout::NEXUS),
        &tokens,
        (b"*00000000000000#", b"*0#"),
    );
}

criterion_group!(benches, openpaygo, nexus);
criterion_main!(benches);
