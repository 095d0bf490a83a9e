//! Any bytes parsed under each profile: never panics; a parsed frame re-encodes to the input's
//! digits and parses back to itself; an error names the first fault in scan order (a bad
//! character, a digit outside 1-4 on the base-4 keypad, then the length, then the range).
#![no_main]

mod access_common;

use libfuzzer_sys::fuzz_target;
use paylock::access::{AstParseError, Profile, encode_digits, parse};

/// How the scanner reads one byte: skipped, a digit, or the fault it reports.
fn class(profile: Profile, b: u8) -> Result<Option<u8>, AstParseError> {
    match b {
        b' ' | b'-' => Ok(None),
        b'1'..=b'4' if profile.is_base4() => Ok(Some(b - b'1')),
        b'0'..=b'9' if profile.is_base4() => Err(AstParseError::BadDigit {
            position: 0,
            found: b,
        }),
        b'0'..=b'9' => Ok(Some(b - b'0')),
        _ => Err(AstParseError::BadChar {
            position: 0,
            found: b,
        }),
    }
}

fn check(profile: Profile, input: &[u8]) {
    let got = parse(profile, input);
    // The model: the first faulty byte, else the digits.
    let mut digits = Vec::new();
    let mut fault = None;
    for (position, &b) in input.iter().enumerate() {
        match class(profile, b) {
            Ok(Some(d)) => digits.push(d),
            Ok(None) => {}
            Err(e) => {
                fault = Some(match e {
                    AstParseError::BadDigit { found, .. } => {
                        AstParseError::BadDigit { position, found }
                    }
                    AstParseError::BadChar { found, .. } => {
                        AstParseError::BadChar { position, found }
                    }
                    other => other,
                });
                break;
            }
        }
    }
    if let Some(fault) = fault {
        assert_eq!(got, Err(fault), "{:?}", input.escape_ascii().to_string());
        return;
    }
    if digits.len() != profile.digits() {
        assert_eq!(
            got,
            Err(AstParseError::BadLength {
                found: digits.len(),
                expected: profile.digits()
            })
        );
        return;
    }
    let base: u128 = if profile.is_base4() { 4 } else { 10 };
    let value = digits
        .iter()
        .fold(0u128, |acc, &d| acc * base + u128::from(d));
    if value >> profile.frame_bits() != 0 {
        assert_eq!(got, Err(AstParseError::FrameRange { frame: value }));
        return;
    }
    assert_eq!(got, Ok(value));
    let text = encode_digits(profile, value).expect("a parsed frame encodes");
    let zero = if profile.is_base4() { b'1' } else { b'0' };
    let expected: Vec<u8> = digits.iter().map(|&d| zero + d).collect();
    assert_eq!(text.as_bytes(), expected.as_slice());
    assert_eq!(parse(profile, text.as_bytes()), Ok(value));
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    // The selected profile first (what the seeds target), then the other two.
    for i in 0..3u8 {
        check(access_common::profile(selector.wrapping_add(i)), input);
    }
});
