//! `get_simple_metrics()` as Python objects straight from the parsed report, for the reports
//! devices send most (condensed or simple data, rows dated by the format's interval): no
//! expanded copy of the report is built first, and the format's names are `str`s made once per
//! format, not once per report. Any other report (object rows, rows with their own times,
//! anything the expansion would refuse) is left to `paylock_metrics`' expansion, which this
//! path never contradicts: it only builds what it has checked the expansion would build.

use paylock_metrics::tree::Value;
use paylock_metrics::{Compat, DataFormat, Request, keys};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::metrics::Names;

/// A data format's names as Python `str`s, made when the format is converted.
pub(crate) struct FormatNames {
    /// `data_order` under full names (0.6.3 maps a condensed name of its table).
    data: Vec<Py<PyString>>,
    /// `historical_data_order`.
    rows: Vec<Py<PyString>>,
    /// No row name is one the dating reads (`timestamp`, `relative_time`): each row is
    /// its values named, then its time.
    rows_plain: bool,
}

impl FormatNames {
    pub(crate) fn new(py: Python<'_>, format: &DataFormat) -> Self {
        let make = |names: Option<&Vec<String>>, map: fn(&str) -> &str| -> Vec<Py<PyString>> {
            names
                .map(|names| {
                    names
                        .iter()
                        .map(|n| PyString::intern(py, map(n)).unbind())
                        .collect()
                })
                .unwrap_or_default()
        };
        let rows_plain = format
            .historical_data_order
            .iter()
            .flatten()
            .all(|n| n != "timestamp" && n != "relative_time");
        Self {
            data: make(format.data_order.as_ref(), keys::to_simple),
            rows: make(format.historical_data_order.as_ref(), |n| n),
            rows_plain,
        }
    }
}

/// The values of a report this path expands: `data` (when it is a non-empty list) and the
/// rows (each a list, or an object without positions or times); `None` for any other report.
struct Shape<'a> {
    data: Option<&'a [Value]>,
    rows: &'a [Value],
}

fn shape<'a>(request: &'a Request, names: &FormatNames, compat: Compat) -> Option<Shape<'a>> {
    let fields = request.fields();
    // More values than names: 0.6.3 drops them, paylock refuses them (the expansion says so).
    let fits = |given: usize, named: usize| compat == Compat::Openpaygo063 || given <= named;
    let data = match fields.get("data") {
        Some(Value::Array(values)) if !values.is_empty() => {
            if names.data.is_empty() || !fits(values.len(), names.data.len()) {
                return None;
            }
            Some(values.as_slice())
        }
        _ => None,
    };
    let rows = match fields.get("historical_data").filter(|rows| rows.truthy()) {
        None => &[][..],
        Some(Value::Array(rows)) => {
            // A list named by the order; an object kept as it is (the simple form) when no
            // key is a position or a time.
            let plain = |row: &Value| match row {
                Value::Array(v) => {
                    !names.rows.is_empty() && names.rows_plain && fits(v.len(), names.rows.len())
                }
                Value::Object(map) => map.keys().all(|key| {
                    key != "timestamp"
                        && key != "relative_time"
                        && (key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()))
                }),
                _ => false,
            };
            if !rows.iter().all(plain) {
                return None;
            }
            rows.as_slice()
        }
        Some(_) => return None,
    };
    Some(Shape { data, rows })
}

/// `get_simple_metrics()` of `request` with a non-empty `format`, or `None` when the report
/// is not one this path expands (the caller then expands it with `paylock_metrics`).
pub(crate) fn simple_metrics<'py>(
    py: Python<'py>,
    request: &Request,
    format: &DataFormat,
    names: &FormatNames,
    received_at: i64,
    compat: Compat,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    // An empty format stands for the one the report embeds.
    if format.is_empty() {
        return Ok(None);
    }
    let Some(shape) = shape(request, names, compat) else {
        return Ok(None);
    };
    let Ok(times) = request.row_times(Some(format), received_at, shape.rows.len()) else {
        return Ok(None);
    };
    let mut convert = Names::new(py);
    let out = PyDict::new(py);
    let (mut data, mut rows) = (false, false);
    for (name, value) in request.fields().iter() {
        match name {
            "auth" => continue,
            "data" => {
                data = true;
                out.set_item(
                    convert.name("data"),
                    data_dict(&mut convert, value, shape.data, names)?,
                )?;
            }
            "historical_data" => {
                rows = true;
                out.set_item(
                    convert.name("historical_data"),
                    row_list(&mut convert, shape.rows, &times, names)?,
                )?;
            }
            _ => out.set_item(convert.name(name), convert.value(value)?)?,
        }
    }
    if !data {
        out.set_item(convert.name("data"), PyDict::new(py))?;
    }
    if !rows {
        out.set_item(convert.name("historical_data"), PyList::empty(py))?;
    }
    Ok(Some(out))
}

/// `data` named: a list by the data order (missing values None), an object as it is,
/// anything else an empty dict.
fn data_dict<'a, 'py>(
    convert: &mut Names<'a, 'py>,
    value: &'a Value,
    values: Option<&'a [Value]>,
    names: &FormatNames,
) -> PyResult<Bound<'py, PyDict>> {
    let py = convert.py();
    if let Some(values) = values {
        let out = PyDict::new(py);
        for (at, name) in names.data.iter().enumerate() {
            match values.get(at) {
                Some(value) => out.set_item(name.bind(py), convert.value(value)?)?,
                None => out.set_item(name.bind(py), py.None())?,
            }
        }
        return Ok(out);
    }
    match value {
        Value::Object(map) => convert.dict(map),
        _ => Ok(PyDict::new(py)),
    }
}

/// The rows named by the historical order, each with its time.
fn row_list<'a, 'py>(
    convert: &mut Names<'a, 'py>,
    rows: &'a [Value],
    times: &[i64],
    names: &FormatNames,
) -> PyResult<Bound<'py, PyList>> {
    let py = convert.py();
    let timestamp = convert.name("timestamp");
    let mut made = Vec::with_capacity(rows.len());
    for (row, time) in rows.iter().zip(times) {
        let out = match row {
            Value::Object(map) => convert.dict(map)?,
            Value::Array(values) => {
                let out = PyDict::new(py);
                for (name, value) in names.rows.iter().zip(values) {
                    out.set_item(name.bind(py), convert.value(value)?)?;
                }
                out
            }
            _ => PyDict::new(py),
        };
        out.set_item(&timestamp, time)?;
        made.push(out);
    }
    PyList::new(py, made)
}
