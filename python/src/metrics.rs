//! `paylock._paylock.metrics`: the native half of the OpenPAYGO Metrics handlers of
//! `paylock.openpaygo` (`MetricsRequestHandler`, `MetricsResponseHandler`).
//!
//! The Python layer keeps 0.6.3's attributes (`request_dict`, `response_dict`, …); every text
//! and every signature is written here: the device side signs with the core
//! (`paylock::metrics::sign_request`), the server side parses, verifies and expands with
//! `paylock-metrics` and writes the answer with its `Answer`. Errors name the field and never
//! carry a key, a signature or a value.

use alloc::borrow::Cow;
use paylock::Key;
use paylock::metrics::{self, AuthMethod, Dialect, RequestParts, SignError};
use paylock_metrics::tree::{self, Object};
use paylock_metrics::{
    Answer, AuthError, Compat, DataFormat, Device, FieldProblem, MetricsError, Options, Request,
    VerifiedReport, keys, python,
};

use crate::simple::{self, FormatNames};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// The most containers nested in one value: what `serde_json` reads back from text.
const MAX_DEPTH: usize = 127;

/// 0.6.3's message for a key that is not hex (`load_secret_key_from_hex`).
const BAD_KEY: &str =
    "The secret key provided is not correctly formatted, it should be 32 hexadecimal characters. ";

/// Adds the Metrics functions and the `Report` class.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Report>()?;
    m.add_class::<Format>()?;
    m.add_function(wrap_pyfunction!(sign_request, m)?)?;
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    Ok(())
}

/// The device's key from 0.6.3's hex string; any other value is refused with 0.6.3's message.
fn key(secret_key: Option<&Bound<'_, PyAny>>) -> PyResult<Key> {
    let text = secret_key.and_then(|k| k.cast::<PyString>().ok());
    let text = text
        .as_ref()
        .and_then(|t| t.to_cow().ok())
        .unwrap_or_default();
    Key::from_hex(&text).map_err(|_| PyValueError::new_err(BAD_KEY))
}

/// A JSON value from a Python one (`json.dumps`'s types; a tuple is a list).
fn to_value(obj: &Bound<'_, PyAny>, field: &str, depth: usize) -> PyResult<Value> {
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
        return obj.extract::<u64>().map(Value::from).map_err(|_| {
            PyValueError::new_err(format!("{field} holds an integer wider than 64 bits"))
        });
    }
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_cow().map_err(|_| {
            PyValueError::new_err(format!("{field} holds a string that is not UTF-8"))
        })?;
        return Ok(Value::String(text.into_owned()));
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Number::from_f64(x.value())
            .map(Value::Number)
            .ok_or_else(|| {
                PyValueError::new_err(format!("{field} holds NaN or an infinite float"))
            });
    }
    if depth >= MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{field} is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        return object(dict, field, depth, false).map(Value::Object);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::with_capacity(obj.len().unwrap_or_default());
        for item in obj.try_iter()? {
            items.push(to_value(&item?, field, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    let kind = obj
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Err(PyTypeError::new_err(format!(
        "{field} holds a {kind}, which has no JSON form"
    )))
}

/// A dict's items as a JSON object, its top-level keys condensed when `condense` is set.
fn object(
    dict: &Bound<'_, PyDict>,
    field: &str,
    depth: usize,
    condense: bool,
) -> PyResult<Map<String, Value>> {
    let mut map = Map::with_capacity(dict.len());
    for (name, value) in dict.iter() {
        let name = name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(format!("{field} has a key that is not a string")))?;
        let name = name
            .to_cow()
            .map_err(|_| PyValueError::new_err(format!("{field} has a key that is not UTF-8")))?;
        let value = to_value(&value, field, depth + 1)?;
        let name = if condense {
            keys::to_condensed(&name)
        } else {
            &name
        };
        map.insert(name.to_owned(), value);
    }
    Ok(map)
}

/// A Python value from a report's.
fn to_py<'py>(py: Python<'py>, value: &tree::Value) -> PyResult<Bound<'py, PyAny>> {
    Names::new(py).value(value)
}

/// A Python dict from a report's object.
fn dict<'py>(py: Python<'py>, map: &Object) -> PyResult<Bound<'py, PyDict>> {
    Names::new(py).dict(map)
}

/// The full names of 0.6.3's key table as Python `str`s, made once: every expanded report
/// carries several of them, and a kept `str` also keeps its hash.
static KNOWN: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();

fn known<'py>(py: Python<'py>, name: &str) -> Option<Bound<'py, PyString>> {
    let at = keys::KEYS.iter().position(|(full, _)| *full == name)?;
    let made = KNOWN.get_or_init(py, || {
        keys::KEYS
            .iter()
            .map(|(full, _)| PyString::intern(py, full).unbind())
            .collect()
    });
    made.get(at).map(|name| name.bind(py).clone())
}

/// One conversion from JSON to Python, with the key names it has made so far: historical rows
/// repeat the same names, and a reused `str` object keeps its hash, so each distinct name is
/// built and hashed once per conversion.
pub(crate) struct Names<'a, 'py> {
    py: Python<'py>,
    made: Vec<(&'a str, Bound<'py, PyString>)>,
    /// Where the name after the last one found was made: rows repeat their names in order,
    /// so the next name is usually there.
    next: usize,
}

impl<'a, 'py> Names<'a, 'py> {
    pub(crate) const fn new(py: Python<'py>) -> Self {
        Self {
            py,
            made: Vec::new(),
            next: 0,
        }
    }

    /// The `str` for `name`, made on first use (a report has a few dozen distinct names).
    pub(crate) fn name(&mut self, name: &'a str) -> Bound<'py, PyString> {
        let at = match self.made.get(self.next) {
            Some((seen, _)) if *seen == name => Some(self.next),
            _ => self.made.iter().position(|(seen, _)| *seen == name),
        };
        if let Some((at, (_, made))) = at.and_then(|at| Some((at, self.made.get(at)?))) {
            self.next = at + 1;
            return made.clone();
        }
        let made = known(self.py, name).unwrap_or_else(|| PyString::new(self.py, name));
        self.made.push((name, made.clone()));
        self.next = self.made.len();
        made
    }

    pub(crate) const fn py(&self) -> Python<'py> {
        self.py
    }

    pub(crate) fn value(&mut self, value: &'a tree::Value) -> PyResult<Bound<'py, PyAny>> {
        use tree::Value;
        let py = self.py;
        match value {
            Value::Null => Ok(py.None().into_bound(py)),
            Value::Bool(b) => b.into_bound_py_any(py),
            Value::Number(tree::Number::Uint(u)) => u.into_bound_py_any(py),
            Value::Number(tree::Number::Int(i)) => i.into_bound_py_any(py),
            Value::Number(tree::Number::Float(f, _)) => f.into_bound_py_any(py),
            Value::String(s) => s.into_bound_py_any(py),
            Value::Array(items) => {
                let mut made = Vec::with_capacity(items.len());
                for item in items {
                    made.push(self.value(item)?);
                }
                PyList::new(py, made).map(Bound::into_any)
            }
            Value::Object(map) => self.dict(map).map(Bound::into_any),
        }
    }

    pub(crate) fn dict(&mut self, map: &'a Object) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(self.py);
        for (name, value) in map.iter() {
            out.set_item(self.name(name), self.value(value)?)?;
        }
        Ok(out)
    }
}

/// A timestamp or request count as 0.6.3 hashes it: absent when falsy, else a non-negative
/// integer (paylock refuses a float or a string, which 0.6.3 would hash as `str()`).
fn count(fields: &Bound<'_, PyDict>, field: &str) -> PyResult<u64> {
    let Some(value) = fields.get_item(field)? else {
        return Ok(0);
    };
    if value.is_none() || (value.is_instance_of::<PyBool>() && !value.is_truthy()?) {
        return Ok(0);
    }
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyValueError::new_err(format!(
            "{field} is not a non-negative integer"
        )));
    }
    value.extract::<u64>().map_err(|_| {
        PyValueError::new_err(format!("{field} is not a non-negative integer below 2^64"))
    })
}

/// The serial number, which every method hashes.
fn serial(fields: &Bound<'_, PyDict>) -> PyResult<String> {
    fields
        .get_item("serial_number")?
        .and_then(|s| s.extract::<String>().ok())
        .ok_or_else(|| PyTypeError::new_err("serial_number is not a string"))
}

/// The JSON text of `data` or `historical_data`, `None` when the dict has no such key.
fn part(fields: &Bound<'_, PyDict>, field: &str) -> PyResult<Option<Vec<u8>>> {
    let Some(value) = fields.get_item(field)? else {
        return Ok(None);
    };
    let value = to_value(&value, field, 0)?;
    let mut text = Vec::with_capacity(64);
    python::write(&mut text, &value);
    Ok(Some(text))
}

/// `auth` for a request dict (full key names, `data` as sent): 0.6.3's
/// `generate_request_signature_from_data`, with its errors in its order.
#[pyfunction]
#[pyo3(signature = (fields, auth_method, secret_key))]
fn sign_request(
    fields: &Bound<'_, PyDict>,
    auth_method: &str,
    secret_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let method = method(auth_method)?;
    let serial_number = serial(fields)?;
    let timestamp = count(fields, "timestamp")?;
    let request_count = count(fields, "request_count")?;
    let data = part(fields, "data")?;
    let historical_data = part(fields, "historical_data")?;
    let parts = RequestParts {
        serial_number: &serial_number,
        timestamp,
        request_count,
        data: data.as_deref(),
        historical_data: historical_data.as_deref(),
    };
    // 0.6.3 checks the method's part before it reads the key.
    let missing = |e: SignError| match e {
        SignError::MissingTimestamp => {
            PyValueError::new_err("Timestamp is required for Timestamp Auth")
        }
        SignError::MissingRequestCount => {
            PyValueError::new_err("Request Count is required for Counter Auth")
        }
        _ => PyValueError::new_err("historical_data is not a list or an object"),
    };
    if method == AuthMethod::Timestamp && timestamp == 0 {
        return Err(missing(SignError::MissingTimestamp));
    }
    if method == AuthMethod::Counter && request_count == 0 {
        return Err(missing(SignError::MissingRequestCount));
    }
    let key = key(secret_key)?;
    let signature =
        metrics::sign_request(&key, method, Dialect::Standard, &parts).map_err(missing)?;
    let mut out = Vec::with_capacity(20);
    let Ok(()) = signature.write_to(&mut out);
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// One of the five methods, by 0.6.3's exact name.
fn method(name: &str) -> PyResult<AuthMethod> {
    Some(name)
        .filter(|n| n.len() == 2)
        .and_then(|n| AuthMethod::from_prefix(n.as_bytes()))
        .ok_or_else(|| PyValueError::new_err("Invalid Authentication Method"))
}

/// `json.dumps(value, separators=(",", ":"))`, the top-level keys of a dict condensed when
/// `condense` is set (0.6.3's `convert_dict_keys_to_condensed`).
#[pyfunction]
#[pyo3(signature = (value, condense=false))]
fn dumps(value: &Bound<'_, PyAny>, condense: bool) -> PyResult<String> {
    let value = match value.cast::<PyDict>() {
        Ok(d) => Value::Object(object(d, "the payload", 0, condense)?),
        Err(_) => to_value(value, "the payload", 0)?,
    };
    Ok(python::dumps(&value))
}

/// A device's report as received (0.6.3's `MetricsResponseHandler` input), parsed once.
#[pyclass(module = "paylock._paylock.metrics", name = "Report", frozen)]
struct Report {
    request: Request,
}

/// A data format converted once (0.6.3's dict), for the handlers to reuse across reports.
#[pyclass(module = "paylock._paylock.metrics", name = "Format", frozen)]
struct Format {
    format: DataFormat,
    /// Its names as `str`s, for `simple_metrics`.
    names: FormatNames,
}

#[pymethods]
impl Format {
    #[new]
    fn new(data_format: &Bound<'_, PyAny>) -> PyResult<Self> {
        data_format_of(Some(data_format))?
            .map(|format| Self {
                names: FormatNames::new(data_format.py(), &format),
                format,
            })
            .ok_or_else(|| PyValueError::new_err("data_format is not a data format"))
    }
}

/// The format to expand with.
fn format_ref<'a>(format: Option<&'a Bound<'_, Format>>) -> Option<&'a DataFormat> {
    format.map(|f| &f.get().format)
}

#[pymethods]
impl Report {
    /// Parses the report's text (str or UTF-8 bytes). A text that is not JSON raises
    /// `ValueError(message, line, column)`; one that is not an object `ValueError(message)`.
    #[new]
    fn new(received_metrics: &Bound<'_, PyAny>) -> PyResult<Self> {
        // Read in place: a `str` as its UTF-8 buffer, `bytes` as they are.
        let text: Cow<'_, str> = if let Ok(s) = received_metrics.cast::<PyString>() {
            s.to_cow()
                .map_err(|_| PyValueError::new_err("the request is not UTF-8"))?
        } else if let Ok(b) = received_metrics.cast::<PyBytes>() {
            core::str::from_utf8(b.as_bytes())
                .map(Cow::Borrowed)
                .map_err(|_| PyValueError::new_err("the request is not UTF-8"))?
        } else {
            return Err(PyTypeError::new_err("the request is not a str or bytes"));
        };
        match Request::parse(&text) {
            Ok(request) => Ok(Self { request }),
            Err(e @ MetricsError::Json { line, column, .. }) => {
                Err(PyValueError::new_err((e.to_string(), line, column)))
            }
            Err(e) => Err(PyValueError::new_err(e.to_string())),
        }
    }

    /// The report under full key names (0.6.3's `request_dict`), a new dict each call.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        dict(py, self.request.fields())
    }

    /// The `timestamp` field, or None: a property, read on every report without the
    /// argument parsing of `get`.
    #[getter]
    fn timestamp<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, "timestamp")
    }

    /// One top-level field (full name), or None.
    fn get<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.request
            .fields()
            .get(name)
            .map_or_else(|| Ok(py.None().into_bound(py)), |v| to_py(py, v))
    }

    /// 0.6.3's `is_auth_valid()`: authentic and fresh, and the method read from `auth` (None
    /// when `auth` is falsy), so the handler sets `auth_method` without reading `auth` back.
    /// Raises 0.6.3's `ValueError`s (no key, an unknown method, `ta` without a timestamp, `ca`
    /// without a count).
    /// Nothing is expanded: whatever the expansion finds, 0.6.3 says valid (see `verdict`), so
    /// the report is expanded once, by `simple_metrics`.
    #[pyo3(signature = (secret_key, last_request_count=None, last_request_timestamp=None))]
    fn is_auth_valid(
        &self,
        secret_key: Option<&Bound<'_, PyAny>>,
        last_request_count: Option<&Bound<'_, PyAny>>,
        last_request_timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(bool, Option<String>)> {
        let fields = self.request.fields();
        if !fields.get("auth").is_some_and(tree::Value::truthy) {
            return Ok((false, None));
        }
        if !secret_key
            .map(Bound::is_truthy)
            .transpose()?
            .unwrap_or(false)
        {
            return Err(PyValueError::new_err(
                "Secret key is required to check the auth.",
            ));
        }
        let method = fields
            .get("auth")
            .and_then(tree::Value::as_str)
            .unwrap_or_default();
        let prefix: String = method.chars().take(2).collect();
        self::method(&prefix)?;
        let key = key(secret_key)?;
        let device = Device {
            last_request_count: last(last_request_count, "last_request_count")?,
            last_timestamp: last(last_request_timestamp, "last_request_timestamp")?,
            ..Device::new(&key)
        };
        let valid = match self.request.authenticate(&device) {
            Ok(_) => true,
            Err(e) => verdict(&e)?,
        };
        Ok((valid, Some(prefix)))
    }

    /// 0.6.3's `_get_simple_data()`: only `data` expanded (rows untouched), as a dict.
    #[pyo3(signature = (data_format, compat))]
    fn simple_data<'py>(
        &self,
        py: Python<'py>,
        data_format: Option<&Bound<'_, Format>>,
        compat: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let Some(data) = self.request.fields().get("data").filter(|d| d.truthy()) else {
            return Ok(PyDict::new(py));
        };
        if let tree::Value::Object(map) = data {
            return dict(py, map);
        }
        let mut text = b"{\"data\":".to_vec();
        data.write_python(&mut text);
        text.push(b'}');
        let text = String::from_utf8(text).unwrap_or_default();
        let alone = Request::parse(&text).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let options = Options {
            received_at: 0,
            compat: compat_of(compat)?,
        };
        let metrics = alone
            .expand(format_ref(data_format), &options)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        match metrics.get("data") {
            Some(tree::Value::Object(map)) => dict(py, map),
            _ => Ok(PyDict::new(py)),
        }
    }

    /// `get_answer_payload()`: the answer's fields (`response_dict`) condensed, signed (`da`)
    /// when a key is given, over the report's serial number, timestamp and count.
    #[pyo3(signature = (response, secret_key=None))]
    fn answer(
        &self,
        response: &Bound<'_, PyDict>,
        secret_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let answer = Answer::from(object(response, "the answer", 0, false)?);
        let key = secret_key.map(|k| key(Some(k))).transpose()?;
        let fields = self.request.fields();
        let serial_number = match (&key, fields.get("serial_number")) {
            (None, _) => String::new(),
            (Some(_), Some(tree::Value::String(s))) => s.clone(),
            (Some(_), _) => return Err(PyTypeError::new_err("serial_number is not a string")),
        };
        let report = VerifiedReport {
            serial_number,
            auth_method: AuthMethod::Data,
            timestamp: count_value(fields.get("timestamp"), "timestamp")?,
            request_count: count_value(fields.get("request_count"), "request_count")?,
            data_format_from_request: false,
            metrics: Object::default(),
        };
        Ok(paylock_metrics::respond(&report, key.as_ref(), &answer))
    }

    /// 0.6.3's `get_simple_metrics()` with `data_format` (else the report's own); `received_at`
    /// dates the rows of a report without a timestamp; `compat` is `"openpaygo063"` or
    /// `"paylock"`.
    #[pyo3(signature = (data_format, received_at, compat))]
    fn simple_metrics<'py>(
        &self,
        py: Python<'py>,
        data_format: Option<&Bound<'_, Format>>,
        received_at: i64,
        compat: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let compat = compat_of(compat)?;
        if let Some(format) = data_format.map(Bound::get)
            && let Some(metrics) = simple::simple_metrics(
                py,
                &self.request,
                &format.format,
                &format.names,
                received_at,
                compat,
            )?
        {
            return Ok(metrics);
        }
        let options = Options {
            received_at,
            compat,
        };
        let metrics = self
            .request
            .expand(format_ref(data_format), &options)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        dict(py, &metrics)
    }
}

/// `"openpaygo063"` or `"paylock"`.
pub(crate) fn compat_of(name: &str) -> PyResult<Compat> {
    match name {
        "openpaygo063" => Ok(Compat::Openpaygo063),
        "paylock" => Ok(Compat::Paylock),
        _ => Err(PyValueError::new_err(
            "compat is not \"openpaygo063\" or \"paylock\"",
        )),
    }
}

/// The last accepted count or timestamp: None, or an integer (a negative one bounds nothing).
fn last(value: Option<&Bound<'_, PyAny>>, field: &str) -> PyResult<Option<u64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!("{field} is not an integer")));
    }
    match value.extract::<i64>() {
        Ok(n) => Ok(u64::try_from(n).ok()),
        Err(_) => value
            .extract::<u64>()
            .map(Some)
            .map_err(|_| PyValueError::new_err(format!("{field} is wider than 64 bits"))),
    }
}

/// `is_auth_valid`'s answer for a refusal: false for a report that is not authentic or not
/// fresh, true when only the expansion failed (0.6.3 does not expand there), 0.6.3's
/// `ValueError` for a method's missing part, and paylock's `ValueError` for what 0.6.3 would
/// hash as `str()` or crash on (docs/openpaygo.md M5).
fn verdict(e: &MetricsError) -> PyResult<bool> {
    match e {
        MetricsError::Auth(AuthError::MissingPart { field: "timestamp" }) => Err(
            PyValueError::new_err("Timestamp is required for Timestamp Auth"),
        ),
        MetricsError::Auth(AuthError::MissingPart { .. }) => Err(PyValueError::new_err(
            "Request Count is required for Counter Auth",
        )),
        MetricsError::Auth(AuthError::UnknownMethod) => {
            Err(PyValueError::new_err("Invalid Authentication Method"))
        }
        MetricsError::Auth(AuthError::NotAString) => Err(PyValueError::new_err(e.to_string())),
        MetricsError::Auth(_) => Ok(false),
        MetricsError::DataFormat(_) | MetricsError::Row { .. } => Ok(true),
        MetricsError::Field {
            field: "timestamp",
            problem: FieldProblem::NotATime,
        } => Ok(true),
        MetricsError::Field { field, .. }
            if matches!(
                *field,
                "data_format" | "data_collection_timestamp" | "received_at"
            ) =>
        {
            Ok(true)
        }
        _ => Err(PyValueError::new_err(e.to_string())),
    }
}

/// A data format from 0.6.3's dict (None: none).
fn data_format_of(data_format: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DataFormat>> {
    let Some(f) = data_format.filter(|f| !f.is_none()) else {
        return Ok(None);
    };
    let value = to_value(f, "data_format", 0)?;
    serde_json::from_value::<DataFormat>(value)
        .map(Some)
        .map_err(|_| PyValueError::new_err("data_format is not a data format"))
}

/// A timestamp or count as the answer's signature hashes it: absent when falsy.
fn count_value(value: Option<&tree::Value>, field: &str) -> PyResult<u64> {
    match value {
        None | Some(tree::Value::Null | tree::Value::Bool(false)) => Ok(0),
        Some(v) => v.as_u64().ok_or_else(|| {
            PyValueError::new_err(format!("{field} is not a non-negative integer below 2^64"))
        }),
    }
}
