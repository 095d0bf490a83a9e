//! Token text parsing: any bytes, every width on both keypads. Errors name the earliest fault;
//! a parsed value written back as text parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paylock::ParseError;
use paylock::openpaygo::digits;

fuzz_target!(|input: &[u8]| {
    for restricted in [false, true] {
        // The four token lengths, and the input's own so that parsing succeeds.
        for width in [9, 12, 15, 20, input.len()] {
            check(input, width, restricted);
        }
    }
});

fn check(input: &[u8], width: usize, restricted: bool) {
    let bad = |b: &u8| !b.is_ascii_digit() || (restricted && !(b'1'..=b'4').contains(b));
    let first_bad = input.iter().position(bad);
    match (digits::parse(input, width, restricted), first_bad) {
        (Ok(value), None) => {
            assert_eq!(input.len(), width);
            round_trip(input, value, restricted);
        }
        (Err(ParseError::NotADigit { position, found }), Some(p)) => {
            assert!(position == p && found == input[p] && !found.is_ascii_digit());
        }
        (
            Err(ParseError::DigitOutOfSet {
                position,
                digit,
                min,
                max,
            }),
            Some(p),
        ) => {
            assert!(
                restricted && position == p && digit == input[p] - b'0' && (min, max) == (1, 4)
            );
        }
        (Err(ParseError::Length { found, expected }), None) => {
            assert!(found == input.len() && expected == width && found != width);
        }
        (result, p) => panic!("{result:?}, first bad character at {p:?}"),
    }
}

/// `to_text` may refuse a text longer than a `TokenText`; what it writes must parse back. The
/// empty text (width 0) has no digits to write back.
fn round_trip(input: &[u8], value: u64, restricted: bool) {
    let width = input.len();
    if width == 0 {
        return;
    }
    let bits = u32::try_from(2 * width).unwrap_or(u32::MAX);
    let Ok(text) = digits::to_text(value, width, bits, restricted) else {
        return;
    };
    assert_eq!(
        digits::parse(text.as_bytes(), width, restricted),
        Ok(value),
        "{text:?}"
    );
    // Below 2^64 nothing was lost: the text is the input itself.
    let exact = if restricted { width <= 32 } else { width <= 19 };
    if exact {
        assert_eq!(text.as_bytes(), input);
    }
}
