//! `POST /dd`: OpenPAYGO Metrics reports built by the `openpaygo` 0.6.3 reference
//! (`MetricsRequestHandler`) and by paylock's device-side signer, sent over real HTTP to the
//! service on SQLite and on PostgreSQL; answers checked by the reference
//! (`MetricsResponseHandler` builds and signs the same answer from the ledger's tokens) and by
//! paylock's device-side verifier; replays, tampering and concurrent copies refused with nothing
//! stored.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};

use paylock::Key;
use paylock::metrics::{AuthMethod, Layout, Request, Sent};
use serde_json::{Value, json};
use support::{Client, Db, Reply, Server, new_key, scratch};

const KEY: &str = "dac86b1a29ab82edc5fbbc41ec9530f6";
const SERIAL: &str = "MX-1";

fn python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var("PAYLOCK_REQUIRE_REFERENCE").is_err(),
        "the reference venv is missing"
    );
    eprintln!("note: .venv absent, openpaygo 0.6.3 checks skipped");
    None
}

/// Runs tests/metrics_reference.py `mode` with `spec` on stdin: (success, stdout).
fn reference(python: &Path, mode: &str, spec: &Value) -> (bool, String) {
    let mut child = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/metrics_reference.py"
        ))
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
            + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A report the reference builds (device side).
fn reference_report(python: &Path, spec: &Value) -> String {
    let (ok, text) = reference(python, "request", spec);
    assert!(ok, "{text}");
    text
}

/// A report paylock's device-side signer builds: simple layout, `token_count` and the
/// active-until request.
fn core_report(serial: &str, count: u64, token_count: i64, method: AuthMethod) -> String {
    let key = Key::from_hex(KEY).unwrap();
    let mut buf = [0u8; 512];
    let mut request = Request::new(&mut buf, Layout::Simple, serial).unwrap();
    request.request_count(count).unwrap();
    request
        .data(|d| {
            d.int("token_count", token_count)?;
            d.bool("active_until_timestamp_requested", true)
        })
        .unwrap();
    request.sign(&key, method).unwrap().to_owned()
}

/// POST /dd, without any API key.
fn post_dd(base: &str, body: &str) -> Reply {
    let r = reqwest::blocking::Client::new()
        .post(format!("{base}/dd"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    Reply {
        status: r.status().as_u16(),
        replayed: false,
        retry_after: false,
        body: r.bytes().unwrap().to_vec(),
    }
}

/// The answer checked by paylock's device-side verifier: its tokens.
fn device_reads(answer: &str, serial: &str, count: u64) -> Vec<String> {
    let key = Key::from_hex(KEY).unwrap();
    let sent = Sent {
        serial_number: serial,
        timestamp: 0,
        request_count: count,
    };
    let verified = paylock::metrics::Answer::verify(answer.as_bytes(), &key, &sent)
        .unwrap_or_else(|e| panic!("the device refuses the answer {answer}: {e:?}"));
    verified
        .tokens()
        .map(|t| t.trim_matches('"').to_owned())
        .collect()
}

struct Setup {
    db: Db,
    server: Server,
    client: Client,
    url: String,
}

fn setup(db: Db, name: &str) -> Setup {
    let dir = scratch(name);
    let url = db.url();
    let server = Server::start(&url, &dir, &[]);
    let (key, _) = new_key(&url, "default", "issue,provision,read,audit");
    let client = Client::new(&server.base, &key);
    let r = client.call(
        "POST",
        "/v1/devices",
        Some(
            json!({"serial_number": SERIAL, "token_scheme": "openpaygo", "key": KEY,
            "starting_code": 123_456_789, "counter": 0}),
        ),
    );
    assert!(r.status == 200 || r.status == 201, "{r:?}");
    Setup {
        db,
        server,
        client,
        url,
    }
}

fn issue(client: &Client, n: usize) {
    let body = json!({"command": "add_credit", "amount": 3, "unit": "days", "payment_ref": format!("pay-{n}")});
    let r = client.issue_v1(SERIAL, &format!("key-{n}"), &body).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// The ledger's tokens (spaces removed) with their sequences, oldest first.
fn ledger(client: &Client) -> Vec<(i64, String)> {
    let r = client.call("GET", &format!("/v1/devices/{SERIAL}/tokens"), None);
    r.json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["sequence"].as_i64().unwrap(),
                t["token"].as_str().unwrap().replace(' ', ""),
            )
        })
        .collect()
}

fn active_until(client: &Client) -> i64 {
    let r = client.call("GET", &format!("/v1/devices/{SERIAL}"), None);
    let text = r.json()["active_until"].as_str().unwrap().to_owned();
    chrono::DateTime::parse_from_rfc3339(&text)
        .unwrap()
        .timestamp()
}

/// Rows of a one-column query, as text, run on the database directly.
fn query(db: &Db, sql: &str) -> Vec<String> {
    match db {
        Db::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            let mut stmt = c.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }
        Db::Postgres(pg, url) => pg.psql(url, sql).lines().map(str::to_owned).collect(),
    }
}

/// A statement the database must refuse: its message.
fn refused_sql(db: &Db, sql: &str) -> String {
    match db {
        Db::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap_err()
            .to_string(),
        Db::Postgres(_, url) => {
            let out = Command::new(support::pg_bin("psql"))
                .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
                .output()
                .unwrap();
            assert!(!out.status.success(), "{sql} was accepted");
            String::from_utf8_lossy(&out.stderr).into_owned()
        }
    }
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

fn stored_reports(client: &Client) -> Vec<Value> {
    let r = client.call("GET", &format!("/v1/devices/{SERIAL}/reports"), None);
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["reports"].as_array().unwrap().clone()
}

fn error_code(r: &Reply) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_owned()
}

fn reports_are_verified_stored_and_answered(db: Db) {
    let name = db.name();
    let s = setup(db, &format!("dd-{name}"));
    let base = s.server.base.clone();
    issue(&s.client, 1);
    issue(&s.client, 2);
    let tokens = ledger(&s.client);
    assert_eq!(tokens.len(), 2);
    let until = active_until(&s.client);
    let py = python();

    // 1. A report the reference signs (da, simple) with token_count 0: every token is pending.
    let spec = json!({"key": KEY, "serial": SERIAL, "request_count": 1, "auth": "da",
        "data": {"token_count": 0, "active_until_timestamp_requested": true, "firmware": "1.2.3"}});
    let report = match &py {
        Some(py) => reference_report(py, &spec),
        None => core_report(SERIAL, 1, 0, AuthMethod::Data),
    };
    let r = post_dd(&base, &report);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer = String::from_utf8(r.body.clone()).unwrap();
    let all: Vec<String> = tokens.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(device_reads(&answer, SERIAL, 1), all);
    assert_eq!(r.json()["auts"], json!(until));
    if let Some(py) = &py {
        let (ok, out) = reference(
            py,
            "answer",
            &json!({"key": KEY, "report": report, "answer": answer, "tokens": all, "active_until": until}),
        );
        assert!(ok, "{out}");
    }

    // 2. The same report again: a replay, refused, nothing stored.
    let again = post_dd(&base, &report);
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(error_code(&again), "REPLAYED_REPORT");
    assert_eq!(stored_reports(&s.client).len(), 1);

    // 3. ra from the reference, with historical rows, reporting the first token entered: only
    //    the second is pending.
    let spec = json!({"key": KEY, "serial": SERIAL, "request_count": 2, "auth": "ra",
        "data_format": {"historical_data_interval": 60},
        "data": {"token_count": tokens[0].0},
        "historical_data": [{"relative_time": 0, "v": 12.5}, {"relative_time": 60, "v": 12.25}]});
    let report = match &py {
        Some(py) => reference_report(py, &spec),
        None => core_report(SERIAL, 2, tokens[0].0, AuthMethod::RecursiveData),
    };
    let r = post_dd(&base, &report);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(device_reads(&answer, SERIAL, 2), vec![tokens[1].1.clone()]);
    if let Some(py) = &py {
        let (ok, out) = reference(
            py,
            "answer",
            &json!({"key": KEY, "report": report, "answer": answer, "tokens": [tokens[1].1], "active_until": until}),
        );
        assert!(ok, "{out}");
    }

    // 4. paylock's own signer, count 3, every token entered: an empty list, the time.
    let report = core_report(SERIAL, 3, tokens[1].0, AuthMethod::Data);
    let r = post_dd(&base, &report);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(device_reads(&String::from_utf8(r.body).unwrap(), SERIAL, 3).is_empty());

    // 5. Refusals: each a clear 4xx, nothing stored, no count consumed.
    let tampered = core_report(SERIAL, 4, 0, AuthMethod::Data)
        .replace("\"token_count\":0", "\"token_count\":1");
    let cases: Vec<(String, u16, &str)> = vec![
        (tampered, 403, "INVALID_AUTHENTICATION"),
        (
            core_report(SERIAL, 4, 0, AuthMethod::Counter),
            403,
            "INVALID_AUTHENTICATION",
        ),
        (
            core_report(SERIAL, 3, 0, AuthMethod::Data),
            409,
            "REPLAYED_REPORT",
        ),
        (
            core_report(SERIAL, 2, 0, AuthMethod::Data),
            409,
            "REPLAYED_REPORT",
        ),
        (
            core_report("NO-SUCH", 4, 0, AuthMethod::Data),
            404,
            "DEVICE_DOES_NOT_EXIST",
        ),
        (
            "{\"sn\":\"MX-1\",\"rc\":".to_owned(),
            400,
            "MALFORMED_REPORT",
        ),
        ("[1,2]".to_owned(), 400, "MALFORMED_REPORT"),
        (
            "{\"rc\":4,\"a\":\"da00\"}".to_owned(),
            400,
            "MALFORMED_REPORT",
        ),
        (
            "{\"sn\":\"MX-1\",\"rc\":4,\"d\":[1,2],\"a\":\"da00\"}".to_owned(),
            403,
            "INVALID_AUTHENTICATION",
        ),
    ];
    for (body, status, code) in &cases {
        let r = post_dd(&base, body);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (*status, *code),
            "{body}: {r:?}"
        );
        assert!(
            r.json()["message"]
                .as_str()
                .is_some_and(|m| !m.contains(KEY))
        );
    }
    // Condensed data with no data format for the device: refused after the signature holds.
    let key = Key::from_hex(KEY).unwrap();
    let mut buf = [0u8; 256];
    let mut condensed = Request::new(&mut buf, Layout::Condensed, SERIAL).unwrap();
    condensed.request_count(4).unwrap();
    condensed.data(|d| d.int("token_count", 0)).unwrap();
    let condensed = condensed.sign(&key, AuthMethod::Data).unwrap().to_owned();
    let r = post_dd(&base, &condensed);
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (400, "INVALID_DATA_FORMAT"),
        "{r:?}"
    );
    assert_eq!(stored_reports(&s.client).len(), 3);
    // Count 4 was never consumed.
    let r = post_dd(&base, &core_report(SERIAL, 4, 0, AuthMethod::Data));
    assert_eq!(r.status, 200, "{r:?}");

    // What was stored: raw text, the expanded data, the count, the answer.
    let stored = stored_reports(&s.client);
    assert_eq!(stored.len(), 4);
    assert_eq!(
        stored
            .iter()
            .map(|r| r["request_count"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(stored[1]["auth_method"], json!("ra"));
    if py.is_some() {
        // Only the reference's reports carry these (paylock's signer here sends the minimum).
        assert_eq!(stored[0]["metrics"]["data"]["firmware"], json!("1.2.3"));
        assert_eq!(
            stored[1]["metrics"]["historical_data"][1]["v"],
            json!(12.25)
        );
    }
    assert_eq!(stored[0]["tokens"], json!(2));
    assert_eq!(stored[1]["tokens"], json!(1));

    // The audit chain holds one event per accepted report, without tokens, and verifies.
    let events = query(
        &s.db,
        "SELECT body FROM audit_events WHERE kind = 'metrics.report' ORDER BY seq",
    );
    assert_eq!(events.len(), 4, "{events:?}");
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(first["request_count"], json!(1));
    assert_eq!(first["token_sequences"], json!([tokens[0].0, tokens[1].0]));
    for (_, t) in &tokens {
        assert!(events.iter().all(|e| !e.contains(t.as_str())));
    }
    let r = s.client.call("GET", "/v1/audit/verify", None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["problems"], json!([]));
    // Append-only: the database itself refuses to change or remove a stored report.
    for sql in [
        "UPDATE device_reports SET answer = '{}'",
        "DELETE FROM device_reports",
    ] {
        let e = refused_sql(&s.db, sql);
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(stored_reports(&s.client).len(), 4);

    // Prometheus counters.
    let text = String::from_utf8(s.client.call("GET", "/metrics", None).body).unwrap();
    assert!(
        text.contains("paylock_device_reports_total{outcome=\"accepted\",reason=\"\"} 4"),
        "{text}"
    );
    assert!(
        text.contains(
            "paylock_device_reports_total{outcome=\"refused\",reason=\"REPLAYED_REPORT\"} 3"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "paylock_device_reports_total{outcome=\"refused\",reason=\"INVALID_AUTHENTICATION\"} 3"
        ),
        "{text}"
    );

    // The document describes both endpoints.
    let doc = s.client.call("GET", "/openapi.json", None).json();
    assert!(doc["paths"]["/dd"]["post"].is_object());
    assert!(doc["paths"]["/v1/devices/{serial}/reports"]["get"].is_object());

    // No key and no token in the logs (trace level).
    let logs = s.server.logs();
    assert!(!logs.contains(KEY));
    for (_, t) in &tokens {
        assert!(!logs.contains(t.as_str()), "a token is in the logs");
    }
    assert!(logs.contains("device report accepted"));
}

/// Copies of one report sent at once: exactly one is accepted, on either database.
fn concurrent_copies_are_accepted_once(db: Db) {
    let name = db.name();
    let s = setup(db, &format!("dd-race-{name}"));
    issue(&s.client, 1);
    const COPIES: usize = 8;
    const ROUNDS: u64 = 6;
    for round in 1..=ROUNDS {
        let report = core_report(SERIAL, round, 0, AuthMethod::Data);
        let barrier = Arc::new(Barrier::new(COPIES));
        let handles: Vec<_> = (0..COPIES)
            .map(|_| {
                let (b, base, report) = (barrier.clone(), s.server.base.clone(), report.clone());
                std::thread::spawn(move || {
                    b.wait();
                    post_dd(&base, &report).status
                })
            })
            .collect();
        let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        statuses.sort_unstable();
        let mut expected = vec![409; COPIES - 1];
        expected.insert(0, 200);
        assert_eq!(statuses, expected, "round {round}");
    }
    let stored = stored_reports(&s.client);
    assert_eq!(stored.len(), usize::try_from(ROUNDS).unwrap());
}

/// A data format and an auth method provisioned with the device (JSON and CSV): condensed
/// reports the reference builds are expanded with it; another method is refused.
fn provisioned_profiles(db: Db) {
    let name = db.name();
    let s = setup(db, &format!("dd-profile-{name}"));
    let base = s.server.base.clone();
    let format = json!({"id": 7, "data_order": ["token_count", "active_until_timestamp_requested", "firmware"],
        "historical_data_order": ["panel_voltage", "battery_voltage"], "historical_data_interval": 3600});
    let r = s.client.call(
        "POST",
        "/v1/devices",
        Some(
            json!({"serial_number": "MX-2", "key": KEY, "starting_code": 123_456_789,
            "metrics_data_format": format, "metrics_auth_method": "ra"}),
        ),
    );
    assert!(r.status == 200 || r.status == 201, "{r:?}");
    let csv = format!(
        "Serial Number,Token Scheme,Key,Counter,Starting Code,Metrics Data Format\nMX-3,openpaygo,{KEY},0,123456789,\"{}\"\n",
        format.to_string().replace('"', "\"\"")
    );
    let r = s
        .client
        .send(
            "POST",
            "/v1/imports",
            Some(csv.into_bytes()),
            &[("content-type", "text/csv")],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    for (field, bad) in [
        ("metrics_data_format", json!({"metrics_data_format": [1]})),
        (
            "metrics_data_format",
            json!({"metrics_data_format": {"data_order": 5}}),
        ),
        ("metrics_auth_method", json!({"metrics_auth_method": "xx"})),
    ] {
        let mut body = json!({"serial_number": "MX-9", "key": KEY, "starting_code": 1});
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let r = s.client.call("POST", "/v1/devices", Some(body));
        assert_eq!(r.status, 400, "{r:?}");
        assert!(String::from_utf8_lossy(&r.body).contains(field), "{r:?}");
    }

    let Some(py) = python() else { return };
    for (serial, method, count) in [("MX-2", "ra", 1), ("MX-3", "da", 1), ("MX-3", "ra", 2)] {
        let spec = json!({"key": KEY, "serial": serial, "request_count": count, "auth": method,
            "condensed": true, "data_format": format,
            "data": {"token_count": 0, "active_until_timestamp_requested": true, "firmware": "2.0"},
            "historical_data": [{"panel_voltage": 12.5, "battery_voltage": 12.75}, {"panel_voltage": 12.0, "battery_voltage": 12.25}]});
        let report = reference_report(&py, &spec);
        assert!(report.contains("\"d\":[0,true,\"2.0\"]"), "{report}");
        let r = post_dd(&base, &report);
        assert_eq!(
            r.status,
            200,
            "{serial} {method}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let answer = String::from_utf8(r.body.clone()).unwrap();
        let (ok, out) = reference(
            &py,
            "answer",
            &json!({"key": KEY, "report": report, "answer": answer, "data_format": format, "tokens": [], "active_until": 0}),
        );
        assert!(ok, "{out}");
    }
    // MX-2 signs with ra only: a da report, authentic as it is, is refused.
    let spec = json!({"key": KEY, "serial": "MX-2", "request_count": 2, "auth": "da",
        "condensed": true, "data_format": format, "data": {"token_count": 0}});
    let r = post_dd(&base, &reference_report(&py, &spec));
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (403, "INVALID_AUTHENTICATION"),
        "{r:?}"
    );
    let r = s.client.call("GET", "/v1/devices/MX-3/reports", None);
    let stored = r.json()["reports"].as_array().unwrap().clone();
    assert_eq!(stored.len(), 2);
    let metrics = &stored[0]["metrics"];
    assert_eq!(metrics["data"]["firmware"], json!("2.0"));
    assert_eq!(
        metrics["historical_data"][1]["battery_voltage"],
        json!(12.25)
    );
    assert_eq!(
        metrics["historical_data"][1]["timestamp"].as_i64().unwrap()
            - metrics["historical_data"][0]["timestamp"].as_i64().unwrap(),
        3600
    );
}

#[test]
fn profiles_sqlite() {
    provisioned_profiles(Db::sqlite());
}

#[test]
fn profiles_postgres() {
    provisioned_profiles(Db::postgres());
}

/// The Metrics profile on a re-import (CSV and `POST /v1/devices`): a changed data format or auth
/// method is a conflict like a changed key (nothing stored, no device event), an identical one a
/// skip, a left-out one no change; a profile given for a device provisioned without one is a
/// conflict. `GET /v1/devices/{serial}` shows the profile.
fn profile_reimports(db: Db) {
    let name = db.name();
    let s = setup(db, &format!("dd-reimport-{name}"));
    let format = r#"{"id": 7, "data_order": ["token_count", "firmware"], "historical_data_order": ["panel_voltage"], "historical_data_interval": 3600}"#;
    let reordered = r#"{"historical_data_interval":3600,"historical_data_order":["panel_voltage"],"data_order":["token_count","firmware"],"id":7}"#;
    let other_format = r#"{"id": 7, "data_order": ["token_count", "firmware"], "historical_data_order": ["panel_voltage"], "historical_data_interval": 600}"#;
    let body = |serial: &str, format: Option<&str>, method: Option<&str>| {
        let mut b = json!({"serial_number": serial, "token_scheme": "openpaygo", "key": KEY,
            "starting_code": 123_456_789, "counter": 0});
        if let Some(f) = format {
            b["metrics_data_format"] = serde_json::from_str(f).unwrap();
        }
        if let Some(m) = method {
            b["metrics_auth_method"] = json!(m);
        }
        b
    };
    let row = |serial: &str, format: Option<&str>, method: Option<&str>| {
        format!(
            "{serial},openpaygo,{KEY},0,123456789,\"{}\",{}\n",
            format.unwrap_or_default().replace('"', "\"\""),
            method.unwrap_or_default()
        )
    };
    let header = "Serial Number,Token Scheme,Key,Counter,Starting Code,Metrics Data Format,Metrics Auth Method\n";
    let import = |csv: String| -> Value {
        let r = s
            .client
            .send(
                "POST",
                "/v1/imports",
                Some(csv.into_bytes()),
                &[("content-type", "text/csv")],
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    };
    let shown = |serial: &str| -> (Value, Value) {
        let r = s.client.call("GET", &format!("/v1/devices/{serial}"), None);
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        assert!(v.get("key").is_none() && !String::from_utf8_lossy(&r.body).contains(KEY));
        (
            v["metrics_data_format"].clone(),
            v["metrics_auth_method"].clone(),
        )
    };
    // What the database holds for a device: its stored profile and its audit stream's events.
    let stored = |serial: &str| -> (Vec<String>, Vec<String>) {
        (
            query(
                &s.db,
                &format!(
                    "SELECT COALESCE(metrics_profile, '-') FROM devices WHERE serial = '{serial}'"
                ),
            ),
            query(
                &s.db,
                &format!(
                    "SELECT kind FROM audit_events WHERE stream = \
                     (SELECT 'device:' || id FROM devices WHERE serial = '{serial}') ORDER BY seq"
                ),
            ),
        )
    };

    // The tenant's import events: a file import is recorded whatever it did, one API device
    // that changed nothing is not.
    let imports = || {
        query(
            &s.db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_events WHERE kind = 'devices.imported'",
        )
    };

    // MP-1 through the API, MP-2 through a CSV, both with a data format and `ra`.
    let r = s.client.call(
        "POST",
        "/v1/devices",
        Some(body("MP-1", Some(format), Some("ra"))),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["metrics_auth_method"], json!("ra"));
    let report = import(format!("{header}{}", row("MP-2", Some(format), Some("ra"))));
    assert_eq!(report["imported"], json!(["MP-2"]), "{report}");
    let expected: Value = serde_json::from_str(format).unwrap();
    for serial in ["MP-1", "MP-2"] {
        assert_eq!(shown(serial), (expected.clone(), json!("ra")), "{serial}");
    }
    // A device provisioned without a profile shows nulls.
    assert_eq!(shown(SERIAL), (Value::Null, Value::Null));
    let before: Vec<_> = ["MP-1", "MP-2", SERIAL].map(stored).into();
    for (_, events) in &before {
        assert_eq!(events, &["device.provisioned"]);
    }

    // (format, method, what differs; None: a skip)
    let cases: [(Option<&str>, Option<&str>, Option<&str>); 7] = [
        (Some(other_format), Some("ra"), Some("metrics data format")),
        (Some(format), Some("da"), Some("metrics auth method")),
        (
            Some(other_format),
            Some("sa"),
            Some("metrics data format, metrics auth method"),
        ),
        (Some(format), Some("ra"), None),
        (Some(reordered), Some("ra"), None),
        (None, None, None),
        (None, Some("ra"), None),
    ];
    for (i, (format, method, differs)) in cases.into_iter().enumerate() {
        let what = format!("case {i}: {format:?} {method:?}");
        let recorded = imports();
        for serial in ["MP-1", "MP-2"] {
            let r = s
                .client
                .call("POST", "/v1/devices", Some(body(serial, format, method)));
            match differs {
                None => {
                    assert_eq!(r.status, 200, "{what} {serial}: {r:?}");
                    assert_eq!(r.json()["metrics_data_format"], expected, "{what}");
                }
                Some(d) => {
                    assert_eq!(
                        (r.status, error_code(&r).as_str()),
                        (400, "DEVICE_CONFLICT"),
                        "{what} {serial}: {r:?}"
                    );
                    let message = r.json()["message"].as_str().unwrap().to_owned();
                    assert!(
                        message.contains(serial) && message.ends_with(&format!("different {d}")),
                        "{what}: {message}"
                    );
                }
            }
        }
        assert_eq!(
            imports(),
            recorded,
            "{what}: an API repeat or conflict is recorded"
        );
        // In a file, beside a new device that is imported all the same.
        let fresh = format!("MP-N{i}");
        let report = import(format!(
            "{header}{}{}{}",
            row("MP-1", format, method),
            row("MP-2", format, method),
            row(&fresh, format, method)
        ));
        assert_eq!(report["imported"], json!([fresh]), "{what}: {report}");
        let count = |v: Vec<String>| v[0].parse::<u64>().unwrap();
        assert_eq!(
            count(imports()),
            count(recorded) + 1,
            "{what}: the file import"
        );
        match differs {
            None => {
                assert_eq!(
                    report["skipped"],
                    json!(["MP-1", "MP-2"]),
                    "{what}: {report}"
                );
                assert_eq!(report["conflicts"], json!([]), "{what}: {report}");
            }
            Some(d) => {
                assert_eq!(report["skipped"], json!([]), "{what}: {report}");
                assert_eq!(
                    report["conflicts"],
                    json!([{"serial_number": "MP-1", "differs": d}, {"serial_number": "MP-2", "differs": d}]),
                    "{what}: {report}"
                );
            }
        }
        for serial in ["MP-1", "MP-2"] {
            assert_eq!(
                shown(serial),
                (expected.clone(), json!("ra")),
                "{what} {serial}"
            );
        }
        assert_eq!(
            ["MP-1", "MP-2", SERIAL].map(stored).to_vec(),
            before,
            "{what}: nothing stored"
        );
    }
    // Without the Metrics columns at all (OpenPAYGO's own CSV): no change, a skip.
    let report = import(format!(
        "Serial Number,Starting Code,Key,Count\nMP-1,123456789,{KEY},0\nMP-2,123456789,{KEY},0\n"
    ));
    assert_eq!(report["skipped"], json!(["MP-1", "MP-2"]), "{report}");

    // A profile given for a device provisioned without one is a conflict, not an addition.
    for (format, method, d) in [
        (Some(format), None, "metrics data format"),
        (None, Some("da"), "metrics auth method"),
    ] {
        let r = s
            .client
            .call("POST", "/v1/devices", Some(body(SERIAL, format, method)));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "DEVICE_CONFLICT"),
            "{r:?}"
        );
        assert!(r.json()["message"].as_str().unwrap().ends_with(d), "{r:?}");
        let report = import(format!("{header}{}", row(SERIAL, format, method)));
        assert_eq!(
            report["conflicts"],
            json!([{"serial_number": SERIAL, "differs": d}]),
            "{report}"
        );
    }
    let r = s
        .client
        .call("POST", "/v1/devices", Some(body(SERIAL, None, None)));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(shown(SERIAL), (Value::Null, Value::Null));
    assert_eq!(
        ["MP-1", "MP-2", SERIAL].map(stored).to_vec(),
        before,
        "nothing stored"
    );
}

#[test]
fn profile_reimports_sqlite() {
    profile_reimports(Db::sqlite());
}

#[test]
fn profile_reimports_postgres() {
    profile_reimports(Db::postgres());
}

/// PENDING (offline) PaygOps updates are sent once committed, not before; `asl` is the
/// recorded expiry minus now; a serial two tenants share is refused, nothing stored.
fn pending_time_and_shared_serials(db: Db) {
    let name = db.name();
    let s = setup(db, &format!("dd-pending-{name}"));
    let base = s.server.base.clone();
    issue(&s.client, 1);
    let online = ledger(&s.client);
    assert_eq!(online.len(), 1);
    let pend = json!({"credit_value": 2.0, "credit_unit": "DAYS", "credit_update_type": "ADD_CREDIT",
        "status": "PENDING", "device_serial_number": SERIAL});
    let p = s
        .client
        .call("POST", "/paygops/credit_updates/off-1", Some(pend));
    assert_eq!(p.json()["status"], "PENDING", "{p:?}");
    let offline = p.json()["token"].as_str().unwrap().replace(' ', "");
    assert!(!offline.is_empty());

    // Before the commit: only the committed token.
    let r = post_dd(&base, &core_report(SERIAL, 1, 0, AuthMethod::Data));
    assert_eq!(r.status, 200, "{r:?}");
    let answer = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(device_reads(&answer, SERIAL, 1), vec![online[0].1.clone()]);
    let put = s.client.call(
        "PUT",
        "/paygops/credit_updates/off-1",
        Some(json!({"status": "COMMITTED", "commit_time": "2030-01-01T10:00:00"})),
    );
    assert_eq!(put.status, 200, "{put:?}");
    // After it: the offline token too, in ledger order; and none once both are entered.
    let r = post_dd(&base, &core_report(SERIAL, 2, 0, AuthMethod::Data));
    assert_eq!(r.status, 200, "{r:?}");
    let answer = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(
        device_reads(&answer, SERIAL, 2),
        vec![online[0].1.clone(), offline.clone()]
    );
    let entered = ledger(&s.client).last().unwrap().0;
    let r = post_dd(&base, &core_report(SERIAL, 3, entered, AuthMethod::Data));
    assert!(device_reads(&String::from_utf8(r.body).unwrap(), SERIAL, 3).is_empty());

    // Seconds left: the recorded expiry minus the time of the answer.
    let until = active_until(&s.client);
    let key = Key::from_hex(KEY).unwrap();
    let mut buf = [0u8; 256];
    let mut request = Request::new(&mut buf, Layout::Simple, SERIAL).unwrap();
    request.request_count(4).unwrap();
    request
        .data(|d| d.bool("active_seconds_left_requested", true))
        .unwrap();
    let report = request.sign(&key, AuthMethod::Data).unwrap().to_owned();
    let before = unix_now();
    let r = post_dd(&base, &report);
    let after = unix_now();
    assert_eq!(r.status, 200, "{r:?}");
    let asl = r.json()["asl"].as_i64().unwrap();
    assert!(
        (until - after - 1..=until - before + 1).contains(&asl),
        "asl {asl}, expiry {until}, now {before}..{after}"
    );
    assert!(r.json().get("auts").is_none(), "{r:?}");
    assert!(device_reads(&String::from_utf8(r.body).unwrap(), SERIAL, 4).is_empty());

    // A Nexus device: its tokens' sequence is the message ID; those above the reported
    // token_count are pending, sent as digits (a Metrics token is 1 to 48 digits).
    let nexus =
        json!({"serial_number": "NX-1", "token_scheme": "nexus_full", "key": KEY, "counter": 42});
    let r = s.client.call("POST", "/v1/devices", Some(nexus));
    assert!(r.status == 200 || r.status == 201, "{r:?}");
    for n in 0..2 {
        let body = json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": format!("nx-{n}")});
        let r = s
            .client
            .issue_v1("NX-1", &format!("nx-{n}"), &body)
            .unwrap();
        assert_eq!(r.status, 200, "{r:?}");
    }
    let r = s.client.call("GET", "/v1/devices/NX-1/tokens", None);
    let nexus: Vec<(i64, String)> = r.json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let keycode = t["token"].as_str().unwrap();
            assert!(
                keycode.starts_with('*') && keycode.ends_with('#'),
                "{keycode}"
            );
            let digits = keycode.replace([' ', '*', '#'], "");
            (t["sequence"].as_i64().unwrap(), digits)
        })
        .collect();
    assert_eq!(nexus.len(), 2);
    assert!(nexus[0].0 < nexus[1].0, "{nexus:?}");
    let r = post_dd(&base, &core_report("NX-1", 1, 0, AuthMethod::Data));
    let answer = String::from_utf8(r.body).unwrap();
    let all: Vec<String> = nexus.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(device_reads(&answer, "NX-1", 1), all);
    let r = post_dd(&base, &core_report("NX-1", 2, nexus[0].0, AuthMethod::Data));
    let answer = String::from_utf8(r.body).unwrap();
    assert_eq!(device_reads(&answer, "NX-1", 2), vec![nexus[1].1.clone()]);

    // An AST device: the sequence is the token's counter.
    let ast = json!({"serial_number": "AS-1", "token_scheme": "ast1", "key": KEY, "suite": "cmac",
        "profile": "L", "unit": "hours", "device_id": 77});
    let r = s.client.call("POST", "/v1/devices", Some(ast));
    assert!(r.status == 200 || r.status == 201, "{r:?}");
    for n in 0..2 {
        let body = json!({"command": "add_credit", "amount": 5, "unit": "hours", "payment_ref": format!("as-{n}")});
        let r = s
            .client
            .issue_v1("AS-1", &format!("as-{n}"), &body)
            .unwrap();
        assert_eq!(r.status, 200, "{r:?}");
    }
    let r = s.client.call("GET", "/v1/devices/AS-1/tokens", None);
    let ast: Vec<(i64, String)> = r.json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let text = t["token"].as_str().unwrap().replace(' ', "");
            (t["sequence"].as_i64().unwrap(), text)
        })
        .collect();
    assert_eq!(ast.len(), 2);
    let r = post_dd(&base, &core_report("AS-1", 1, ast[0].0, AuthMethod::Data));
    let answer = String::from_utf8(r.body).unwrap();
    assert_eq!(device_reads(&answer, "AS-1", 1), vec![ast[1].1.clone()]);

    // Another tenant provisions the same serial: a report cannot say whose it is.
    let (other, _) = new_key(&s.url, "other", "provision,read");
    let other = Client::new(&base, &other);
    let r = other.call(
        "POST",
        "/v1/devices",
        Some(json!({"serial_number": SERIAL, "key": KEY, "starting_code": 123_456_789})),
    );
    assert!(r.status == 200 || r.status == 201, "{r:?}");
    let r = post_dd(&base, &core_report(SERIAL, 5, 0, AuthMethod::Data));
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (409, "SERIAL_NOT_UNIQUE"),
        "{r:?}"
    );
    assert_eq!(stored_reports(&s.client).len(), 4);
    let r = other.call("GET", &format!("/v1/devices/{SERIAL}/reports"), None);
    assert_eq!(r.json()["reports"], json!([]), "{r:?}");
}

#[test]
fn pending_sqlite() {
    pending_time_and_shared_serials(Db::sqlite());
}

#[test]
fn pending_postgres() {
    pending_time_and_shared_serials(Db::postgres());
}

#[test]
fn reports_sqlite() {
    reports_are_verified_stored_and_answered(Db::sqlite());
}

#[test]
fn reports_postgres() {
    reports_are_verified_stored_and_answered(Db::postgres());
}

#[test]
fn concurrent_copies_sqlite() {
    concurrent_copies_are_accepted_once(Db::sqlite());
}

#[test]
fn concurrent_copies_postgres() {
    concurrent_copies_are_accepted_once(Db::postgres());
}
