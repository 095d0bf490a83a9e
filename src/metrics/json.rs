//! A JSON reader without a heap: it validates one value in a single pass (RFC 8259 grammar,
//! at most [`MAX_DEPTH`] levels of nesting) and hands out byte spans into the text, which the
//! Metrics signatures hash as they are.
//!
//! Work is linear in the text's length and needs no stack beyond one bit per level.

use core::fmt;

/// Deepest nesting the reader accepts. A Metrics answer needs 3 levels (answer, settings, a
/// value); 32 leaves room for a manufacturer's extra data.
pub const MAX_DEPTH: usize = 32;

/// What a JSON value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `{…}`
    Object,
    /// `[…]`
    Array,
    /// `"…"`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`
    Null,
}

/// One value's place in the text: `start..end` in bytes, without surrounding whitespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    kind: Kind,
    start: usize,
    end: usize,
}

impl Span {
    /// What the value is.
    #[must_use]
    pub const fn kind(&self) -> Kind {
        self.kind
    }

    /// Byte offset of the value's first byte.
    #[must_use]
    pub const fn start(&self) -> usize {
        self.start
    }

    /// The value's text.
    #[must_use]
    pub fn raw<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or_default()
    }

    /// The value's bytes.
    #[must_use]
    pub fn raw_bytes<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        text.get(self.start..self.end).unwrap_or_default()
    }

    /// A string's bytes with their quotes (what Python's `json.dumps` of the key gives when the
    /// text is in its canonical form).
    #[must_use]
    pub fn quoted_bytes<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        self.raw_bytes(text)
    }

    /// A string's content between the quotes, escapes still in.
    #[must_use]
    pub fn string<'t>(&self, text: &'t str) -> JsonStr<'t> {
        let inner = match self.kind {
            Kind::String => text.get(self.start + 1..self.end - 1),
            _ => None,
        };
        JsonStr {
            escaped: inner.unwrap_or_default(),
        }
    }
}

/// Where and why a text is not the JSON expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{problem} at byte {position}")]
pub struct JsonError {
    /// Byte offset of the fault.
    pub position: usize,
    /// What is wrong there.
    pub problem: Problem,
}

impl JsonError {
    pub(crate) const fn not_iterable() -> Self {
        Self {
            position: 0,
            problem: Problem::NotIterable,
        }
    }
}

/// What is wrong at a [`JsonError`]'s position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The text ends inside a value.
    End,
    /// A byte that cannot start or continue a value here.
    Unexpected,
    /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    Escape,
    /// A raw control character inside a string.
    Control,
    /// A number outside the JSON grammar.
    Number,
    /// More than [`MAX_DEPTH`] levels of nesting.
    Depth,
    /// Something other than whitespace after the value.
    Trailing,
    /// The text is not UTF-8.
    NotUtf8,
    /// A list or object was expected.
    NotIterable,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::End => "unexpected end of text",
            Self::Unexpected => "unexpected character",
            Self::Escape => "invalid escape",
            Self::Control => "control character in a string",
            Self::Number => "invalid number",
            Self::Depth => "nested too deeply",
            Self::Trailing => "text after the value",
            Self::NotUtf8 => "not UTF-8",
            Self::NotIterable => "not a list or an object",
        })
    }
}

/// Validates that `text` is exactly one JSON value (whitespace around it allowed).
///
/// # Errors
/// The first fault's [`JsonError`].
pub fn whole(text: &[u8]) -> Result<Span, JsonError> {
    let mut scanner = Scanner { text, pos: 0 };
    let span = scanner.value()?;
    scanner.skip_ws();
    if scanner.pos < text.len() {
        return Err(scanner.error(Problem::Trailing));
    }
    Ok(span)
}

/// The value that starts at `pos` (after any whitespace), validated.
///
/// # Errors
/// The first fault's [`JsonError`].
pub fn value_at(text: &[u8], pos: usize) -> Result<(Kind, Span), JsonError> {
    let span = Scanner { text, pos }.value()?;
    Ok((span.kind, span))
}

/// The kind of value a first byte starts (`Kind::Null` for anything that starts no value).
#[must_use]
pub const fn kind_of(first: u8) -> Kind {
    match first {
        b'{' => Kind::Object,
        b'[' => Kind::Array,
        b'"' => Kind::String,
        b'-' | b'0'..=b'9' => Kind::Number,
        b't' | b'f' => Kind::Bool,
        _ => Kind::Null,
    }
}

/// Whether Python finds the value `json` truthy: not `null`, `false`, a zero, `""`, `[]` or
/// `{}`. Text that is not JSON counts as truthy.
#[must_use]
pub fn is_truthy(json: &[u8]) -> bool {
    let mut scanner = Scanner { text: json, pos: 0 };
    scanner.skip_ws();
    let start = scanner.pos;
    match scanner.peek() {
        Some(b'{' | b'[') => {
            scanner.pos += 1;
            scanner.skip_ws();
            !matches!(scanner.peek(), Some(b'}' | b']'))
        }
        Some(b'"') => json.get(start + 1) != Some(&b'"'),
        Some(b'n' | b'f') => false,
        Some(b'-' | b'0'..=b'9') => json
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b != b'e' && b != b'E' && !b.is_ascii_whitespace())
            .any(|b| (b'1'..=b'9').contains(b)),
        _ => true,
    }
}

/// The entries of a list (its items) or an object (its keys, quotes included) in trusted JSON
/// text such as a serializer's own output: split at the top level's commas without validating,
/// which keeps the validating scanner out of firmware that only signs reports.
pub(crate) fn entries(text: &[u8]) -> Entries<'_> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let object = start.and_then(|i| text.get(i)) == Some(&b'{');
    Entries {
        text,
        pos: start.map_or(text.len(), |i| i + 1),
        object,
    }
}

/// See [`entries`].
#[derive(Clone, Debug)]
pub(crate) struct Entries<'t> {
    text: &'t [u8],
    pos: usize,
    object: bool,
}

impl<'t> Iterator for Entries<'t> {
    type Item = &'t [u8];

    fn next(&mut self) -> Option<&'t [u8]> {
        let rest = self.text.get(self.pos..)?;
        let skip = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let start = self.pos + skip;
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        let mut key_end = None;
        for (i, &b) in self.text.get(start..)?.iter().enumerate() {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => {
                        in_string = false;
                        if depth == 0 && key_end.is_none() {
                            key_end = Some(start + i + 1);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => depth -= 1,
                b',' | b']' | b'}' if depth == 0 => {
                    let end = start + i;
                    self.pos = if b == b',' { end + 1 } else { self.text.len() };
                    let entry = self.text.get(start..end)?.trim_ascii_end();
                    if entry.is_empty() {
                        return None;
                    }
                    return match (self.object, key_end) {
                        (true, Some(key_end)) => self.text.get(start..key_end),
                        (true, None) => None,
                        (false, _) => Some(entry),
                    };
                }
                _ => {}
            }
        }
        None
    }
}

/// The items of the list that starts at a position of `text`, each validated as it is reached.
#[derive(Clone, Debug)]
pub struct Items<'t> {
    scanner: Scanner<'t>,
    first: bool,
    done: bool,
}

impl<'t> Items<'t> {
    /// The items of the list `text` holds.
    #[must_use]
    pub fn new(text: &'t [u8]) -> Self {
        Self::at(text, 0)
    }

    /// The items of the list starting at `pos`.
    #[must_use]
    pub fn at(text: &'t [u8], pos: usize) -> Self {
        let mut scanner = Scanner { text, pos };
        scanner.skip_ws();
        let done = scanner.peek() != Some(b'[');
        scanner.pos += 1;
        Self {
            scanner,
            first: true,
            done,
        }
    }
}

impl Iterator for Items<'_> {
    type Item = Result<Span, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let more = self.scanner.next_entry(&mut self.first, b']');
        let item = more.and_then(|more| {
            if more {
                self.scanner.value().map(Some)
            } else {
                Ok(None)
            }
        });
        self.done = !matches!(item, Ok(Some(_)));
        item.transpose()
    }
}

/// The members (key, value) of the object that starts at a position of `text`.
#[derive(Clone, Debug)]
pub struct Members<'t> {
    scanner: Scanner<'t>,
    first: bool,
    done: bool,
}

impl<'t> Members<'t> {
    /// The members of the object `text` holds.
    #[must_use]
    pub fn new(text: &'t [u8]) -> Self {
        Self::at(text, 0)
    }

    /// The members of the object starting at `pos`.
    #[must_use]
    pub fn at(text: &'t [u8], pos: usize) -> Self {
        let mut scanner = Scanner { text, pos };
        scanner.skip_ws();
        let done = scanner.peek() != Some(b'{');
        scanner.pos += 1;
        Self {
            scanner,
            first: true,
            done,
        }
    }

    fn member(&mut self) -> Result<Option<(Span, Span)>, JsonError> {
        if !self.scanner.next_entry(&mut self.first, b'}')? {
            return Ok(None);
        }
        let key = self.scanner.key()?;
        let value = self.scanner.value()?;
        Ok(Some((key, value)))
    }
}

impl Iterator for Members<'_> {
    type Item = Result<(Span, Span), JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let member = self.member();
        self.done = !matches!(member, Ok(Some(_)));
        member.transpose()
    }
}

/// A string value's content, escapes still in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStr<'t> {
    escaped: &'t str,
}

impl<'t> JsonStr<'t> {
    /// The content as written, escapes included.
    #[must_use]
    pub const fn escaped(&self) -> &'t str {
        self.escaped
    }

    /// The decoded characters; an unpaired surrogate escape decodes to U+FFFD.
    pub fn chars(&self) -> impl Iterator<Item = char> + 't {
        Chars {
            rest: self.escaped.as_bytes(),
            text: self.escaped,
        }
    }

    /// Whether the decoded string is `s`.
    #[must_use]
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped.contains('\\') {
            return self.escaped == s;
        }
        self.chars().eq(s.chars())
    }

    /// Decodes into `buf`.
    ///
    /// # Errors
    /// [`super::text::Full`] when `buf` is too small.
    pub fn decode_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, super::text::Full> {
        let mut len = 0;
        for c in self.chars() {
            let end = len + c.len_utf8();
            let slot = buf.get_mut(len..end).ok_or(super::text::Full)?;
            c.encode_utf8(slot);
            len = end;
        }
        let written = buf.get(..len).unwrap_or_default();
        core::str::from_utf8(written).map_err(|_| super::text::Full)
    }
}

struct Chars<'t> {
    rest: &'t [u8],
    text: &'t str,
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let (&first, after) = self.rest.split_first()?;
        if first != b'\\' {
            // Re-read the character from the text: `rest` is always at a char boundary.
            let offset = self.text.len() - self.rest.len();
            let c = self.text.get(offset..)?.chars().next()?;
            self.rest = self.rest.get(c.len_utf8()..).unwrap_or_default();
            return Some(c);
        }
        let (&escape, after) = after.split_first()?;
        self.rest = after;
        Some(match escape {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode(),
            other => char::from(other),
        })
    }
}

impl Chars<'_> {
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.rest.get(..4)?;
        let value = digits.iter().try_fold(0u32, |acc, &b| {
            char::from(b).to_digit(16).map(|d| acc * 16 + d)
        })?;
        self.rest = self.rest.get(4..).unwrap_or_default();
        Some(value)
    }

    fn unicode(&mut self) -> char {
        let Some(unit) = self.hex4() else {
            return '\u{fffd}';
        };
        if (0xd800..0xdc00).contains(&unit) && self.rest.starts_with(b"\\u") {
            let saved = self.rest;
            self.rest = self.rest.get(2..).unwrap_or_default();
            match self.hex4() {
                Some(low @ 0xdc00..0xe000) => {
                    let c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                    return char::from_u32(c).unwrap_or('\u{fffd}');
                }
                _ => self.rest = saved,
            }
        }
        char::from_u32(unit).unwrap_or('\u{fffd}')
    }
}

#[derive(Clone, Debug)]
struct Scanner<'t> {
    text: &'t [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn error(&self, problem: Problem) -> JsonError {
        let problem = if self.pos >= self.text.len() && problem == Problem::Unexpected {
            Problem::End
        } else {
            problem
        };
        JsonError {
            position: self.pos,
            problem,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() != Some(byte) {
            return Err(self.error(Problem::Unexpected));
        }
        self.pos += 1;
        Ok(())
    }

    /// Before an entry of a container: `Ok(true)` when one follows, `Ok(false)` after the
    /// closing byte.
    fn next_entry(&mut self, first: &mut bool, close: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(false);
        }
        if !*first {
            self.expect(b',')?;
        }
        *first = false;
        Ok(true)
    }

    fn key(&mut self) -> Result<Span, JsonError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.error(Problem::Unexpected));
        }
        self.string()?;
        let key = Span {
            kind: Kind::String,
            start,
            end: self.pos,
        };
        self.expect(b':')?;
        Ok(key)
    }

    /// One value, containers walked with a bit per open level (1 = object).
    fn value(&mut self) -> Result<Span, JsonError> {
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            _ => {
                let kind = self.scalar()?;
                return Ok(Span {
                    kind,
                    start,
                    end: self.pos,
                });
            }
        };
        let mut open: u64 = 0;
        let mut depth = 0usize;
        let mut opened = true;
        loop {
            if opened {
                // At `{` or `[`: enter it.
                if depth == MAX_DEPTH {
                    return Err(self.error(Problem::Depth));
                }
                let is_object = self.peek() == Some(b'{');
                open = (open << 1) | u64::from(is_object);
                depth += 1;
                self.pos += 1;
                self.skip_ws();
                let close = if is_object { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.pos += 1;
                    depth -= 1;
                    open >>= 1;
                } else {
                    opened = self.entry(open & 1 == 1)?;
                    if opened {
                        continue;
                    }
                }
            }
            // After a complete value inside the containers: `,` and the next entry, or closes.
            loop {
                if depth == 0 {
                    return Ok(Span {
                        kind,
                        start,
                        end: self.pos,
                    });
                }
                self.skip_ws();
                let is_object = open & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        opened = self.entry(is_object)?;
                        if opened {
                            break;
                        }
                    }
                    Some(b'}') if is_object => {
                        self.pos += 1;
                        depth -= 1;
                        open >>= 1;
                    }
                    Some(b']') if !is_object => {
                        self.pos += 1;
                        depth -= 1;
                        open >>= 1;
                    }
                    _ => return Err(self.error(Problem::Unexpected)),
                }
            }
        }
    }

    /// One entry of the open container: its key for an object, then a scalar (`Ok(false)`) or
    /// the start of a nested container (`Ok(true)`, positioned at its opening byte).
    fn entry(&mut self, in_object: bool) -> Result<bool, JsonError> {
        if in_object {
            self.key()?;
        }
        self.skip_ws();
        if matches!(self.peek(), Some(b'{' | b'[')) {
            return Ok(true);
        }
        self.scalar()?;
        Ok(false)
    }

    fn scalar(&mut self) -> Result<Kind, JsonError> {
        match self.peek() {
            Some(b'"') => self.string().map(|()| Kind::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(|()| Kind::Number),
            Some(b't') => self.literal(b"true", Kind::Bool),
            Some(b'f') => self.literal(b"false", Kind::Bool),
            Some(b'n') => self.literal(b"null", Kind::Null),
            _ => Err(self.error(Problem::Unexpected)),
        }
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Result<Kind, JsonError> {
        for &b in word {
            if self.peek() != Some(b) {
                return Err(self.error(Problem::Unexpected));
            }
            self.pos += 1;
        }
        Ok(kind)
    }

    fn string(&mut self) -> Result<(), JsonError> {
        self.pos += 1; // the opening quote
        loop {
            match self.peek() {
                None => return Err(self.error(Problem::End)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
                                    return Err(self.error(Problem::Escape));
                                }
                                self.pos += 1;
                            }
                        }
                        _ => return Err(self.error(Problem::Escape)),
                    }
                }
                Some(0..0x20) => return Err(self.error(Problem::Control)),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(Problem::Number)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error(Problem::Number));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(Problem::Number));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_and_spans() {
        let text = br#" {"a":[1,2.5e-3,{"b":null}],"c":"x\u00e9\"","d":true} "#;
        let span = whole(text).unwrap();
        assert_eq!(span.kind(), Kind::Object);
        let members: Vec<_> = Members::new(text).collect::<Result<_, _>>().unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[0].1.raw_bytes(text), br#"[1,2.5e-3,{"b":null}]"#);
        assert_eq!(members[1].1.raw_bytes(text), br#""x\u00e9\"""#);
        let items: Vec<_> = Items::at(text, members[0].1.start())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn refuses_with_positions() {
        let cases: [(&[u8], usize, Problem); 10] = [
            (b"", 0, Problem::End),
            (b"[1,]", 3, Problem::Unexpected),
            (b"{\"a\" 1}", 5, Problem::Unexpected),
            (b"01", 1, Problem::Trailing),
            (b"1.", 2, Problem::Number),
            (b"-", 1, Problem::Number),
            (b"\"\\x\"", 2, Problem::Escape),
            (b"\"a\nb\"", 2, Problem::Control),
            (b"[1 2]", 3, Problem::Unexpected),
            (b"NaN", 0, Problem::Unexpected),
        ];
        for (text, position, problem) in cases {
            assert_eq!(
                whole(text),
                Err(JsonError { position, problem }),
                "{:?}",
                core::str::from_utf8(text)
            );
        }
    }

    #[test]
    fn depth_is_bounded() {
        let mut text = [b'['; 70];
        text[MAX_DEPTH..].fill(b']');
        // 32 opening brackets then closes: accepted up to the limit, refused past it.
        assert!(whole(&text[..2 * MAX_DEPTH]).is_ok());
        let deep = [b'['; MAX_DEPTH + 1];
        assert_eq!(whole(&deep).unwrap_err().problem, Problem::Depth);
    }

    #[test]
    fn entries_split_trusted_text() {
        let list = br#"[[1,"a,]"],{"k":[2,3]}, "x\"y" ,4]"#;
        let items: Vec<_> = entries(list).collect();
        assert_eq!(
            items,
            [&br#"[1,"a,]"]"#[..], br#"{"k":[2,3]}"#, br#""x\"y""#, b"4"]
        );
        let object = br#"{"a":1,"b\"":{"c":2}}"#;
        let keys: Vec<_> = entries(object).collect();
        assert_eq!(keys, [&br#""a""#[..], br#""b\"""#]);
        assert_eq!(entries(b"[]").count(), 0);
        assert_eq!(entries(b"{}").count(), 0);
    }

    #[test]
    fn truthiness_as_python() {
        for falsy in [
            "[]", "{ }", "null", "false", "0", "0.0", "-0.0", "0e5", "\"\"",
        ] {
            assert!(!is_truthy(falsy.as_bytes()), "{falsy}");
        }
        for truthy in ["[0]", "{\"a\":0}", "true", "1", "0.5", "-1e-9", "\"0\""] {
            assert!(is_truthy(truthy.as_bytes()), "{truthy}");
        }
    }

    #[test]
    fn strings_decode_and_compare() {
        let text = r#""a\u00e9\ud83d\ude00\n\ud800x""#;
        let span = whole(text.as_bytes()).unwrap();
        let s = span.string(text);
        assert!(s.eq_str("aé😀\n\u{fffd}x"));
        let mut buf = [0u8; 32];
        assert_eq!(s.decode_into(&mut buf).unwrap(), "aé😀\n\u{fffd}x");
        assert!(s.decode_into(&mut buf[..3]).is_err());
    }
}
