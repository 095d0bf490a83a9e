//! A scheme a manufacturer registers (ACME-8, the `custom_adapter` example of
//! `paylock-protocol`, built on the public API alone) served by the ledger: the service started
//! from the library with a registry holding it provisions ACME-8 devices and issues their
//! tokens through the native API with the built-in schemes' guarantees (idempotent replays
//! byte for byte, a reused key refused, counters never reused, one audit event per token, the
//! sealed key bound to the scheme's name). Every token is checked against the example's own
//! issuer and entered on its own verifier, not the service's code path. `paylock serve`, with the
//! built-in registry, refuses the scheme's name. Each test runs on SQLite and on PostgreSQL.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

// The example's scheme (issuer, verifier, registry adapter), compiled into this test as the
// protocol crate's own test compiles it.
#[allow(dead_code, unreachable_pub)]
#[path = "../../protocol/examples/custom_adapter/acme.rs"]
mod acme;
mod support;

use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use paylock::metrics::{AuthMethod, Layout, Request, Sent};
use paylock::{Command, Context, Credit, Issuer, Key, Outcome, TimeUnit, Verifier};
use paylock_protocol::Registry;
use paylock_server::cli::{Admin, AdminArgs, AdminCommand, ServeArgs, Service};
use serde_json::{Value, json};
use support::{Client, Db, Reply, Server, admin, free_port, new_key, scratch};

const ACME_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const ACME_SERIAL: u32 = 7_001_234;

/// ACME-8 registered as `acme8`, and again as `acme8b` (to show the sealed key is bound to
/// the name, not to the scheme's code).
fn registry() -> Registry {
    let mut registry = Registry::with_builtin_schemes();
    registry.register_scheme("acme8", acme::AcmeScheme);
    registry.register_scheme("acme8b", acme::AcmeScheme);
    registry
}

/// The service started from the library, on a runtime of its own thread; stopped on drop.
struct LibService {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl LibService {
    /// With [`registry`].
    fn start(db: &str, dir: &Path) -> Self {
        Self::start_with(db, dir, registry())
    }

    fn start_with(db: &str, dir: &Path, registry: Registry) -> Self {
        let port = free_port();
        let args = ServeArgs {
            database: db.to_owned(),
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            kek_file: dir.join("kek.hex"),
            log: "off".into(),
            log_format: "text".into(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(Service::new(args).registry(registry).serve_until(async {
                let _ = rx.await;
            }))
        });
        let service = Self {
            base: format!("http://127.0.0.1:{port}"),
            stop: Some(tx),
            thread: Some(thread),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::blocking::Client::new();
        while !http
            .get(format!("{}/healthz", service.base))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(
                !service.thread.as_ref().unwrap().is_finished(),
                "the service stopped"
            );
            assert!(Instant::now() < deadline, "the service did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }
}

impl Drop for LibService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// ACME-8's own tokens for `commands`, from its first counter, each entered in turn on its
/// verifier (a fresh device) and applied there with that counter as its sequence.
fn expected(commands: &[Command]) -> Vec<String> {
    let secret = acme::AcmeSecret {
        key: Key::from_hex(ACME_KEY).unwrap(),
        serial: ACME_SERIAL,
    };
    let mut counter = acme::CAPABILITIES.first_counter;
    let mut device = acme::AcmeState::default();
    commands
        .iter()
        .map(|command| {
            let sequence = counter;
            let token = acme::AcmeIssuer
                .issue(&secret, &mut counter, command)
                .unwrap();
            let outcome = acme::AcmeVerifier.verify(
                &secret,
                &mut device,
                token.as_str().as_bytes(),
                &Context::at(0),
            );
            assert!(
                matches!(outcome, Outcome::Applied { sequence: s, .. } if s == sequence),
                "{outcome:?}"
            );
            token.as_str().to_owned()
        })
        .collect()
}

/// (status, `error`, `field`).
fn refusal(r: &Reply) -> (u16, String, Option<String>) {
    let v = r.json();
    (
        r.status,
        v["error"].as_str().unwrap_or_default().to_owned(),
        v["field"].as_str().map(str::to_owned),
    )
}

fn device(serial: &str) -> Value {
    json!({"serial_number": serial, "token_scheme": "acme8", "key": ACME_KEY, "serial": ACME_SERIAL})
}

fn audit_events(c: &Client) -> u64 {
    let r = c.call("GET", "/v1/audit/verify", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["problems"], json!([]), "{}", r.json());
    r.json()["events"].as_u64().unwrap()
}

fn registered_scheme(db: &Db) {
    let dir = scratch(&format!("custom-{}", db.name()));
    let service = LibService::start(&db.url(), &dir);
    let (key, _) = new_key(&db.url(), "default", "issue,provision,read,audit");
    let c = Client::new(&service.base, &key);

    // Provisioning: the record's fields are checked by ACME-8's own model.
    let r = c.call("POST", "/v1/devices", Some(device("FAN-1")));
    assert_eq!(r.status, 200, "{}", r.json());
    let v = r.json();
    assert_eq!(
        (&v["token_scheme"], &v["counter"], &v["imported_counter"]),
        (&json!("acme8"), &json!(1), &json!(1))
    );
    let missing = json!({"serial_number": "FAN-2", "token_scheme": "acme8", "key": ACME_KEY});
    let wrong = json!({"serial_number": "FAN-2", "token_scheme": "acme8", "key": ACME_KEY, "serial": "seven"});
    let nested = json!({"serial_number": "FAN-2", "token_scheme": "acme8", "key": ACME_KEY,
                        "serial": ACME_SERIAL, "colour": {"r": 1}});
    let no_key = json!({"serial_number": "FAN-2", "token_scheme": "acme8", "serial": ACME_SERIAL});
    let unknown = json!({"serial_number": "FAN-2", "token_scheme": "acme9", "key": ACME_KEY, "serial": ACME_SERIAL});
    for (body, field) in [
        (missing, "serial"),
        (wrong, "serial"),
        (nested, "colour"),
        (no_key, "key"),
        (unknown.clone(), "token_scheme"),
    ] {
        let r = c.call("POST", "/v1/devices", Some(body));
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (400, Some(field)),
            "{}",
            r.json()
        );
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(field), "{message}");
        assert!(!message.contains(ACME_KEY), "{message}");
    }
    let r = c.call("POST", "/v1/devices", Some(unknown));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .ends_with("not one of openpaygo, nexus_full, nexus_small, ast1, acme8, acme8b"),
        "{}",
        r.json()
    );
    assert_eq!(c.call("GET", "/v1/devices/FAN-2", None).status, 404);
    // The same device again changes nothing; another key for its serial is a conflict.
    assert_eq!(
        c.call("POST", "/v1/devices", Some(device("FAN-1"))).status,
        200
    );
    let mut other = device("FAN-1");
    other["serial"] = json!(ACME_SERIAL + 1);
    assert_eq!(
        refusal(&c.call("POST", "/v1/devices", Some(other))),
        (400, "DEVICE_CONFLICT".into(), Some("serial_number".into()))
    );

    // Three tokens through the native API, each ACME-8's own.
    let events = audit_events(&c);
    let want = expected(&[
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
        Command::AddCredit(Credit::new(30, TimeUnit::Days)),
        Command::Unlock,
    ]);
    let bodies = [
        json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": "P-1"}),
        json!({"command": "add_credit", "amount": 720, "unit": "hours", "payment_ref": "P-2"}),
        json!({"command": "unlock", "payment_ref": "P-3"}),
    ];
    let mut first = Vec::new();
    for (i, (body, token)) in bodies.iter().zip(&want).enumerate() {
        let r = c.issue_v1("FAN-1", &format!("fan-{i}"), body).unwrap();
        assert_eq!((r.status, r.replayed), (200, false), "{}", r.json());
        let v = r.json();
        let sequence = i64::try_from(i).unwrap() + 1;
        assert_eq!(v["token"], json!(token));
        assert_eq!(v["keys"], json!(token.replace(' ', "")));
        assert_eq!(
            (&v["token_scheme"], &v["sequence"], &v["counter"]),
            (&json!("acme8"), &json!(sequence), &json!(sequence + 1))
        );
        first.push(r);
    }
    // One audit event per token, the chains intact.
    assert_eq!(audit_events(&c), events + 3);
    // A replay: the same bytes, marked.
    let again = c.issue_v1("FAN-1", "fan-1", &bodies[1]).unwrap();
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(again.body, first[1].body);
    // Another request under a used key, and commands ACME-8 cannot carry: refused, nothing
    // stored, no key consumed.
    let r = c.issue_v1("FAN-1", "fan-1", &bodies[0]).unwrap();
    assert_eq!(refusal(&r).0, 400);
    assert_eq!(refusal(&r).1, "IDEMPOTENCY_KEY_REUSED");
    let set = json!({"command": "set_credit", "amount": 7, "unit": "days", "payment_ref": "P-4"});
    let r = c.issue_v1("FAN-1", "fan-x", &set).unwrap();
    assert_eq!(
        refusal(&r),
        (400, "UNSUPPORTED_COMMAND".into(), Some("command".into()))
    );
    let big = json!({"command": "add_credit", "amount": 91, "unit": "days", "payment_ref": "P-4"});
    let r = c.issue_v1("FAN-1", "fan-x", &big).unwrap();
    assert_eq!(
        refusal(&r),
        (400, "UNSUPPORTED_COMMAND".into(), Some("command".into()))
    );
    let hours =
        json!({"command": "add_credit", "amount": 36, "unit": "hours", "payment_ref": "P-4"});
    let r = c.issue_v1("FAN-1", "fan-x", &hours).unwrap();
    assert_eq!(
        refusal(&r),
        (400, "VALIDATION".into(), Some("amount".into()))
    );
    let wipe = json!({"command": "wipe", "target": "credit", "reason": "test"});
    let r = c.issue_v1("FAN-1", "fan-x", &wipe).unwrap();
    assert_eq!(refusal(&r).1, "UNSUPPORTED_COMMAND");
    // PaygOps' shapes do not carry it: refused, naming the device.
    let paygops =
        json!({"device_serial_number": "FAN-1", "credit_unit": "DAYS", "credit_value": 1});
    let r = c.call("POST", "/paygops/credit_updates/u-1", Some(paygops));
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("device_serial_number"))
    );
    assert_eq!(audit_events(&c), events + 3);
    // The key not consumed by the refusals now issues the next token, at the next counter.
    let week = json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": "P-5"});
    let r = c.issue_v1("FAN-1", "fan-x", &week).unwrap();
    assert_eq!(r.status, 200, "{}", r.json());
    let want = expected(&[
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
        Command::AddCredit(Credit::new(30, TimeUnit::Days)),
        Command::Unlock,
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
    ]);
    assert_eq!(
        (&r.json()["token"], &r.json()["sequence"]),
        (&json!(want[3]), &json!(4))
    );

    // The history: every counter once, in order.
    let history = c.call("GET", "/v1/devices/FAN-1/tokens", None).json();
    let tokens: Vec<_> = history["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["sequence"].as_i64().unwrap(),
                t["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected_history: Vec<_> = (1..=4).zip(want).collect();
    assert_eq!(tokens, expected_history);
    assert_eq!(
        c.call("GET", "/v1/devices/FAN-1", None).json()["counter"],
        json!(5)
    );

    // The CSV import: the scheme's own columns are its record's fields; a bad one refuses the
    // file, naming the row and the field.
    let csv = |rows: &str| {
        let body = format!("Serial Number,Token Scheme,Key,Counter,Serial\n{rows}");
        c.send("POST", "/v1/imports", Some(body.into_bytes()), &[])
            .unwrap()
    };
    let r = csv(&format!(
        "FAN-3,acme8,{ACME_KEY},,{ACME_SERIAL}\nFAN-4,acme8,{ACME_KEY},,x7\n"
    ));
    assert_eq!(r.status, 400, "{}", r.json());
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("row 3: ") && message.contains("serial"),
        "{message}"
    );
    assert!(!message.contains(ACME_KEY), "{message}");
    assert_eq!(c.call("GET", "/v1/devices/FAN-3", None).status, 404);
    let r = csv(&format!(
        "FAN-3,acme8,{ACME_KEY},,{ACME_SERIAL}\nFAN-1,acme8,{ACME_KEY},,{ACME_SERIAL}\n"
    ));
    assert_eq!(r.status, 200, "{}", r.json());
    assert_eq!(
        (&r.json()["imported"], &r.json()["skipped"]),
        (&json!(["FAN-3"]), &json!(["FAN-1"]))
    );
    let r = c.issue_v1("FAN-3", "fan3-0", &bodies[0]).unwrap();
    let first_week = expected(&[Command::AddCredit(Credit::new(7, TimeUnit::Days))]);
    assert_eq!(
        (&r.json()["token"], &r.json()["sequence"]),
        (&json!(first_week[0]), &json!(1))
    );

    // The sealed key is bound to the scheme's name: moved under another name (the same code
    // registered as `acme8b`), it does not open.
    db.sql(
        "UPDATE devices SET params = REPLACE(params, '\"acme8\"', '\"acme8b\"'), scheme = 'acme8b' WHERE serial = 'FAN-1'",
    );
    let r = c.issue_v1("FAN-1", "fan-y", &week).unwrap();
    assert_eq!(refusal(&r).0, 500, "{}", r.json());
    drop(service);
}

#[test]
fn registered_scheme_sqlite() {
    registered_scheme(&Db::sqlite());
}

#[test]
fn registered_scheme_postgres() {
    registered_scheme(&Db::postgres());
}

/// `paylock serve` computes tokens through the built-in registry: `acme8` is no scheme there.
fn builtin_service_refuses(db: &Db) {
    let dir = scratch(&format!("custom-builtin-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let c = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let r = c.call("POST", "/v1/devices", Some(device("FAN-1")));
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("token_scheme")),
        "{}",
        r.json()
    );
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .ends_with("not one of openpaygo, nexus_full, nexus_small, ast1"),
        "{}",
        r.json()
    );
    assert_eq!(c.call("GET", "/v1/devices/FAN-1", None).status, 404);
}

#[test]
fn builtin_service_refuses_sqlite() {
    builtin_service_refuses(&Db::sqlite());
}

#[test]
fn builtin_service_refuses_postgres() {
    builtin_service_refuses(&Db::postgres());
}

/// `paylock admin import` checks rows with the built-in registry: an ACME-8 row is refused,
/// named by its row and field, nothing stored. The admin entry point given the registry (as a
/// manufacturer's binary runs it) imports the same file, and the service issues from the
/// imported device: ACME-8's own tokens from its first counter.
fn admin_import(db: &Db) {
    let dir = scratch(&format!("custom-admin-{}", db.name()));
    let service = LibService::start(&db.url(), &dir);
    let (key, _) = new_key(&db.url(), "default", "issue,provision,read,audit");
    let c = Client::new(&service.base, &key);
    let csv = dir.join("acme.csv");
    std::fs::write(
        &csv,
        format!(
            "Serial Number,Token Scheme,Key,Counter,Serial\nFAN-7,acme8,{ACME_KEY},,{ACME_SERIAL}\n"
        ),
    )
    .unwrap();
    let kek = dir.join("kek.hex");
    let import = [
        "import",
        "--database",
        &db.url(),
        "--kek-file",
        kek.to_str().unwrap(),
        csv.to_str().unwrap(),
    ];
    let events = audit_events(&c);
    let (ok, out) = admin(&import);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "row 2: field \"token_scheme\" is \"acme8\", not one of openpaygo, nexus_full, nexus_small, ast1\n"
        ),
        "{out}"
    );
    assert!(!out.contains(ACME_KEY), "{out}");
    assert_eq!(c.call("GET", "/v1/devices/FAN-7", None).status, 404);
    assert_eq!(audit_events(&c), events);

    let run = || {
        let args = AdminArgs {
            command: AdminCommand::Import {
                database: db.url(),
                kek_file: kek.clone(),
                tenant: "default".into(),
                file: csv.clone(),
            },
        };
        Admin::new(args).registry(registry()).run()
    };
    run().unwrap();
    let v = c.call("GET", "/v1/devices/FAN-7", None).json();
    assert_eq!(
        (&v["token_scheme"], &v["counter"], &v["imported_counter"]),
        (&json!("acme8"), &json!(1), &json!(1)),
        "{v}"
    );
    // The device's provisioning and the file's import, on their chains.
    assert_eq!(audit_events(&c), events + 2);
    // The same file again: the row is skipped, the import recorded.
    run().unwrap();
    assert_eq!(audit_events(&c), events + 3);

    let want = expected(&[
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
        Command::Unlock,
    ]);
    let bodies = [
        json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": "P-1"}),
        json!({"command": "unlock", "payment_ref": "P-2"}),
    ];
    for (i, (body, token)) in bodies.iter().zip(&want).enumerate() {
        let r = c.issue_v1("FAN-7", &format!("fan7-{i}"), body).unwrap();
        assert_eq!(r.status, 200, "{}", r.json());
        let sequence = i64::try_from(i).unwrap() + 1;
        assert_eq!(
            (&r.json()["token"], &r.json()["sequence"]),
            (&json!(token), &json!(sequence))
        );
    }
    assert_eq!(audit_events(&c), events + 5);
    drop(service);
}

#[test]
fn admin_import_sqlite() {
    admin_import(&Db::sqlite());
}

#[test]
fn admin_import_postgres() {
    admin_import(&Db::postgres());
}

/// ACME-8 with a keypad of letters too: its tokens would not fit an OpenPAYGO Metrics answer.
#[derive(Debug)]
struct Lettered;

#[derive(Debug)]
struct LetteredModel(Box<dyn paylock_protocol::Model>);

impl paylock_protocol::Model for LetteredModel {
    fn capabilities(&self) -> paylock::capability::Capabilities {
        let mut capabilities = self.0.capabilities();
        capabilities.keypad = paylock::capability::Keypad::Custom("0123456789AB");
        capabilities
    }

    fn issue_carrying(
        &self,
        device: paylock_protocol::Input<'_>,
        counter: u32,
        carry: &mut paylock_protocol::registry::Carry,
        command: &Command,
    ) -> Result<paylock_protocol::registry::Issued, paylock_protocol::Error> {
        self.0.issue_carrying(device, counter, carry, command)
    }

    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, paylock::IssueError> {
        self.0.dry_run(counter, command)
    }
}

impl paylock_protocol::Scheme for Lettered {
    fn model(
        &self,
        config: paylock_protocol::Input<'_>,
    ) -> Result<Box<dyn paylock_protocol::Model>, paylock_protocol::Error> {
        Ok(Box::new(LetteredModel(acme::AcmeScheme.model(config)?)))
    }
}

/// A report paylock's device-side signer builds for an ACME-8 device: simple layout, its
/// request count and `token_count`, signed `da` with the device key.
fn acme_report(serial: &str, count: u64, token_count: i64, key: &str) -> String {
    let key = Key::from_hex(key).unwrap();
    let mut buf = [0u8; 512];
    let mut request = Request::new(&mut buf, Layout::Simple, serial).unwrap();
    request.request_count(count).unwrap();
    request.data(|d| d.int("token_count", token_count)).unwrap();
    request.sign(&key, AuthMethod::Data).unwrap().to_owned()
}

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

/// The tokens of an answer, once paylock's device-side verifier has checked its signature.
fn answer_tokens(answer: &[u8], serial: &str, count: u64) -> Vec<String> {
    let key = Key::from_hex(ACME_KEY).unwrap();
    let sent = Sent {
        serial_number: serial,
        timestamp: 0,
        request_count: count,
    };
    let verified = paylock::metrics::Answer::verify(answer, &key, &sent)
        .unwrap_or_else(|e| panic!("the device refuses the answer: {e:?}"));
    verified
        .tokens()
        .map(|t| t.trim_matches('"').to_owned())
        .collect()
}

/// `POST /dd` for a registered scheme's device: served when the device was provisioned with a
/// Metrics profile (its opt-in, checked then: a scheme whose tokens are not digits is refused,
/// naming the field), answered with its pending tokens as ACME-8 issued them, signed with its
/// key; refused (403 `METRICS_NOT_PROVISIONED`, nothing stored) for a device without one.
fn device_reports(db: &Db) {
    let dir = scratch(&format!("custom-dd-{}", db.name()));
    let mut registry = registry();
    registry.register_scheme("acme8x", Lettered);
    let service = LibService::start_with(&db.url(), &dir, registry);
    let (key, _) = new_key(&db.url(), "default", "issue,provision,read,audit");
    let c = Client::new(&service.base, &key);

    let mut with_profile = device("FAN-M");
    with_profile["metrics_auth_method"] = json!("da");
    let r = c.call("POST", "/v1/devices", Some(with_profile.clone()));
    assert_eq!(r.status, 200, "{}", r.json());
    assert_eq!(r.json()["metrics_auth_method"], json!("da"));
    assert_eq!(
        c.call("POST", "/v1/devices", Some(device("FAN-1"))).status,
        200
    );
    // A scheme whose tokens a Metrics answer cannot carry: refused with a profile, named.
    let mut lettered = with_profile.clone();
    lettered["serial_number"] = json!("FAN-L");
    lettered["token_scheme"] = json!("acme8x");
    let r = c.call("POST", "/v1/devices", Some(lettered.clone()));
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("metrics_auth_method")),
        "{}",
        r.json()
    );
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("\"acme8x\"") && message.contains("1 to 48 digits"),
        "{message}"
    );
    assert_eq!(c.call("GET", "/v1/devices/FAN-L", None).status, 404);
    lettered
        .as_object_mut()
        .unwrap()
        .remove("metrics_auth_method");
    assert_eq!(c.call("POST", "/v1/devices", Some(lettered)).status, 200);

    let want = expected(&[
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
        Command::AddCredit(Credit::new(30, TimeUnit::Days)),
    ]);
    for (i, amount) in [7, 30].into_iter().enumerate() {
        let body = json!({"command": "add_credit", "amount": amount, "unit": "days",
                          "payment_ref": format!("P-{i}")});
        assert_eq!(
            c.issue_v1("FAN-M", &format!("m-{i}"), &body)
                .unwrap()
                .status,
            200
        );
        assert_eq!(
            c.issue_v1("FAN-1", &format!("n-{i}"), &body)
                .unwrap()
                .status,
            200
        );
    }
    let digits: Vec<String> = want.iter().map(|t| t.replace(' ', "")).collect();
    let events = audit_events(&c);

    // The device has had neither token: both, oldest first, as ACME-8 issued them.
    let r = post_dd(&service.base, &acme_report("FAN-M", 1, 0, ACME_KEY));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(answer_tokens(&r.body, "FAN-M", 1), digits);
    // It entered the first: the second only.
    let r = post_dd(&service.base, &acme_report("FAN-M", 2, 1, ACME_KEY));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(answer_tokens(&r.body, "FAN-M", 2), digits[1..]);
    // The same report again is a replay.
    let r = post_dd(&service.base, &acme_report("FAN-M", 2, 1, ACME_KEY));
    assert_eq!(refusal(&r).1, "REPLAYED_REPORT");
    // Signed with another key: not the device's.
    let r = post_dd(
        &service.base,
        &acme_report("FAN-M", 3, 1, "00112233445566778899aabbccddeeff"),
    );
    assert_eq!(refusal(&r).1, "INVALID_AUTHENTICATION");
    assert_eq!(audit_events(&c), events + 2);
    let stored = c.call("GET", "/v1/devices/FAN-M/reports", None).json();
    assert_eq!(stored["reports"].as_array().unwrap().len(), 2, "{stored}");

    // Without a profile: refused once its signature holds, naming the device; nothing stored.
    let r = post_dd(&service.base, &acme_report("FAN-1", 1, 0, ACME_KEY));
    assert_eq!(
        refusal(&r),
        (
            403,
            "METRICS_NOT_PROVISIONED".into(),
            Some("serial_number".into())
        ),
        "{}",
        r.json()
    );
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("\"acme8\""), "{message}");
    let r = post_dd(
        &service.base,
        &acme_report("FAN-1", 1, 0, "00112233445566778899aabbccddeeff"),
    );
    assert_eq!(refusal(&r).1, "INVALID_AUTHENTICATION");
    let stored = c.call("GET", "/v1/devices/FAN-1/reports", None).json();
    assert_eq!(stored["reports"], json!([]), "{stored}");
    assert_eq!(audit_events(&c), events + 2);
    drop(service);
}

#[test]
fn device_reports_sqlite() {
    device_reports(&Db::sqlite());
}

#[test]
fn device_reports_postgres() {
    device_reports(&Db::postgres());
}

/// The database outlives the registry: plain `paylock serve` on a ledger holding ACME-8 devices
/// reads them (device, token history) but refuses their issuances, naming the scheme (400
/// `SCHEME_NOT_REGISTERED`, not a 500), storing nothing and leaving the idempotency key unused;
/// started again with the registry, the service continues from the device's next counter.
fn restart_without_registry(db: &Db) {
    let dir = scratch(&format!("custom-restart-{}", db.name()));
    let service = LibService::start(&db.url(), &dir);
    let (key, _) = new_key(&db.url(), "default", "issue,provision,read,audit");
    let c = Client::new(&service.base, &key);
    assert_eq!(
        c.call("POST", "/v1/devices", Some(device("FAN-1"))).status,
        200
    );
    let want = expected(&[
        Command::AddCredit(Credit::new(7, TimeUnit::Days)),
        Command::Unlock,
        Command::AddCredit(Credit::new(30, TimeUnit::Days)),
    ]);
    let bodies = [
        json!({"command": "add_credit", "amount": 7, "unit": "days", "payment_ref": "P-1"}),
        json!({"command": "unlock", "payment_ref": "P-2"}),
        json!({"command": "add_credit", "amount": 30, "unit": "days", "payment_ref": "P-3"}),
    ];
    let mut reporting = device("FAN-M");
    reporting["metrics_auth_method"] = json!("da");
    assert_eq!(c.call("POST", "/v1/devices", Some(reporting)).status, 200);
    let first = c.issue_v1("FAN-1", "r-0", &bodies[0]).unwrap();
    assert_eq!(first.status, 200, "{}", first.json());
    assert_eq!(c.issue_v1("FAN-1", "r-1", &bodies[1]).unwrap().status, 200);
    drop(service);

    // `paylock serve`: the built-in registry, the same database and KEK.
    let server = Server::start(&db.url(), &dir, &[]);
    assert!(server.first_key.is_none());
    let c = Client::new(&server.base, &key);
    let events = audit_events(&c);
    let history = |c: &Client| -> Vec<(i64, String)> {
        let r = c.call("GET", "/v1/devices/FAN-1/tokens", None);
        assert_eq!(r.status, 200, "{}", r.json());
        r.json()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["sequence"].as_i64().unwrap(),
                    t["token"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let issued: Vec<_> = (1..=2).zip(want.iter().take(2).cloned()).collect();
    for _ in 0..2 {
        let r = c.issue_v1("FAN-1", "r-2", &bodies[2]).unwrap();
        assert_eq!(
            refusal(&r),
            (
                400,
                "SCHEME_NOT_REGISTERED".into(),
                Some("token_scheme".into())
            ),
            "{}",
            r.json()
        );
        assert!(!r.replayed);
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("\"acme8\""), "{message}");
        assert!(!message.contains(ACME_KEY), "{message}");
    }
    // A replay of a key used before the restart is still answered from the ledger.
    let again = c.issue_v1("FAN-1", "r-0", &bodies[0]).unwrap();
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(again.body, first.body);
    // Reads: the device at its count, its history; nothing was stored.
    let v = c.call("GET", "/v1/devices/FAN-1", None).json();
    assert_eq!(
        (&v["token_scheme"], &v["counter"]),
        (&json!("acme8"), &json!(3)),
        "{v}"
    );
    assert_eq!(history(&c), issued);
    assert_eq!(c.call("GET", "/paygops/devices/FAN-1", None).status, 200);
    assert_eq!(audit_events(&c), events);
    // Device reports need no model: still answered, signed with the device's key.
    let r = post_dd(&server.base, &acme_report("FAN-M", 1, 0, ACME_KEY));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(answer_tokens(&r.body, "FAN-M", 1), Vec::<String>::new());
    // A new device of the scheme is refused too, naming the field.
    let r = c.call("POST", "/v1/devices", Some(device("FAN-2")));
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("token_scheme"))
    );
    let logs = server.logs();
    assert!(!logs.contains("panicked"), "{logs}");
    drop(server);

    // With the registry again: the unused key issues the device's next token.
    let service = LibService::start(&db.url(), &dir);
    let c = Client::new(&service.base, &key);
    let r = c.issue_v1("FAN-1", "r-2", &bodies[2]).unwrap();
    assert_eq!((r.status, r.replayed), (200, false), "{}", r.json());
    assert_eq!(
        (
            &r.json()["token"],
            &r.json()["sequence"],
            &r.json()["counter"]
        ),
        (&json!(want[2]), &json!(3), &json!(4))
    );
    let all: Vec<_> = (1..=3).zip(want).collect();
    assert_eq!(history(&c), all);
    assert_eq!(audit_events(&c), events + 2);
    drop(service);
}

#[test]
fn restart_without_registry_sqlite() {
    restart_without_registry(&Db::sqlite());
}

#[test]
fn restart_without_registry_postgres() {
    restart_without_registry(&Db::postgres());
}
