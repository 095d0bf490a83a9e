//! Python arguments to core types, every refusal naming the argument and never repeating its
//! value.

use alloc::borrow::Cow;

use paylock::Key;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors;

/// A `str` argument as UTF-8. A string UTF-8 cannot hold (a lone surrogate) is an
/// `InvalidArgument` naming the argument: the `UnicodeEncodeError` Python would raise carries
/// the whole string in its repr, and the string may be a key.
pub(crate) fn text<'a>(obj: &'a Bound<'_, PyAny>, field: &str) -> PyResult<Cow<'a, str>> {
    let text = obj
        .cast::<PyString>()
        .map_err(|_| wrong_type(obj, field, "a str"))?;
    text.to_cow().map_err(|_| not_utf8(obj.py(), field))
}

/// The refusal of a string holding a lone surrogate.
pub(crate) fn not_utf8(py: Python<'_>, field: &str) -> PyErr {
    errors::invalid(
        py,
        field,
        format!("{field} holds a lone surrogate, which is not text (it has no UTF-8 form)"),
    )
}

/// A `TypeError` naming the argument and the type it must have.
pub(crate) fn wrong_type(obj: &Bound<'_, PyAny>, field: &str, expected: &str) -> PyErr {
    let found = obj
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    PyTypeError::new_err(format!("{field} must be {expected}, not {found}"))
}

/// An integer argument in `min..=max` (both below `2^63`).
///
/// A value that is not an integer is a `TypeError`; one outside the range is `OutOfRange`
/// carrying the value as given.
pub(crate) fn uint(obj: &Bound<'_, PyAny>, field: &str, min: u64, max: u64) -> PyResult<u64> {
    let py = obj.py();
    match obj.extract::<i64>() {
        Ok(v) => match u64::try_from(v) {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(errors::outside(py, field, v, min, max)),
        },
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            Err(errors::outside(py, field, obj, min, max))
        }
        Err(_) => Err(wrong_type(obj, field, "an integer")),
    }
}

/// A 64-bit unsigned argument (a bitmap), any value `0..2^64`.
pub(crate) fn bits64(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<u64> {
    let py = obj.py();
    match obj.extract::<u64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            Err(errors::outside(py, field, obj, 0, u64::MAX))
        }
        Err(_) => Err(wrong_type(obj, field, "an integer")),
    }
}

/// [`uint`] for a `u32` argument.
pub(crate) fn u32_in(obj: &Bound<'_, PyAny>, field: &str, min: u32, max: u32) -> PyResult<u32> {
    let v = uint(obj, field, min.into(), max.into())?;
    Ok(u32::try_from(v).unwrap_or(max))
}

/// An argument that `what` (a message type) needs: `InvalidArgument` when it is `None`.
pub(crate) fn required<'py>(
    py: Python<'py>,
    arg: Option<&Bound<'py, PyAny>>,
    field: &str,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    arg.filter(|a| !a.is_none())
        .cloned()
        .ok_or_else(|| errors::invalid(py, field, format!("{field} is required for {what}")))
}

/// An optional [`u32_in`] argument: `None` (or absent) takes `default`.
pub(crate) fn opt_u32(
    obj: Option<&Bound<'_, PyAny>>,
    field: &str,
    min: u32,
    max: u32,
    default: u32,
) -> PyResult<u32> {
    match obj.filter(|o| !o.is_none()) {
        Some(o) => u32_in(o, field, min, max),
        None => Ok(default),
    }
}

/// A key given as 32 hex characters, in a `str` or in ASCII `bytes` (what `openpaygo` accepts).
pub(crate) fn hex_key(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Key> {
    let py = obj.py();
    let parsed = if let Ok(text) = obj.cast::<PyString>() {
        Key::from_hex(&text.to_cow().map_err(|_| not_utf8(py, field))?)
    } else if let Ok(bytes) = obj.cast::<PyBytes>() {
        match core::str::from_utf8(bytes.as_bytes()) {
            Ok(text) => Key::from_hex(text),
            Err(e) => Err(paylock::KeyError::NotHex {
                position: e.valid_up_to(),
            }),
        }
    } else {
        return Err(wrong_type(obj, field, "32 hex characters (str)"));
    };
    parsed.map_err(|e| errors::key_error(py, field, e))
}

/// A key given as 16 raw bytes (what `nexus-keycode` takes) or as 32 hex characters in a `str`.
pub(crate) fn raw_key(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Key> {
    let py = obj.py();
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_cow().map_err(|_| not_utf8(py, field))?;
        return Key::from_hex(&text).map_err(|e| errors::key_error(py, field, e));
    }
    let owned;
    let bytes = if let Ok(bytes) = obj.cast::<PyBytes>() {
        bytes.as_bytes()
    } else if let Ok(bytes) = obj.extract::<Vec<u8>>() {
        owned = bytes;
        &owned
    } else {
        return Err(wrong_type(obj, field, "16 bytes"));
    };
    let raw: [u8; 16] = bytes.try_into().map_err(|_| {
        errors::invalid_key(
            py,
            field,
            format!("{field} must be 16 bytes, got {} bytes", bytes.len()),
        )
    })?;
    Ok(Key::new(raw))
}
