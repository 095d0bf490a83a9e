//! `paylock.issue_many` / `paylock.verify_many`: the core's parallel batch (`batch::many`) with
//! the GIL released. Requests given as JSON text are parsed by the worker threads; requests given
//! as dicts are converted here, under the GIL, which is the part that cannot run in parallel.
//!
//! A request that has no JSON form (a cycle, 128 levels of nesting, NaN, an integer wider than
//! 64 bits, bytes, a lone surrogate) is answered with an error of its own and the rest of the
//! batch is answered as usual; no error carries the request's content.

use core::num::NonZeroUsize;

use paylock_protocol::field::shown;
use paylock_protocol::many::{self, Request};
use paylock_protocol::{Error, ErrorKind, MAX_LINE, Ops, Registry};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::args::u32_in;
use crate::errors;

/// The most containers nested in one request: what serde_json reads in JSON text (its recursion
/// limit of 128 refuses the 128th), so a dict and its JSON text are refused alike.
const MAX_DEPTH: usize = 127;

/// Where a value sits in its request: `params`, `events[3]`.
enum Step {
    Key(String),
    Index(usize),
}

/// Converts one Python value (a request, a device, events) to JSON, refusing what JSON cannot
/// hold with a batch error that names the field.
struct Converter {
    /// The steps from the request to the value being converted.
    path: Vec<Step>,
    /// The containers on that path, by address: one met again is a cycle.
    open: Vec<usize>,
    /// Values and bytes of text converted so far: a request is at most a line's worth.
    size: usize,
    /// The name of the whole value in messages (`device`), or none for a request.
    root: &'static str,
}

/// A value refused, or an exception that must reach the caller (`KeyboardInterrupt`).
enum Failure {
    Refused(Error),
    Raised(PyErr),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Refused(e)
    }
}

/// A Python value as JSON: `Ok(Err(_))` when it has no JSON form; `Err` only for an exception
/// that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`), which must propagate.
pub(crate) fn to_json(
    obj: &Bound<'_, PyAny>,
    root: &'static str,
) -> PyResult<Result<Value, Error>> {
    let mut converter = Converter {
        path: Vec::new(),
        open: Vec::new(),
        size: 0,
        root,
    };
    match converter.value(obj) {
        Ok(value) => Ok(Ok(value)),
        Err(Failure::Refused(e)) => Ok(Err(e)),
        Err(Failure::Raised(e)) => Err(e),
    }
}

impl Converter {
    /// The path of the field being converted (`device.events[3]`), empty for the request
    /// itself; keys that may not be field names are not shown (a key of a dict may be anything,
    /// a secret too).
    fn path(&self) -> String {
        const SHOWN: usize = 6;
        let mut name = String::from(self.root);
        for step in self.path.iter().take(SHOWN) {
            match step {
                Step::Key(key) if shown(key) => {
                    if !name.is_empty() {
                        name.push('.');
                    }
                    name.push_str(key);
                }
                Step::Key(_) => name.push_str("[…]"),
                Step::Index(i) => name.push_str(&format!("[{i}]")),
            }
        }
        if self.path.len() > SHOWN {
            name.push('…');
        }
        name
    }

    fn refuse(&self, kind: ErrorKind, why: &str) -> Failure {
        let path = self.path();
        Failure::Refused(if path.is_empty() {
            Error::new(kind, format!("the request {why}"))
        } else {
            Error::at(kind, path, why)
        })
    }

    /// An exception raised by the value's own code (a mapping's `items`, an iterator): refused
    /// by its type name, unless it is not an `Exception`.
    fn raised(&self, py: Python<'_>, e: PyErr) -> Failure {
        if !e.is_instance_of::<PyException>(py) {
            return Failure::Raised(e);
        }
        let name = e
            .get_type(py)
            .name()
            .map_or_else(|_| "an exception".to_owned(), |n| n.to_string());
        self.refuse(
            ErrorKind::InvalidRequest,
            &format!("could not be read: it raised {name}"),
        )
    }

    /// Counts `n` toward the request's size.
    fn grow(&mut self, n: usize) -> Result<(), Failure> {
        self.size = self.size.saturating_add(n);
        if self.size > MAX_LINE {
            return Err(Failure::Refused(Error::new(
                ErrorKind::LineTooLong,
                format!("the request is larger than a {MAX_LINE}-byte (1 MiB) request line allows"),
            )));
        }
        Ok(())
    }

    fn value(&mut self, obj: &Bound<'_, PyAny>) -> Result<Value, Failure> {
        self.grow(1)?;
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
            return match obj.extract::<u64>() {
                Ok(n) => Ok(Value::from(n)),
                Err(_) => {
                    Err(self.refuse(ErrorKind::OutOfRange, "is an integer wider than 64 bits"))
                }
            };
        }
        if let Ok(text) = obj.cast::<PyString>() {
            let text = self.text(text)?;
            self.grow(text.len())?;
            return Ok(Value::String(text));
        }
        if let Ok(x) = obj.cast::<PyFloat>() {
            return Number::from_f64(x.value())
                .map(Value::Number)
                .ok_or_else(|| {
                    self.refuse(
                        ErrorKind::OutOfRange,
                        "is NaN or infinite: JSON has no such number",
                    )
                });
        }
        if let Ok(map) = obj.cast::<PyMapping>() {
            return self.nested(obj, |c| c.object(map));
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            return self.nested(obj, |c| c.array(obj));
        }
        let kind = obj
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        Err(self.refuse(
            ErrorKind::WrongType,
            &format!(
                "is a {kind}, which has no JSON form (str, int, float, bool, None, list, dict)"
            ),
        ))
    }

    /// Converts the container `obj` with `convert`, refusing a cycle and nesting past
    /// [`MAX_DEPTH`].
    fn nested(
        &mut self,
        obj: &Bound<'_, PyAny>,
        convert: impl FnOnce(&mut Self) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        let address = obj.as_ptr() as usize;
        if self.open.contains(&address) {
            return Err(self.refuse(
                ErrorKind::InvalidRequest,
                "contains itself (a cycle): JSON cannot hold it",
            ));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(self.refuse(
                ErrorKind::InvalidRequest,
                &format!("nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.open.push(address);
        let value = convert(self)?;
        self.open.pop();
        Ok(value)
    }

    fn text(&self, text: &Bound<'_, PyString>) -> Result<String, Failure> {
        text.to_cow().map(String::from).map_err(|_| {
            self.refuse(
                ErrorKind::InvalidUtf8,
                "holds a lone surrogate, which is not text (it has no UTF-8 form)",
            )
        })
    }

    fn object(&mut self, map: &Bound<'_, PyMapping>) -> Result<Value, Failure> {
        let py = map.py();
        let items = map.items().map_err(|e| self.raised(py, e))?;
        let mut out = Map::new();
        for item in items.iter() {
            let (key, value) = item
                .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                .map_err(|e| self.raised(py, e))?;
            let Ok(key) = key.cast::<PyString>() else {
                return Err(self.refuse(ErrorKind::WrongType, "has a key that is not a str"));
            };
            let key = key.to_cow().map_err(|_| {
                self.refuse(ErrorKind::InvalidUtf8, "has a key holding a lone surrogate")
            })?;
            self.grow(key.len())?;
            self.path.push(Step::Key(key.into_owned()));
            let value = self.value(&value)?;
            if let Some(Step::Key(key)) = self.path.pop() {
                out.insert(key, value);
            }
        }
        Ok(Value::Object(out))
    }

    fn array(&mut self, list: &Bound<'_, PyAny>) -> Result<Value, Failure> {
        let py = list.py();
        let mut out = Vec::new();
        for (i, item) in list.try_iter().map_err(|e| self.raised(py, e))?.enumerate() {
            let item = item.map_err(|e| self.raised(py, e))?;
            self.path.push(Step::Index(i));
            out.push(self.value(&item)?);
            self.path.pop();
        }
        Ok(Value::Array(out))
    }
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
        _ => return Err(errors::not_one_of(py, "ops", &["issue", "verify", "any"])),
    };
    let threads = match threads.filter(|t| !t.is_none()) {
        None => many::default_threads(),
        Some(t) => {
            let n = u32_in(t, "threads", 1, 1_024)?;
            NonZeroUsize::new(usize::try_from(n).unwrap_or(1)).unwrap_or(NonZeroUsize::MIN)
        }
    };
    if let Ok(text) = requests.cast::<PyString>() {
        let answers = match text.to_cow() {
            Ok(text) => py.detach(|| many::handle_lines(&text, ops, threads)),
            // A lone surrogate: the lines holding one are answered `invalid_utf8`.
            Err(_) => {
                let bytes = text.call_method1("encode", ("utf-8", "surrogatepass"))?;
                let bytes = bytes.cast::<PyBytes>()?.as_bytes().to_vec();
                py.detach(|| many::handle_line_bytes(&bytes, ops, threads))
            }
        };
        return PyString::new(py, &answers).into_bound_py_any(py);
    }
    let iter = requests.try_iter().map_err(|_| {
        PyTypeError::new_err("requests must be an iterable of str or dict requests")
    })?;
    // The items are kept alive here, so their text is read in place by the worker threads.
    let items = iter.collect::<PyResult<Vec<_>>>()?;
    let batch = items.iter().map(request).collect::<PyResult<Vec<_>>>()?;
    // Each block of answers becomes Python objects here, under the GIL, while the worker
    // threads compute the next blocks; the GIL is released only while waiting for one.
    let mut answers = Vec::with_capacity(items.len());
    let mut asked = items.iter();
    Registry::builtin().handle_many_each(
        &batch,
        ops,
        threads,
        |next| py.detach(next),
        |block| {
            // The block first: `zip` asks its left side first, and a request must not be
            // skipped when a block ends.
            for (answer, item) in block.iter().zip(asked.by_ref()) {
                answers.push(answer_object(item, answer)?);
            }
            Ok::<_, PyErr>(())
        },
    )?;
    Ok(PyList::new(py, answers)?.into_any())
}

/// An answer in its request's form: JSON text for a `str` request, a `dict` for a mapping.
fn answer_object<'py>(item: &Bound<'py, PyAny>, answer: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = item.py();
    if item.is_instance_of::<PyString>() {
        return answer.into_bound_py_any(py);
    }
    let value: Value = serde_json::from_str(answer)
        .map_err(|e| PyValueError::new_err(format!("batch answer: {e}")))?;
    from_json(py, &value)
}

/// One request of the list: a JSON `str`, or a mapping converted here; anything else, or one
/// that has no JSON form, is refused in its answer.
fn request<'a>(item: &'a Bound<'_, PyAny>) -> PyResult<Request<'a>> {
    if let Ok(line) = item.cast::<PyString>() {
        return Ok(match line.to_cow() {
            Ok(line) => Request::Line(line),
            Err(_) => Request::Refused(Box::new(Error::new(
                ErrorKind::InvalidUtf8,
                "the request holds a lone surrogate, which is not text (it has no UTF-8 form)",
            ))),
        });
    }
    if item.cast::<PyMapping>().is_ok() {
        return Ok(match to_json(item, "")? {
            Ok(value) => Request::Parsed(Box::new(value)),
            Err(error) => Request::Refused(Box::new(error)),
        });
    }
    let kind = item
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Ok(Request::Refused(Box::new(Error::new(
        ErrorKind::InvalidRequest,
        format!("a request is a str (one JSON request) or a dict, not a {kind}"),
    ))))
}

/// Registers the function.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(handle_many, m)?)?;
    Ok(())
}
