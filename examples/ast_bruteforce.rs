//! Brute-force odds of AST v1 under the recommended lockout (spec §11), by simulation.
//!
//! A greedy attacker types a random well-formed token every 10 s whenever the keypad is not
//! locked, for one year, on a device running the real `paylock::access::verify`. A paying
//! attacker also enters each real token as soon as it arrives (and the keypad allows), which
//! resets the failure count. Every
//! guess is one MAC check against one counter, so it succeeds with probability 2^-t; the table
//! gives P(at least one forgery per device-year) = 1 - (1 - 2^-t)^guesses.
//!
//! `cargo run --release --example ast_bruteforce`

use paylock::Key;
use paylock::access::{
    self, Action, AstConfig, AstSecret, AstState, AstStatus, Profile, Suite, Unit,
};

const YEAR: u32 = 365 * 86_400;
const SECONDS_PER_GUESS: u32 = 10;
const DAY: u32 = 86_400;
/// Guesses per device-year in the spec's §11 table, for the patterns below with a lockout.
const SPEC_GUESSES: [u64; 4] = [378, 529, 1029, 4882];

/// A small deterministic generator (xorshift64*): the run is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A random frame below 2^bits: a token the parser accepts.
    fn frame(&mut self, bits: u32) -> u128 {
        let wide = (u128::from(self.next()) << 64) | u128::from(self.next());
        wide & ((1u128 << bits) - 1)
    }
}

/// Counted guesses in one year when the owner pays every `pay_every` seconds (or never).
fn guesses_per_year(
    profile: Profile,
    pay_every: Option<u32>,
) -> Result<u64, Box<dyn core::error::Error>> {
    let config = AstConfig {
        suite: Suite::SipHash24,
        profile,
        device_id: 4242,
        key_rev: 0,
        unit: Unit::Days,
    };
    let secret = AstSecret::new(Key::new([0x5a; 16]), config)?;
    let mut state = AstState::FRESH;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut now, mut guesses, mut counter, mut pending) = (0u32, 0u64, 1u32, 0u32);
    let mut next_payment = pay_every.unwrap_or(u32::MAX);
    while now < YEAR {
        while next_payment <= now {
            pending += 1;
            next_payment = next_payment.saturating_add(pay_every.unwrap_or(u32::MAX));
        }
        let lock_until = state.lock_until;
        if now < lock_until {
            now = lock_until.min(next_payment);
            continue;
        }
        if pending > 0 {
            let token = access::generate(&secret, counter, Action::AddCredit(1))?.token;
            if access::verify(&secret, &mut state, token.as_bytes(), now).status()
                != AstStatus::Applied
            {
                return Err("a real token was refused".into());
            }
            (counter, pending) = (counter + 1, pending - 1);
            continue;
        }
        let guess =
            access::encode_digits(profile, rng.frame(profile.frame_bits())).ok_or("frame")?;
        let status = access::verify(&secret, &mut state, guess.as_bytes(), now).status();
        if status == AstStatus::Applied {
            return Err("a random guess was accepted".into());
        }
        guesses += u64::from(status == AstStatus::Invalid);
        now += SECONDS_PER_GUESS;
    }
    Ok(guesses)
}

/// `1 - (1 - p)^n` without losing precision for tiny `p`.
fn p_any(mac_bits: u32, guesses: u64) -> f64 {
    let p = (-f64::from(mac_bits) * core::f64::consts::LN_2).exp();
    #[allow(clippy::cast_precision_loss)] // guesses < 2^53
    let n = guesses as f64;
    -(n * (-p).ln_1p()).exp_m1()
}

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let patterns = [
        ("no lockout, 1/10 s", None, true),
        ("no valid tokens", None, false),
        ("monthly payer", Some(30 * DAY), false),
        ("weekly payer", Some(7 * DAY), false),
        ("daily payer", Some(DAY), false),
    ];
    let mut counts = Vec::new();
    for (name, every, unlimited) in patterns {
        let n = if unlimited {
            u64::from(YEAR / SECONDS_PER_GUESS)
        } else {
            guesses_per_year(Profile::L, every)?
        };
        counts.push((name, n));
    }
    for ((name, n), want) in counts.iter().skip(1).zip(SPEC_GUESSES) {
        if n.abs_diff(want) > 1 {
            return Err(format!("{name}: {n} guesses a year, the spec says {want}").into());
        }
    }
    print!("{:<8} {:>4} {:>9}", "profile", "t", "per guess");
    for (name, n) in &counts {
        print!(" | {name} ({n}/yr)");
    }
    println!();
    for profile in [Profile::L, Profile::M, Profile::S] {
        let t = profile.mac_bits();
        print!("{:<8} {t:>4} {:>9.1e}", profile.name(), p_any(t, 1));
        for (_, n) in &counts {
            print!(" | {:.1e}", p_any(t, *n));
        }
        println!();
    }
    Ok(())
}
