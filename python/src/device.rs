//! `paylock.device`: the device-lock engine on simulated flash (the core's
//! `batch::simulate::SimulatedDevice` and the batch `simulate` op), converted to and from
//! Python dicts.

use paylock::batch::BatchError;
use paylock::batch::simulate::SimulatedDevice;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::{Value, json};

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
    fn new(py: Python<'_>, scheme: &str, device: &Bound<'_, PyAny>) -> PyResult<Self> {
        let device = to_json(device, &|| "device".to_owned())?;
        SimulatedDevice::new(scheme, &device)
            .map(|inner| Self { inner })
            .map_err(|e| batch_error(py, &e))
    }

    /// Runs one event and returns its timeline row.
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let event = to_json(event, &|| "event".to_owned())?;
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
    scheme: &str,
    device: &Bound<'py, PyAny>,
    events: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let request = json!({
        "op": "simulate",
        "scheme": scheme,
        "device": to_json(device, &|| "device".to_owned())?,
        "events": to_json(events, &|| "events".to_owned())?,
    });
    let answer = paylock::batch::handle(&request).map_err(|e| batch_error(py, &e))?;
    let answer: Value = serde_json::from_str(&answer)
        .map_err(|e| PyValueError::new_err(format!("simulate answer: {e}")))?;
    from_json(py, answer.get("timeline").unwrap_or(&Value::Null))
}

/// The exception for a refused request: the field its message names (`field "device.key"`),
/// else the part of the request it concerns.
fn batch_error(py: Python<'_>, e: &BatchError) -> PyErr {
    let field = e
        .message
        .split_once("field \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(
            || match e.kind {
                "unknown_scheme" => "scheme",
                "invalid_event" => "events",
                _ => "device",
            },
            |(name, _)| name,
        );
    match e.kind {
        "invalid_key" => errors::invalid_key(py, field, &*e.message),
        "unknown_scheme" => errors::unsupported(py, field, &*e.message),
        "out_of_range" => errors::out_of_range(py, field, py.None(), None, None, &*e.message),
        _ => errors::invalid(py, field, &*e.message),
    }
}

/// Registers the class and the function.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Device>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    Ok(())
}
