//! `paylock.device`: the device-lock engine on simulated flash (the core's
//! `simulate::SimulatedDevice` and the batch `simulate` op), converted to and from
//! Python dicts.

use paylock_protocol::simulate::SimulatedDevice;
use paylock_protocol::{Error, ErrorKind};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Value, json};

use crate::args::text;
use crate::batch::{from_json, to_json};
use crate::errors;

/// A device of one scheme, provisioned with the `device` fields of the batch `simulate` op,
/// new (blank store) and on at time 0. Events are dicts of that op's `events`.
#[pyclass(module = "paylock._paylock.device", name = "Device")]
pub(crate) struct Device {
    inner: SimulatedDevice,
}

#[pymethods]
impl Device {
    #[new]
    fn new(py: Python<'_>, scheme: &Bound<'_, PyAny>, device: &Bound<'_, PyAny>) -> PyResult<Self> {
        let scheme = text(scheme, "scheme")?;
        let device = json_of(device, "device")?;
        SimulatedDevice::new(&scheme, &device)
            .map(|inner| Self { inner })
            .map_err(|e| batch_error(py, &e))
    }

    /// Runs one event and returns its timeline row.
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let event = json_of(event, "event")?;
        let row = self.inner.step(&event).map_err(|e| batch_error(py, &e))?;
        from_json(py, &row)
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// Runs a whole scenario on a new device and returns the timeline rows.
#[pyfunction]
fn simulate<'py>(
    py: Python<'py>,
    scheme: &Bound<'py, PyAny>,
    device: &Bound<'py, PyAny>,
    events: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let request = json!({
        "op": "simulate",
        "scheme": text(scheme, "scheme")?,
        "device": json_of(device, "device")?,
        "events": json_of(events, "events")?,
    });
    let answer = paylock_protocol::batch::handle(&request).map_err(|e| batch_error(py, &e))?;
    let answer: Value = serde_json::from_str(&answer)
        .map_err(|e| PyValueError::new_err(format!("simulate answer: {e}")))?;
    from_json(py, answer.get("timeline").unwrap_or(&Value::Null))
}

/// `obj` as JSON, or the exception for a value JSON cannot hold: a `TypeError` for a type it
/// has no form for (bytes, a key that is not a str), else as [`batch_error`] (a cycle, NaN…).
fn json_of(obj: &Bound<'_, PyAny>, root: &'static str) -> PyResult<Value> {
    to_json(obj, root)?.map_err(|e| match e.kind {
        ErrorKind::WrongType => PyTypeError::new_err(e.message),
        _ => batch_error(obj.py(), &e),
    })
}

/// The exception for a refused request: its field (`device.key`), else the part of the request
/// its kind concerns.
fn batch_error(py: Python<'_>, e: &Error) -> PyErr {
    let field = e.field.as_deref().unwrap_or(match e.kind {
        ErrorKind::UnknownScheme => "scheme",
        ErrorKind::InvalidEvent => "events",
        _ => "device",
    });
    match e.kind {
        ErrorKind::InvalidKey => errors::invalid_key(py, field, &*e.message),
        ErrorKind::UnknownScheme => errors::unsupported(py, field, &*e.message),
        ErrorKind::OutOfRange => {
            errors::out_of_range(py, field, py.None(), None, None, &*e.message)
        }
        _ => errors::invalid(py, field, &*e.message),
    }
}

/// Registers the class and the function.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Device>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    Ok(())
}
