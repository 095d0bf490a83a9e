//! Replays the OpenPAYGO Metrics vectors on the device side (`paylock::metrics`): every request
//! is rebuilt from its inputs byte for byte with its signature and hash steps, every answer is
//! verified and read, and every answer a device must refuse is refused. The expected values are
//! the reference's (`tests/differential/metrics_vectors.py` runs `openpaygo` 0.6.3).
#![cfg(feature = "metrics")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::panic_in_result_fn,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    missing_docs
)] // test code

use paylock::Key;
use paylock::metrics::{
    Answer, AnswerError, AuthMethod, BuildError, Layout, Request, Sent, Unverified, Values,
    hash_hex,
};
use serde_json::{Map, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/openpaygo/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn key(v: &Value) -> Key {
    Key::from_hex(v.as_str().unwrap()).unwrap()
}

fn method(v: &Value) -> AuthMethod {
    AuthMethod::from_prefix(v.as_str().unwrap().as_bytes()).unwrap()
}

/// The values of `data` or of a row: named (simple form) or in the order's positions.
enum VectorValues<'a> {
    Named(&'a Map<String, Value>),
    Ordered(&'a Map<String, Value>, &'a [Value]),
    Positional(&'a [Value]),
}

fn write_value(f: &mut Values<'_, '_>, name: &str, value: &Value) -> Result<(), BuildError> {
    match value {
        Value::Null => f.null(name),
        Value::Bool(b) => f.bool(name, *b),
        Value::Number(n) if n.is_u64() => f.uint(name, n.as_u64().unwrap()),
        Value::Number(n) if n.is_i64() => f.int(name, n.as_i64().unwrap()),
        Value::Number(n) => f.float(name, n.as_f64().unwrap()),
        Value::String(s) => f.str(name, s),
        other => panic!("no builder call for {other}"),
    }
}

fn write_values(f: &mut Values<'_, '_>, values: &VectorValues<'_>) -> Result<(), BuildError> {
    match values {
        VectorValues::Named(map) => map.iter().try_for_each(|(k, v)| write_value(f, k, v)),
        VectorValues::Ordered(map, order) => order.iter().try_for_each(|name| {
            let name = name.as_str().unwrap();
            write_value(f, name, map.get(name).unwrap_or(&Value::Null))
        }),
        VectorValues::Positional(list) => list.iter().try_for_each(|v| write_value(f, "", v)),
    }
}

struct Inputs<'a> {
    condensed: bool,
    serial: &'a str,
    format_id: Option<u64>,
    timestamp: Option<u64>,
    count: Option<u64>,
    data: Option<VectorValues<'a>>,
    rows: Option<Vec<VectorValues<'a>>>,
}

fn build(inputs: &Inputs<'_>, key: &Key, method: AuthMethod) -> String {
    let mut buf = vec![0u8; 4096];
    let form = if inputs.condensed {
        Layout::Condensed
    } else {
        Layout::Simple
    };
    let mut request = Request::new(&mut buf, form, inputs.serial).unwrap();
    if let Some(id) = inputs.format_id {
        request.data_format_id(id).unwrap();
    }
    if let Some(ts) = inputs.timestamp {
        request.timestamp(ts).unwrap();
    }
    if let Some(rc) = inputs.count {
        request.request_count(rc).unwrap();
    }
    if let Some(data) = &inputs.data {
        request.data(|f| write_values(f, data)).unwrap();
    }
    if let Some(rows) = &inputs.rows {
        request
            .historical_data(|hd| {
                rows.iter()
                    .try_for_each(|row| hd.row(|f| write_values(f, row)))
            })
            .unwrap();
    }
    request.sign(key, method).unwrap().to_owned()
}

#[test]
fn shared_auth_vectors_rebuild_byte_for_byte() {
    let vectors = load("metrics_auth.json");
    let vectors = vectors["metrics_auth"].as_array().unwrap();
    assert_eq!(vectors.len(), 10);
    for v in vectors {
        let payload: Value = serde_json::from_str(v["payload"].as_str().unwrap()).unwrap();
        let condensed = v["condensed"].as_bool().unwrap();
        let field = |simple: &str, short: &str| &payload[if condensed { short } else { simple }];
        let rows: Vec<VectorValues<'_>> = field("historical_data", "hd")
            .as_array()
            .unwrap()
            .iter()
            .map(|row| match row {
                Value::Array(list) => VectorValues::Positional(list),
                Value::Object(map) => VectorValues::Named(map),
                _ => panic!(),
            })
            .collect();
        let data = field("data", "d");
        let inputs = Inputs {
            condensed,
            serial: field("serial_number", "sn").as_str().unwrap(),
            format_id: field("data_format_id", "df").as_u64(),
            timestamp: field("timestamp", "ts").as_u64(),
            count: field("request_count", "rc").as_u64(),
            data: Some(match data {
                Value::Array(list) => VectorValues::Positional(list),
                Value::Object(map) => VectorValues::Named(map),
                _ => panic!(),
            }),
            rows: Some(rows),
        };
        let text = build(&inputs, &key(&v["key"]), method(&v["auth_method"]));
        assert_eq!(text, v["payload"].as_str().unwrap());
    }
}

#[test]
fn requests_rebuild_with_every_hash_step() {
    let vectors = load("metrics_requests.json");
    let requests = vectors["requests"].as_array().unwrap();
    assert!(requests.len() >= 30);
    for v in requests {
        let name = v["name"].as_str().unwrap();
        let inputs = &v["inputs"];
        let condensed = v["condensed"].as_bool().unwrap();
        let format = &inputs["data_format"];
        let order = |field: &str| format[field].as_array().map_or(&[][..], Vec::as_slice);
        let values = |map, field| values_of(map, order(field), condensed);
        let built = Inputs {
            condensed,
            serial: inputs["serial_number"].as_str().unwrap(),
            format_id: format["id"].as_u64(),
            timestamp: inputs["timestamp"].as_u64(),
            count: inputs["request_count"].as_u64(),
            data: inputs["data"]
                .as_object()
                .map(|_| values(&inputs["data"], "data_order")),
            rows: inputs["historical_data"].as_array().map(|rows| {
                rows.iter()
                    .map(|row| values(row, "historical_data_order"))
                    .collect()
            }),
        };
        let k = key(&v["key"]);
        let text = build(&built, &k, method(&v["auth_method"]));
        assert_eq!(text, v["payload"].as_str().unwrap(), "{name}");
        for step in v["hash_steps"].as_array().unwrap() {
            let input = step["input"].as_str().unwrap();
            assert_eq!(
                hash_hex(&k, input.as_bytes()).as_str(),
                step["output"].as_str().unwrap(),
                "{name}: {input}"
            );
        }
        let auth = v["auth"].as_str().unwrap();
        let last = v["hash_steps"].as_array().unwrap().last().unwrap();
        assert_eq!(&auth[2..], last["output"].as_str().unwrap(), "{name}");
    }
}

fn values_of<'a>(map: &'a Value, order: &'a [Value], condensed: bool) -> VectorValues<'a> {
    let map = map.as_object().unwrap();
    if condensed {
        VectorValues::Ordered(map, order)
    } else {
        VectorValues::Named(map)
    }
}

fn sent(v: &Value) -> Sent<'_> {
    Sent {
        serial_number: v["serial_number"].as_str().unwrap(),
        timestamp: v["timestamp"].as_u64().unwrap_or(0),
        request_count: v["request_count"].as_u64().unwrap_or(0),
    }
}

fn token_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn answers_verify_and_read_on_the_device() {
    let vectors = load("metrics_responses.json");
    let answers = vectors["answers"].as_array().unwrap();
    assert!(answers.len() >= 40);
    for v in answers {
        let name = v["name"].as_str().unwrap();
        let k = key(&v["key"]);
        let sent = sent(&v["sent"]);
        for mode in ["openpaygo_0_6_3", "paylock"] {
            let payload = v[mode]["payload"].as_str().unwrap();
            let fields = v[mode]["fields"].as_object().unwrap();
            let parsed = Unverified::parse(payload.as_bytes()).unwrap();
            let want_tokens: Vec<String> = fields
                .get("token_list")
                .and_then(Value::as_array)
                .map(|t| t.iter().map(token_text).collect())
                .unwrap_or_default();
            assert_eq!(
                parsed.tokens().collect::<Vec<_>>(),
                want_tokens,
                "{name} {mode}"
            );
            if !v["signed"].as_bool().unwrap() {
                assert_eq!(
                    parsed.verify(&k, &sent).unwrap_err(),
                    AnswerError::Unsigned,
                    "{name}"
                );
                continue;
            }
            for step in v[mode]["hash_steps"].as_array().unwrap() {
                let input = step["input"].as_str().unwrap();
                assert_eq!(
                    hash_hex(&k, input.as_bytes()).as_str(),
                    step["output"].as_str().unwrap()
                );
            }
            let answer = Answer::verify(payload.as_bytes(), &k, &sent)
                .unwrap_or_else(|e| panic!("{name} {mode}: {e}"));
            // A zero is not signed: the device reads none.
            let seconds = |field: &str| {
                fields
                    .get(field)
                    .map(|v| v.as_f64().unwrap() as u64)
                    .filter(|&s| s != 0)
            };
            assert_eq!(
                answer.active_until(),
                seconds("active_until_timestamp"),
                "{name}"
            );
            assert_eq!(
                answer.active_seconds_left(),
                seconds("active_seconds_left"),
                "{name}"
            );
            for (field, members) in [
                ("settings", answer.settings()),
                ("extra_data", answer.extra_data()),
            ] {
                let want = fields.get(field).and_then(Value::as_object);
                assert_eq!(members.is_some(), want.is_some(), "{name} {field}");
                let (Some(members), Some(want)) = (members, want) else {
                    continue;
                };
                let mut count = 0;
                for (key, value) in members {
                    let mut buf = [0u8; 64];
                    let key = key.decode_into(&mut buf).unwrap();
                    let value: Value = serde_json::from_str(value.raw()).unwrap();
                    assert_eq!(Some(&value), want.get(key), "{name} {field} {key}");
                    count += 1;
                }
                assert_eq!(count, want.len());
            }
        }
    }
}

#[test]
fn refused_answers_are_refused() {
    let vectors = load("metrics_responses.json");
    let refused = vectors["refused"].as_array().unwrap();
    assert!(refused.len() >= 8);
    for v in refused {
        let name = v["name"].as_str().unwrap();
        let got = Answer::verify(
            v["payload"].as_str().unwrap().as_bytes(),
            &key(&v["key"]),
            &sent(&v["sent"]),
        )
        .unwrap_err();
        let want = match v["device"]["error"].as_str().unwrap() {
            "signature" => AnswerError::Signature,
            "unsigned" => AnswerError::Unsigned,
            other => panic!("unknown label {other}"),
        };
        assert_eq!(got, want, "{name}");
    }
}
