//! The server's answer on the device: one validating pass over the text, then the `da`
//! signature checked before the time and settings are handed out.
//!
//! 0.6.3 writes the answer's keys condensed (`tkl`, `auts`, `asl`, `st`, `ed`, `a`); the full
//! names are read too. Keys the signature does not cover are skipped, a key given twice is an
//! error. Tokens need no signature (each is authenticated by the token decoder), so they can be
//! read from an [`Unverified`] answer.

use super::auth::{self, ResponseParts};
use super::json::{self, JsonError, JsonStr, Kind, Span};
use crate::key::Key;

/// What the device sent in the request being answered: the answer's signature covers it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sent<'s> {
    /// The device's serial number.
    pub serial_number: &'s str,
    /// The request's timestamp (0: none was sent).
    pub timestamp: u64,
    /// The request's count (0: none was sent).
    pub request_count: u64,
}

/// A field of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnswerField {
    /// `token_list` (`tkl`).
    TokenList,
    /// `active_until_timestamp` (`auts`).
    ActiveUntil,
    /// `active_seconds_left` (`asl`).
    ActiveSecondsLeft,
    /// `settings` (`st`).
    Settings,
    /// `extra_data` (`ed`).
    ExtraData,
    /// `auth` (`a`).
    Auth,
}

impl AnswerField {
    const ALL: [Self; 6] = [
        Self::TokenList,
        Self::ActiveUntil,
        Self::ActiveSecondsLeft,
        Self::Settings,
        Self::ExtraData,
        Self::Auth,
    ];

    /// The condensed key 0.6.3 writes.
    #[must_use]
    pub const fn condensed(self) -> &'static str {
        match self {
            Self::TokenList => "tkl",
            Self::ActiveUntil => "auts",
            Self::ActiveSecondsLeft => "asl",
            Self::Settings => "st",
            Self::ExtraData => "ed",
            Self::Auth => "a",
        }
    }

    /// The full key name.
    #[must_use]
    pub const fn simple(self) -> &'static str {
        match self {
            Self::TokenList => "token_list",
            Self::ActiveUntil => "active_until_timestamp",
            Self::ActiveSecondsLeft => "active_seconds_left",
            Self::Settings => "settings",
            Self::ExtraData => "extra_data",
            Self::Auth => "auth",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    const fn kind(self) -> Kind {
        match self {
            Self::TokenList => Kind::Array,
            Self::ActiveUntil | Self::ActiveSecondsLeft => Kind::Number,
            Self::Settings | Self::ExtraData => Kind::Object,
            Self::Auth => Kind::String,
        }
    }
}

impl core::fmt::Display for AnswerField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.simple())
    }
}

/// Why an answer is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// Not a JSON text.
    #[error("the answer is not JSON: {0}")]
    Json(JsonError),
    /// JSON, but not an object.
    #[error("the answer is not a JSON object")]
    NotAnObject,
    /// A field appears twice (under either of its names).
    #[error("{field} appears twice")]
    Duplicate {
        /// The field.
        field: AnswerField,
    },
    /// A field has the wrong JSON type.
    #[error("{field} has the wrong type")]
    Type {
        /// The field.
        field: AnswerField,
    },
    /// An item of the token list is not 1 to 48 digits (a string of digits or an integer).
    #[error("token {index} of token_list is not 1 to 48 digits")]
    Token {
        /// Its position in the list, from 0.
        index: usize,
    },
    /// A time is not a non-negative number of seconds below 2^64 in positional notation.
    #[error("{field} is not a number of seconds")]
    Seconds {
        /// The field.
        field: AnswerField,
    },
    /// The answer carries no signature.
    #[error("the answer is not signed")]
    Unsigned,
    /// The signature is not the device's key's over this answer and request.
    #[error("the answer's signature does not match")]
    Signature,
}

/// A parsed answer whose signature is not checked yet: only its tokens may be used.
#[derive(Clone, Copy, Debug)]
pub struct Unverified<'t> {
    text: &'t str,
    fields: [Option<Span>; 6],
}

impl<'t> Unverified<'t> {
    /// Reads an answer: one pass that validates the JSON and every known field's type.
    ///
    /// # Errors
    /// [`AnswerError`] naming the first fault.
    pub fn parse(text: &'t [u8]) -> Result<Self, AnswerError> {
        let text = core::str::from_utf8(text).map_err(|e| {
            AnswerError::Json(JsonError {
                position: e.valid_up_to(),
                problem: json::Problem::NotUtf8,
            })
        })?;
        let bytes = text.as_bytes();
        if json::whole(bytes).map_err(AnswerError::Json)?.kind() != Kind::Object {
            return Err(AnswerError::NotAnObject);
        }
        let mut fields = [None; 6];
        for member in json::Members::new(bytes) {
            let (name, value) = member.map_err(AnswerError::Json)?;
            let name = name.string(text);
            let Some(field) = AnswerField::ALL
                .into_iter()
                .find(|f| name.eq_str(f.condensed()) || name.eq_str(f.simple()))
            else {
                continue;
            };
            let slot = fields
                .get_mut(field.index())
                .ok_or(AnswerError::Type { field })?;
            if slot.is_some() {
                return Err(AnswerError::Duplicate { field });
            }
            if value.kind() != field.kind() {
                return Err(AnswerError::Type { field });
            }
            check(text, field, value)?;
            *slot = Some(value);
        }
        Ok(Self { text, fields })
    }

    fn field(&self, field: AnswerField) -> Option<Span> {
        self.fields.get(field.index()).copied().flatten()
    }

    fn raw(&self, field: AnswerField) -> Option<&'t [u8]> {
        self.field(field)
            .map(|span| span.raw_bytes(self.text.as_bytes()))
    }

    /// The tokens, oldest first. Safe without the signature: the token decoder authenticates
    /// each one.
    #[must_use]
    pub fn tokens(&self) -> Tokens<'t> {
        Tokens {
            text: self.text,
            items: self
                .field(AnswerField::TokenList)
                .map(|span| json::Items::at(self.text.as_bytes(), span.start())),
        }
    }

    /// Checks the `da` signature with the device's key over the answer and the request it
    /// answers.
    ///
    /// # Errors
    /// [`AnswerError::Unsigned`] without one, [`AnswerError::Signature`] when it does not match.
    pub fn verify(self, key: &Key, sent: &Sent<'_>) -> Result<Answer<'t>, AnswerError> {
        let given = self
            .field(AnswerField::Auth)
            .ok_or(AnswerError::Unsigned)?
            .string(self.text);
        let parts = ResponseParts {
            serial_number: sent.serial_number,
            timestamp: sent.timestamp,
            request_count: sent.request_count,
            active_until: self.raw(AnswerField::ActiveUntil),
            active_seconds_left: self.raw(AnswerField::ActiveSecondsLeft),
            token_list: self.raw(AnswerField::TokenList),
            settings: self.raw(AnswerField::Settings),
            extra_data: self.raw(AnswerField::ExtraData),
        };
        if !auth::sign_response(key, &parts).matches(given.escaped().as_bytes()) {
            return Err(AnswerError::Signature);
        }
        Ok(Answer { inner: self })
    }
}

/// The per-field checks of the first pass.
fn check(text: &str, field: AnswerField, value: Span) -> Result<(), AnswerError> {
    match field {
        AnswerField::TokenList => {
            for (index, item) in json::Items::at(text.as_bytes(), value.start()).enumerate() {
                let item = item.map_err(AnswerError::Json)?;
                if token_digits(text, item).is_none() {
                    return Err(AnswerError::Token { index });
                }
            }
            Ok(())
        }
        AnswerField::ActiveUntil | AnswerField::ActiveSecondsLeft => seconds(value.raw(text))
            .map(|_| ())
            .ok_or(AnswerError::Seconds { field }),
        AnswerField::Settings | AnswerField::ExtraData | AnswerField::Auth => Ok(()),
    }
}

/// A token's digits: a string of digits without escapes, or an integer literal.
fn token_digits(text: &str, item: Span) -> Option<&str> {
    let digits = match item.kind() {
        Kind::String => item.string(text).escaped(),
        Kind::Number => item.raw(text),
        _ => return None,
    };
    let ok = (1..=48).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(digits)
}

/// Whole seconds of a non-negative number in positional notation (`3600`, `1611583070.0`;
/// a fraction is dropped).
fn seconds(raw: &str) -> Option<u64> {
    let whole = raw.split_once('.').map_or(raw, |(whole, frac)| {
        if frac.bytes().all(|b| b.is_ascii_digit()) {
            whole
        } else {
            ""
        }
    });
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// An answer whose signature holds: its time, settings and extra data can be trusted.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'t> {
    inner: Unverified<'t>,
}

impl<'t> Answer<'t> {
    /// Parses and verifies an answer in one call.
    ///
    /// # Errors
    /// [`AnswerError`], as [`Unverified::parse`] and [`Unverified::verify`].
    pub fn verify(text: &'t [u8], key: &Key, sent: &Sent<'_>) -> Result<Self, AnswerError> {
        Unverified::parse(text)?.verify(key, sent)
    }

    /// The tokens, oldest first.
    #[must_use]
    pub fn tokens(&self) -> Tokens<'t> {
        self.inner.tokens()
    }

    /// When the credit runs out, Unix seconds (`auts`). A fraction (0.6.3 sends a float) is
    /// dropped. `None` for 0 too: the signature leaves out every zero (0.6.3 hashes only the
    /// parts Python finds truthy), so anyone could add or remove one; keep the expiry the
    /// device already has.
    #[must_use]
    pub fn active_until(&self) -> Option<u64> {
        self.signed_seconds(AnswerField::ActiveUntil)
    }

    /// Seconds of credit left (`asl`). A fraction is dropped; `None` for 0, which no signature
    /// covers (see [`Answer::active_until`]): the device's own countdown reaches it anyway.
    #[must_use]
    pub fn active_seconds_left(&self) -> Option<u64> {
        self.signed_seconds(AnswerField::ActiveSecondsLeft)
    }

    fn signed_seconds(&self, field: AnswerField) -> Option<u64> {
        self.inner
            .field(field)
            .and_then(|span| seconds(span.raw(self.inner.text)))
            .filter(|&s| s != 0)
    }

    /// The new settings (`st`), such as `base_url`.
    #[must_use]
    pub fn settings(&self) -> Option<Object<'t>> {
        self.members(AnswerField::Settings)
    }

    /// The extra data (`ed`).
    #[must_use]
    pub fn extra_data(&self) -> Option<Object<'t>> {
        self.members(AnswerField::ExtraData)
    }

    fn members(&self, field: AnswerField) -> Option<Object<'t>> {
        let text = self.inner.text;
        self.inner.field(field).map(|span| Object {
            text,
            members: json::Members::at(text.as_bytes(), span.start()),
        })
    }
}

/// The token list's digits, in order.
#[derive(Clone, Debug)]
pub struct Tokens<'t> {
    text: &'t str,
    items: Option<json::Items<'t>>,
}

impl<'t> Iterator for Tokens<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let item = self.items.as_mut()?.next()?.ok()?;
        token_digits(self.text, item)
    }
}

/// The entries of a settings or extra data object: the key, decoded on demand, and the value.
#[derive(Clone, Debug)]
pub struct Object<'t> {
    text: &'t str,
    members: json::Members<'t>,
}

impl<'t> Iterator for Object<'t> {
    type Item = (JsonStr<'t>, Value<'t>);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, value) = self.members.next()?.ok()?;
        Some((
            name.string(self.text),
            Value {
                text: self.text,
                span: value,
            },
        ))
    }
}

impl<'t> Object<'t> {
    /// The value under `name`, if any.
    #[must_use]
    pub fn get(self, name: &str) -> Option<Value<'t>> {
        self.into_iter()
            .find_map(|(key, value)| key.eq_str(name).then_some(value))
    }
}

/// A settings value.
#[derive(Clone, Copy, Debug)]
pub struct Value<'t> {
    text: &'t str,
    span: Span,
}

impl<'t> Value<'t> {
    /// Its JSON type.
    #[must_use]
    pub const fn kind(&self) -> Kind {
        self.span.kind()
    }

    /// Its JSON text.
    #[must_use]
    pub fn raw(&self) -> &'t str {
        self.span.raw(self.text)
    }

    /// A string's content (decode it with [`JsonStr::decode_into`]).
    #[must_use]
    pub fn as_str(&self) -> Option<JsonStr<'t>> {
        (self.kind() == Kind::String).then(|| self.span.string(self.text))
    }

    /// An integer literal's value.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        if self.kind() != Kind::Number {
            return None;
        }
        let raw = self.raw();
        let (negative, digits) = raw.strip_prefix('-').map_or((false, raw), |d| (true, d));
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = digits.bytes().try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_sub(i64::from(b - b'0'))
        })?;
        if negative {
            Some(magnitude)
        } else {
            magnitude.checked_neg()
        }
    }

    /// `true` or `false`.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.raw() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::text::Sink as _;

    fn key() -> Key {
        Key::from_hex("dac86b1a29ab82edc5fbbc41ec9530f6").unwrap()
    }

    fn signed(body: &str, sent: &Sent<'_>, out: &mut [u8; 256]) -> usize {
        // Sign the fields of `body` as a server would, then append the auth.
        let parsed = Unverified::parse(body.as_bytes()).unwrap();
        let parts = ResponseParts {
            serial_number: sent.serial_number,
            timestamp: sent.timestamp,
            request_count: sent.request_count,
            active_until: parsed.raw(AnswerField::ActiveUntil),
            active_seconds_left: parsed.raw(AnswerField::ActiveSecondsLeft),
            token_list: parsed.raw(AnswerField::TokenList),
            settings: parsed.raw(AnswerField::Settings),
            extra_data: parsed.raw(AnswerField::ExtraData),
        };
        let signature = auth::sign_response(&key(), &parts);
        let mut buf = crate::metrics::text::Buffer::new(out);
        buf.put(body.strip_suffix('}').unwrap().as_bytes()).unwrap();
        buf.put(b",\"a\":\"").unwrap();
        signature.write_to(&mut buf).unwrap();
        buf.put(b"\"}").unwrap();
        buf.len()
    }

    #[test]
    fn reads_a_verified_answer() {
        let sent = Sent {
            serial_number: "s1",
            timestamp: 1_611_583_070,
            request_count: 4,
        };
        let mut out = [0u8; 256];
        let len = signed(
            r#"{"tkl":["012345678",987654321],"auts":1611600000.0,"st":{"base_url":"h\u00e9","n":-5}}"#,
            &sent,
            &mut out,
        );
        let answer = Answer::verify(&out[..len], &key(), &sent).unwrap();
        let tokens: Vec<_> = answer.tokens().collect();
        assert_eq!(tokens, ["012345678", "987654321"]);
        assert_eq!(answer.active_until(), Some(1_611_600_000));
        assert_eq!(answer.active_seconds_left(), None);
        let url = answer.settings().unwrap().get("base_url").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(url.as_str().unwrap().decode_into(&mut buf).unwrap(), "hé");
        let n = answer.settings().unwrap().get("n").unwrap();
        assert_eq!(n.as_i64(), Some(-5));

        // Any other request, key or byte fails.
        let other = Sent {
            request_count: 5,
            ..sent
        };
        assert_eq!(
            Answer::verify(&out[..len], &key(), &other).unwrap_err(),
            AnswerError::Signature
        );
        out[10] = b'9';
        assert_eq!(
            Answer::verify(&out[..len], &key(), &sent).unwrap_err(),
            AnswerError::Signature
        );
    }

    #[test]
    fn refuses_bad_answers_precisely() {
        let cases: [(&str, AnswerError); 7] = [
            (
                r#"{"tkl":[1],"tkl":[2]}"#,
                AnswerError::Duplicate {
                    field: AnswerField::TokenList,
                },
            ),
            (
                r#"{"tkl":[1],"token_list":[2]}"#,
                AnswerError::Duplicate {
                    field: AnswerField::TokenList,
                },
            ),
            (r#"{"tkl":["12a"]}"#, AnswerError::Token { index: 0 }),
            (r#"{"tkl":[1,-2]}"#, AnswerError::Token { index: 1 }),
            (
                r#"{"auts":1e+16}"#,
                AnswerError::Seconds {
                    field: AnswerField::ActiveUntil,
                },
            ),
            (
                r#"{"st":[]}"#,
                AnswerError::Type {
                    field: AnswerField::Settings,
                },
            ),
            ("[]", AnswerError::NotAnObject),
        ];
        for (text, want) in cases {
            assert_eq!(
                Unverified::parse(text.as_bytes()).unwrap_err(),
                want,
                "{text}"
            );
        }
        let unsigned = Unverified::parse(br#"{"tkl":[123456789],"x":1}"#).unwrap();
        assert_eq!(unsigned.tokens().collect::<Vec<_>>(), ["123456789"]);
        assert_eq!(
            unsigned.verify(&key(), &Sent::default()).unwrap_err(),
            AnswerError::Unsigned
        );
    }
}
