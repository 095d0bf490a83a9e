//! The server's answer: the fields in the order they were added (0.6.3's `response_dict`),
//! condensed key names, and a `da` signature whenever the device's key is known.

use paylock::Key;
use paylock::metrics::{self, ResponseParts};
use serde_json::{Map, Value};

use crate::error::MetricsError;
use crate::verify::{TimeRequest, VerifiedReport};
use crate::{Compat, keys, python};

/// The fields of an answer, in the order they are added. Build it with the methods that
/// mirror 0.6.3's `add_…_to_answer`, then write it with [`Answer::to_text`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    fields: Map<String, Value>,
}

/// The 1st of January 1971, UTC: 0.6.3 sends 0 for a target in 1970 or before.
const FIRST_SECOND_OF_1971: i64 = 31_536_000;

impl From<Map<String, Value>> for Answer {
    /// An answer whose fields were built elsewhere (0.6.3's `response_dict`), under full names
    /// in the order they were added.
    fn from(fields: Map<String, Value>) -> Self {
        Self { fields }
    }
}

impl Answer {
    /// An empty answer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The fields added so far, under their full names.
    #[must_use]
    pub const fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The tokens for the device, oldest first (`add_tokens_to_answer`; replaces a previous
    /// list).
    pub fn tokens(&mut self, tokens: Vec<Value>) -> &mut Self {
        self.fields
            .insert("token_list".to_owned(), Value::Array(tokens));
        self
    }

    /// The device's credit as it asked for it (`add_time_to_answer`): `target` is when the
    /// credit runs out (Unix seconds, `None` for no credit), `now` the server's clock.
    ///
    /// `active_until_timestamp` is `target` (0 without one, or before 1971), an integer;
    /// `active_seconds_left` is `target - now`, at least 0. [`Compat::Openpaygo063`] writes
    /// 0.6.3's values instead: the timestamp as a float, and `now - target` as the seconds
    /// left (a float, 0 for any future target).
    ///
    /// # Errors
    /// [`MetricsError::NoTimeRequested`] when the report asked for no time.
    pub fn time(
        &mut self,
        report: &VerifiedReport,
        target: Option<i64>,
        now: i64,
        compat: Compat,
    ) -> Result<&mut Self, MetricsError> {
        let (name, value) = match report.time_requested() {
            Some(TimeRequest::ActiveUntil) => {
                let target = target.filter(|&t| t >= FIRST_SECOND_OF_1971);
                let value = match (target, compat) {
                    (None, _) => Value::from(0),
                    (Some(t), Compat::Paylock) => Value::from(t),
                    (Some(t), Compat::Openpaygo063) => float(t),
                };
                ("active_until_timestamp", value)
            }
            Some(TimeRequest::SecondsLeft) => {
                let value = match (target, compat) {
                    (None, _) => Value::from(0),
                    (Some(t), Compat::Paylock) => Value::from(t.saturating_sub(now).max(0)),
                    (Some(t), Compat::Openpaygo063) => match now.saturating_sub(t) {
                        left if left > 0 => float(left),
                        _ => Value::from(0),
                    },
                };
                ("active_seconds_left", value)
            }
            None => return Err(MetricsError::NoTimeRequested),
        };
        self.fields.insert(name.to_owned(), value);
        Ok(self)
    }

    /// Settings for the device, merged into those already added (`add_settings_to_answer`).
    pub fn settings(&mut self, settings: Map<String, Value>) -> &mut Self {
        merge(&mut self.fields, "settings", settings);
        self
    }

    /// A new server address for the device (`add_new_base_url_to_answer`).
    pub fn base_url(&mut self, url: &str) -> &mut Self {
        let mut setting = Map::new();
        setting.insert("base_url".to_owned(), Value::from(url));
        self.settings(setting)
    }

    /// Extra data for the device, merged into what was already added
    /// (`add_extra_data_to_answer`).
    pub fn extra_data(&mut self, extra: Map<String, Value>) -> &mut Self {
        merge(&mut self.fields, "extra_data", extra);
        self
    }

    /// The answer's text (`get_answer_payload`): condensed key names, signed with `key` when
    /// it is given, over the report's serial number, timestamp and count.
    #[must_use]
    pub fn to_text(&self, report: &VerifiedReport, key: Option<&Key>) -> String {
        let mut out = Vec::with_capacity(128);
        out.push(b'{');
        let mut texts: [Option<(usize, usize)>; 5] = [None; 5];
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            python::write_key(&mut out, keys::to_condensed(name));
            let start = out.len();
            python::write(&mut out, value);
            if let Some(slot) = SIGNED
                .iter()
                .position(|field| field == name)
                .and_then(|at| texts.get_mut(at))
            {
                *slot = Some((start, out.len()));
            }
        }
        if let Some(key) = key {
            let part = |at: usize| {
                texts
                    .get(at)
                    .copied()
                    .flatten()
                    .and_then(|(start, end)| out.get(start..end))
            };
            let parts = ResponseParts {
                serial_number: &report.serial_number,
                timestamp: report.timestamp,
                request_count: report.request_count,
                active_until: part(0),
                active_seconds_left: part(1),
                token_list: part(2),
                settings: part(3),
                extra_data: part(4),
            };
            let signature = metrics::sign_response(key, &parts);
            if !self.fields.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"a\":\"");
            let Ok(()) = signature.write_to(&mut out);
            out.push(b'"');
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The signed fields, in the signature's order.
const SIGNED: [&str; 5] = [
    "active_until_timestamp",
    "active_seconds_left",
    "token_list",
    "settings",
    "extra_data",
];

/// Whole seconds as the float 0.6.3 sends.
fn float(seconds: i64) -> Value {
    #[expect(
        clippy::cast_precision_loss,
        reason = "0.6.3 sends Python floats; Unix times are far below 2^53"
    )]
    let value = seconds as f64;
    serde_json::Number::from_f64(value).map_or(Value::from(seconds), Value::Number)
}

/// Python's `if not d.get(name): d[name] = {}` then `d[name].update(new)`.
fn merge(fields: &mut Map<String, Value>, name: &str, new: Map<String, Value>) {
    let slot = fields
        .entry(name)
        .or_insert_with(|| Value::Object(Map::new()));
    if !matches!(slot, Value::Object(map) if !map.is_empty()) {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(map) = slot {
        for (key, value) in new {
            map.insert(key, value);
        }
    }
}
