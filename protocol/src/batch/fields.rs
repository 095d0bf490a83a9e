//! Typed access to request fields, each failure naming the field.
//!
//! Every refusal of a value is made here (or by the helpers below): it names the field and says
//! what was expected, and never repeats the value given, which may be a key or a starting code
//! pasted into the wrong field.

use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value};

use super::BatchError;
use paylock::key::{Key, KeyError};

/// The fields of one request object.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Wraps a request object.
    #[must_use]
    pub const fn new(map: &'a Map<String, Value>) -> Self {
        Self { map }
    }

    /// The raw value of `name`, if present and not null.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Result<&'a Value, BatchError> {
        self.get(name)
            .ok_or_else(|| BatchError::new("missing_field", format!("field {name:?} is required")))
    }

    /// A required string.
    ///
    /// # Errors
    /// `missing_field` or `wrong_type`.
    pub fn str(&self, name: &str) -> Result<&'a str, BatchError> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| wrong_type(name, "a string"))
    }

    /// A required boolean.
    ///
    /// # Errors
    /// `missing_field` or `wrong_type`.
    pub fn bool(&self, name: &str) -> Result<bool, BatchError> {
        self.required(name)?
            .as_bool()
            .ok_or_else(|| wrong_type(name, "true or false"))
    }

    /// A required integer in `0..=max`.
    ///
    /// # Errors
    /// `missing_field`, `wrong_type` (not an integer) or `out_of_range`.
    pub fn uint(&self, name: &str, max: u64) -> Result<u64, BatchError> {
        uint_of(name, self.required(name)?, max)
    }

    /// An optional integer in `0..=max`.
    ///
    /// # Errors
    /// `wrong_type` or `out_of_range` when present.
    pub fn opt_uint(&self, name: &str, max: u64) -> Result<Option<u64>, BatchError> {
        self.get(name).map(|v| uint_of(name, v, max)).transpose()
    }

    /// A required integer that fits a `u32` and is at most `max`.
    ///
    /// # Errors
    /// As [`Self::uint`].
    pub fn u32(&self, name: &str, max: u32) -> Result<u32, BatchError> {
        self.uint(name, u64::from(max))
            .map(|v| u32::try_from(v).unwrap_or(max))
    }

    /// A required 16-byte key in hex.
    ///
    /// # Errors
    /// `missing_field`, `wrong_type` or `invalid_key`.
    pub fn key(&self, name: &str) -> Result<Key, BatchError> {
        Key::from_hex(self.str(name)?).map_err(|e| {
            let why = match e {
                KeyError::Length(n) => format!("must be 32 hex characters (16 bytes), got {n}"),
                KeyError::NotHex { position } => format!("character {position} is not a hex digit"),
            };
            BatchError::new("invalid_key", format!("field {name:?} {why}"))
        })
    }

    /// A required nested object.
    ///
    /// # Errors
    /// `missing_field` or `wrong_type`.
    pub fn object(&self, name: &str) -> Result<Self, BatchError> {
        self.required(name)?
            .as_object()
            .map(Self::new)
            .ok_or_else(|| wrong_type(name, "an object"))
    }
}

/// `e`, raised for a field of the object `outer`, naming the field as `outer.field`.
pub(super) fn within(outer: &str, mut e: BatchError) -> BatchError {
    e.message = e
        .message
        .replacen("field \"", &format!("field \"{outer}."), 1);
    e
}

/// An optional field read with `read` (which names it in errors) when present.
pub(super) fn optional<'a, T>(
    f: &Fields<'a>,
    name: &str,
    read: impl FnOnce(&Fields<'a>, &str) -> Result<T, BatchError>,
) -> Result<Option<T>, BatchError> {
    f.get(name).map(|_| read(f, name)).transpose()
}

/// A required string field that is one of `names`.
pub(crate) fn one_of<'a>(
    f: &Fields<'a>,
    name: &str,
    names: &[&str],
    kind: &'static str,
) -> Result<&'a str, BatchError> {
    let value = f.str(name)?;
    if names.contains(&value) {
        return Ok(value);
    }
    Err(not_one_of(name, names, kind))
}

/// A string field holding none of `names`; the value itself is not repeated.
pub(crate) fn not_one_of(name: &str, names: &[&str], kind: &'static str) -> BatchError {
    BatchError::new(
        kind,
        format!("field {name:?} must be one of: {}", names.join(", ")),
    )
}

/// An integer field above `max`; the value itself is not repeated.
pub(crate) fn too_large(name: &str, max: impl core::fmt::Display) -> BatchError {
    BatchError::new(
        "out_of_range",
        format!("field {name:?} must be at most {max}"),
    )
}

/// A field that contradicts what `why` implies; the value itself is not repeated.
pub(crate) fn conflicting(name: &str, why: &str) -> BatchError {
    BatchError::new(
        "conflicting_field",
        format!("field {name:?} contradicts {why}"),
    )
}

fn uint_of(name: &str, value: &Value, max: u64) -> Result<u64, BatchError> {
    match (value.as_u64(), value.as_i64()) {
        (Some(v), _) if v <= max => Ok(v),
        (Some(_), _) => Err(too_large(name, max)),
        (None, Some(_)) => Err(BatchError::new(
            "out_of_range",
            format!("field {name:?} must be 0 or more"),
        )),
        (None, None) => Err(wrong_type(name, "an integer")),
    }
}

fn wrong_type(name: &str, expected: &str) -> BatchError {
    BatchError::new("wrong_type", format!("field {name:?} must be {expected}"))
}
