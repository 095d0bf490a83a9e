//! `paylock.access`: AST v1 (`docs/access.md`) from the core's `access` module: key derivation,
//! token generation and the device's verification, with the state a device persists.

use paylock::access::{self, Action, AstConfigError, Mode, Profile, Suite, Unit};
use paylock_protocol::access::VerdictRecord;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{bits64, hex_key, opt_u32, required, text, u32_in};
use crate::batch::from_json;
use crate::errors;

fn suite(py: Python<'_>, code: &Bound<'_, PyAny>) -> PyResult<Suite> {
    let code = u32_in(code, "suite", 0, 2)?;
    let suite = u8::try_from(code)
        .ok()
        .and_then(Suite::from_code)
        .unwrap_or(Suite::AesCmac);
    suite
        .check()
        .map_err(|e| errors::unsupported(py, "suite", format!("suite: {e}")))
}

fn profile(py: Python<'_>, letter: &Bound<'_, PyAny>) -> PyResult<Profile> {
    match text(letter, "profile")?.as_bytes() {
        [one] => Profile::from_letter(*one),
        _ => None,
    }
    .ok_or_else(|| errors::not_one_of(py, "profile", &["L", "M", "S"]))
}

fn unit(py: Python<'_>, name: Option<&Bound<'_, PyAny>>) -> PyResult<Unit> {
    match name.map(|n| text(n, "unit")).transpose()?.as_deref() {
        None | Some("hours") => Ok(Unit::Hours),
        Some("days") => Ok(Unit::Days),
        Some(_) => Err(errors::not_one_of(py, "unit", &["hours", "days"])),
    }
}

/// `device_id`: any `u32` but `0xFFFFFFFF`, which TEST codes use.
fn device_id(id: &Bound<'_, PyAny>) -> PyResult<u32> {
    u32_in(id, "device_id", 0, access::TEST_DEVICE_ID - 1)
}

fn key_rev(rev: &Bound<'_, PyAny>) -> PyResult<u8> {
    Ok(u8::try_from(u32_in(rev, "key_rev", 0, u8::MAX.into())?).unwrap_or(u8::MAX))
}

fn config_error(py: Python<'_>, e: AstConfigError) -> PyErr {
    match e {
        AstConfigError::Suite(e) => errors::unsupported(py, "suite", format!("suite: {e}")),
        AstConfigError::TestDeviceId => errors::outside(
            py,
            "device_id",
            access::TEST_DEVICE_ID,
            0,
            (access::TEST_DEVICE_ID - 1).into(),
        ),
    }
}

/// A device's AST key with its provisioned configuration: what both the server and the device
/// need. `repr()` never shows the key.
#[pyclass(module = "paylock.access", name = "Secret", frozen)]
pub(crate) struct PySecret {
    inner: access::AstSecret,
}

#[pymethods]
impl PySecret {
    /// Wraps an imported per-device key (32 hex characters).
    #[new]
    #[pyo3(text_signature = "(device_key, *, suite, profile, device_id, key_rev=0, unit='hours')")]
    #[pyo3(signature = (device_key, *, suite, profile, device_id, key_rev = None, unit = None))]
    fn new(
        py: Python<'_>,
        device_key: &Bound<'_, PyAny>,
        suite: &Bound<'_, PyAny>,
        profile: &Bound<'_, PyAny>,
        device_id: &Bound<'_, PyAny>,
        key_rev: Option<&Bound<'_, PyAny>>,
        unit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let key = hex_key(device_key, "device_key")?;
        let config = config(py, suite, profile, device_id, key_rev, unit)?;
        access::AstSecret::new(key, config)
            .map(|inner| Self { inner })
            .map_err(|e| config_error(py, e))
    }

    /// Derives the device key from a batch key (spec §4), as a factory does.
    #[staticmethod]
    #[pyo3(text_signature = "(batch_key, *, suite, profile, device_id, key_rev=0, unit='hours')")]
    #[pyo3(signature = (batch_key, *, suite, profile, device_id, key_rev = None, unit = None))]
    fn derive(
        py: Python<'_>,
        batch_key: &Bound<'_, PyAny>,
        suite: &Bound<'_, PyAny>,
        profile: &Bound<'_, PyAny>,
        device_id: &Bound<'_, PyAny>,
        key_rev: Option<&Bound<'_, PyAny>>,
        unit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let key = hex_key(batch_key, "batch_key")?;
        let config = config(py, suite, profile, device_id, key_rev, unit)?;
        access::AstSecret::derive(&key, config)
            .map(|inner| Self { inner })
            .map_err(|e| config_error(py, e))
    }

    /// The suite number: 0 AES-128-CMAC, 1 HMAC-SHA-256, 2 SipHash-2-4.
    #[getter]
    fn suite(&self) -> u8 {
        self.inner.config().suite.code()
    }

    /// The profile letter: `L`, `M` or `S`.
    #[getter]
    fn profile(&self) -> &'static str {
        self.inner.config().profile.name()
    }

    /// The device id bound in every MAC.
    #[getter]
    fn device_id(&self) -> u32 {
        self.inner.config().device_id
    }

    /// The full key revision.
    #[getter]
    fn key_rev(&self) -> u8 {
        self.inner.config().key_rev
    }

    /// What credit values count: `hours` or `days`.
    #[getter]
    fn unit(&self) -> &'static str {
        self.inner.config().unit.name()
    }

    /// The device key, as 32 hex characters.
    #[getter]
    fn device_key(&self) -> String {
        hex_text(self.inner.key().as_bytes())
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Secret(suite={}, profile='{}', device_id={}, key_rev={}, unit='{}')",
            c.suite.code(),
            c.profile.name(),
            c.device_id,
            c.key_rev,
            c.unit.name()
        )
    }
}

fn hex_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn config(
    py: Python<'_>,
    suite_code: &Bound<'_, PyAny>,
    profile_letter: &Bound<'_, PyAny>,
    id: &Bound<'_, PyAny>,
    rev: Option<&Bound<'_, PyAny>>,
    unit_name: Option<&Bound<'_, PyAny>>,
) -> PyResult<access::AstConfig> {
    Ok(access::AstConfig {
        suite: suite(py, suite_code)?,
        profile: profile(py, profile_letter)?,
        device_id: device_id(id)?,
        key_rev: rev.map_or(Ok(0), key_rev)?,
        unit: unit(py, unit_name)?,
    })
}

/// The factory's KDF: the device key for `device_id` and `key_rev`, as 32 hex characters.
#[pyfunction]
#[pyo3(text_signature = "(batch_key, *, suite, device_id, key_rev=0)")]
#[pyo3(signature = (batch_key, *, suite, device_id, key_rev = None))]
fn derive_key(
    py: Python<'_>,
    batch_key: &Bound<'_, PyAny>,
    suite: &Bound<'_, PyAny>,
    device_id: &Bound<'_, PyAny>,
    key_rev: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let batch_key = hex_key(batch_key, "batch_key")?;
    let suite = self::suite(py, suite)?;
    let key = access::derive_device_key(
        suite,
        &batch_key,
        self::device_id(device_id)?,
        key_rev.map_or(Ok(0), self::key_rev)?,
    )
    .map_err(|e| errors::unsupported(py, "suite", format!("suite: {e}")))?;
    Ok(hex_text(key.as_bytes()))
}

/// An issued AST token.
#[pyclass(module = "paylock.access", name = "Token", frozen, get_all)]
pub(crate) struct Token {
    /// The token as printed: groups of 4 (5 for profile M) digits.
    text: String,
    /// The digits alone, as typed.
    digits: String,
    /// The counter bound in the MAC (0 for TEST codes).
    counter: u32,
    /// The raw value field.
    value: u32,
}

#[pymethods]
impl Token {
    fn __repr__(&self) -> String {
        format!(
            "Token(text='{}', counter={}, value={})",
            self.text, self.counter, self.value
        )
    }

    fn __str__(&self) -> String {
        self.text.clone()
    }
}

fn generate_error(py: Python<'_>, e: access::AstIssueError) -> PyErr {
    match e {
        access::AstIssueError::Suite(e) => errors::unsupported(py, "suite", format!("suite: {e}")),
        access::AstIssueError::CounterZero => errors::out_of_range(
            py,
            "counter",
            0,
            Some(1),
            Some(u32::MAX.into()),
            "counter is 0: counters start at 1",
        ),
        access::AstIssueError::OutOfRange { field, found, max } => errors::out_of_range(
            py,
            field,
            found,
            Some(0),
            Some(max.into()),
            format!("{field} must be 0-{max} in this profile"),
        ),
    }
}

/// A `u16` argument that `what` needs.
fn small_arg(
    py: Python<'_>,
    arg: Option<&Bound<'_, PyAny>>,
    field: &str,
    what: &str,
) -> PyResult<u16> {
    let v = u32_in(&required(py, arg, field, what)?, field, 0, u16::MAX.into())?;
    Ok(u16::try_from(v).unwrap_or(u16::MAX))
}

/// Refuses an argument the token type fixes.
fn absent(py: Python<'_>, arg: Option<&Bound<'_, PyAny>>, field: &str, what: &str) -> PyResult<()> {
    match arg.filter(|a| !a.is_none()) {
        Some(_) => Err(errors::unsupported(
            py,
            field,
            format!("{field} must be None for {what}: the type fixes what the token carries"),
        )),
        None => Ok(()),
    }
}

/// The action of `generate(token_type, value, param_id, param_value)`.
fn action(
    py: Python<'_>,
    token_type: &str,
    value: Option<&Bound<'_, PyAny>>,
    param_id: Option<&Bound<'_, PyAny>>,
    param_value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Action> {
    if !TOKEN_TYPES.contains(&token_type) {
        return Err(errors::not_one_of(py, "token_type", &TOKEN_TYPES));
    }
    if token_type != "SET_PARAM" {
        absent(py, param_id, "param_id", token_type)?;
        absent(py, param_value, "param_value", token_type)?;
    }
    let credit = || -> PyResult<u32> {
        u32_in(
            &required(py, value, "value", token_type)?,
            "value",
            0,
            u32::MAX,
        )
    };
    Ok(match token_type {
        "ADD_CREDIT" => Action::AddCredit(credit()?),
        "SET_CREDIT" => Action::SetCredit(credit()?),
        "UNLOCK_PERMANENT" => {
            absent(py, value, "value", token_type)?;
            Action::UnlockPermanent
        }
        "COUNTER_SYNC" => {
            absent(py, value, "value", token_type)?;
            Action::CounterSync
        }
        "SET_PARAM" => {
            absent(py, value, "value", token_type)?;
            let id = u32_in(
                &required(py, param_id, "param_id", token_type)?,
                "param_id",
                0,
                u8::MAX.into(),
            )?;
            Action::SetParam {
                id: u8::try_from(id).unwrap_or(u8::MAX),
                value: small_arg(py, param_value, "param_value", token_type)?,
            }
        }
        _ => Action::Test(small_arg(py, value, "value", token_type)?),
    })
}

/// The token types `generate` takes.
const TOKEN_TYPES: [&str; 6] = [
    "ADD_CREDIT",
    "SET_CREDIT",
    "UNLOCK_PERMANENT",
    "COUNTER_SYNC",
    "SET_PARAM",
    "TEST",
];

/// Issues the token for `counter` (from 1, one more than the last issued).
#[pyfunction]
#[pyo3(signature = (secret, counter, token_type, value = None, *, param_id = None, param_value = None))]
fn generate(
    py: Python<'_>,
    secret: &PySecret,
    counter: &Bound<'_, PyAny>,
    token_type: &Bound<'_, PyAny>,
    value: Option<&Bound<'_, PyAny>>,
    param_id: Option<&Bound<'_, PyAny>>,
    param_value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Token> {
    let counter = u32_in(counter, "counter", 0, u32::MAX)?;
    let token_type = text(token_type, "token_type")?;
    let action = action(py, &token_type, value, param_id, param_value)?;
    let trace = access::trace(&secret.inner, counter, action).map_err(|e| generate_error(py, e))?;
    Ok(Token {
        text: trace.text.as_str().to_owned(),
        digits: trace.digits.as_str().to_owned(),
        counter: trace.counter,
        value: trace.value,
    })
}

/// The universal TEST code `test_id` of a suite and profile (the same for every device).
#[pyfunction]
#[pyo3(signature = (*, suite, profile, test_id))]
fn test_code(
    py: Python<'_>,
    suite: &Bound<'_, PyAny>,
    profile: &Bound<'_, PyAny>,
    test_id: &Bound<'_, PyAny>,
) -> PyResult<Token> {
    let id = u32_in(test_id, "test_id", 0, u16::MAX.into())?;
    let trace = access::test_trace(
        self::suite(py, suite)?,
        self::profile(py, profile)?,
        u16::try_from(id).unwrap_or(u16::MAX),
    )
    .map_err(|e| generate_error(py, e))?;
    Ok(Token {
        text: trace.text.as_str().to_owned(),
        digits: trace.digits.as_str().to_owned(),
        counter: trace.counter,
        value: trace.value,
    })
}

/// What a device persists (spec §9.1). Save it after every `verify`, before acting on the
/// verdict.
#[pyclass(module = "paylock.access", name = "State", eq, from_py_object)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyState {
    inner: access::AstState,
}

#[pymethods]
impl PyState {
    #[new]
    #[pyo3(
        text_signature = "(*, max_counter=0, used=0, mode='PAYG', credit=0, params=None, \
        fails=0, lock_until=0, test_window_start=0, test_count=0)"
    )]
    #[pyo3(signature = (
        *,
        max_counter = None,
        used = None,
        mode = None,
        credit = None,
        params = None,
        fails = None,
        lock_until = None,
        test_window_start = None,
        test_count = None,
    ))]
    #[allow(clippy::too_many_arguments)] // the persisted fields of spec §9.1
    fn new(
        py: Python<'_>,
        max_counter: Option<&Bound<'_, PyAny>>,
        used: Option<&Bound<'_, PyAny>>,
        mode: Option<&Bound<'_, PyAny>>,
        credit: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
        fails: Option<&Bound<'_, PyAny>>,
        lock_until: Option<&Bound<'_, PyAny>>,
        test_window_start: Option<&Bound<'_, PyAny>>,
        test_count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let byte = |arg, name| -> PyResult<u8> {
            Ok(u8::try_from(opt_u32(arg, name, 0, u8::MAX.into(), 0)?).unwrap_or(u8::MAX))
        };
        let mut state = Self {
            inner: access::AstState {
                max_counter: opt_u32(max_counter, "max_counter", 0, u32::MAX, 0)?,
                used: used.map_or(Ok(0), |u| bits64(u, "used"))?,
                credit: opt_u32(credit, "credit", 0, u32::MAX, 0)?,
                fails: byte(fails, "fails")?,
                lock_until: opt_u32(lock_until, "lock_until", 0, u32::MAX, 0)?,
                test_window_start: opt_u32(test_window_start, "test_window_start", 0, u32::MAX, 0)?,
                test_count: byte(test_count, "test_count")?,
                ..access::AstState::FRESH
            },
        };
        if let Some(mode) = mode {
            state.set_mode(py, mode)?;
        }
        if let Some(params) = params {
            state.set_params(params)?;
        }
        Ok(state)
    }

    /// Highest accepted counter (0 when new).
    #[getter]
    fn max_counter(&self) -> u32 {
        self.inner.max_counter
    }

    #[setter]
    fn set_max_counter(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.max_counter = u32_in(value, "max_counter", 0, u32::MAX)?;
        Ok(())
    }

    /// The replay window: bit `i` set means counter `max_counter - 1 - i` is used.
    #[getter]
    fn used(&self) -> u64 {
        self.inner.used
    }

    #[setter]
    fn set_used(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.used = bits64(value, "used")?;
        Ok(())
    }

    /// `PAYG` or `UNLOCKED`.
    #[getter]
    fn mode(&self) -> &'static str {
        self.inner.mode.name()
    }

    #[setter]
    fn set_mode(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.mode = mode(py, value)?;
        Ok(())
    }

    /// The credit register, in device units.
    #[getter]
    fn credit(&self) -> u32 {
        self.inner.credit
    }

    #[setter]
    fn set_credit(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.credit = u32_in(value, "credit", 0, u32::MAX)?;
        Ok(())
    }

    /// Parameters set by SET_PARAM tokens: `{id: payload}` (a copy).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (id, value) in self.inner.params.iter() {
            d.set_item(id, value)?;
        }
        Ok(d)
    }

    #[setter]
    fn set_params(&mut self, value: &Bound<'_, PyDict>) -> PyResult<()> {
        let mut params = access::Params::EMPTY;
        for (id, payload) in value.iter() {
            let id = u32_in(&id, "params", 0, 15)?;
            let payload = u32_in(&payload, "params", 0, u16::MAX.into())?;
            params.set(
                u8::try_from(id).unwrap_or(0),
                u16::try_from(payload).unwrap_or(0),
            );
        }
        self.inner.params = params;
        Ok(())
    }

    /// Consecutive counted failures.
    #[getter]
    fn fails(&self) -> u8 {
        self.inner.fails
    }

    #[setter]
    fn set_fails(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.fails =
            u8::try_from(u32_in(value, "fails", 0, u8::MAX.into())?).unwrap_or(u8::MAX);
        Ok(())
    }

    /// Entries are refused while `now < lock_until`.
    #[getter]
    fn lock_until(&self) -> u32 {
        self.inner.lock_until
    }

    #[setter]
    fn set_lock_until(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.lock_until = u32_in(value, "lock_until", 0, u32::MAX)?;
        Ok(())
    }

    /// Start of the TEST rate window.
    #[getter]
    fn test_window_start(&self) -> u32 {
        self.inner.test_window_start
    }

    #[setter]
    fn set_test_window_start(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.test_window_start = u32_in(value, "test_window_start", 0, u32::MAX)?;
        Ok(())
    }

    /// TEST codes accepted in the window.
    #[getter]
    fn test_count(&self) -> u8 {
        self.inner.test_count
    }

    #[setter]
    fn set_test_count(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.test_count =
            u8::try_from(u32_in(value, "test_count", 0, u8::MAX.into())?).unwrap_or(u8::MAX);
        Ok(())
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "State(max_counter={}, used={:#x}, mode='{}', credit={}, params={{{}}}, fails={}, \
             lock_until={}, test_window_start={}, test_count={})",
            s.max_counter,
            s.used,
            s.mode.name(),
            s.credit,
            s.params
                .iter()
                .map(|(id, v)| format!("{id}: {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            s.fails,
            s.lock_until,
            s.test_window_start,
            s.test_count
        )
    }
}

/// The device's answer to one entry (spec §9.6).
#[pyclass(module = "paylock.access", name = "Verdict", frozen, get_all)]
pub(crate) struct PyVerdict {
    /// `APPLIED`, `DUPLICATE`, `INVALID`, `MALFORMED` or `LOCKED`.
    status: &'static str,
    /// `None` for APPLIED; `USED`, `SUPERSEDED`, `TYPE`, `KEY_REV`, `COUNTER`, `MAC`,
    /// `BAD_CHAR`, `BAD_DIGIT`, `BAD_LENGTH`, `FRAME_RANGE`, `LOCKOUT` or `TEST_RATE`.
    reason: Option<&'static str>,
    /// Once the MAC verified: the token type's name.
    token_type: Option<&'static str>,
    /// Once the MAC verified: the full counter (0 for TEST).
    counter: Option<u32>,
    /// Once the MAC verified: the raw value field.
    value: Option<u32>,
    /// SET_PARAM: the parameter id.
    param_id: Option<u8>,
    /// SET_PARAM: the payload.
    param_value: Option<u16>,
    /// TEST: the test id.
    test_id: Option<u16>,
    /// LOCKED: when entries are taken again (LOCKOUT) or the TEST window ends (TEST_RATE).
    retry_at: Option<u32>,
    /// INVALID: the lock this failure started (0 for none).
    lock_seconds: Option<u32>,
    /// MALFORMED: `{position, char}`, `{digits, expected}` or `{frame}` (a decimal string).
    detail: Option<Py<PyDict>>,
    /// INVALID: the unauthenticated fields `{type, key_rev_field, value_field, counter_field,
    /// tag}` and the reconstructed `counter` when there was one. For support logs only.
    diag: Option<Py<PyDict>>,
}

#[pymethods]
impl PyVerdict {
    fn __repr__(&self) -> String {
        let text = |v: Option<&str>| v.map_or_else(|| "None".to_owned(), |v| format!("'{v}'"));
        let number = |v: Option<u32>| v.map_or_else(|| "None".to_owned(), |v| v.to_string());
        format!(
            "Verdict(status='{}', reason={}, token_type={}, counter={}, value={})",
            self.status,
            text(self.reason),
            text(self.token_type),
            number(self.counter),
            number(self.value)
        )
    }
}

/// A part of a verdict's record as a dict.
fn dict_of(py: Python<'_>, part: &impl serde::Serialize) -> PyResult<Py<PyDict>> {
    let value = serde_json::to_value(part).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(from_json(py, &value)?.cast_into::<PyDict>()?.unbind())
}

/// The verdict as the batch `verify` op records it (the one mapping of both).
fn verdict(py: Python<'_>, v: &access::AstVerdict, input: &str) -> PyResult<PyVerdict> {
    let r = VerdictRecord::of(v, input);
    Ok(PyVerdict {
        status: r.status,
        reason: r.reason,
        token_type: r.token_type,
        counter: r.counter,
        value: r.value,
        param_id: r.param_id,
        param_value: r.param_value,
        test_id: r.test_id,
        retry_at: r.retry_at,
        lock_seconds: r.lock_seconds,
        detail: r.detail.as_ref().map(|d| dict_of(py, d)).transpose()?,
        diag: r.diag.as_ref().map(|d| dict_of(py, d)).transpose()?,
    })
}

/// Checks `input` entered at monotonic time `now` (seconds) on the device of `secret` whose
/// persisted state is `state`. Returns the verdict and the state to persist (`state` itself
/// is not changed).
#[pyfunction]
fn verify(
    py: Python<'_>,
    secret: &PySecret,
    state: &PyState,
    input: &Bound<'_, PyAny>,
    now: &Bound<'_, PyAny>,
) -> PyResult<(PyVerdict, PyState)> {
    let input = text(input, "input")?;
    let now = u32_in(now, "now", 0, u32::MAX)?;
    let mut next = state.inner;
    let v = access::verify(&secret.inner, &mut next, input.as_bytes(), now);
    Ok((verdict(py, &v, &input)?, PyState { inner: next }))
}

/// `mode`: `PAYG` or `UNLOCKED`.
fn mode(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Mode> {
    match &*text(value, "mode")? {
        "PAYG" => Ok(Mode::Payg),
        "UNLOCKED" => Ok(Mode::Unlocked),
        _ => Err(errors::not_one_of(py, "mode", &["PAYG", "UNLOCKED"])),
    }
}

/// Registers the functions and classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySecret>()?;
    m.add_class::<PyState>()?;
    m.add_class::<PyVerdict>()?;
    m.add_class::<Token>()?;
    m.add_function(wrap_pyfunction!(derive_key, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(test_code, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    Ok(())
}
