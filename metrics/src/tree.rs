//! A report's values as Python's `json.loads` gives them, in a model cheaper than
//! `serde_json::Value`: objects are vectors of (name, value) in insertion order, scanned rather
//! than hashed (a report's objects hold a handful of keys, and `serde_json`'s ordered map hashes
//! every key with SipHash on insert and look-up), and the names the server writes itself (the
//! condensed table's full names, `timestamp`) are `&'static str`s, never allocated.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::python;

/// An object's key: a name the server writes itself, a name every historical row of a report
/// shares (counted, not copied per row), or a name of its own.
#[derive(Clone, Debug)]
pub enum Name {
    /// The condensed table's full names, `timestamp`.
    Static(&'static str),
    /// A data format's names, made once per report.
    Shared(Arc<str>),
    /// A name read from the report.
    Owned(Box<str>),
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
            Self::Owned(s) => s,
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Self {
        Self::Static(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Self::Owned(name.into_boxed_str())
    }
}

impl From<Cow<'_, str>> for Name {
    fn from(name: Cow<'_, str>) -> Self {
        Self::Owned(name.into())
    }
}

/// A JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// `null` (Python's `None`).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as Python reads it.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<Self>),
    /// An object (a Python dict).
    Object(Object),
}

/// A number: an integer within 64 bits or a float (Python's `int` or `float`; integers beyond
/// 64 bits and `-0` are refused before, see [`crate::python::check_integers`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A non-negative integer.
    Uint(u64),
    /// A negative integer.
    Int(i64),
    /// A literal with a fraction or an exponent: Python's `float`, and the literal when it is
    /// already the float's repr.
    Float(f64, Repr),
}

/// The literal a float was read from, kept when it is already Python's `repr` of the float (at
/// most 15 significant digits, positional, no trailing zero): written back as it was read, the
/// float need not be formatted again (the shortest-digits search costs hundreds of
/// instructions per float).
#[derive(Clone, Copy, Debug, Default)]
pub struct Repr {
    /// The literal's digits without the point (`12.31`: 1231); `None` when not kept.
    digits: Option<u64>,
    /// How many of them follow the point.
    fraction: u8,
}

/// Whether two floats are equal does not depend on how they were read.
impl PartialEq for Repr {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Repr {
    /// The repr of a positional literal `integer.fraction` (unsigned, no exponent, as JSON's
    /// grammar writes them), when it is the float's repr.
    pub(crate) fn of_literal(integer: &[u8], fraction: &[u8]) -> Self {
        let none = Self::default();
        let significant = if fraction == b"0" {
            // `I.0`: Python writes positional up to 16 integer digits, 15 of them significant.
            let kept = integer
                .iter()
                .rposition(|&d| d != b'0')
                .map_or(0, |at| at + 1);
            if integer.len() > 16 {
                return none;
            }
            kept
        } else if fraction.last() == Some(&b'0') {
            return none;
        } else if integer == b"0" {
            let zeros = fraction.iter().take_while(|&&d| d == b'0').count();
            // From 1e-5 down, Python writes an exponent.
            if zeros > 3 {
                return none;
            }
            fraction.len() - zeros
        } else {
            integer.len() + fraction.len()
        };
        if significant > 15 {
            return none;
        }
        let mut digits = 0u64;
        for &d in integer.iter().chain(fraction) {
            digits = digits * 10 + u64::from(d - b'0');
        }
        Self {
            digits: Some(digits),
            fraction: u8::try_from(fraction.len()).unwrap_or(u8::MAX),
        }
    }

    /// The literal's value without its sign, read from the kept digits instead of parsing the
    /// text again: digits below 2^53 and a power of ten up to 10^22 are both exact in an
    /// `f64`, so one division rounds correctly (Clinger's fast path, the first one of
    /// `str::parse`); `None` when no digits were kept or they are not exact.
    #[expect(
        clippy::cast_precision_loss,
        reason = "the digits are below 2^53, so exact in an f64"
    )]
    pub(crate) fn magnitude(self) -> Option<f64> {
        const POWERS: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let digits = self.digits.filter(|&d| d < 1 << 53)?;
        let power = POWERS.get(usize::from(self.fraction))?;
        Some(digits as f64 / power)
    }

    /// Appends the literal (with the sign of `value`); false when none was kept.
    fn write(self, out: &mut Vec<u8>, value: f64) -> bool {
        let Some(digits) = self.digits else {
            return false;
        };
        if value.is_sign_negative() {
            out.push(b'-');
        }
        let mut text = [0u8; 20];
        let mut at = text.len();
        let mut rest = digits;
        loop {
            at -= 1;
            if let Some(slot) = text.get_mut(at) {
                *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            }
            rest /= 10;
            if rest == 0 || at == 0 {
                break;
            }
        }
        let text = text.get(at..).unwrap_or_default();
        let fraction = usize::from(self.fraction);
        if fraction >= text.len() {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + fraction - text.len(), b'0');
            out.extend_from_slice(text);
        } else {
            let (integer, rest) = text.split_at(text.len() - fraction);
            out.extend_from_slice(integer);
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        true
    }
}

/// A JSON object: its members in insertion order, each name once (a repeated name keeps its
/// first place and its last value, as a Python dict).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<(Name, Value)>,
}

/// Objects up to this many members are de-duplicated by a scan; larger ones (only a hostile
/// report has them) through an ordered index, so building one stays O(n log n).
const SCAN: usize = 16;

impl Object {
    /// An empty object with room for `capacity` members.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            members: Vec::with_capacity(capacity),
        }
    }

    /// Members in any number, a repeated name merged as in a Python dict.
    #[must_use]
    pub fn from_members(members: Vec<(Name, Value)>) -> Self {
        if members.len() <= SCAN {
            // Most objects repeat no name: kept as they came, without a second vector.
            let repeated = members
                .iter()
                .enumerate()
                .any(|(at, (name, _))| members.iter().take(at).any(|(seen, _)| seen == name));
            if !repeated {
                return Self { members };
            }
            let mut out = Self::with_capacity(members.len());
            for (name, value) in members {
                out.insert(name, value);
            }
            return out;
        }
        let mut out: Vec<(Name, Value)> = Vec::with_capacity(members.len());
        let mut index: BTreeMap<Name, usize> = BTreeMap::new();
        for (name, value) in members {
            if let Some(&at) = index.get(&name) {
                if let Some(slot) = out.get_mut(at) {
                    slot.1 = value;
                }
            } else {
                index.insert(name.clone(), out.len());
                out.push((name, value));
            }
        }
        Self { members: out }
    }

    /// The members, for a copy that keeps each name as it is (a shared name stays shared).
    pub(crate) fn members(&self) -> &[(Name, Value)] {
        &self.members
    }

    /// Appends a member whose name the caller knows is not there yet (no scan).
    pub(crate) fn push(&mut self, name: Name, value: Value) {
        self.members.push((name, value));
    }

    /// The number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there is no member.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The value under `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members
            .iter()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| value)
    }

    /// The value under `name`, to change in place.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.members
            .iter_mut()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| value)
    }

    /// Sets `name` to `value`: in its place when present, else appended (a scan: for the
    /// small objects the server builds; [`Object::from_members`] for any number).
    pub fn insert(&mut self, name: impl Into<Name>, value: Value) {
        let name = name.into();
        match self.get_mut(&name) {
            Some(slot) => *slot = value,
            None => self.members.push((name, value)),
        }
    }

    /// Removes `name`, keeping the order of the others.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.members.iter().position(|(key, _)| &**key == name)?;
        Some(self.members.remove(at).1)
    }

    /// The members in order.
    #[must_use]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.members.iter().map(|(k, v)| (&**k, v))
    }

    /// The names in order.
    #[must_use]
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.members.iter().map(|(k, _)| &**k)
    }

    /// Appends `json.dumps(self, separators=(",", ":"))`.
    pub fn write_python(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, (name, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            python::write_key(out, name);
            value.write_python(out);
        }
        out.push(b'}');
    }

    /// The same object as a `serde_json` map.
    #[must_use]
    pub fn to_serde(&self) -> serde_json::Map<String, serde_json::Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_serde()))
            .collect()
    }
}

impl IntoIterator for Object {
    type Item = (Name, Value);
    type IntoIter = alloc::vec::IntoIter<(Name, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

impl Number {
    /// The value as a `u64`, when it is a non-negative integer.
    #[must_use]
    pub const fn as_u64(self) -> Option<u64> {
        match self {
            Self::Uint(u) => Some(u),
            _ => None,
        }
    }

    /// The value as an `i64`, when it is an integer in range.
    #[must_use]
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Self::Uint(u) => i64::try_from(u).ok(),
            Self::Int(i) => Some(i),
            Self::Float(..) => None,
        }
    }

    /// The value as a float (Python's `float(x)`).
    #[must_use]
    #[expect(
        clippy::cast_precision_loss,
        reason = "Python's float() of an int rounds the same way"
    )]
    pub const fn as_f64(self) -> f64 {
        match self {
            Self::Uint(u) => u as f64,
            Self::Int(i) => i as f64,
            Self::Float(f, _) => f,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Number(u64::try_from(i).map_or(Number::Int(i), Number::Uint))
    }
}

impl Value {
    /// The string, when the value is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, when the value is one.
    #[must_use]
    pub const fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value as a `u64`, when it is a non-negative integer.
    #[must_use]
    pub const fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// Whether it is `null`.
    #[must_use]
    pub const fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Python's truth value.
    #[must_use]
    pub fn truthy(&self) -> bool {
        match self {
            Self::Null => false,
            Self::Bool(b) => *b,
            Self::Number(n) => n.as_f64() != 0.0,
            Self::String(s) => !s.is_empty(),
            Self::Array(items) => !items.is_empty(),
            Self::Object(map) => !map.is_empty(),
        }
    }

    /// Appends `json.dumps(self, separators=(",", ":"))`.
    pub fn write_python(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Bool(true) => out.extend_from_slice(b"true"),
            Self::Bool(false) => out.extend_from_slice(b"false"),
            Self::Number(Number::Uint(u)) => python::uint(out, *u),
            Self::Number(Number::Int(i)) => python::int(out, *i),
            Self::Number(Number::Float(f, repr)) => {
                if !repr.write(out, *f) {
                    python::float(out, *f);
                }
            }
            Self::String(s) => python::string(out, s),
            Self::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_python(out);
                }
                out.push(b']');
            }
            Self::Object(map) => map.write_python(out),
        }
    }

    /// The same value as a `serde_json` one.
    #[must_use]
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Self::Null => J::Null,
            Self::Bool(b) => J::Bool(*b),
            Self::Number(Number::Uint(u)) => J::from(*u),
            Self::Number(Number::Int(i)) => J::from(*i),
            Self::Number(Number::Float(f, _)) => {
                serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
            }
            Self::String(s) => J::String(s.clone()),
            Self::Array(items) => J::Array(items.iter().map(Self::to_serde).collect()),
            Self::Object(map) => J::Object(map.to_serde()),
        }
    }
}

/// As `serde_json` writes its own `Value` (the batch protocol's `report`).
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_unit(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Number(Number::Uint(u)) => s.serialize_u64(*u),
            Self::Number(Number::Int(i)) => s.serialize_i64(*i),
            Self::Number(Number::Float(f, _)) => s.serialize_f64(*f),
            Self::String(text) => s.serialize_str(text),
            Self::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(map) => map.serialize(s),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::Uint(u)))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(f, Repr::default())))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(access.size_hint().unwrap_or(4).min(64));
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Value, A::Error> {
        members(access, Name::from).map(Value::Object)
    }
}

/// An object's members read from `access`, each name made by `name` from its text (borrowed
/// when it has no escapes).
pub(crate) fn members<'de, A: MapAccess<'de>>(
    mut access: A,
    name: impl Fn(Cow<'de, str>) -> Name,
) -> Result<Object, A::Error> {
    let mut members = Vec::with_capacity(access.size_hint().unwrap_or(8).min(64));
    while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
        let value: Value = access.next_value()?;
        members.push((name(key), value));
    }
    Ok(Object::from_members(members))
}

/// A key, borrowed from the text when it has no escapes (serde's `Cow<str>` always allocates).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_merge_repeated_names_as_python_dicts() {
        for n in [3, 40] {
            let mut text = String::from("{");
            for i in 0..n {
                text.push_str(&format!("\"k{i}\":{i},"));
            }
            text.push_str("\"k1\":\"last\",\"k0\":null}");
            let Value::Object(map) = serde_json::from_str::<Value>(&text).unwrap() else {
                panic!("an object");
            };
            assert_eq!(map.len(), n);
            assert_eq!(map.keys().next(), Some("k0"));
            assert_eq!(map.get("k0"), Some(&Value::Null));
            assert_eq!(map.get("k1").and_then(Value::as_str), Some("last"));
            let mut out = Vec::new();
            map.write_python(&mut out);
            assert!(out.starts_with(b"{\"k0\":null,\"k1\":\"last\",\"k2\":2"));
        }
    }

    /// A kept literal is written as the float's own repr would be.
    #[test]
    fn kept_literals_are_the_floats_repr() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut kept = 0;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let digits = (state >> 11) % 10u64.pow(u32::try_from(state % 17).unwrap() + 1);
            let text = digits.to_string();
            let point = usize::try_from((state >> 7) % 19).unwrap();
            let (integer, fraction) = if point >= text.len() {
                (
                    "0".to_owned(),
                    format!("{}{text}", "0".repeat(point - text.len())),
                )
            } else {
                let (i, f) = text.split_at(text.len() - point);
                (
                    i.to_owned(),
                    if f.is_empty() {
                        "0".to_owned()
                    } else {
                        f.to_owned()
                    },
                )
            };
            let integer = integer.trim_start_matches('0');
            let integer = if integer.is_empty() { "0" } else { integer };
            for sign in ["", "-"] {
                let literal = format!("{sign}{integer}.{fraction}");
                let value: f64 = literal.parse().unwrap();
                let repr = Repr::of_literal(integer.as_bytes(), fraction.as_bytes());
                if let Some(magnitude) = repr.magnitude() {
                    assert_eq!(magnitude.to_bits(), value.abs().to_bits(), "{literal}");
                }
                let mut ours = Vec::new();
                if repr.write(&mut ours, value) {
                    kept += 1;
                    let mut theirs = Vec::new();
                    python::float(&mut theirs, value);
                    assert_eq!(ours, theirs, "{literal}");
                }
            }
        }
        assert!(kept > 10_000, "{kept}");
    }

    #[test]
    fn serializes_as_serde_json_values() {
        let text = r#"{"a":[1,-2,1.0,1e16,-0.0,12.31,"\u00e9"],"b":{"c":null,"d":true},"a":{}}"#;
        let ours: Value = serde_json::from_str(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(&theirs).unwrap()
        );
        assert_eq!(ours.to_serde(), theirs);
    }
}
