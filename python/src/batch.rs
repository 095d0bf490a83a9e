//! `paylock.issue_many` / `paylock.verify_many`: the core's parallel batch (`batch::many`) with
//! the GIL released. Requests given as JSON text are parsed by the worker threads; requests given
//! as dicts are converted here, under the GIL, which is the part that cannot run in parallel.

use core::num::NonZeroUsize;

use paylock::batch::many::{self, Ops, Request};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::args::u32_in;
use crate::errors;

/// A Python value as JSON; `path` names it in errors (`requests[3].params`).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, path: &dyn Fn() -> String) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::from(n));
        }
        return obj
            .extract::<u64>()
            .map(Value::from)
            .map_err(|_| PyValueError::new_err(format!("{}: {obj} does not fit 64 bits", path())));
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Number::from_f64(x.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{}: {x} is not a JSON number", path())));
    }
    if let Ok(map) = obj.cast::<PyMapping>() {
        let mut out = Map::new();
        for item in map.items()?.iter() {
            let (key, value) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            let name = key.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!("{}: keys must be str, not {key:?}", path()))
            })?;
            let name = name.to_cow()?.into_owned();
            let inner = to_json(&value, &|| format!("{}.{name}", path()))?;
            out.insert(name, inner);
        }
        return Ok(Value::Object(out));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            out.push(to_json(&item?, &|| format!("{}[{i}]", path()))?);
        }
        return Ok(Value::Array(out));
    }
    Err(PyTypeError::new_err(format!(
        "{}: {} is not a JSON value",
        path(),
        obj.get_type().name()?
    )))
}

/// A JSON value as a Python object.
pub(crate) fn from_json<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_bound_py_any(py),
            (None, Some(u)) => u.into_bound_py_any(py),
            _ => n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py),
        },
        Value::String(s) => s.into_bound_py_any(py),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json(py, item)?)?;
            }
            Ok(list.into_any())
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_json(py, v)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// Answers `requests` (each a `str` holding one JSON request, or a mapping) in order, on
/// `threads` threads (default: every core) with the GIL released. `ops` is `"issue"`,
/// `"verify"` or `"any"`. Each answer has its request's form: a JSON `str`, or a `dict`. A
/// single `str` is JSON Lines text, answered with JSON Lines text: one copy in and one out under
/// the GIL, everything else in parallel.
#[pyfunction]
#[pyo3(signature = (requests, ops, threads = None))]
fn handle_many<'py>(
    py: Python<'py>,
    requests: &Bound<'py, PyAny>,
    ops: &str,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ops = match ops {
        "issue" => Ops::Issue,
        "verify" => Ops::Verify,
        "any" => Ops::Any,
        other => {
            return Err(errors::unsupported(
                py,
                "ops",
                format!("ops is {other:?}, not one of: issue, verify, any"),
            ));
        }
    };
    let threads = match threads.filter(|t| !t.is_none()) {
        None => many::default_threads(),
        Some(t) => {
            let n = u32_in(t, "threads", 1, 1_024)?;
            NonZeroUsize::new(usize::try_from(n).unwrap_or(1)).unwrap_or(NonZeroUsize::MIN)
        }
    };
    if let Ok(text) = requests.cast::<PyString>() {
        let text = text.to_cow()?.into_owned();
        let answers = py.detach(|| many::handle_lines(&text, ops, threads));
        return PyString::new(py, &answers).into_bound_py_any(py);
    }
    let iter = requests.try_iter().map_err(|_| {
        PyTypeError::new_err("requests must be an iterable of str or dict requests")
    })?;
    let mut batch = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        batch.push(if let Ok(line) = item.cast::<PyString>() {
            Request::Line(line.to_cow()?.into_owned())
        } else if item.cast::<PyMapping>().is_ok() {
            Request::Parsed(to_json(&item, &|| format!("requests[{i}]"))?)
        } else {
            return Err(PyTypeError::new_err(format!(
                "requests[{i}] must be a str (one JSON request) or a dict, not {}",
                item.get_type().name()?
            )));
        });
    }
    let answers = py.detach(|| many::handle_many(&batch, ops, threads));
    let out = PyList::empty(py);
    for (request, answer) in batch.iter().zip(&answers) {
        match request {
            Request::Line(_) => out.append(answer)?,
            Request::Parsed(_) => {
                let value: Value = serde_json::from_str(answer)
                    .map_err(|e| PyValueError::new_err(format!("batch answer: {e}")))?;
                out.append(from_json(py, &value)?)?;
            }
        }
    }
    Ok(out.into_any())
}

/// Registers the function.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(handle_many, m)?)?;
    Ok(())
}
