//! Raising the exceptions of `paylock._errors` (the Python side defines the classes, so they
//! pickle, subclass `ValueError` and carry their attributes like any Python exception).
//!
//! Messages name the argument and say what was expected; they never repeat the value given,
//! which may be a key or a starting code passed in the wrong place (`OutOfRange.found` hands it
//! back to the caller as an attribute, outside the message).

use paylock::KeyError;
use paylock::token::ParseError;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// `paylock._errors.<class>(message, field=field, **attributes)`, as an error to return.
fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    field: &str,
    attributes: &[(&str, Bound<'_, PyAny>)],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module =
            MODULE.get_or_try_init(py, || PyResult::Ok(py.import("paylock._errors")?.unbind()))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("field", field)?;
        for (name, value) in attributes {
            kwargs.set_item(name, value)?;
        }
        let error = module
            .bind(py)
            .getattr(class)?
            .call((message,), Some(&kwargs))?;
        Ok(PyErr::from_value(error))
    };
    build().unwrap_or_else(|failed| failed)
}

/// `InvalidArgument`: a refused argument that fits no narrower class.
pub(crate) fn invalid(py: Python<'_>, field: &str, message: impl Into<String>) -> PyErr {
    raise(py, "InvalidArgument", message.into(), field, &[])
}

/// `UnsupportedCommand`.
pub(crate) fn unsupported(py: Python<'_>, field: &str, message: impl Into<String>) -> PyErr {
    raise(py, "UnsupportedCommand", message.into(), field, &[])
}

/// `OutOfRange` with the value found and the bounds.
pub(crate) fn out_of_range<'py>(
    py: Python<'py>,
    field: &str,
    found: impl IntoPyObject<'py>,
    min: Option<u64>,
    max: Option<u64>,
    message: impl Into<String>,
) -> PyErr {
    let attributes = || -> PyResult<[(&str, Bound<'py, PyAny>); 3]> {
        Ok([
            ("found", found.into_bound_py_any(py)?),
            ("min", min.into_bound_py_any(py)?),
            ("max", max.into_bound_py_any(py)?),
        ])
    };
    match attributes() {
        Ok(attributes) => raise(py, "OutOfRange", message.into(), field, &attributes),
        Err(e) => e,
    }
}

/// `CounterExhausted` (an `OutOfRange`): the counter `found` cannot advance; `max` is the last
/// counter a token can still be issued from, when known.
pub(crate) fn counter_exhausted(
    py: Python<'_>,
    field: &str,
    found: u32,
    max: Option<u64>,
    message: impl Into<String>,
) -> PyErr {
    let attributes = || -> PyResult<[(&str, Bound<'_, PyAny>); 3]> {
        Ok([
            ("found", found.into_bound_py_any(py)?),
            ("min", 0u32.into_bound_py_any(py)?),
            ("max", max.into_bound_py_any(py)?),
        ])
    };
    match attributes() {
        Ok(attributes) => raise(py, "CounterExhausted", message.into(), field, &attributes),
        Err(e) => e,
    }
}

/// `OutOfRange` for an integer `found` outside `min..=max`, with the standard message.
pub(crate) fn outside<'py>(
    py: Python<'py>,
    field: &str,
    found: impl IntoPyObject<'py>,
    min: u64,
    max: u64,
) -> PyErr {
    let message = format!("{field} must be {min}-{max}");
    out_of_range(py, field, found, Some(min), Some(max), message)
}

/// `UnsupportedCommand` for a `field` holding none of `names`.
pub(crate) fn not_one_of(py: Python<'_>, field: &str, names: &[&str]) -> PyErr {
    unsupported(
        py,
        field,
        format!("{field} must be one of: {}", names.join(", ")),
    )
}

/// `MalformedToken` at `position` (`None`: the length is wrong).
pub(crate) fn malformed(
    py: Python<'_>,
    field: &str,
    position: Option<usize>,
    message: impl Into<String>,
) -> PyErr {
    match position.into_bound_py_any(py) {
        Ok(position) => raise(
            py,
            "MalformedToken",
            message.into(),
            field,
            &[("position", position)],
        ),
        Err(e) => e,
    }
}

/// `MalformedToken` for a token the core could not parse.
pub(crate) fn parse_error(py: Python<'_>, field: &str, e: &ParseError) -> PyErr {
    let position = match *e {
        ParseError::NotADigit { position, .. } | ParseError::DigitOutOfSet { position, .. } => {
            Some(position)
        }
        ParseError::Length { .. } | ParseError::OutOfRange => None,
    };
    malformed(py, field, position, format!("{field}: {e}"))
}

/// `InvalidKey`.
pub(crate) fn invalid_key(py: Python<'_>, field: &str, message: impl Into<String>) -> PyErr {
    raise(py, "InvalidKey", message.into(), field, &[])
}

/// `InvalidKey` for a hex key the core refused.
pub(crate) fn key_error(py: Python<'_>, field: &str, e: KeyError) -> PyErr {
    let why = match e {
        KeyError::Length(n) => format!("must be 32 hex characters (16 bytes), got {n} characters"),
        KeyError::NotHex { position } => format!("character {position} is not a hex digit"),
    };
    invalid_key(py, field, format!("{field} {why}"))
}

/// `IdCollision` (or `IdReserved`) naming the next valid ID.
pub(crate) fn id_collision(
    py: Python<'_>,
    reserved: bool,
    field: &str,
    next_valid_id: Option<u32>,
    message: impl Into<String>,
) -> PyErr {
    let class = if reserved {
        "IdReserved"
    } else {
        "IdCollision"
    };
    match next_valid_id.into_bound_py_any(py) {
        Ok(next) => raise(py, class, message.into(), field, &[("next_valid_id", next)]),
        Err(e) => e,
    }
}
