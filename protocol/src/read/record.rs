//! A device record a caller already holds typed, read by models as they read JSON.
//!
//! A service keeps its devices' provisioning fields typed (keys unsealed in memory, numbers as
//! numbers); turning them into JSON on every token would write each key as hex into a string
//! that is never zeroized, only for the model to parse it back. A [`Record`] lends the fields as
//! they are: a model's record type reads them through serde, a key field taking the key's bytes.

use core::fmt;

use paylock::Key;
use serde::de::value::{Error as ValueError, MapDeserializer};
use serde::de::{Deserializer, IntoDeserializer, Visitor};

/// One field of a [`Record`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Field<'a> {
    /// A key (read by [`crate::field::key`] without hex in between).
    Key(&'a Key),
    /// An unsigned integer.
    U64(u64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
}

impl fmt::Debug for Field<'_> {
    /// A key shows as `Key(..)`, never its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(_) => f.write_str("Key(..)"),
            Self::U64(n) => write!(f, "U64({n})"),
            Self::Bool(b) => write!(f, "Bool({b})"),
            Self::Str(_) => f.write_str("Str(..)"),
        }
    }
}

/// A device record as named, typed fields:
/// `Record(&[("key", Field::Key(&key)), ("serial", Field::U64(7))])`.
#[derive(Clone, Copy)]
pub struct Record<'a>(pub &'a [(&'a str, Field<'a>)]);

impl fmt::Debug for Record<'_> {
    /// Field names only: a record holds keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// The deserializer of a record's fields, as a map.
pub(crate) type RecordDeserializer<'a> = MapDeserializer<
    'a,
    core::iter::Copied<core::slice::Iter<'a, (&'a str, Field<'a>)>>,
    ValueError,
>;

impl<'a> Record<'a> {
    /// A deserializer over the record's fields (a map).
    pub(crate) fn deserializer(self) -> RecordDeserializer<'a> {
        MapDeserializer::new(self.0.iter().copied())
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for Field<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for Field<'de> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Self::Key(key) => visitor.visit_borrowed_bytes(key.as_bytes()),
            Self::U64(n) => visitor.visit_u64(n),
            Self::Bool(b) => visitor.visit_bool(b),
            Self::Str(s) => visitor.visit_borrowed_str(s),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use paylock::{Command, Credit, Key, TimeUnit};
    use serde_json::json;

    use super::{Field, Record};
    use crate::{ErrorKind, Input, Registry};

    const KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";

    /// A model issues from typed fields exactly as from the JSON record, carrying its state.
    #[test]
    fn a_record_reads_as_its_json_does() {
        let registry = Registry::builtin();
        let scheme = registry.scheme("openpaygo").unwrap();
        let config =
            json!({"restricted_digit_set": false, "extended_token": false, "time_divider": 1});
        let model = scheme.model(Input::Value(&config)).unwrap();
        let key = Key::from_hex(KEY).unwrap();
        let fields = [
            ("key", Field::Key(&key)),
            ("starting_code", Field::U64(123_456_789)),
            ("test_code", Field::Str("000000001")),
        ];
        let json = json!({"key": KEY, "starting_code": 123_456_789, "test_code": "000000001"});
        let week = Command::AddCredit(Credit::new(1, TimeUnit::Days));
        let (mut a, mut b) = Default::default();
        let typed = model.issue_carrying(Input::Record(Record(&fields)), 0, &mut a, &week);
        let text = model.issue_carrying(Input::Value(&json), 0, &mut b, &week);
        assert_eq!(typed.unwrap(), text.unwrap());
        assert_eq!((a.chain.len(), a), (1, b));
        assert_eq!(
            format!("{:?}", Record(&fields)),
            r#"["key", "starting_code", "test_code"]"#
        );
    }

    /// A field of the wrong type or a missing one is named, as in JSON.
    #[test]
    fn a_bad_record_names_the_field() {
        let scheme = Registry::builtin().scheme("nexus").unwrap();
        let model = scheme
            .model(Input::Value(&json!({"protocol": "small"})))
            .unwrap();
        let week = Command::AddCredit(Credit::new(7, TimeUnit::Days));
        let issue = |fields| {
            model
                .issue(Input::Record(Record(fields)), 0, &week)
                .unwrap_err()
        };
        let e = issue(&[("secret_key_hex", Field::U64(5))]);
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::WrongType, Some("secret_key_hex"))
        );
        let e = issue(&[]);
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::MissingField, Some("secret_key_hex"))
        );
    }
}
