//! A verified request in the simple form, as 0.6.3's `get_simple_metrics()` returns it:
//! condensed data named through the data format, historical rows named and dated.
//!
//! Dates follow Python's `datetime` under UTC, float timestamps included (rounded to the
//! microsecond, half to even, then truncated back to seconds), so the numbers are 0.6.3's on a
//! server whose clock is in UTC; 0.6.3 on another time zone shifts rows across a DST change.

use alloc::sync::Arc;

use crate::Compat;
use crate::error::{FormatError, MetricsError, RowProblem};
use crate::format::DataFormat;
use crate::keys;
use crate::tree::{Name, Number, Object, Value};

/// First and last second of Python's `datetime` (years 1 and 9999), Unix time.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;
const MIN_SECONDS_F64: f64 = -62_135_596_800.0;
const MAX_SECONDS_F64: f64 = 253_402_300_799.0;

/// `get_simple_metrics()`: `request` (full key names) without its auth, its data and
/// historical data expanded. `data_timestamp` is the time rows count from when the request has
/// no `data_collection_timestamp`.
pub(crate) fn simple_metrics(
    mut request: Object,
    format: Option<&DataFormat>,
    data_timestamp: Instant,
    compat: Compat,
) -> Result<Object, MetricsError> {
    request.remove("auth");
    // Each value is taken out and its expansion put back in the same place (or appended).
    let data = request.get_mut("data").map(core::mem::take);
    let data = simple_data(data, format, compat)?;
    request.insert("data", Value::Object(data));
    let rows = request.get_mut("historical_data").map(core::mem::take);
    let mut rows = simple_rows(rows, format, compat)?;
    date_rows(&mut rows, format, data_timestamp)?;
    request.insert(
        "historical_data",
        Value::Array(rows.into_iter().map(Value::Object).collect()),
    );
    Ok(request)
}

/// [`simple_metrics`] of a borrowed request: only `data` and `historical_data` are copied
/// before their expansion, the other members once into the result (no copy of the whole
/// report first).
pub(crate) fn simple_metrics_of(
    request: &Object,
    format: Option<&DataFormat>,
    data_timestamp: Instant,
    compat: Compat,
) -> Result<Object, MetricsError> {
    let data = simple_data(request.get("data").cloned(), format, compat)?;
    let mut rows = simple_rows(request.get("historical_data").cloned(), format, compat)?;
    date_rows(&mut rows, format, data_timestamp)?;
    let mut data = Some(Value::Object(data));
    let mut rows = Some(Value::Array(rows.into_iter().map(Value::Object).collect()));
    let mut out = Object::with_capacity(request.len() + 1);
    // The members in their order, `auth` left out, each expansion in its field's place.
    for (name, value) in request.members() {
        let value = match &**name {
            "auth" => continue,
            "data" => data.take().unwrap_or_default(),
            "historical_data" => rows.take().unwrap_or_default(),
            _ => value.clone(),
        };
        out.push(name.clone(), value);
    }
    for (name, value) in [("data", data), ("historical_data", rows)] {
        if let Some(value) = value {
            out.push(Name::Static(name), value);
        }
    }
    Ok(out)
}

/// `_get_simple_data()`: an object as it is, a list named by `data_order` (missing trailing
/// values become null), anything falsy an empty object.
fn simple_data(
    data: Option<Value>,
    format: Option<&DataFormat>,
    compat: Compat,
) -> Result<Object, MetricsError> {
    match data {
        Some(Value::Object(map)) => Ok(map),
        Some(Value::Array(values)) if !values.is_empty() => {
            let format = format.ok_or(FormatError::Missing)?;
            let order = format.data_order().ok_or(FormatError::NoDataOrder)?;
            if values.len() > order.len() && compat == Compat::Paylock {
                return Err(FormatError::TooManyValues {
                    field: "data",
                    given: values.len(),
                    named: order.len(),
                }
                .into());
            }
            let mut values = values.into_iter();
            let named = order
                .iter()
                .map(|name| (name_of(name), values.next().unwrap_or(Value::Null)))
                .collect();
            Ok(Object::from_members(named))
        }
        // Python's `if not data: return {}`; other truthy values are refused before.
        _ => Ok(Object::default()),
    }
}

/// A data order's name under its full name: the table's `&'static str` when it is in the
/// table (no allocation), else a copy.
fn name_of(name: &str) -> Name {
    keys::full_name(keys::to_simple(name)).map_or_else(|| Name::Owned(name.into()), Name::Static)
}

/// `_get_simple_historical_data()`: each row named, lists by `historical_data_order`, object
/// keys that are positions ("0", "1"…) by the same order.
fn simple_rows(
    rows: Option<Value>,
    format: Option<&DataFormat>,
    compat: Compat,
) -> Result<Vec<Object>, MetricsError> {
    let Some(rows) = rows.filter(Value::truthy) else {
        return Ok(Vec::new());
    };
    // 0.6.3 reads the format before looking at the rows, and fails without one.
    if format.is_none() && compat == Compat::Openpaygo063 {
        return Err(FormatError::Missing.into());
    }
    let Value::Array(rows) = rows else {
        return Err(MetricsError::Row {
            index: 0,
            problem: RowProblem::NotARow,
        });
    };
    // Each name made once for all the rows.
    let order: Option<Vec<Name>> =
        format
            .and_then(|f| f.historical_data_order.as_deref())
            .map(|order| {
                order
                    .iter()
                    .map(|name| Name::Shared(Arc::from(name.as_str())))
                    .collect()
            });
    let order = order.as_deref();
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| match row {
            Value::Array(values) => {
                let order = order
                    .filter(|order| !order.is_empty())
                    .ok_or(FormatError::NoHistoricalOrder)?;
                if values.len() > order.len() && compat == Compat::Paylock {
                    return Err(FormatError::TooManyValues {
                        field: "historical_data",
                        given: values.len(),
                        named: order.len(),
                    }
                    .into());
                }
                // Room for the `timestamp` dating adds, so the vector never grows.
                let mut named = Vec::with_capacity(values.len().min(order.len()) + 1);
                for (name, value) in order.iter().zip(values) {
                    named.push((name.clone(), value));
                }
                Ok(Object::from_members(named))
            }
            Value::Object(map) if !map.keys().any(|k| position(k).is_some()) => Ok(map),
            Value::Object(map) => {
                let mut named = Vec::with_capacity(map.len() + 1);
                for (key, value) in map {
                    let name = match position(&key) {
                        Some(i) => {
                            let order = order.ok_or(FormatError::NoHistoricalOrder)?;
                            order.get(i).cloned().unwrap_or(key)
                        }
                        None => key,
                    };
                    named.push((name, value));
                }
                Ok(Object::from_members(named))
            }
            _ => Err(MetricsError::Row {
                index,
                problem: RowProblem::NotARow,
            }),
        })
        .collect()
}

/// A key that is a position: ASCII digits (Python's `str.isdigit()` also takes other Unicode
/// digits; such keys are kept as they are here).
fn position(key: &str) -> Option<usize> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A number too large for usize is past every order.
    Some(key.parse().unwrap_or(usize::MAX))
}

/// `_fill_timestamp_in_historical_data()`: a `relative_time` moves on from the previous row
/// (and is replaced by `timestamp`), a `timestamp` resets the clock, a row with neither is
/// one interval after the previous row (the first one is at the data timestamp).
fn date_rows(
    rows: &mut [Object],
    format: Option<&DataFormat>,
    mut last: Instant,
) -> Result<(), MetricsError> {
    for (index, row) in rows.iter_mut().enumerate() {
        let problem = |problem| MetricsError::Row { index, problem };
        if let Some(relative) = row.get("relative_time").filter(|v| !v.is_null()) {
            let seconds = whole_seconds(relative).ok_or(problem(RowProblem::NotATime))?;
            last = last.plus(seconds).ok_or(problem(RowProblem::OutOfRange))?;
            row.insert("timestamp", Value::from(last.truncated()));
            row.remove("relative_time");
        } else if let Some(stamp) = row.get("timestamp").filter(|v| v.truthy()) {
            last = Instant::from_value(stamp).map_err(|p| {
                problem(if p {
                    RowProblem::OutOfRange
                } else {
                    RowProblem::NotATime
                })
            })?;
        } else {
            if index != 0 {
                let interval = format
                    .and_then(|f| f.historical_data_interval)
                    .ok_or(FormatError::NoInterval)?;
                last = last.plus(interval).ok_or(problem(RowProblem::OutOfRange))?;
            }
            row.insert("timestamp", Value::from(last.truncated()));
        }
    }
    Ok(())
}

/// The times [`date_rows`] gives `rows` rows that carry none: the first at `start`, each
/// next one `interval` later.
pub(crate) fn interval_times(
    start: Instant,
    interval: Option<i64>,
    rows: usize,
) -> Result<Vec<i64>, MetricsError> {
    let mut times = Vec::with_capacity(rows);
    let mut last = start;
    for index in 0..rows {
        if index != 0 {
            let interval = interval.ok_or(FormatError::NoInterval)?;
            last = last.plus(interval).ok_or(MetricsError::Row {
                index,
                problem: RowProblem::OutOfRange,
            })?;
        }
        times.push(last.truncated());
    }
    Ok(times)
}

/// Python's `int(x)` of a number: floats truncated towards zero.
#[expect(
    clippy::cast_possible_truncation,
    reason = "truncation towards zero is Python's int(); the range is checked first"
)]
fn whole_seconds(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64().trunc();
    // Beyond i64 a date is out of range anyway.
    (f.abs() < 9.2e18).then_some(f as i64)
}

/// A naive `datetime` under UTC: whole seconds and microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Instant {
    seconds: i64,
    micros: u32,
}

impl Instant {
    /// Whole seconds.
    pub(crate) fn at(seconds: i64) -> Result<Self, bool> {
        if (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            Ok(Self { seconds, micros: 0 })
        } else {
            Err(true)
        }
    }

    /// `datetime.fromtimestamp(value)`: `Err(false)` for a value that is not a number,
    /// `Err(true)` outside the date range.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "both values are whole and range-checked: seconds in the date range, micros in 0..1e6"
    )]
    pub(crate) fn from_value(value: &Value) -> Result<Self, bool> {
        let f = match value {
            Value::Number(Number::Float(f, _)) => *f,
            Value::Number(n) => return n.as_i64().map_or(Err(true), Self::at),
            _ => return Err(false),
        };
        // CPython's _PyTime_DoubleToDenominator with ROUND_HALF_EVEN.
        let mut whole = f.trunc();
        let mut micros = ((f - whole) * 1e6).round_ties_even();
        if micros >= 1e6 {
            micros -= 1e6;
            whole += 1.0;
        } else if micros < 0.0 {
            micros += 1e6;
            whole -= 1.0;
        }
        if !(MIN_SECONDS_F64..=MAX_SECONDS_F64).contains(&whole) {
            return Err(true);
        }
        Ok(Self {
            seconds: whole as i64,
            micros: micros as u32,
        })
    }

    /// `+ timedelta(seconds=…)`, `None` out of range.
    fn plus(self, seconds: i64) -> Option<Self> {
        let seconds = self.seconds.checked_add(seconds)?;
        (MIN_SECONDS..=MAX_SECONDS)
            .contains(&seconds)
            .then_some(Self { seconds, ..self })
    }

    /// `int(dt.timestamp())`: CPython adds the microseconds as a float, then truncates.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "CPython's own double arithmetic, reproduced; dates are far below 2^53 seconds"
    )]
    fn truncated(self) -> i64 {
        (self.seconds as f64 + f64::from(self.micros) / 1e6).trunc() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Repr;

    fn float(f: f64) -> Value {
        Value::Number(Number::Float(f, Repr::default()))
    }

    #[test]
    fn float_timestamps_round_as_cpython() {
        let cases = [
            (1.5, (1, 500_000)),
            (-1.5, (-2, 500_000)),
            (0.000_000_5, (0, 0)),
            (0.000_001_5, (0, 2)),
            (1_611_583_070.999_999_9, (1_611_583_071, 0)),
        ];
        for (value, (seconds, micros)) in cases {
            let instant = Instant::from_value(&float(value)).unwrap();
            assert_eq!(
                (instant.seconds, instant.micros),
                (seconds, micros),
                "{value}"
            );
        }
        assert_eq!(Instant::from_value(&float(-1.5)).unwrap().truncated(), -1);
        assert_eq!(Instant::from_value(&float(1e12)), Err(true));
        assert_eq!(
            Instant::from_value(&Value::String("1".to_owned())),
            Err(false)
        );
    }
}
