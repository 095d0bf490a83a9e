//! API keys on the issuance paths, where the store checks the key in the request's first
//! statement: a revoked key is refused at once (a replay included), an unknown or short-scoped
//! key gets the same answers as on every other route, and a request that is both badly
//! authorized and malformed gets the key's refusal. Each test runs on SQLite and on PostgreSQL.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use serde_json::{Value, json};
use support::{Client, Db, Reply, Server, admin, new_key, scratch};

/// (status, `error`, `message`) of a reply.
fn refusal(r: &Reply) -> (u16, String, String) {
    let v = r.json();
    (
        r.status,
        v["error"].as_str().unwrap_or_default().to_owned(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn unauthenticated() -> (u16, String, String) {
    (
        401,
        "API_AUTHORIZATION_ERROR".into(),
        "unknown or revoked API key".into(),
    )
}

fn credit(serial: &str) -> Value {
    json!({"device_serial_number": serial, "credit_unit": "DAYS", "credit_value": 1})
}

fn keys_on_issuance(db: &Db) {
    let dir = scratch(&format!("keys-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let owner = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let dev = json!({"serial_number": "K1", "key": "000102030405060708090a0b0c0d0e0f", "starting_code": 5});
    assert_eq!(
        owner.call("POST", "/paygops/devices", Some(dev)).status,
        200
    );
    let url = db.url();
    let (issuer, id) = new_key(&url, "default", "issue");
    let c = Client::new(&server.base, &issuer);
    let first = c.call("POST", "/paygops/credit_updates/k-1", Some(credit("K1")));
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let v1 = json!({"command": "add_credit", "amount": 2, "unit": "days", "payment_ref": "P1"});
    let native = c.issue_v1("K1", "n-1", &v1).unwrap();
    assert_eq!(
        native.status,
        200,
        "{}",
        String::from_utf8_lossy(&native.body)
    );
    // Replays while the key is valid.
    let again = c.call("POST", "/paygops/credit_updates/k-1", Some(credit("K1")));
    assert!(again.replayed);
    assert_eq!(again.body, first.body);

    // Revoked: refused at once, replays included, on both APIs.
    let (ok, out) = admin(&[
        "api-key",
        "revoke",
        "--database",
        &url,
        "--id",
        &id.to_string(),
    ]);
    assert!(ok, "{out}");
    for (what, r) in [
        (
            "replay",
            c.call("POST", "/paygops/credit_updates/k-1", Some(credit("K1"))),
        ),
        (
            "new",
            c.call("POST", "/paygops/credit_updates/k-2", Some(credit("K1"))),
        ),
        ("native replay", c.issue_v1("K1", "n-1", &v1).unwrap()),
        ("native new", c.issue_v1("K1", "n-2", &v1).unwrap()),
    ] {
        assert_eq!(refusal(&r), unauthenticated(), "{what}");
        assert!(!r.replayed, "{what}");
    }

    // Unknown key; a missing one; a key without the issue scope; each before the body's fault.
    let unknown = Client::new(&server.base, &format!("plk_{}", "0".repeat(64)));
    let (reader, _) = new_key(&url, "default", "read");
    let reader = Client::new(&server.base, &reader);
    let nobody = Client::new(&server.base, "");
    let forbidden = (
        403,
        "FORBIDDEN".to_owned(),
        "this API key lacks the issue scope".to_owned(),
    );
    for body in [credit("K1"), json!({"device_serial_number": 12})] {
        let r = unknown.call("POST", "/paygops/credit_updates/k-3", Some(body.clone()));
        assert_eq!(refusal(&r), unauthenticated(), "{body}");
        let r = reader.call("POST", "/paygops/credit_updates/k-3", Some(body.clone()));
        assert_eq!(refusal(&r), forbidden, "{body}");
        let r = nobody
            .send(
                "POST",
                "/paygops/credit_updates/k-3",
                Some(serde_json::to_vec(&body).unwrap()),
                &[],
            )
            .unwrap();
        assert_eq!(r.status, 401, "{body}");
        assert!(refusal(&r).2.starts_with("missing API key"), "{body}");
    }
    let r = reader.issue_v1("K1", "n-3", &v1).unwrap();
    assert_eq!(refusal(&r), forbidden);
    let r = reader.issue_v1("K1", "bad key!", &v1).unwrap();
    assert_eq!(refusal(&r), forbidden);
    let r = unknown
        .issue_v1("K1", "n-3", &json!({"command": 1}))
        .unwrap();
    assert_eq!(refusal(&r), unauthenticated());
    // A valid key: the body's fault, then the device's absence.
    let r = owner.issue_v1("K1", "bad key!", &v1).unwrap();
    assert_eq!(r.status, 400);
    let r = owner.call("POST", "/paygops/credit_updates/k-4", Some(credit("NOPE")));
    assert_eq!(refusal(&r).1, "DEVICE_DOES_NOT_EXIST");

    // Another tenant's key reaches neither the device nor a request stored under the key.
    let (other, _) = new_key(&url, "other-tenant", "issue,read");
    let o = Client::new(&server.base, &other);
    let r = o.call("POST", "/paygops/credit_updates/k-1", Some(credit("K1")));
    assert_eq!(
        (refusal(&r).1.as_str(), r.replayed),
        ("DEVICE_DOES_NOT_EXIST", false)
    );

    // Only the two issuances made with the valid key are on the device.
    let h = owner.call("GET", "/v1/devices/K1/tokens", None).json();
    assert_eq!(h["tokens"].as_array().unwrap().len(), 2);
}

#[test]
fn keys_on_issuance_sqlite() {
    keys_on_issuance(&Db::sqlite());
}

#[test]
fn keys_on_issuance_postgres() {
    keys_on_issuance(&Db::postgres());
}
