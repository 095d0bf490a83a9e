//! OpenPAYGO Metrics over JSON Lines: one request per input line, one answer per output line,
//! both sides of the protocol in one process. The differential tests and the speed comparison
//! in `tests/differential/` drive it; it is also a small tool to try a device's reports.
//!
//!     cargo run --release -p paylock-metrics --example metrics_jsonl < requests.jsonl
//!
//! Operations (`"op"`):
//! - `request`: the device builds and signs a report (`paylock::metrics::Request`):
//!   `{"condensed", "method", "key", "serial_number", "data_format_id"?, "timestamp"?,
//!   "request_count"?, "data"?: [[name, value]…], "historical_data"?: [[[name, value]…]…]}`
//!   → `{"ok":true,"text"}`.
//! - `verify`: the server checks a report: `{"text", "key", "data_format"?,
//!   "last_request_count"?, "last_timestamp"?, "received_at", "compat"?, "dialect"?,
//!   "method"? (the device's pinned method)}` →
//!   `{"ok":true,"metrics_json","auth_method","timestamp","request_count","token_count",
//!   "time_requested"}`.
//! - `respond`: verify, then answer: the same fields plus `"now"`, `"signed"` and `"calls"`
//!   (`[["tokens",[…]],["time",target|null],["settings",{…}],["base_url",url],
//!   ["extra_data",{…}]]`) → `{"ok":true,"text"}`.
//! - `read_answer`: the device verifies and reads an answer: `{"text", "key", "sent":
//!   {"serial_number","timestamp","request_count"}}` → `{"ok":true,"tokens",
//!   "active_until","active_seconds_left","settings","extra_data"}` (values as JSON text).
//! - `bench`: `{"cases":[respond fields…], "rounds": n}`: verify and respond to every case
//!   `n` times in this process → `{"ok":true,"nanos_per_case"}`.
//!
//! A refusal is `{"ok":false,"kind","field","message"}`.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use paylock::Key;
use paylock::metrics::{self as device, AuthMethod, BuildError, Layout, Sent, Values};
use paylock_metrics::{Answer, Compat, DataFormat, Device, Dialect, MetricsError, Options};
use serde_json::{Map, Value, json};

fn main() -> io::Result<()> {
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut out = BufWriter::new(io::stdout().lock());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(request) => handle(&request).unwrap_or_else(|e| e),
            Err(e) => refusal("json", None, &e.to_string()),
        };
        serde_json::to_writer(&mut out, &answer)?;
        out.write_all(b"\n")?;
        // A caller may wait for this answer before sending more: flush once the input read so
        // far is answered (a batch piped in is written in large blocks).
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
    out.flush()
}

type Reply = Result<Value, Value>;

fn refusal(kind: &str, field: Option<&str>, message: &str) -> Value {
    json!({"ok": false, "kind": kind, "field": field, "message": message})
}

fn metrics_refusal(e: &MetricsError) -> Value {
    refusal(e.kind(), e.field(), &e.to_string())
}

fn bad(field: &str) -> Value {
    refusal(
        "bad_request",
        Some(field),
        &format!("{field} is missing or malformed"),
    )
}

fn handle(request: &Value) -> Reply {
    match request["op"].as_str() {
        Some("request") => build(request),
        Some("verify") => verify(request).map(|report| summary(&report)),
        Some("respond") => respond(request).map(|text| json!({"ok": true, "text": text})),
        Some("read_answer") => read_answer(request),
        Some("bench") => bench(request),
        _ => Err(bad("op")),
    }
}

fn key(request: &Value) -> Result<Key, Value> {
    request["key"]
        .as_str()
        .and_then(|hex| Key::from_hex(hex).ok())
        .ok_or_else(|| bad("key"))
}

fn build(request: &Value) -> Reply {
    let key = key(request)?;
    let method = request["method"]
        .as_str()
        .and_then(|m| AuthMethod::from_prefix(m.as_bytes()))
        .ok_or_else(|| bad("method"))?;
    let form = if request["condensed"].as_bool().unwrap_or(false) {
        Layout::Condensed
    } else {
        Layout::Simple
    };
    let serial = request["serial_number"]
        .as_str()
        .ok_or_else(|| bad("serial_number"))?;
    let mut buf = vec![0u8; 64 * 1024];
    let text = signed(&mut buf, form, serial, request, &key, method)
        .map_err(|e| refusal("build", None, &e.to_string()))?;
    Ok(json!({"ok": true, "text": text}))
}

fn signed<'b>(
    buf: &'b mut [u8],
    form: Layout,
    serial: &str,
    request: &Value,
    key: &Key,
    method: AuthMethod,
) -> Result<&'b str, BuildError> {
    let mut report = device::Request::new(buf, form, serial)?;
    if let Some(id) = request["data_format_id"].as_u64() {
        report.data_format_id(id)?;
    }
    if let Some(ts) = request["timestamp"].as_u64() {
        report.timestamp(ts)?;
    }
    if let Some(rc) = request["request_count"].as_u64() {
        report.request_count(rc)?;
    }
    if let Some(values) = request["data"].as_array() {
        report.data(|f| fields(f, values))?;
    }
    if let Some(rows) = request["historical_data"].as_array() {
        report.historical_data(|hd| {
            rows.iter()
                .try_for_each(|row| hd.row(|f| fields(f, row.as_array().map_or(&[], |r| r))))
        })?;
    }
    report.sign(key, method)
}

/// `[[name, value]…]` through the builder's typed calls.
fn fields(f: &mut Values<'_, '_>, values: &[Value]) -> Result<(), BuildError> {
    for pair in values {
        let name = pair[0].as_str().unwrap_or_default();
        match &pair[1] {
            Value::Null => f.null(name)?,
            Value::Bool(b) => f.bool(name, *b)?,
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => f.uint(name, u)?,
                (None, Some(i), _) => f.int(name, i)?,
                (None, None, Some(x)) => f.float(name, x)?,
                _ => f.null(name)?,
            },
            Value::String(s) => f.str(name, s)?,
            // Nested values have no builder call; a device writes scalars.
            _ => f.null(name)?,
        }
    }
    Ok(())
}

struct Server {
    key: Key,
    format: Option<DataFormat>,
    options: Options,
    dialect: Dialect,
    last_request_count: Option<u64>,
    last_timestamp: Option<u64>,
    method: Option<AuthMethod>,
}

fn server(request: &Value) -> Result<Server, Value> {
    let format = match &request["data_format"] {
        Value::Null => None,
        v => Some(serde_json::from_value(v.clone()).map_err(|_| bad("data_format"))?),
    };
    let compat = match request["compat"].as_str() {
        None | Some("paylock") => Compat::Paylock,
        Some("openpaygo_0_6_3") => Compat::Openpaygo063,
        Some(_) => return Err(bad("compat")),
    };
    let dialect = match request["dialect"].as_str() {
        None | Some("standard") => Dialect::Standard,
        Some("hdk_trailing_nul") => Dialect::HdkTrailingNul,
        Some(_) => return Err(bad("dialect")),
    };
    Ok(Server {
        key: key(request)?,
        format,
        options: Options {
            received_at: request["received_at"].as_i64().unwrap_or(0),
            compat,
        },
        dialect,
        last_request_count: request["last_request_count"].as_u64(),
        last_timestamp: request["last_timestamp"].as_u64(),
        method: request["method"]
            .as_str()
            .and_then(|m| AuthMethod::from_prefix(m.as_bytes())),
    })
}

impl Server {
    fn verify(&self, text: &str) -> Result<paylock_metrics::VerifiedReport, MetricsError> {
        let device = Device {
            key: &self.key,
            data_format: self.format.as_ref(),
            last_request_count: self.last_request_count,
            last_timestamp: self.last_timestamp,
            dialect: self.dialect,
            method: self.method,
        };
        paylock_metrics::verify(text, &device, &self.options)
    }
}

fn verify(request: &Value) -> Result<paylock_metrics::VerifiedReport, Value> {
    let text = request["text"].as_str().ok_or_else(|| bad("text"))?;
    server(request)?
        .verify(text)
        .map_err(|e| metrics_refusal(&e))
}

fn summary(report: &paylock_metrics::VerifiedReport) -> Value {
    json!({
        "ok": true,
        "metrics_json": report.metrics_json(),
        "auth_method": report.auth_method.prefix(),
        "timestamp": report.timestamp,
        "request_count": report.request_count,
        "token_count": report.token_count(),
        "time_requested": report.time_requested(),
    })
}

fn respond(request: &Value) -> Result<String, Value> {
    let server = server(request)?;
    let text = request["text"].as_str().ok_or_else(|| bad("text"))?;
    let report = server.verify(text).map_err(|e| metrics_refusal(&e))?;
    let answer = answer(request, &report, server.options.compat)?;
    let key = request["signed"]
        .as_bool()
        .unwrap_or(true)
        .then_some(&server.key);
    Ok(paylock_metrics::respond(&report, key, &answer))
}

fn answer(
    request: &Value,
    report: &paylock_metrics::VerifiedReport,
    compat: Compat,
) -> Result<Answer, Value> {
    let now = request["now"].as_i64().unwrap_or(0);
    let mut answer = Answer::new();
    for call in request["calls"].as_array().map_or(&[][..], Vec::as_slice) {
        let argument = &call[1];
        let object = || argument.as_object().cloned().ok_or_else(|| bad("calls"));
        match call[0].as_str() {
            Some("tokens") => {
                answer.tokens(argument.as_array().cloned().ok_or_else(|| bad("calls"))?);
            }
            Some("time") => {
                answer
                    .time(report, argument.as_i64(), now, compat)
                    .map_err(|e| metrics_refusal(&e))?;
            }
            Some("settings") => {
                answer.settings(object()?);
            }
            Some("base_url") => {
                answer.base_url(argument.as_str().ok_or_else(|| bad("calls"))?);
            }
            Some("extra_data") => {
                answer.extra_data(object()?);
            }
            _ => return Err(bad("calls")),
        }
    }
    Ok(answer)
}

fn read_answer(request: &Value) -> Reply {
    let key = key(request)?;
    let text = request["text"].as_str().ok_or_else(|| bad("text"))?;
    let sent = &request["sent"];
    let sent = Sent {
        serial_number: sent["serial_number"].as_str().unwrap_or_default(),
        timestamp: sent["timestamp"].as_u64().unwrap_or(0),
        request_count: sent["request_count"].as_u64().unwrap_or(0),
    };
    let answer = device::Answer::verify(text.as_bytes(), &key, &sent).map_err(|e| {
        let kind = match e {
            device::AnswerError::Signature => "signature",
            device::AnswerError::Unsigned => "unsigned",
            _ => "malformed",
        };
        refusal(kind, None, &e.to_string())
    })?;
    let members = |m: Option<device::Object<'_>>| {
        m.map(|m| {
            let mut out = Map::new();
            for (name, value) in m {
                let name: String = name.chars().collect();
                out.insert(name, Value::from(value.raw()));
            }
            out
        })
    };
    Ok(json!({
        "ok": true,
        "tokens": answer.tokens().collect::<Vec<_>>(),
        "active_until": answer.active_until(),
        "active_seconds_left": answer.active_seconds_left(),
        "settings": members(answer.settings()),
        "extra_data": members(answer.extra_data()),
    }))
}

/// Verify + respond over every case, `rounds` times: the work a CRM does per report.
fn bench(request: &Value) -> Reply {
    let cases = request["cases"].as_array().ok_or_else(|| bad("cases"))?;
    let rounds = request["rounds"].as_u64().unwrap_or(1).max(1);
    let prepared = cases
        .iter()
        .map(|case| {
            let text = case["text"].as_str().ok_or_else(|| bad("text"))?;
            Ok((server(case)?, text.to_owned(), case))
        })
        .collect::<Result<Vec<_>, Value>>()?;
    let mut bytes = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for (server, text, case) in &prepared {
            let report = server.verify(text).map_err(|e| metrics_refusal(&e))?;
            let answer = answer(case, &report, server.options.compat)?;
            bytes += paylock_metrics::respond(&report, Some(&server.key), &answer).len();
        }
    }
    let elapsed = start.elapsed();
    let count = u128::from(rounds) * prepared.len() as u128;
    Ok(json!({
        "ok": true,
        "nanos_per_case": elapsed.as_nanos() / count.max(1),
        "answer_bytes": bytes,
    }))
}
