//! `paylock.openpaygo`: `generate_token` and `decode_token` with the arguments and return shapes
//! of `openpaygo` 0.6.3, on the core's `OpenPaygoIssuer` and `OpenPaygoVerifier`.

use paylock::Key;
use paylock::openpaygo::{
    self, COUNT_CEILING, Form, MAX_STARTING_CODE, Meaning, OpenPaygoIssueError, OpenPaygoIssuer,
    OpenPaygoMessage, OpenPaygoSecret, OpenPaygoState, OpenPaygoVerdict, OpenPaygoVerifier,
    ValueError,
};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::args::{hex_key, text, u32_in, uint, wrong_type};
use crate::errors;

/// `openpaygo`'s `TokenType` numbers.
const ADD_TIME: u8 = 1;
const SET_TIME: u8 = 2;
const DISABLE_PAYG: u8 = 3;
const COUNTER_SYNC: u8 = 4;
const INVALID: u8 = 10;
const ALREADY_USED: u8 = 11;

/// Counts the used-count list describes below the device's count (the 16-bit mask).
const OLDER_COUNTS: u32 = 16;

/// The device's secret. A starting code of `None` or 0 is derived from the key, as `openpaygo`
/// does.
fn secret(
    py: Python<'_>,
    key: Key,
    starting_code: Option<&Bound<'_, PyAny>>,
) -> PyResult<OpenPaygoSecret> {
    let given = match starting_code {
        Some(code) if !code.is_none() => u32_in(code, "starting_code", 0, MAX_STARTING_CODE)?,
        _ => 0,
    };
    let code = if given == 0 {
        openpaygo::starting_code_from_key(&key)
    } else {
        given
    };
    OpenPaygoSecret::new(key, code)
        .map_err(|e| errors::outside(py, "starting_code", e.0, 0, MAX_STARTING_CODE.into()))
}

/// The raw value of an ADD_TIME / SET_TIME token: `round(value * value_divider)`, half to even,
/// exactly as `openpaygo` computes it (integers exactly, other numbers as a float).
fn raw_value(value: &Bound<'_, PyAny>, divider: u8, max: u32) -> PyResult<u32> {
    let py = value.py();
    let too_large = |found: &Bound<'_, PyAny>| {
        errors::out_of_range(
            py,
            "value",
            found,
            Some(0),
            Some(max.into()),
            format!(
                "value × value_divider is above {max}, the largest value this token form carries"
            ),
        )
    };
    let whole = if value.is_instance_of::<PyFloat>() {
        None
    } else {
        value.extract::<i64>().ok()
    };
    if let Some(whole) = whole {
        if whole < 0 {
            return Err(errors::out_of_range(
                py,
                "value",
                value,
                Some(0),
                Some(max.into()),
                "value must be >= 0",
            ));
        }
        return match whole.checked_mul(divider.into()).map(u32::try_from) {
            Some(Ok(raw)) if raw <= max => Ok(raw),
            _ => Err(too_large(value)),
        };
    }
    let days = value
        .extract::<f64>()
        .map_err(|_| wrong_type(value, "value", "a number"))?;
    openpaygo::days_to_raw(days, divider, max).map_err(|e| match e {
        ValueError::TooLarge { .. } => too_large(value),
        ValueError::NotFinite | ValueError::ZeroDivider => errors::out_of_range(
            py,
            "value",
            value,
            Some(0),
            Some(max.into()),
            "value must be a finite number >= 0",
        ),
    })
}

fn divider(value_divider: &Bound<'_, PyAny>) -> PyResult<u8> {
    let v = uint(value_divider, "value_divider", 1, u8::MAX.into())?;
    Ok(u8::try_from(v).unwrap_or(u8::MAX))
}

/// The token type and its value, as `openpaygo` reads them.
fn message(
    py: Python<'_>,
    kind: i64,
    value: Option<&Bound<'_, PyAny>>,
    divider: u8,
    form: Form,
) -> PyResult<OpenPaygoMessage> {
    let value = value.filter(|v| !v.is_none());
    let needs_value = |name: &str| match value {
        Some(v) => raw_value(v, divider, form.max_value()),
        None => Err(errors::invalid(
            py,
            "value",
            format!("value is required for {name} tokens"),
        )),
    };
    let no_value = |name: &str, message: OpenPaygoMessage| match value {
        Some(v) if v.is_truthy()? => Err(errors::unsupported(
            py,
            "value",
            format!("value must be None for {name} tokens: they carry no value"),
        )),
        _ => Ok(message),
    };
    // `openpaygo`'s TokenType numbers (the constants above).
    match kind {
        1 => Ok(OpenPaygoMessage::AddTime(needs_value("ADD_TIME")?)),
        2 => Ok(OpenPaygoMessage::SetTime(needs_value("SET_TIME")?)),
        3 => no_value("DISABLE_PAYG", OpenPaygoMessage::DisablePayg),
        4 => no_value("COUNTER_SYNC", OpenPaygoMessage::CounterSync),
        _ => Err(errors::not_one_of(
            py,
            "token_type",
            &[
                "TokenType.ADD_TIME (1)",
                "SET_TIME (2)",
                "DISABLE_PAYG (3)",
                "COUNTER_SYNC (4)",
            ],
        )),
    }
}

/// Returns ``(new_count, token)``: the token following ``count`` (the count of the last token
/// issued for the device) and the count to store.
///
/// The arguments, defaults and results of ``openpaygo`` 0.6.3: ``value`` in days (times
/// ``value_divider``, rounded half to even) for ADD_TIME and SET_TIME, absent for DISABLE_PAYG and
/// COUNTER_SYNC; ``starting_code`` None or 0 derives it from the key. Raises
/// ``paylock.InvalidArgument`` (a ``ValueError``) naming the argument for what upstream turns
/// into a garbage token: negative values, starting codes above 999,999,999, counts whose next
/// token passes 131,072 (``paylock.CounterExhausted`` up to 131,072, where the device's count
/// is exhausted), keys that are not 32 hex characters.
#[pyfunction]
#[pyo3(
    text_signature = "(secret_key, count, value=None, token_type=1, starting_code=None, value_divider=1, restricted_digit_set=False, extended_token=False)"
)]
#[pyo3(signature = (
    secret_key,
    count,
    value = None,
    token_type = 1,
    starting_code = None,
    value_divider = None,
    restricted_digit_set = None,
    extended_token = None,
))]
#[allow(clippy::too_many_arguments)] // openpaygo's own signature
pub(crate) fn generate_token(
    py: Python<'_>,
    secret_key: &Bound<'_, PyAny>,
    count: &Bound<'_, PyAny>,
    value: Option<&Bound<'_, PyAny>>,
    token_type: i64,
    starting_code: Option<&Bound<'_, PyAny>>,
    value_divider: Option<&Bound<'_, PyAny>>,
    restricted_digit_set: Option<&Bound<'_, PyAny>>,
    extended_token: Option<&Bound<'_, PyAny>>,
) -> PyResult<(u32, String)> {
    let secret = secret(py, hex_key(secret_key, "secret_key")?, starting_code)?;
    let form = Form {
        extended: truthy(extended_token)?,
        restricted_digit_set: truthy(restricted_digit_set)?,
    };
    let divider = value_divider.map_or(Ok(1), divider)?;
    let count = u32_in(count, "count", 0, u32::MAX)?;
    let message = message(py, token_type, value, divider, form)?;
    match OpenPaygoIssuer::new(form).generate(&secret, count, message) {
        Ok(out) => Ok((out.count, out.token.as_str().to_owned())),
        Err(OpenPaygoIssueError::ValueTooLarge { found, max }) => Err(errors::out_of_range(
            py,
            "value",
            found,
            Some(0),
            Some(max.into()),
            format!("value is above {max}, the largest value this token form carries"),
        )),
        Err(OpenPaygoIssueError::CountTooHigh { count }) => Err(errors::out_of_range(
            py,
            "count",
            count,
            Some(0),
            Some(highest_count(message).into()),
            count_message(message),
        )),
        Err(OpenPaygoIssueError::CounterExhausted { count }) => Err(errors::counter_exhausted(
            py,
            "count",
            count,
            Some(highest_count(message).into()),
            count_message(message),
        )),
    }
}

/// The largest count at which `message` can still be issued.
fn highest_count(message: OpenPaygoMessage) -> u32 {
    (0..COUNT_CEILING)
        .rev()
        .find(|c| message.next_count(*c).is_some_and(|n| n <= COUNT_CEILING))
        .unwrap_or(0)
}

fn count_message(message: OpenPaygoMessage) -> String {
    format!(
        "count is too high: the next token would pass the count ceiling {COUNT_CEILING} (the \
         largest count for this token type is {})",
        highest_count(message)
    )
}

fn truthy(flag: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    flag.map_or(Ok(false), PyAnyMethods::is_truthy)
}

/// The device state an `openpaygo` caller keeps: its count and the list of used counts. The
/// highest count anywhere in them is the maximum (a count never goes down); a count in the 16
/// below it is used if listed. An empty or missing list marks every older count used.
fn device_state(count: u32, used_counts: Option<&Bound<'_, PyAny>>) -> PyResult<OpenPaygoState> {
    let mut listed = Vec::new();
    if let Some(list) = used_counts.filter(|l| !l.is_none()) {
        let items = list
            .try_iter()
            .map_err(|_| wrong_type(list, "used_counts", "a list of counts"))?;
        for item in items {
            let item = item?;
            let n = item
                .extract::<i64>()
                .map_err(|_| wrong_type(&item, "used_counts", "a list of integer counts"))?;
            if n > i64::from(u32::MAX) {
                return Err(errors::outside(
                    item.py(),
                    "used_counts",
                    n,
                    0,
                    u32::MAX.into(),
                ));
            }
            // Negative counts (upstream lists start 16 below the count) mark nothing.
            if let Ok(n) = u32::try_from(n) {
                listed.push(n);
            }
        }
    }
    let max_count = listed.iter().copied().fold(count, u32::max);
    let used_counts = if listed.is_empty() {
        u16::MAX
    } else {
        listed
            .iter()
            .filter_map(|n| max_count.checked_sub(*n)?.checked_sub(1))
            .filter(|i| *i < OLDER_COUNTS)
            .fold(0u16, |mask, i| mask | 1u16.checked_shl(i).unwrap_or(0))
    };
    Ok(OpenPaygoState {
        max_count,
        used_counts,
    })
}

/// The used-count list for `state`: the maximum and every used count in the 16 below it.
fn used_list(state: OpenPaygoState) -> Vec<u32> {
    let max = state.max_count;
    (max.saturating_sub(OLDER_COUNTS)..=max)
        .filter(|n| {
            *n == max
                || 1u16
                    .checked_shl(max - 1 - n)
                    .is_some_and(|bit| state.used_counts & bit != 0)
        })
        .collect()
}

/// The `TokenType` number of a valid token: the value decides for 998 / 999 (paylock
/// decision 4), the count's parity otherwise, as upstream.
const fn token_type(meaning: Meaning, count: u32) -> u8 {
    match meaning {
        Meaning::AddTime => ADD_TIME,
        Meaning::SetTime => SET_TIME,
        Meaning::DisablePayg => DISABLE_PAYG,
        Meaning::CounterSync => COUNTER_SYNC,
        Meaning::Reserved if count % 2 == 1 => SET_TIME,
        Meaning::Reserved => ADD_TIME,
    }
}

/// `(value, token_type, count, used_counts)`, as `openpaygo` returns them.
type Decoded<'py> = (Bound<'py, PyAny>, u8, Option<u32>, Option<Vec<u32>>);

/// Returns ``(value, token_type, count, used_counts)`` for a token entered on the device whose
/// last count is ``count`` and whose used counts are ``used_counts``: for a valid token its
/// value (divided by ``value_divider``), type, count and the new used-count list to store;
/// ``(None, TokenType.ALREADY_USED, None, None)`` or ``(None, TokenType.INVALID, None, None)``
/// otherwise.
///
/// The arguments and result shapes of ``openpaygo`` 0.6.3; the verdicts of paylock's device
/// model, which fixes upstream's replay bugs: a count-0 token is never credit, the returned
/// list keeps the highest count (so a counter sync cannot lower it), an empty or missing list
/// marks every older count used, 998 / 999 mean DISABLE_PAYG / COUNTER_SYNC at any count, and
/// a token with a wrong length or a character outside the keypad raises
/// ``paylock.MalformedToken`` with the position. A counter sync at or below the count is
/// ``ALREADY_USED``, like any spent count; ``allow_sync_replays=True`` takes it again within the
/// sync window (VALID, every older count spent), as ``openpaygo`` and the published vectors'
/// recommended model do.
#[pyfunction]
#[pyo3(
    text_signature = "(token, secret_key, count, used_counts=None, starting_code=None, value_divider=1, restricted_digit_set=False, *, allow_sync_replays=False)"
)]
#[pyo3(signature = (
    token,
    secret_key,
    count,
    used_counts = None,
    starting_code = None,
    value_divider = None,
    restricted_digit_set = None,
    *,
    allow_sync_replays = false,
))]
#[allow(clippy::too_many_arguments)] // openpaygo's own signature
pub(crate) fn decode_token<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
    secret_key: &Bound<'py, PyAny>,
    count: &Bound<'py, PyAny>,
    used_counts: Option<&Bound<'py, PyAny>>,
    starting_code: Option<&Bound<'py, PyAny>>,
    value_divider: Option<&Bound<'py, PyAny>>,
    restricted_digit_set: Option<&Bound<'py, PyAny>>,
    allow_sync_replays: bool,
) -> PyResult<Decoded<'py>> {
    let text = text(token, "token")?;
    let secret = secret(py, hex_key(secret_key, "secret_key")?, starting_code)?;
    let divider = value_divider.map_or(Ok(1), divider)?;
    let restricted = truthy(restricted_digit_set)?;
    let count = u32_in(count, "count", 0, u32::MAX)?;
    let mut state = device_state(count, used_counts)?;
    // Upstream picks the form from the length; the core then refuses any other length.
    let standard_len = Form {
        extended: false,
        restricted_digit_set: restricted,
    }
    .token_len();
    let form = Form {
        extended: text.len() > standard_len,
        restricted_digit_set: restricted,
    };
    let decoder = if allow_sync_replays {
        OpenPaygoVerifier::new(form).allowing_sync_replays()
    } else {
        OpenPaygoVerifier::new(form)
    };
    let verdict = decoder
        .decode(&secret, &mut state, text.as_bytes())
        .map_err(|e| errors::parse_error(py, "token", &e))?;
    let none = || py.None().into_bound(py);
    Ok(match verdict {
        OpenPaygoVerdict::Valid(a) => {
            let value = if a.value == 0 {
                0u32.into_bound_py_any(py)?
            } else {
                (f64::from(a.value) / f64::from(divider)).into_bound_py_any(py)?
            };
            (
                value,
                token_type(a.meaning, a.count),
                Some(a.count),
                Some(used_list(state)),
            )
        }
        OpenPaygoVerdict::AlreadyUsed => (none(), ALREADY_USED, None, None),
        OpenPaygoVerdict::Invalid => (none(), INVALID, None, None),
    })
}

/// The starting code ``openpaygo`` derives from the key when none is given.
#[pyfunction]
pub(crate) fn starting_code_from_key(secret_key: &Bound<'_, PyAny>) -> PyResult<u32> {
    Ok(openpaygo::starting_code_from_key(&hex_key(
        secret_key,
        "secret_key",
    )?))
}

/// The token at exactly ``count`` chain steps for a raw ``value`` (0-999, or 0-999,999
/// extended), whatever the count's parity: the raw hash chain, for QA tools and vectors. Not a
/// token to send: use ``generate_token``.
#[pyfunction]
#[pyo3(signature = (secret_key, starting_code, count, value, restricted_digit_set = false, extended_token = false))]
pub(crate) fn token_at(
    secret_key: &Bound<'_, PyAny>,
    starting_code: &Bound<'_, PyAny>,
    count: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    restricted_digit_set: bool,
    extended_token: bool,
) -> PyResult<String> {
    let py = value.py();
    let key = hex_key(secret_key, "secret_key")?;
    let code = u32_in(starting_code, "starting_code", 0, MAX_STARTING_CODE)?;
    let secret = OpenPaygoSecret::new(key, code)
        .map_err(|e| errors::outside(py, "starting_code", e.0, 0, MAX_STARTING_CODE.into()))?;
    let count = u32_in(count, "count", 0, COUNT_CEILING)?;
    let max = if extended_token { 999_999 } else { 999 };
    let value = u32_in(value, "value", 0, max)?;
    let form = Form {
        extended: extended_token,
        restricted_digit_set,
    };
    OpenPaygoIssuer::new(form)
        .token_at(&secret, count, value)
        .map(|t| t.as_str().to_owned())
        .map_err(|_| errors::outside(py, "value", value, 0, max.into()))
}

/// Registers the functions.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(generate_token, m)?)?;
    m.add_function(wrap_pyfunction!(decode_token, m)?)?;
    m.add_function(wrap_pyfunction!(starting_code_from_key, m)?)?;
    m.add_function(wrap_pyfunction!(token_at, m)?)?;
    m.add("COUNT_CEILING", COUNT_CEILING)?;
    Ok(())
}
