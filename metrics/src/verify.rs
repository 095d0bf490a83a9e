//! A device's report on the server: parsed, authenticated with the device's key, checked for
//! freshness against the last accepted request, and expanded.

use alloc::borrow::Cow;
use core::ops::Range;
use paylock::Key;
use paylock::metrics::{self, AuthMethod, Dialect, RequestParts, SignError};

use serde::{Deserialize, Serialize};

use crate::error::{AuthError, FieldProblem, MetricsError};
use crate::expand::{self, Instant};
use crate::format::DataFormat;
use crate::tree::{self, Name, Object, Value};
use crate::{Compat, keys, python, scan};

/// A report as received, its keys under their full names; nothing is trusted yet. Read the
/// serial number to find the device's key, then [`Request::verify`].
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    fields: Object,
}

impl Request {
    /// Parses a report (simple, condensed or a mix of both key forms).
    ///
    /// # Errors
    /// [`MetricsError::Json`] for text that is not JSON, [`MetricsError::Number`] for an
    /// integer Python would read differently, [`MetricsError::NotAnObject`].
    pub fn parse(text: &str) -> Result<Self, MetricsError> {
        if let Some(fields) = scan::report(text) {
            return Ok(Self { fields });
        }
        let top: TopLevel = serde_json::from_str(text).map_err(|e| MetricsError::Json {
            line: e.line(),
            column: e.column(),
            message: message(&e),
        })?;
        python::check_integers(text)?;
        let TopLevel::Object(fields) = top else {
            return Err(MetricsError::NotAnObject);
        };
        Ok(Self { fields })
    }

    /// The report's fields under their full names, as 0.6.3's `request_dict`.
    #[must_use]
    pub const fn fields(&self) -> &Object {
        &self.fields
    }

    /// The serial number, when it is a string (unauthenticated until verified).
    #[must_use]
    pub fn serial_number(&self) -> Option<&str> {
        self.fields.get("serial_number").and_then(Value::as_str)
    }

    /// The `data_format_id` the device names (unauthenticated).
    #[must_use]
    pub fn data_format_id(&self) -> Option<&Value> {
        self.fields.get("data_format_id")
    }

    /// Authenticates the report with the device's key, checks it is newer than the last one
    /// accepted, and expands it with the data format.
    ///
    /// # Errors
    /// [`MetricsError`] naming the field and the fault; [`AuthError`] when the report is not
    /// authentic or not fresh.
    pub fn verify(
        self,
        device: &Device<'_>,
        options: &Options,
    ) -> Result<VerifiedReport, MetricsError> {
        let Authentic {
            method,
            timestamp,
            request_count,
        } = self.authenticate(device)?;
        let (format, data_format_from_request) = self.format(device.data_format)?;
        let data_timestamp = self.data_timestamp(timestamp, options.received_at)?;
        // `authenticate` found a string there.
        let serial_number = self.serial_number().unwrap_or_default().to_owned();
        let metrics = expand::simple_metrics(
            self.fields,
            format.as_deref(),
            data_timestamp,
            options.compat,
        )?;
        Ok(VerifiedReport::new(
            serial_number,
            method,
            timestamp,
            request_count,
            data_format_from_request,
            metrics,
        ))
    }

    /// The first half of [`Request::verify`], on a borrowed report: authentic with the
    /// device's key and fresh, nothing expanded (0.6.3's `is_auth_valid()`, for a caller that
    /// expands apart or not at all).
    ///
    /// # Errors
    /// [`AuthError`] when the report is not authentic or not fresh; [`MetricsError::Field`]
    /// for a serial number, timestamp, count or container that cannot be hashed.
    pub fn authenticate(&self, device: &Device<'_>) -> Result<Authentic, MetricsError> {
        let method = self.method()?;
        if device.method.is_some_and(|pinned| pinned != method) {
            return Err(AuthError::WrongMethod.into());
        }
        let serial_number = match self.fields.get("serial_number") {
            Some(Value::String(s)) => s.as_str(),
            None => return Err(field_error("serial_number", FieldProblem::Missing)),
            Some(_) => return Err(field_error("serial_number", FieldProblem::NotAString)),
        };
        let timestamp = self.count("timestamp")?;
        let request_count = self.count("request_count")?;
        // Both signed texts in one buffer.
        let mut texts = Vec::with_capacity(256);
        let data = self.container(&mut texts, "data", method)?;
        let historical_data = self.container(&mut texts, "historical_data", method)?;
        let parts = RequestParts {
            serial_number,
            timestamp,
            request_count,
            data: data.and_then(|range| texts.get(range)),
            historical_data: historical_data.and_then(|range| texts.get(range)),
        };
        let signature = metrics::sign_request(device.key, method, device.dialect, &parts).map_err(
            |e| match e {
                SignError::MissingTimestamp => AuthError::MissingPart { field: "timestamp" }.into(),
                SignError::MissingRequestCount => AuthError::MissingPart {
                    field: "request_count",
                }
                .into(),
                _ => field_error("historical_data", FieldProblem::NotAContainer),
            },
        )?;
        let given = self
            .fields
            .get("auth")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !signature.matches(given.as_bytes()) {
            return Err(AuthError::Mismatch.into());
        }
        fresh("request_count", request_count, device.last_request_count)?;
        fresh("timestamp", timestamp, device.last_timestamp)?;
        if request_count == 0 && timestamp == 0 {
            return Err(AuthError::NotFresh.into());
        }
        Ok(Authentic {
            method,
            timestamp,
            request_count,
        })
    }

    /// 0.6.3's `get_simple_metrics()` without verifying anything: the report expanded with
    /// `data_format` (else the one embedded in the report), for a caller that checks the
    /// signature apart (the Python drop-in, whose `is_auth_valid` is a separate call).
    ///
    /// # Errors
    /// [`MetricsError`] for a missing or unfitting data format, or a row that cannot be dated.
    pub fn expand(
        &self,
        data_format: Option<&DataFormat>,
        options: &Options,
    ) -> Result<Object, MetricsError> {
        let timestamp = self.count("timestamp")?;
        let (format, _) = self.format(data_format)?;
        let data_timestamp = self.data_timestamp(timestamp, options.received_at)?;
        expand::simple_metrics_of(
            &self.fields,
            format.as_deref(),
            data_timestamp,
            options.compat,
        )
    }

    /// The time [`Request::expand`] gives each of `rows` historical rows that carry no time
    /// of their own and no `relative_time`: the first at the data timestamp, each next one
    /// the interval later; for a caller that names such rows itself.
    ///
    /// # Errors
    /// As [`Request::expand`]: a timestamp that is not a count, a data timestamp that is not a
    /// time, no interval for a second row, a time out of range.
    pub fn row_times(
        &self,
        data_format: Option<&DataFormat>,
        received_at: i64,
        rows: usize,
    ) -> Result<Vec<i64>, MetricsError> {
        let timestamp = self.count("timestamp")?;
        let (format, _) = self.format(data_format)?;
        let start = self.data_timestamp(timestamp, received_at)?;
        let interval = format.and_then(|f| f.historical_data_interval);
        expand::interval_times(start, interval, rows)
    }

    /// The method named by the first two characters of `auth`.
    fn method(&self) -> Result<AuthMethod, MetricsError> {
        let auth = match self.fields.get("auth") {
            Some(value) if value.truthy() => value,
            _ => return Err(AuthError::Missing.into()),
        };
        let Value::String(auth) = auth else {
            return Err(AuthError::NotAString.into());
        };
        let prefix = auth
            .char_indices()
            .nth(2)
            .map_or(auth.as_str(), |(end, _)| {
                auth.get(..end).unwrap_or_default()
            });
        AuthMethod::from_prefix(prefix.as_bytes()).ok_or_else(|| AuthError::UnknownMethod.into())
    }

    /// A timestamp or request count: a non-negative integer, null or absent (0).
    fn count(&self, field: &'static str) -> Result<u64, MetricsError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(0),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| field_error(field, FieldProblem::NotACount)),
        }
    }

    /// Appends the JSON text of `data` or `historical_data` as Python writes it to `out`, and
    /// returns where it is; `None` when absent or when `method` does not sign it.
    fn container(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        method: AuthMethod,
    ) -> Result<Option<Range<usize>>, MetricsError> {
        let Some(value) = self.fields.get(field) else {
            return Ok(None);
        };
        // A truthy scalar is data 0.6.3 would carry through unnamed; refuse it.
        if !matches!(value, Value::Object(_) | Value::Array(_)) && value.truthy() {
            return Err(field_error(field, FieldProblem::NotAContainer));
        }
        if !method.covers_data() {
            return Ok(None);
        }
        let start = out.len();
        value.write_python(out);
        Ok(Some(start..out.len()))
    }

    /// The device's data format, else (as 0.6.3) the one embedded in the request.
    fn format<'f>(
        &self,
        known: Option<&'f DataFormat>,
    ) -> Result<(Option<Cow<'f, DataFormat>>, bool), MetricsError> {
        if let Some(format) = known.filter(|f| !f.is_empty()) {
            return Ok((Some(Cow::Borrowed(format)), false));
        }
        match self.fields.get("data_format").filter(|v| v.truthy()) {
            Some(embedded) => DataFormat::deserialize(&embedded.to_serde())
                .map(|format| (Some(Cow::Owned(format)), true))
                .map_err(|_| field_error("data_format", FieldProblem::NotADataFormat)),
            None => Ok((known.map(Cow::Borrowed), false)),
        }
    }

    /// The time the rows count from: `data_collection_timestamp` when present, else the
    /// timestamp, else the time of reception.
    fn data_timestamp(&self, timestamp: u64, received_at: i64) -> Result<Instant, MetricsError> {
        if let Some(value) = self.fields.get("data_collection_timestamp") {
            return Instant::from_value(value)
                .map_err(|_| field_error("data_collection_timestamp", FieldProblem::NotATime));
        }
        let (field, seconds) = match i64::try_from(timestamp) {
            Ok(0) => ("received_at", received_at),
            Ok(seconds) => ("timestamp", seconds),
            Err(_) => ("timestamp", i64::MAX),
        };
        Instant::at(seconds).map_err(|_| field_error(field, FieldProblem::NotATime))
    }
}

/// The parsed text: an object is read straight under full key names (0.6.3's
/// `convert_dict_keys_to_simple`), anything else is only validated.
enum TopLevel {
    Object(Object),
    Other,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> serde::de::Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, access: A) -> Result<TopLevel, A::Error> {
        // A condensed or full name of the table is kept as the table's `&'static str`.
        tree::members(access, |key| match keys::full_name(&key) {
            Some(full) => Name::Static(full),
            None => Name::from(key),
        })
        .map(TopLevel::Object)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut access: A) -> Result<TopLevel, A::Error> {
        while access.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
}

fn field_error(field: &'static str, problem: FieldProblem) -> MetricsError {
    MetricsError::Field { field, problem }
}

/// `serde_json`'s message without its position (reported apart).
fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or_default().to_owned(),
        None => text,
    }
}

/// A value must be above the last accepted one; 0 (absent) is never checked, as in 0.6.3.
fn fresh(field: &'static str, value: u64, last: Option<u64>) -> Result<(), MetricsError> {
    let Some(last) = last.filter(|&last| last != 0) else {
        return Ok(());
    };
    if value == 0 || value > last {
        Ok(())
    } else if value == last {
        Err(AuthError::Repeated { field }.into())
    } else {
        Err(AuthError::Replayed { field }.into())
    }
}

/// What the server knows about the device that sent a report.
#[derive(Clone, Copy, Debug)]
pub struct Device<'a> {
    /// The device's key (the one of its tokens).
    pub key: &'a Key,
    /// The data format registered for the device's `data_format_id`, if any.
    pub data_format: Option<&'a DataFormat>,
    /// The count of the last report accepted from the device.
    pub last_request_count: Option<u64>,
    /// The timestamp of the last report accepted from the device.
    pub last_timestamp: Option<u64>,
    /// What the device's firmware hashes.
    pub dialect: Dialect,
    /// The one method the device's firmware signs with, if known: a report under another one
    /// is refused. 0.6.3 takes any; pinning stops a relabelled report (a `da` report without
    /// timestamp, data or rows has the hash of `ca`, under which data can be added unsigned).
    pub method: Option<AuthMethod>,
}

impl<'a> Device<'a> {
    /// A device never heard from, with no data format.
    #[must_use]
    pub const fn new(key: &'a Key) -> Self {
        Self {
            key,
            data_format: None,
            last_request_count: None,
            last_timestamp: None,
            dialect: Dialect::Standard,
            method: None,
        }
    }
}

/// How to verify and expand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// The server's clock when the report arrived, Unix seconds: the rows' starting time when
    /// the report has neither `data_collection_timestamp` nor `timestamp` (0.6.3 reads
    /// `datetime.now()`).
    pub received_at: i64,
    /// Where paylock fixes 0.6.3, which behaviour to follow.
    pub compat: Compat,
}

/// What [`Request::authenticate`] found in an authentic, fresh report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authentic {
    /// How it was signed.
    pub method: AuthMethod,
    /// The report's timestamp (0: none).
    pub timestamp: u64,
    /// The report's count (0: none).
    pub request_count: u64,
}

/// What the device asked to be told about its credit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRequest {
    /// `active_until_timestamp_requested`: when the credit runs out.
    ActiveUntil,
    /// `active_seconds_left_requested`: seconds of credit left.
    SecondsLeft,
}

/// An authentic, fresh report, expanded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedReport {
    /// The device's serial number.
    pub serial_number: String,
    /// How it was signed; `sa`, `ta` and `ca` do not cover the data.
    #[serde(serialize_with = "method_prefix")]
    pub auth_method: AuthMethod,
    /// The report's timestamp (0: none); store it as the device's last one.
    pub timestamp: u64,
    /// The report's count (0: none); store it as the device's last one.
    pub request_count: u64,
    /// The data format came from the report itself (no signature covers it).
    pub data_format_from_request: bool,
    /// 0.6.3's `get_simple_metrics()`: the report under full names, without `auth`, its data
    /// named and its historical rows named and dated.
    pub metrics: Object,
}

fn method_prefix<S: serde::Serializer>(method: &AuthMethod, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(method.prefix())
}

impl VerifiedReport {
    fn new(
        serial_number: String,
        auth_method: AuthMethod,
        timestamp: u64,
        request_count: u64,
        data_format_from_request: bool,
        metrics: Object,
    ) -> Self {
        Self {
            serial_number,
            auth_method,
            timestamp,
            request_count,
            data_format_from_request,
            metrics,
        }
    }

    /// `json.dumps(get_simple_metrics(), separators=(",", ":"))`.
    #[must_use]
    pub fn metrics_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.metrics.write_python(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The expanded `data`.
    #[must_use]
    pub fn data(&self) -> Option<&Object> {
        self.metrics.get("data").and_then(Value::as_object)
    }

    /// The token count the device reports (`token_count`), when it expects tokens back.
    #[must_use]
    pub fn token_count(&self) -> Option<&Value> {
        self.data()?.get("token_count").filter(|v| !v.is_null())
    }

    /// The time answer the device asked for, if any (until-timestamp first, as 0.6.3).
    #[must_use]
    pub fn time_requested(&self) -> Option<TimeRequest> {
        let data = self.data()?;
        let asked = |name: &str| data.get(name).is_some_and(Value::truthy);
        if asked("active_until_timestamp_requested") {
            Some(TimeRequest::ActiveUntil)
        } else if asked("active_seconds_left_requested") {
            Some(TimeRequest::SecondsLeft)
        } else {
            None
        }
    }
}

/// Parses and verifies a report in one call: [`Request::parse`] then [`Request::verify`].
///
/// # Errors
/// [`MetricsError`].
pub fn verify(
    text: &str,
    device: &Device<'_>,
    options: &Options,
) -> Result<VerifiedReport, MetricsError> {
    Request::parse(text)?.verify(device, options)
}
