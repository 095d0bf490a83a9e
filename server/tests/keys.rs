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

/// The same answers on the routes whose key is checked in their own statement: PaygOps' commit
/// of a PENDING update (`PUT /credit_updates/{uuid}`) and the device reads. A revoked, unknown
/// or missing key is a 401, a key without the scope a 403, both before the body's fault;
/// another tenant's key finds neither the update nor the device.
fn keys_on_commit_and_reads(db: &Db) {
    let dir = scratch(&format!("keys-commit-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let owner = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let dev = json!({"serial_number": "K1", "key": "000102030405060708090a0b0c0d0e0f", "starting_code": 5});
    assert_eq!(
        owner.call("POST", "/paygops/devices", Some(dev)).status,
        200
    );
    let url = db.url();
    let mut pending = credit("K1");
    pending["status"] = json!("PENDING");
    for uuid in ["c-1", "c-2", "c-3"] {
        let r = owner.call(
            "POST",
            &format!("/paygops/credit_updates/{uuid}"),
            Some(pending.clone()),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let commit = json!({"status": "COMMITTED"});
    let malformed = json!({"status": "DONE"});
    let (issuer, issuer_id) = new_key(&url, "default", "issue");
    let issuer = Client::new(&server.base, &issuer);
    let first = issuer.call("PUT", "/paygops/credit_updates/c-1", Some(commit.clone()));
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let again = issuer.call("PUT", "/paygops/credit_updates/c-1", Some(commit.clone()));
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(again.body, first.body);

    let unknown = Client::new(&server.base, &format!("plk_{}", "0".repeat(64)));
    let nobody = Client::new(&server.base, "");
    let (reader, reader_id) = new_key(&url, "default", "read");
    let reader = Client::new(&server.base, &reader);
    let (provisioner, _) = new_key(&url, "default", "provision");
    let provisioner = Client::new(&server.base, &provisioner);
    let lacks = |scope: &str| {
        (
            403,
            "FORBIDDEN".to_owned(),
            format!("this API key lacks the {scope} scope"),
        )
    };
    for body in [&commit, &malformed] {
        for uuid in ["c-1", "c-2", "nope"] {
            let path = format!("/paygops/credit_updates/{uuid}");
            let r = unknown.call("PUT", &path, Some(body.clone()));
            assert_eq!(refusal(&r), unauthenticated(), "{uuid} {body}");
            let r = reader.call("PUT", &path, Some(body.clone()));
            assert_eq!(refusal(&r), lacks("issue"), "{uuid} {body}");
            let r = nobody
                .send("PUT", &path, Some(serde_json::to_vec(body).unwrap()), &[])
                .unwrap();
            assert_eq!(r.status, 401, "{uuid} {body}");
            assert!(refusal(&r).2.starts_with("missing API key"), "{body}");
        }
    }
    for path in [
        "/v1/devices/K1",
        "/paygops/devices/K1",
        "/v1/devices/NOPE",
        "/v1/devices/K1/tokens",
        "/v1/devices/K1/reports",
        "/paygops/credit_updates?device_serial_number=K1",
        "/paygops/credit_updates",
    ] {
        assert_eq!(
            refusal(&unknown.call("GET", path, None)),
            unauthenticated(),
            "{path}"
        );
        assert_eq!(
            refusal(&provisioner.call("GET", path, None)),
            lacks("read"),
            "{path}"
        );
        let r = nobody.call("GET", path, None);
        assert_eq!(r.status, 401, "{path}");
        assert!(refusal(&r).2.starts_with("missing API key"), "{path}");
    }
    // A valid key: the body's fault, then the update's absence.
    let r = issuer.call(
        "PUT",
        "/paygops/credit_updates/c-2",
        Some(malformed.clone()),
    );
    assert_eq!(r.status, 400);
    let r = issuer.call("PUT", "/paygops/credit_updates/nope", Some(commit.clone()));
    assert_eq!(refusal(&r).1, "CREDIT_UPDATE_DOES_NOT_EXIST");
    assert_eq!(
        reader.call("GET", "/v1/devices/K1", None).json()["serial_number"],
        json!("K1")
    );
    assert_eq!(reader.call("GET", "/paygops/devices/K1", None).status, 200);
    for path in [
        "/v1/devices/NOPE",
        "/v1/devices/NOPE/tokens",
        "/v1/devices/NOPE/reports",
        "/paygops/credit_updates?device_serial_number=NOPE",
    ] {
        assert_eq!(
            refusal(&reader.call("GET", path, None)).1,
            "DEVICE_DOES_NOT_EXIST",
            "{path}"
        );
    }
    let r = reader.call("GET", "/paygops/credit_updates", None);
    assert_eq!(r.status, 400);
    let tokens = reader.call("GET", "/v1/devices/K1/tokens", None).json();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 3, "{tokens}");
    let reports = reader.call("GET", "/v1/devices/K1/reports", None).json();
    assert_eq!(reports["reports"], json!([]), "{reports}");

    // Another tenant's key finds neither the update nor the device.
    let (other, _) = new_key(&url, "other-tenant", "issue,read");
    let o = Client::new(&server.base, &other);
    let r = o.call("PUT", "/paygops/credit_updates/c-2", Some(commit.clone()));
    assert_eq!(refusal(&r).1, "CREDIT_UPDATE_DOES_NOT_EXIST");
    for path in [
        "/v1/devices/K1",
        "/paygops/devices/K1",
        "/v1/devices/K1/tokens",
        "/v1/devices/K1/reports",
        "/paygops/credit_updates?device_serial_number=K1",
    ] {
        assert_eq!(
            refusal(&o.call("GET", path, None)).1,
            "DEVICE_DOES_NOT_EXIST",
            "{path}"
        );
    }

    // Revoked: refused at once, a commit's replay included.
    for id in [issuer_id, reader_id] {
        let (ok, out) = admin(&[
            "api-key",
            "revoke",
            "--database",
            &url,
            "--id",
            &id.to_string(),
        ]);
        assert!(ok, "{out}");
    }
    for uuid in ["c-1", "c-2"] {
        let r = issuer.call(
            "PUT",
            &format!("/paygops/credit_updates/{uuid}"),
            Some(commit.clone()),
        );
        assert_eq!(refusal(&r), unauthenticated(), "{uuid}");
        assert!(!r.replayed);
    }
    for path in [
        "/v1/devices/K1",
        "/paygops/devices/K1",
        "/v1/devices/K1/tokens",
        "/v1/devices/K1/reports",
        "/paygops/credit_updates?device_serial_number=K1",
    ] {
        assert_eq!(
            refusal(&reader.call("GET", path, None)),
            unauthenticated(),
            "{path}"
        );
    }
    // Nothing the refused requests sent was stored: c-2 and c-3 are still PENDING.
    let list = owner
        .call(
            "GET",
            "/paygops/credit_updates?device_serial_number=K1",
            None,
        )
        .json();
    let statuses: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["uuid"].as_str().unwrap().to_owned(),
                u["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("c-1".to_owned(), "COMMITTED".to_owned()),
            ("c-2".to_owned(), "PENDING".to_owned()),
            ("c-3".to_owned(), "PENDING".to_owned())
        ]
    );
}

#[test]
fn keys_on_commit_and_reads_sqlite() {
    keys_on_commit_and_reads(&Db::sqlite());
}

#[test]
fn keys_on_commit_and_reads_postgres() {
    keys_on_commit_and_reads(&Db::postgres());
}
