//! A report read in one pass, for the texts devices send: strings without escapes, numbers
//! without exponents. Anything else (an escape, an exponent, an integer Python would read
//! differently, text that is not JSON) is left to `serde_json`, which reads every JSON text and
//! names the fault of one that is not; so this reader need only be right on what it accepts,
//! and it keeps what `serde_json` cannot: each float's literal, written back without
//! formatting the float again ([`Repr`]).

use crate::keys;
use crate::tree::{Name, Number, Object, Repr, Value};

/// Deeper nesting is left to `serde_json` (which refuses more than 128 levels).
const MAX_DEPTH: usize = 100;

/// Literals longer than this are left to `serde_json`.
const MAX_NUMBER: usize = 40;

/// The report's top-level object under full key names, `None` when the text is not one of the
/// texts this reader takes.
pub(crate) fn report(text: &str) -> Option<Object> {
    let mut scan = Scan {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    scan.space();
    if scan.peek()? != b'{' {
        return None;
    }
    scan.at += 1;
    let fields = scan.object(0, |key| match keys::full_name(key) {
        Some(full) => Name::Static(full),
        None => Name::Owned(key.into()),
    })?;
    scan.space();
    (scan.at == scan.bytes.len()).then_some(fields)
}

struct Scan<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
}

impl<'t> Scan<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after white space).
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The members of an object whose `{` was read.
    fn object(&mut self, depth: usize, name: impl Fn(&str) -> Name) -> Option<Object> {
        let mut members = Vec::with_capacity(8);
        self.space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(Object::from_members(members));
        }
        loop {
            self.eat(b'"')?;
            let key = self.string()?;
            self.eat(b':')?;
            let value = self.value(depth + 1)?;
            members.push((name(key), value));
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(Object::from_members(members));
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        let byte = self.peek()?;
        match byte {
            b'"' => {
                self.at += 1;
                self.string().map(|s| Value::String(s.to_owned()))
            }
            b'{' => {
                self.at += 1;
                self.object(depth, |key| Name::Owned(key.into()))
                    .map(Value::Object)
            }
            b'[' => {
                self.at += 1;
                self.array(depth).map(Value::Array)
            }
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            _ => self.number().map(Value::Number),
        }
    }

    fn array(&mut self, depth: usize) -> Option<Vec<Value>> {
        let mut items = Vec::with_capacity(4);
        self.space();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    fn word(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    /// A string whose `"` was read, up to its closing `"`: no escape, no control character.
    fn string(&mut self) -> Option<&'t str> {
        let start = self.at;
        let len = self
            .bytes
            .get(start..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        let end = start + len;
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        // Both ends are at ASCII bytes, so on character boundaries.
        self.text.get(start..end)
    }

    /// A number as JSON writes it, without an exponent: an integer within 64 bits (not `-0`)
    /// or a positional float.
    fn number(&mut self) -> Option<Number> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let integer = self.digits()?;
        // JSON allows no leading zero.
        if integer.len() > 1 && integer.first() == Some(&b'0') {
            return None;
        }
        let fraction = if self.peek() == Some(b'.') {
            self.at += 1;
            Some(self.digits()?)
        } else {
            None
        };
        if matches!(self.peek(), Some(b'e' | b'E')) || self.at - start > MAX_NUMBER {
            return None;
        }
        let literal = self.text.get(start..self.at)?;
        match fraction {
            None if negative => match literal.parse::<i64>().ok()? {
                0 => None,
                i => Some(Number::Int(i)),
            },
            None => literal.parse::<u64>().ok().map(Number::Uint),
            Some(fraction) => {
                let repr = Repr::of_literal(integer, fraction);
                let value = match repr.magnitude() {
                    Some(magnitude) if negative => -magnitude,
                    Some(magnitude) => magnitude,
                    None => literal.parse::<f64>().ok().filter(|f| f.is_finite())?,
                };
                Some(Number::Float(value, repr))
            }
        }
    }

    /// One or more ASCII digits.
    fn digits(&mut self) -> Option<&'t [u8]> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        (self.at > start).then(|| self.bytes.get(start..self.at))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through this reader or through `serde_json`, the same values and the same text (keys
    /// outside the condensed table, which only this reader maps).
    #[test]
    fn reads_as_serde_json_and_writes_as_python() {
        let texts = [
            r#"{"s":"aaa","t":1611583070,"v":[3,false,"1.2.3",null],"h":[[12.31,-1.23,0.0,-0.0,1.0,100.0,0.0001,0.001234,123456789012345.0,1234567890123456.0]],"w":"da1"}"#,
            r#" { "x" : { "y" : [ ] , "z" : { } } , "x" : -9223372036854775808 , "é" : "ü" } "#,
            r#"{"f":[0.1,0.30000000000000004,12.310000000000001,10000000000000000.0,0.00001,1.50,123.4560]}"#,
        ];
        for text in texts {
            let fast = report(text).unwrap_or_else(|| panic!("read here: {text}"));
            let Value::Object(slow) = serde_json::from_str::<Value>(text).unwrap() else {
                panic!("an object");
            };
            let mut a = Vec::new();
            let mut b = Vec::new();
            fast.write_python(&mut a);
            slow.write_python(&mut b);
            assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
            assert_eq!(fast.len(), slow.len());
        }
    }

    #[test]
    fn leaves_the_rest_to_serde_json() {
        for text in [
            "[1]",
            r#"{"a":"\n"}"#,
            r#"{"a":1e5}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a":tru}"#,
            "{\"a\":\"\t\"}",
        ] {
            assert!(report(text).is_none(), "{text}");
        }
    }
}
