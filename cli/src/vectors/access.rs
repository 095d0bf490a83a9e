//! The AST v1 vector files (`test-vectors/access/`), replayed through the batch `derive_key`,
//! `generate` and `verify` ops: device keys with the KDF blocks, tokens with every
//! intermediate, single decodes and every step of the scenarios, each with its full state.

use paylock_protocol::access;
use serde_json::{Value, json};

use super::{Group, ask};

/// Whether `doc` is one of the AST v1 vector files.
pub fn is_access(doc: &Value) -> bool {
    doc["format"]
        .as_str()
        .is_some_and(|f| f.starts_with("AST v1"))
}

pub fn groups(doc: &Value) -> Vec<Group> {
    let mut groups = Vec::new();
    if let Some(vectors) = doc["vectors"].as_array() {
        groups.push(derived_keys(vectors));
        groups.push(tokens(vectors));
    }
    if let Some(cases) = doc["cases"].as_array() {
        groups.push(decodes(cases));
    }
    if let Some(scenarios) = doc["scenarios"].as_array() {
        groups.push(sequences(scenarios));
    }
    groups
}

fn id_of(c: &Value, name: &str) -> String {
    c[name].as_str().unwrap_or("?").to_owned()
}

/// The device key (and KDF blocks) the batch `derive_key` op gives.
fn derive(
    suite: &Value,
    batch_key: &Value,
    device_id: &Value,
    key_rev: &Value,
) -> Result<Value, String> {
    ask(
        &json!({
            "scheme": "access", "op": "derive_key", "suite": suite, "batch_key_hex": batch_key,
            "device_id": device_id, "key_rev": key_rev, "trace": true,
        }),
        access::derive_key,
    )
}

fn derived_keys(vectors: &[Value]) -> Group {
    let mut g = Group::new("derive_key (KDF blocks and device key via derive_key)");
    for v in vectors.iter().filter(|v| v.get("batch_key_hex").is_some()) {
        g.check(
            || id_of(v, "id"),
            (|| {
                let a = derive(
                    &v["suite"],
                    &v["batch_key_hex"],
                    &v["device_id"],
                    &v["key_rev"],
                )?;
                same("device_key_hex", &a["device_key_hex"], &v["device_key_hex"])?;
                for name in ["kdf_inputs_hex", "kdf_outputs_hex"] {
                    same(name, &a["trace"][name], &v[name])?;
                }
                Ok(())
            })(),
        );
    }
    g
}

/// The generate request of a vector, every value field as the vector gives it (the op checks
/// the ones the type fixes).
fn generate_request(v: &Value) -> Value {
    let mut r = json!({
        "scheme": "access", "op": "generate", "suite": v["suite"], "profile": v["profile"],
        "type": v["type_name"], "value": v["value"], "trace": true,
    });
    if v["type_name"] == "TEST" {
        r["test_id"] = v["value"].clone();
        return r;
    }
    let fields = [
        "device_key_hex",
        "device_id",
        "key_rev",
        "counter",
        "param_id",
        "param_value",
    ];
    for name in fields {
        if let Some(value) = v.get(name) {
            r[name] = value.clone();
        }
    }
    r
}

fn tokens(vectors: &[Value]) -> Group {
    let mut g = Group::new("generate (text, digits and every intermediate via generate)");
    for v in vectors {
        g.check(
            || id_of(v, "id"),
            (|| {
                let a = ask(&generate_request(v), access::generate)?;
                same("text", &a["text"], &v["text"])?;
                same("digits", &a["digits"], &v["digits"])?;
                let trace = a["trace"].as_object().ok_or("no trace in the answer")?;
                for (name, got) in trace {
                    if let Some(want) = v.get(name) {
                        same(name, got, want)?;
                    }
                }
                Ok(())
            })(),
        );
    }
    g
}

/// One entry through the batch `verify` op.
fn verify(config: &Value, state: &Value, input: &Value, now: &Value) -> Result<Value, String> {
    ask(
        &json!({
            "scheme": "access", "op": "verify", "config": config, "state": state, "input": input,
            "now": now,
        }),
        access::verify,
    )
}

/// A verify answer against a case or step: the whole result and the whole state after.
fn check_outcome(answer: &Value, want: &Value) -> Result<(), String> {
    same("result", &answer["result"], &want["result"])?;
    same("state", &answer["state"], &want["state_after"])
}

/// `got` equals `want`, field for field; the first difference is named by its path.
fn same(path: &str, got: &Value, want: &Value) -> Result<(), String> {
    match (got.as_object(), want.as_object()) {
        (Some(g), Some(w)) => {
            for name in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
                let (a, b) = (g.get(name), w.get(name));
                let inner = format!("{path}.{name}");
                match (a, b) {
                    (Some(a), Some(b)) => same(&inner, a, b)?,
                    (None, _) => return Err(format!("{inner}: missing, expected {}", show(b))),
                    (_, None) => return Err(format!("{inner}: {} not expected", show(a))),
                }
            }
            Ok(())
        }
        _ if got == want => Ok(()),
        _ => Err(format!("{path}: got {got}, expected {want}")),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(String::new, Value::to_string)
}

fn decodes(cases: &[Value]) -> Group {
    let mut g = Group::new("decode (result and state via verify)");
    for c in cases {
        g.check(
            || id_of(c, "id"),
            (|| {
                let a = verify(&c["config"], &c["state_before"], &c["input"], &c["now"])?;
                check_outcome(&a, c)
            })(),
        );
    }
    g
}

fn sequences(scenarios: &[Value]) -> Group {
    let mut g = Group::new("sequences (device key, then every step via verify)");
    for s in scenarios {
        let name = id_of(s, "name");
        let config = &s["config"];
        g.check(
            || format!("{name} device key"),
            (|| {
                let a = derive(
                    &config["suite"],
                    &s["batch_key_hex"],
                    &config["device_id"],
                    &config["key_rev"],
                )?;
                same("device key", &a["device_key_hex"], &config["device_key"])
            })(),
        );
        let mut state = s["initial_state"].clone();
        for step in s["steps"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let result = verify(config, &state, &step["input"], &step["now"]);
            // The next step starts from what the device did, or from the vector's state when
            // the request was refused.
            state = match &result {
                Ok(a) => a["state"].clone(),
                Err(_) => step["state_after"].clone(),
            };
            g.check(
                || format!("{name} step {}", step["step"]),
                result.and_then(|a| check_outcome(&a, step)),
            );
        }
    }
    g
}
