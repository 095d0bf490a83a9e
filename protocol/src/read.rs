//! Requests read into typed structs, every refusal an [`Error`] naming the field by its path.
//!
//! serde's messages repeat the value they refuse (`invalid type: string "<key>", expected u32`),
//! so none is passed on: a refusal is classified by the category serde reports (a missing
//! field, a wrong type, an integer out of range…) or by the code our own readers in
//! [`crate::field`] put in it, and the message is rendered here in our words. The path comes
//! from `serde_path_to_error`, on the slow path only: a request that reads is read once.

use core::fmt;

use alloc::borrow::Cow;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use serde_path_to_error::{Path, Segment};

use crate::error::{Error, ErrorKind};
use crate::field::{CODE, shown};

mod record;

pub use record::{Field, Record};

/// A request, or a part of one, as it arrived: JSON text or a parsed value (a Python dict),
/// or a device record its caller holds typed.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Input<'a> {
    /// JSON text, read without a tree in between.
    Text(&'a str),
    /// A parsed value.
    Value(&'a Value),
    /// Typed fields (a service's stored device), read without JSON in between.
    Record(Record<'a>),
}

impl<'a> Input<'a> {
    /// The input read as a `T`.
    ///
    /// # Errors
    /// [`Error`] naming the field that does not fit (`invalid_json` for text that is not JSON).
    pub fn read<T: Deserialize<'a>>(self) -> Result<T, Error> {
        match self {
            Self::Text(text) => from_str(text),
            Self::Value(value) => from_value(value),
            Self::Record(record) => from_record(record),
        }
    }

    /// Whether the input is a JSON object (text: whether it starts like one).
    #[must_use]
    pub fn is_object(self) -> bool {
        match self {
            Self::Text(text) => text.trim_start().starts_with('{'),
            Self::Value(value) => value.is_object(),
            Self::Record(_) => true,
        }
    }

    /// The object in the field `name`, as an input of its own (the request's own models and
    /// records: a `model` config, a `device`).
    ///
    /// # Errors
    /// `missing_field` or `wrong_type` naming the field.
    pub fn object(self, name: &str) -> Result<Self, Error> {
        let member = match self {
            Self::Text(text) => {
                let mut de = serde_json::Deserializer::from_str(text);
                Member(name)
                    .deserialize(&mut de)
                    .map_err(|e| invalid_json(&e))?
                    .map(|raw| Self::Text(raw.get()))
            }
            Self::Value(value) => value.get(name).filter(|v| !v.is_null()).map(Self::Value),
            // A record's fields are flat: none is an object.
            Self::Record(record) => {
                return match record.0.iter().any(|(n, _)| *n == name) {
                    true => Err(Error::wrong_type(name, "an object")),
                    false => Err(Error::missing(name)),
                };
            }
        };
        match member {
            None => Err(Error::missing(name)),
            Some(member) if member.is_object() => Ok(member),
            Some(_) => Err(Error::wrong_type(name, "an object")),
        }
    }
}

/// The raw text of one member of an object, the others skipped.
struct Member<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.0 {
                found = map.next_value::<Option<&'de RawValue>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// `text` read as a `T`.
///
/// # Errors
/// `invalid_json` when the text is not JSON, else the refusal of the field that does not fit.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|_| refusal_of_text::<T>(text))
}

/// `value` read as a `T`.
///
/// # Errors
/// The refusal of the field that does not fit.
pub fn from_value<'a, T: Deserialize<'a>>(value: &'a Value) -> Result<T, Error> {
    T::deserialize(value).map_err(|_| match serde_path_to_error::deserialize::<_, T>(value) {
        Err(e) => classify(e.path(), e.inner()),
        Ok(_) => Error::new(ErrorKind::InvalidRequest, "the request could not be read"),
    })
}

/// `record` read as a `T`.
///
/// # Errors
/// The refusal of the field that does not fit.
pub fn from_record<'a, T: Deserialize<'a>>(record: Record<'a>) -> Result<T, Error> {
    T::deserialize(record.deserializer()).map_err(|_| {
        match serde_path_to_error::deserialize::<_, T>(record.deserializer()) {
            Err(e) => classify(e.path(), e.inner()),
            Ok(_) => Error::new(ErrorKind::InvalidRequest, "the record could not be read"),
        }
    })
}

/// Why `text` does not read as a `T`: not JSON at all (whatever else is wrong), or the first
/// field that does not fit.
fn refusal_of_text<'a, T: Deserialize<'a>>(text: &'a str) -> Error {
    if let Err(e) = serde_json::from_str::<IgnoredAny>(text) {
        return invalid_json(&e);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => classify(e.path(), e.inner()),
        Ok(_) => Error::new(ErrorKind::InvalidRequest, "the request could not be read"),
    }
}

/// Text that is not JSON. serde_json's syntax messages give a position, never the text.
pub(crate) fn invalid_json(e: &serde_json::Error) -> Error {
    Error::new(ErrorKind::InvalidJson, format!("the line is not JSON: {e}"))
}

/// The field at `path` as a message names it: struct fields by name, array items by index, and
/// a map's keys only when they look like field names (a key may be anything, a secret too).
#[must_use]
pub fn field_name(path: &Path) -> String {
    let mut name = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => name.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(if shown(key) { key } else { "[…]" });
            }
            Segment::Unknown => name.push_str("[…]"),
        }
    }
    name
}

/// serde's refusal at `path`, in our words.
fn classify(path: &Path, e: &impl fmt::Display) -> Error {
    let at = field_name(path);
    let text = e.to_string();
    if let Some((kind, what)) = coded(&text) {
        return refused(kind, &at, what);
    }
    if let Some(rest) = text.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return Error::missing(join(&at, name));
    }
    if let Some(rest) = text.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return Error::at(ErrorKind::InvalidRequest, join(&at, name), "is given twice");
    }
    // The expected part comes last and is the type's own description, never the value.
    let expected = text.rsplit_once(", expected ").map_or("", |(_, e)| e);
    let expected = expected
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .trim();
    if text.starts_with("invalid type: null") || text.starts_with("invalid type: unit") {
        return Error::missing(at);
    }
    if text.starts_with("invalid type: ") {
        return refused(ErrorKind::WrongType, &at, Words::Must(words(expected)));
    }
    if let Some(rest) = text.strip_prefix("invalid value: integer `") {
        return if rest.starts_with('-') {
            refused(
                ErrorKind::OutOfRange,
                &at,
                Words::Plain("must be 0 or more"),
            )
        } else {
            match max_of(expected) {
                Some(max) => refused(ErrorKind::OutOfRange, &at, Words::AtMost(max)),
                None => refused(ErrorKind::OutOfRange, &at, Words::Plain("is out of range")),
            }
        };
    }
    if text.starts_with("unknown variant ") {
        let names = expected.strip_prefix("one of ").unwrap_or(expected);
        let names = names.replace('`', "");
        return refused(ErrorKind::WrongType, &at, Words::OneOf(&names));
    }
    refused(
        ErrorKind::InvalidRequest,
        &at,
        Words::Plain("has the wrong form"),
    )
}

/// The kind and words our readers put in a custom message (see [`crate::field::refuse`]).
fn coded(text: &str) -> Option<(ErrorKind, &str)> {
    let rest = text.strip_prefix(CODE)?;
    let (kind, rest) = rest.split_once(CODE)?;
    let (what, _) = rest.split_once(CODE)?;
    Some((ErrorKind::from_name(kind)?, what))
}

/// What a refusal says after the field's name.
enum Words<'a> {
    Plain(&'a str),
    Must(&'a str),
    AtMost(&'a str),
    OneOf(&'a str),
}

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(words) => f.write_str(words),
            Self::Must(what) => write!(f, "must be {what}"),
            Self::AtMost(max) => write!(f, "must be at most {max}"),
            Self::OneOf(names) => write!(f, "must be one of: {names}"),
        }
    }
}

/// An error of `kind` about the field `at` (the request itself when the path is empty).
fn refused(kind: ErrorKind, at: &str, what: impl fmt::Display) -> Error {
    if at.is_empty() {
        Error::new(kind, format!("the request {what}"))
    } else {
        Error::at(kind, at, what)
    }
}

/// serde's description of an expected type, in the words of our messages.
fn words(expected: &str) -> &'static str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" | "a character" => "a string",
        "a sequence" => "an array",
        e if e.starts_with("struct ") || e == "a map" => "an object",
        e if e.starts_with("a sequence") || e.starts_with("tuple") => "an array",
        _ => "of another type",
    }
}

/// The largest value of an unsigned integer type serde names.
fn max_of(expected: &str) -> Option<&'static str> {
    Some(match expected {
        "u8" => "255",
        "u16" => "65535",
        "u32" => "4294967295",
        "u64" => "18446744073709551615",
        _ => return None,
    })
}

/// `outer.inner` (`inner` alone at the root).
fn join(outer: &str, inner: &str) -> String {
    if outer.is_empty() {
        inner.to_owned()
    } else {
        format!("{outer}.{inner}")
    }
}
