//! Readers for the fields serde's own types would refuse in words that repeat the value: keys,
//! names from a fixed list, nested objects and arrays. Each refusal is a code (a kind and our
//! words, never the value) that [`crate::read`] turns into an [`crate::Error`] naming the field.

use alloc::borrow::Cow;
use core::fmt;
use core::marker::PhantomData;

use paylock::{Key, KeyError};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::ErrorKind;

/// Marks our codes in a custom serde message: `CODE kind CODE words CODE`.
pub(crate) const CODE: &str = "\u{1f}";

/// A refusal of `kind` saying `what` (after the field's name), as a serde error.
pub fn refuse<E: de::Error>(kind: ErrorKind, what: impl fmt::Display) -> E {
    E::custom(format_args!("{CODE}{}{CODE}{what}{CODE}", kind.name()))
}

/// Whether a map key may be shown in a message: a field name of the protocol's kind (lowercase
/// snake case, up to 32 characters, not all hex digits) or a small number. Any other key is
/// shown as `[…]`: a key of a map may be anything, a secret too.
#[must_use]
pub fn shown(key: &str) -> bool {
    let name = key.len() <= 32
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !key.bytes().all(|b| b.is_ascii_hexdigit());
    let number = key.len() <= 3 && key.bytes().all(|b| b.is_ascii_digit());
    name || number
}

/// The JSON type of what a visitor was given, for a refusal.
fn wrong<E: de::Error>(expected: &str) -> E {
    refuse(ErrorKind::WrongType, format_args!("must be {expected}"))
}

/// A string, borrowed from the input when it has no escapes.
///
/// # Errors
/// `missing_field` for null, `wrong_type` for anything but a string.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(refuse(ErrorKind::MissingField, "is required"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(wrong("a string"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(wrong("a string"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(wrong("a string"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(wrong("a string"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Err(wrong("a string"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Err(wrong("a string"))
        }
    }
    d.deserialize_any(Text)
}

/// An optional string (`null` is absent).
///
/// # Errors
/// As [`text`].
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<Texted<'de>>::deserialize(d).map(|t| t.map(|t| t.0))
}

/// A [`text`] as a type, for `Option`.
struct Texted<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Texted<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d).map(Self)
    }
}

/// A 16-byte key as 32 hex digits.
///
/// # Errors
/// `wrong_type` for anything but a string, `invalid_key` for a string that is not a key.
pub fn key<'de, D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
    struct Hex;
    impl<'de> Visitor<'de> for Hex {
        type Value = Key;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
            Key::from_hex(v).map_err(|e| refuse(ErrorKind::InvalidKey, KeyWhy(e)))
        }
        // A typed record's key ([`crate::read::Field::Key`]): its 16 bytes, no hex between.
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
            <[u8; 16]>::try_from(v)
                .map(Key::new)
                .map_err(|_| refuse(ErrorKind::InvalidKey, "must be 16 bytes"))
        }
        // Other types: serde's `invalid type` refusal, which read.rs words as `text` does.
        fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
            Err(refuse(ErrorKind::MissingField, "is required"))
        }
    }
    d.deserialize_any(Hex)
}

/// An optional [`key`] (`null` is absent).
///
/// # Errors
/// As [`key`].
pub fn opt_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Key>, D::Error> {
    Option::<Keyed>::deserialize(d).map(|k| k.map(|k| k.0))
}

/// A [`key`] as a type, for `Option`.
struct Keyed(Key);

impl<'de> Deserialize<'de> for Keyed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        key(d).map(Self)
    }
}

/// Why a text is not a key, by length or position only.
#[derive(Debug)]
pub struct KeyWhy(pub KeyError);

impl fmt::Display for KeyWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KeyError::Length(n) => write!(f, "must be 32 hex characters (16 bytes), got {n}"),
            KeyError::NotHex { position } => {
                write!(f, "character {position} is not a hex digit")
            }
        }
    }
}

/// A nested object read as `T`: an array or any other value is refused, not read by position.
///
/// # Errors
/// `missing_field` for null, `wrong_type` for anything but an object, else `T`'s refusal.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct Object<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            Err(refuse(ErrorKind::MissingField, "is required"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
            Err(wrong("an object"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
            Err(wrong("an object"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
            Err(wrong("an object"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
            Err(wrong("an object"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
            Err(wrong("an object"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Err(wrong("an object"))
        }
    }
    d.deserialize_any(Object(PhantomData))
}

/// An optional [`object`] (`null` is absent).
///
/// # Errors
/// As [`object`].
pub fn opt_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Objected<T>>::deserialize(d).map(|o| o.map(|o| o.0))
}

/// An [`object`] as a type, for `Option`.
struct Objected<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Objected<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Self)
    }
}

/// An array of objects each read as `T`, at most `max` of them (the rest is refused before it
/// is read).
///
/// # Errors
/// `missing_field` for null, `wrong_type` for anything but an array or an item that is not an
/// object, `out_of_range` past `max`, else `T`'s refusal.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
) -> Result<Vec<T>, D::Error> {
    struct Array<T>(usize, PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Array<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0));
            while let Some(Objected(item)) = seq.next_element()? {
                if items.len() == self.0 {
                    return Err(refuse(
                        ErrorKind::OutOfRange,
                        format_args!("has more than {} items, the most allowed", self.0),
                    ));
                }
                items.push(item);
            }
            Ok(items)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Err(refuse(ErrorKind::MissingField, "is required"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<T>, E> {
            Err(wrong("an array"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<T>, E> {
            Err(wrong("an array"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<T>, E> {
            Err(wrong("an array"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<T>, E> {
            Err(wrong("an array"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<T>, E> {
            Err(wrong("an array"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Err(wrong("an array"))
        }
    }
    d.deserialize_any(Array(max, PhantomData))
}

/// `true` on the wire, and nothing else: the `ok` of every answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct True;

impl Serialize for True {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(true)
    }
}

/// An enum whose variants are read from fixed names: any other string is refused with the
/// given kind, listing the names (never the one given).
macro_rules! names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:expr) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every name, in the order messages list them.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            /// The wire name.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// The variant called `text`.
            #[must_use]
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = $crate::field::text(d)?;
                Self::from_name(&text).ok_or_else(|| {
                    $crate::field::refuse(
                        $kind,
                        format_args!("must be one of: {}", Self::NAMES.join(", ")),
                    )
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

pub(crate) use names;

/// A token text as a JSON string.
///
/// # Errors
/// The serializer's.
pub fn token<S: Serializer>(token: &paylock::TokenText, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(token.as_str())
}
