//! JSON as Python writes it: `json.dumps(value, separators=(",", ":"))`, the text every
//! Metrics signature is computed over, and the check that a parsed text kept every number as
//! Python reads it.
//!
//! Strings and floats go through the core's writers (`paylock::metrics::text`), so the server
//! writes the bytes the device's builder writes.

use paylock::metrics::text;
use serde_json::{Map, Value};

use crate::error::{MetricsError, NumberProblem};

/// `json.dumps(value, separators=(",", ":"))` of a parsed value.
#[must_use]
pub fn dumps(value: &Value) -> String {
    let mut out = Vec::with_capacity(64);
    write(&mut out, value);
    // Only `&str`s and ASCII are written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `json.dumps(value, separators=(",", ":"))` to `out`.
pub fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => number(out, n),
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => object(out, map),
    }
}

/// Appends an object's text.
pub fn object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, key);
        out.push(b':');
        write(out, value);
    }
    out.push(b'}');
}

/// Appends `"key":`.
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    string(out, key);
    out.push(b':');
}

/// Appends a string as `json.dumps` writes it (`ensure_ascii`).
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    let Ok(()) = text::string(out, s);
}

/// Appends a non-negative integer.
pub(crate) fn uint(out: &mut Vec<u8>, u: u64) {
    let Ok(()) = text::uint(out, u);
}

/// Appends a negative (or any) integer.
pub(crate) fn int(out: &mut Vec<u8>, i: i64) {
    let Ok(()) = text::int(out, i);
}

fn number(out: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        uint(out, u);
    } else if let Some(i) = n.as_i64() {
        int(out, i);
    } else {
        float(out, n.as_f64().unwrap_or(f64::NAN));
    }
}

/// Python's `float.__repr__` (`NaN`, `Infinity` as `json.dumps` writes them).
pub fn float(out: &mut Vec<u8>, value: f64) {
    let Ok(()) = text::float(out, value);
}

/// Refuses the integer literals `serde_json` does not keep as Python does: beyond 64 bits
/// (`serde_json` makes them floats, Python keeps every digit) and `-0` (a float `-0.0` for
/// `serde_json`, the integer 0 for Python). `text` must be valid JSON.
///
/// # Errors
/// [`MetricsError::Number`] at the literal's byte offset.
pub fn check_integers(text: &str) -> Result<(), MetricsError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i + 1),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    i += 1;
                }
                let literal = text.get(start..i).unwrap_or_default();
                if let Some(problem) = integer_problem(literal) {
                    return Err(MetricsError::Number {
                        position: start,
                        problem,
                    });
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn integer_problem(literal: &str) -> Option<NumberProblem> {
    if literal.contains(['.', 'e', 'E']) {
        return None;
    }
    if literal == "-0" {
        return Some(NumberProblem::NegativeZero);
    }
    let fits = if literal.starts_with('-') {
        literal.parse::<i64>().is_ok()
    } else {
        literal.parse::<u64>().is_ok()
    };
    (!fits).then_some(NumberProblem::Beyond64Bits)
}

/// The index just past the string whose content starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_as_python() {
        let value: Value = serde_json::from_str(
            r#"{"b":[1,-2,1.0,1E5,1e16,-0.0,0.00001,12.31],"a":"é😀\n","c":{"x":null,"y":true}}"#,
        )
        .unwrap();
        // Python 3.11: json.dumps(json.loads(same), separators=(",", ":"))
        assert_eq!(
            dumps(&value),
            r#"{"b":[1,-2,1.0,100000.0,1e+16,-0.0,1e-05,12.31],"a":"\u00e9\ud83d\ude00\n","c":{"x":null,"y":true}}"#
        );
    }

    #[test]
    fn integers_python_keeps_and_serde_json_would_not() {
        assert!(check_integers(r#"{"a":"-0 99999999999999999999","b":[-9223372036854775808,18446744073709551615,1e400,-0.0]}"#).is_ok());
        for (text, position, problem) in [
            ("[1,-0]", 3, NumberProblem::NegativeZero),
            ("[18446744073709551616]", 1, NumberProblem::Beyond64Bits),
            (
                r#"{"\"":-9223372036854775809}"#,
                6,
                NumberProblem::Beyond64Bits,
            ),
        ] {
            assert_eq!(
                check_integers(text),
                Err(MetricsError::Number { position, problem }),
                "{text}"
            );
        }
    }
}
