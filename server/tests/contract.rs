//! The PaygOps Device API v2 contract as PaygOps' client code reads and writes it
//! (`payg_loan_system/devices/device_api/device_api_request_service.py`, `DeviceAPIHelperV2`),
//! bad input, tenants, imports and the audit chain; every response checked against
//! `GET /openapi.json`. Each test runs on SQLite and on PostgreSQL.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

mod support;

use serde_json::{Value, json};
use support::{Client, Db, Reply, Server, admin, new_key, scratch};

/// A minimal JSON-schema check for what utoipa emits: `$ref`, `type` (or a list with
/// `null`), `properties`/`required`, `items`, `oneOf`.
fn conforms(doc: &Value, schema: &Value, v: &Value) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return conforms(doc, &doc["components"]["schemas"][name], v);
    }
    if let Some(all) = schema.get("oneOf").and_then(Value::as_array) {
        return if all.iter().any(|s| conforms(doc, s, v).is_ok()) {
            Ok(())
        } else {
            Err(format!("{v} matches no oneOf"))
        };
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let ok = types.iter().any(|t| match *t {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    });
    if !ok {
        return Err(format!("{v} is not {types:?}"));
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let req = req.as_str().unwrap();
            if !obj.contains_key(req) {
                return Err(format!("missing {req}"));
            }
        }
        for (k, s) in props {
            if let Some(x) = obj.get(k) {
                conforms(doc, s, x).map_err(|e| format!("{k}: {e}"))?;
            }
        }
        for k in obj.keys() {
            if !props.contains_key(k) {
                return Err(format!("undocumented field {k}"));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for x in arr {
            conforms(doc, items, x)?;
        }
    }
    Ok(())
}

/// Checks `reply` against the documented response of `method path` for its status.
fn documented(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} undocumented");
    let resp = &op["responses"][reply.status.to_string()];
    assert!(
        resp.is_object(),
        "{method} {path}: status {} undocumented",
        reply.status
    );
    let schema = &resp["content"]["application/json"]["schema"];
    if schema.is_object() {
        conforms(doc, schema, &reply.json())
            .unwrap_or_else(|e| panic!("{method} {path} {}: {e}", reply.status));
    }
}

fn paygops_contract(db: &Db) {
    let dir = scratch(&format!("contract-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let c = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let doc = c.call("GET", "/openapi.json", None).json();
    let check = |m: &str, p: &str, r: &Reply| documented(&doc, m, p, r);

    // Provisioning (the OpenPAYGO-Docker names PaygOps deployments use are accepted).
    let dev = json!({"serial_number": "SN1", "secret_key": "a29ab82edc5fbbc41ec9530f6dac86b1", "starting_code": 123456789,
        "token_count": 0, "value_divider": 1, "restricted_digit_set": false, "model": "Lamp"});
    let r = c.call("POST", "/paygops/devices", Some(dev.clone()));
    assert_eq!(r.status, 200);
    check("post", "/paygops/devices", &r);
    assert!(
        !String::from_utf8_lossy(&r.body).contains("a29ab82e"),
        "no endpoint returns a key"
    );
    // DeviceGlobalSyncService reads payg_mode (int), supported_credit_units, model.
    let d = c.call("GET", "/paygops/devices/SN1", None);
    check("get", "/paygops/devices/{serial}", &d);
    let d = d.json();
    assert_eq!(d["payg_mode"], 1);
    assert_eq!(d["model"], "Lamp");
    assert!(
        d["supported_credit_units"]
            .as_array()
            .unwrap()
            .contains(&json!("ABSOLUTE_TIME"))
    );
    for i in 2..=5 {
        let body = json!({"serial_number": format!("SN{i}"), "key": format!("{i:032x}"), "starting_code": i});
        assert_eq!(c.call("POST", "/paygops/devices", Some(body)).status, 200);
    }
    // list_devices: pages of serial strings until a short page; without page, everything.
    let page1 = c.call("GET", "/paygops/devices?page=1&page_size=2", None);
    check("get", "/paygops/devices", &page1);
    assert_eq!(page1.json(), json!(["SN1", "SN2"]));
    assert_eq!(
        c.call("GET", "/paygops/devices?page=3&page_size=2", None)
            .json(),
        json!(["SN5"])
    );
    assert_eq!(
        c.call("GET", "/paygops/devices?page=4&page_size=2", None)
            .json(),
        json!([])
    );
    assert_eq!(
        c.call("GET", "/paygops/devices", None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let objs = c
        .call(
            "GET",
            "/paygops/devices?page=1&page_size=100&include_objects=true",
            None,
        )
        .json();
    assert_eq!(objs[0]["serial_number"], "SN1");

    // post_credit_update: PaygOps posts {credit_update_type, credit_value (a naive datetime for
    // ABSOLUTE_TIME, the default unit), device_serial_number} to credit_updates/<uuid>.
    let now = chrono::Utc::now().naive_utc();
    let until = (now + chrono::Duration::days(7))
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    let body = json!({"credit_update_type": "ADD_CREDIT", "credit_value": until, "device_serial_number": "SN1"});
    let uuid = "0f1e2d3c-4b5a6978-8796a5b4";
    let r = c.call(
        "POST",
        &format!("/paygops/credit_updates/{uuid}"),
        Some(body.clone()),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    check("post", "/paygops/credit_updates/{uuid}", &r);
    let v = r.json();
    // What _create_token_from_result reads.
    for field in [
        "uuid",
        "token",
        "time",
        "effective_credit_update_type",
        "effective_credit_value",
        "credit_unit",
        "token_count",
    ] {
        assert!(v.get(field).is_some(), "{field}");
    }
    assert_eq!(v["uuid"], uuid);
    assert_eq!(v["effective_credit_update_type"], "ADD_CREDIT");
    assert_eq!(v["credit_unit"], "ABSOLUTE_TIME");
    assert_eq!(v["token"].as_str().unwrap().len(), 11, "grouped for SMS");
    assert_eq!(v["token_count"], 2);
    // The same UUID again (PaygOps retries 503s with it): byte for byte, marked replayed.
    let again = c.call(
        "POST",
        &format!("/paygops/credit_updates/{uuid}"),
        Some(body.clone()),
    );
    assert!(again.replayed);
    assert_eq!(again.body, r.body);
    // Desired state already reached: no token, PaygOps maps "" to NO_TOKEN.
    let r = c.call("POST", "/paygops/credit_updates/aa-1", Some(json!({"credit_update_type": "SET_CREDIT", "credit_value": v["effective_credit_value"], "device_serial_number": "SN1"})));
    assert_eq!(r.json()["token"], "");
    assert_eq!(r.json()["status_details"], json!(["NO_TOKEN_NEEDED"]));

    // generate_offline_token: PENDING, reads uuid, token, credit_value; later PUT COMMITTED.
    let pend = json!({"credit_value": 7.0, "credit_unit": "DAYS", "credit_update_type": "ADD_CREDIT", "status": "PENDING",
        "device_serial_number": "SN1"});
    let p = c.call("POST", "/paygops/credit_updates/off-1", Some(pend));
    assert_eq!(p.json()["status"], "PENDING");
    assert_eq!(p.json()["credit_value"], 7.0);
    let before = c.call("GET", "/paygops/devices/SN1", None).json()["credit_value"].clone();
    let put = c.call(
        "PUT",
        "/paygops/credit_updates/off-1",
        Some(json!({"status": "COMMITTED", "commit_time": "2030-01-01T10:00:00"})),
    );
    assert_eq!(put.status, 200);
    check("put", "/paygops/credit_updates/{uuid}", &put);
    assert_eq!(put.json()["status"], "COMMITTED");
    assert_eq!(put.json()["commit_time"], "2030-01-01T10:00:00");
    assert_eq!(put.json()["token"], p.json()["token"]);
    let after = c.call("GET", "/paygops/devices/SN1", None).json()["credit_value"].clone();
    assert_ne!(
        before, after,
        "the committed offline token moves the recorded expiry"
    );
    let put2 = c.call(
        "PUT",
        "/paygops/credit_updates/off-1",
        Some(json!({"status": "COMMITTED", "commit_time": "2030-01-01T10:00:00"})),
    );
    assert!(put2.replayed && put2.body == put.body);
    assert_eq!(
        c.call(
            "PUT",
            "/paygops/credit_updates/nope",
            Some(json!({"status": "COMMITTED"}))
        )
        .status,
        404
    );

    // list_credit_update
    let list = c.call(
        "GET",
        "/paygops/credit_updates?device_serial_number=SN1",
        None,
    );
    check("get", "/paygops/credit_updates", &list);
    assert_eq!(list.json().as_array().unwrap().len(), 3);
    // DISABLE_PAYG ignores unit and value; the device reads payg_mode 3 afterwards.
    let r = c.call("POST", "/paygops/credit_updates/dis-1", Some(json!({"credit_update_type": "DISABLE_PAYG", "credit_unit": "DAYS", "credit_value": 12, "device_serial_number": "SN1"})));
    assert_eq!(r.json()["effective_credit_update_type"], "DISABLE_PAYG");
    assert_eq!(
        c.call("GET", "/paygops/devices/SN1", None).json()["payg_mode"],
        3
    );
    let support = c.call("GET", "/paygops/support", None);
    check("get", "/paygops/support", &support);
    assert!(support.json()["supported_credit_units"]["ABSOLUTE_TIME"].is_string());

    // Errors as the client reads them: JSON bodies with "error".
    let r = c.call(
        "POST",
        "/paygops/credit_updates/x-404",
        Some(json!({"credit_value": until, "device_serial_number": "NOPE"})),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str().unwrap()),
        (404, "DEVICE_DOES_NOT_EXIST")
    );
    check("post", "/paygops/credit_updates/{uuid}", &r);
    let r = c.call(
        "POST",
        &format!("/paygops/credit_updates/{uuid}"),
        Some(json!({"credit_value": until, "device_serial_number": "SN2"})),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str().unwrap()),
        (400, "IDEMPOTENCY_KEY_REUSED")
    );
    let anon = Client::new(&server.base, "plk_wrong");
    let r = anon.call("GET", "/paygops/devices", None);
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].is_string());

    // Native API: every scheme's commands, reason required, history, documented.
    let nexus = json!({"serial_number": "NX1", "token_scheme": "nexus_full", "key": "deadbeefdeadbeefdeadbeefdeadbeef", "counter": 42});
    assert_eq!(c.call("POST", "/v1/devices", Some(nexus)).status, 200);
    let r = c
        .issue_v1(
            "NX1",
            "nx-a",
            &json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": "P1"}),
        )
        .unwrap();
    check("post", "/v1/devices/{serial}/issue", &r);
    assert_eq!(r.json()["token"], "*599 791 493 194 43#");
    let r = c
        .issue_v1(
            "NX1",
            "nx-b",
            &json!({"command": "wipe", "target": "credit"}),
        )
        .unwrap();
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("reason"))
    );
    check("post", "/v1/devices/{serial}/issue", &r);
    let r = c
        .issue_v1(
            "NX1",
            "nx-b",
            &json!({"command": "wipe", "target": "credit", "reason": "field reset"}),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    let ast = json!({"serial_number": "AS1", "token_scheme": "ast1", "batch_key": "2b7e151628aed2a6abf7158809cf4f3c",
        "suite": "cmac", "profile": "L", "unit": "hours", "device_id": 123456789});
    assert_eq!(c.call("POST", "/v1/devices", Some(ast)).status, 200);
    let r = c
        .issue_v1(
            "AS1",
            "as-1",
            &json!({"command": "add_credit", "amount": 72, "unit": "hours", "payment_ref": "P2"}),
        )
        .unwrap();
    assert_eq!(r.json()["token"], "3359 3381 3865 7142 9876");
    for (k, b) in [
        (
            "as-2",
            json!({"command": "set_param", "param_id": 1, "param_value": 300, "reason": "limit"}),
        ),
        (
            "as-3",
            json!({"command": "counter_sync", "reason": "support"}),
        ),
        (
            "as-4",
            json!({"command": "test", "test_id": 1, "reason": "qa"}),
        ),
    ] {
        assert_eq!(c.issue_v1("AS1", k, &b).unwrap().status, 200);
    }
    let h = c.call("GET", "/v1/devices/AS1/tokens", None);
    check("get", "/v1/devices/{serial}/tokens", &h);
    assert_eq!(h.json()["tokens"].as_array().unwrap().len(), 4);
    let g = c.call("GET", "/v1/devices/NX1", None);
    check("get", "/v1/devices/{serial}", &g);
    assert_eq!(g.json()["counter"], 44);
    assert_eq!(
        (
            &g.json()["metrics_data_format"],
            &g.json()["metrics_auth_method"]
        ),
        (&Value::Null, &Value::Null)
    );
    // The Metrics profile: shown by the native API, documented; a changed one is a conflict;
    // the PaygOps shape stays as PaygOps' client reads it.
    let mut metered = json!({"serial_number": "NX2", "token_scheme": "nexus_full", "key": "deadbeefdeadbeefdeadbeefdeadbeef",
        "metrics_data_format": {"id": 3, "data_order": ["token_count", "firmware"]}, "metrics_auth_method": "da"});
    let r = c.call("POST", "/v1/devices", Some(metered.clone()));
    assert_eq!(r.status, 200, "{r:?}");
    check("post", "/v1/devices", &r);
    let g = c.call("GET", "/v1/devices/NX2", None);
    check("get", "/v1/devices/{serial}", &g);
    assert_eq!(
        g.json()["metrics_data_format"],
        json!({"id": 3, "data_order": ["token_count", "firmware"]})
    );
    assert_eq!(g.json()["metrics_auth_method"], "da");
    metered["metrics_auth_method"] = json!("ra");
    let r = c.call("POST", "/v1/devices", Some(metered));
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("DEVICE_CONFLICT"))
    );
    check("post", "/v1/devices", &r);
    let p = c.call("GET", "/paygops/devices/NX2", None);
    assert_eq!(p.status, 200);
    check("get", "/paygops/devices/{serial}", &p);
    assert!(
        !String::from_utf8_lossy(&p.body).contains("metrics"),
        "{p:?}"
    );
}

#[test]
fn paygops_contract_sqlite() {
    paygops_contract(&Db::sqlite());
}

#[test]
fn paygops_contract_postgres() {
    paygops_contract(&Db::postgres());
}

fn bad_input(db: &Db) {
    let dir = scratch(&format!("bad-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let c = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let doc = c.call("GET", "/openapi.json", None).json();
    let dev = json!({"serial_number": "B1", "key": "000102030405060708090a0b0c0d0e0f", "starting_code": 5});
    assert_eq!(c.call("POST", "/paygops/devices", Some(dev)).status, 200);
    let path = "/paygops/credit_updates/{uuid}";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            b"{\"device_serial_number\": ".to_vec(),
            400,
            "malformed JSON",
        ),
        (
            "wrong type",
            br#"{"device_serial_number": 12, "credit_value": "2030-01-01"}"#.to_vec(),
            400,
            "device_serial_number",
        ),
        (
            "wrong value type",
            br#"{"device_serial_number": "B1", "credit_unit": "DAYS", "credit_value": "many"}"#
                .to_vec(),
            400,
            "credit_value",
        ),
        (
            "unknown serial",
            br#"{"device_serial_number": "NOPE", "credit_value": "2030-01-01"}"#.to_vec(),
            404,
            "DEVICE_DOES_NOT_EXIST",
        ),
        (
            "too much credit",
            br#"{"device_serial_number": "B1", "credit_unit": "DAYS", "credit_value": 5000}"#
                .to_vec(),
            400,
            "995",
        ),
        ("huge body", vec![b' '; 70 * 1024], 413, "BODY_TOO_LARGE"),
    ];
    for (i, (what, body, status, needle)) in cases.into_iter().enumerate() {
        let key = format!("bad-{i}");
        let r = c
            .send(
                "POST",
                &format!("/paygops/credit_updates/{key}"),
                Some(body),
                &[],
            )
            .unwrap();
        assert_eq!(
            r.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            String::from_utf8_lossy(&r.body).contains(needle),
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        documented(&doc, "post", path, &r);
        // Nothing stored, the key not consumed: the same key then issues normally.
        let ok = c.call(
            "POST",
            &format!("/paygops/credit_updates/{key}"),
            Some(json!({"device_serial_number": "B1", "credit_unit": "DAYS", "credit_value": 1})),
        );
        assert_eq!(ok.status, 200, "{what}");
        assert!(!ok.replayed, "{what}: the refused request consumed the key");
    }
    // Keys: missing, revoked, scoped, another tenant's.
    let r = c
        .send(
            "POST",
            "/paygops/credit_updates/k",
            Some(b"{}".to_vec()),
            &[],
        )
        .unwrap();
    assert_eq!(r.status, 400);
    let url = db.url();
    let (read_only, _) = new_key(&url, "default", "read");
    let r = Client::new(&server.base, &read_only).call(
        "POST",
        "/paygops/credit_updates/k1",
        Some(json!({"device_serial_number": "B1", "credit_unit": "DAYS", "credit_value": 1})),
    );
    assert_eq!(r.status, 403);
    let (revoked, id) = new_key(&url, "default", "issue,read");
    assert_eq!(
        Client::new(&server.base, &revoked)
            .call("GET", "/paygops/devices", None)
            .status,
        200
    );
    let (ok, out) = admin(&[
        "api-key",
        "revoke",
        "--database",
        &url,
        "--id",
        &id.to_string(),
    ]);
    assert!(ok, "{out}");
    let r = Client::new(&server.base, &revoked).call("GET", "/paygops/devices", None);
    assert_eq!(
        (r.status, r.json()["error"].as_str().unwrap()),
        (401, "API_AUTHORIZATION_ERROR")
    );
    let r = Client {
        key: String::new(),
        ..Client::new(&server.base, "")
    }
    .send("GET", "/paygops/devices", None, &[])
    .unwrap();
    assert_eq!(r.status, 401);
    let (other, _) = new_key(&url, "other-tenant", "issue,provision,read");
    let o = Client::new(&server.base, &other);
    assert_eq!(o.call("GET", "/paygops/devices", None).json(), json!([]));
    let r = o.call(
        "POST",
        "/paygops/credit_updates/t-1",
        Some(json!({"device_serial_number": "B1", "credit_unit": "DAYS", "credit_value": 1})),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str().unwrap()),
        (404, "DEVICE_DOES_NOT_EXIST")
    );
    assert_eq!(o.call("GET", "/v1/devices/B1/tokens", None).status, 404);
    // The other tenant may use the same serial for its own device.
    let dev = json!({"serial_number": "B1", "key": "ffeeddccbbaa99887766554433221100", "starting_code": 9});
    assert_eq!(o.call("POST", "/paygops/devices", Some(dev)).status, 200);
    // Device history unchanged by every refusal: 6 issuances, one per case.
    let h = c.call("GET", "/v1/devices/B1/tokens", None).json();
    assert_eq!(h["tokens"].as_array().unwrap().len(), 6);
    assert_eq!(
        o.call("GET", "/v1/devices/B1/tokens", None).json()["tokens"],
        json!([])
    );
}

#[test]
fn bad_input_sqlite() {
    bad_input(&Db::sqlite());
}

#[test]
fn bad_input_postgres() {
    bad_input(&Db::postgres());
}

fn imports_and_audit(db: &Db) {
    let dir = scratch(&format!("import-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let url = db.url();
    let kek = dir.join("kek.hex");
    let csv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/openpaygo/OpenPAYGO-Token__documentation__examples__example_device_list.csv"
    );
    let (ok, out) = admin(&[
        "import",
        "--database",
        &url,
        "--kek-file",
        kek.to_str().unwrap(),
        csv,
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("SLT220000001") && out.contains("\"imported\""));
    // Identical rows are skipped; a different key for a known serial is a conflict, not an overwrite.
    let (ok, out) = admin(&[
        "import",
        "--database",
        &url,
        "--kek-file",
        kek.to_str().unwrap(),
        csv,
    ]);
    assert!(ok, "{out}");
    let report: Value = serde_json::from_str(&out[..=out.rfind('}').unwrap()]).unwrap();
    assert_eq!(report["skipped"].as_array().unwrap().len(), 2);
    let other = dir.join("other.csv");
    std::fs::write(&other, "Serial Number,Token Scheme,Key,Counter,Starting Code,Suite,Profile,Unit,Device ID\nSLT220000001,openpaygo,00000000000000000000000000000001,1,516959010,,,,\nNX9,nexus_small,deadbeefdeadbeefdeadbeefdeadbeef,0,,,,,\nAS9,ast1,2b7e151628aed2a6abf7158809cf4f3c,1,,cmac,L,hours,77\n").unwrap();
    let (ok, out) = admin(&[
        "import",
        "--database",
        &url,
        "--kek-file",
        kek.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert!(!ok, "a conflict is reported");
    assert!(out.contains("SLT220000001") && out.contains("key"), "{out}");
    assert!(!out.contains("00000000000000000000000000000001"));
    let c = Client::new(&server.base, server.first_key.as_ref().unwrap());
    assert_eq!(c.call("GET", "/v1/devices/NX9", None).status, 200);
    // The first token continues from the imported count (1): a 1-day ADD on a divider-4 device.
    let r = c.call("POST", "/paygops/credit_updates/imp-1", Some(json!({"device_serial_number": "SLT240000002", "credit_unit": "DAYS", "credit_value": 1})));
    assert_eq!(r.json()["token_count"], 2);
    // A bad file stores nothing and names the rows.
    std::fs::write(
        &other,
        "Serial Number,Starting Code,Key,Count\nZ1,1,nothex,0\n",
    )
    .unwrap();
    let (ok, out) = admin(&[
        "import",
        "--database",
        &url,
        "--kek-file",
        kek.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("row 2"), "{out}");
    assert_eq!(c.call("GET", "/v1/devices/Z1", None).status, 404);
    // The audit chain: intact, then an edited and a deleted event are found.
    let (ok, out) = admin(&["audit", "verify", "--database", &url]);
    assert!(ok && out.contains("intact"), "{out}");
    let r = c.call("GET", "/v1/audit/verify", None);
    assert_eq!(r.json()["problems"], json!([]));
    match db {
        Db::Sqlite(_) => {
            db.sql("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;")
        }
        Db::Postgres(..) => db.sql("DROP TRIGGER audit_events_no_change ON audit_events"),
    };
    db.sql("UPDATE audit_events SET body = replace(body, '\"counter\":1', '\"counter\":9') WHERE kind = 'device.provisioned'");
    let (ok, out) = admin(&["audit", "verify", "--database", &url]);
    assert!(!ok && out.contains("edited"), "{out}");
    db.sql("DELETE FROM audit_events WHERE kind = 'issuance'");
    let (ok, out) = admin(&["audit", "verify", "--database", &url]);
    assert!(!ok && out.contains("missing"), "{out}");
}

#[test]
fn imports_and_audit_sqlite() {
    imports_and_audit(&Db::sqlite());
}

#[test]
fn imports_and_audit_postgres() {
    imports_and_audit(&Db::postgres());
}

/// The stderr of the service's latest start in `dir`.
fn last_stderr(dir: &std::path::Path) -> String {
    let latest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let n: u64 = name
                .strip_prefix("stderr-")?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((n, name))
        })
        .max()
        .unwrap();
    std::fs::read_to_string(dir.join(latest.1)).unwrap()
}

/// PostgreSQL's notices (a restart's migration check: "… already exists, skipping") are logged
/// at info, and not at all with `--log off` or `--log warn`.
#[test]
fn log_levels_cap_driver_notices_postgres() {
    let db = Db::postgres();
    let dir = scratch("log-levels-postgres");
    let mut server = Server::start(&db.url(), &dir, &[]);
    server.kill_and_restart_with(&[("PAYLOCK_LOG", "info")]);
    let info = last_stderr(&dir);
    assert!(
        info.contains("already exists"),
        "the notice at info: {info}"
    );
    for level in ["warn", "off"] {
        server.kill_and_restart_with(&[("PAYLOCK_LOG", level)]);
        let logged = last_stderr(&dir);
        assert!(!logged.contains("already exists"), "{level}: {logged}");
    }
    let logged = last_stderr(&dir);
    assert!(logged.trim().is_empty(), "off: {logged}");
}
