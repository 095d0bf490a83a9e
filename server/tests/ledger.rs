//! The service over real HTTP, on a SQLite file and on a PostgreSQL server of its own: the
//! PaygOps contract, idempotency under duplicate storms, crashes and database restarts, bad
//! input, imports and the audit chain. After every run each device's tokens are entered in order
//! on paylock's device engine (and the OpenPAYGO ones on the `openpaygo` reference decoder).

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

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{Value, json};
use support::{
    Client, Db, Reply, Server, TestDevice, admin, check_on_engine, check_on_reference, devices,
    scratch,
};

/// One request per key: PaygOps for OpenPAYGO devices, native for the others.
fn request(d: &TestDevice, key: &str, n: usize) -> (String, String, Value, Option<String>) {
    if d.scheme == "openpaygo" {
        let body = json!({"device_serial_number": d.serial, "credit_unit": "DAYS", "credit_value": 1 + n % 30,
            "credit_update_type": "ADD_CREDIT"});
        (
            "POST".into(),
            format!("/paygops/credit_updates/{key}"),
            body,
            None,
        )
    } else {
        let body = json!({"command": "add_credit", "amount": 1 + n % 48, "unit": "hours", "payment_ref": format!("pay-{key}")});
        (
            "POST".into(),
            format!("/v1/devices/{}/issue", d.serial),
            body,
            Some(key.to_owned()),
        )
    }
}

fn send(
    c: &Client,
    req: &(String, String, Value, Option<String>),
) -> Result<Reply, reqwest::Error> {
    let headers: Vec<(&str, &str)> = req
        .3
        .as_deref()
        .map(|k| vec![("Idempotency-Key", k)])
        .unwrap_or_default();
    c.send(
        &req.0,
        &req.1,
        Some(serde_json::to_vec(&req.2).unwrap()),
        &headers,
    )
}

fn provision(c: &Client, devs: &[TestDevice]) {
    for d in devs {
        let r = c.call("POST", "/v1/devices", Some(d.provision_body()));
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
}

/// Every device's tokens from the history API, checked: no count used twice.
fn history(c: &Client, devs: &[TestDevice]) -> HashMap<String, Vec<String>> {
    let mut all = HashMap::new();
    for d in devs {
        let r = c.call("GET", &format!("/v1/devices/{}/tokens", d.serial), None);
        assert_eq!(r.status, 200);
        let v = r.json();
        let mut seqs = HashSet::new();
        let mut tokens = Vec::new();
        for t in v["tokens"].as_array().unwrap() {
            if let Some(s) = t["sequence"].as_i64() {
                assert!(seqs.insert(s), "{}: count {s} used twice", d.serial);
            }
            tokens.push(t["token"].as_str().unwrap().to_owned());
        }
        all.insert(d.serial.clone(), tokens);
    }
    all
}

fn verify_tokens(
    devs: &[TestDevice],
    tokens: &HashMap<String, Vec<String>>,
    dir: &std::path::Path,
) {
    let (accepted, problems) = check_on_engine(devs, tokens);
    assert!(problems.is_empty(), "{problems:#?}");
    let total: usize = tokens.values().map(Vec::len).sum();
    assert_eq!(accepted, total);
    check_on_reference(devs, tokens, dir);
}

/// No device key and no issued token in any log line, at level trace.
fn scan_logs(servers: &[&Server], devs: &[TestDevice], tokens: &HashMap<String, Vec<String>>) {
    let logs: String = servers.iter().map(|s| s.logs()).collect();
    assert!(logs.len() > 1000, "trace logs were written");
    let lower = logs.to_lowercase();
    let mut hits = Vec::new();
    for d in devs {
        if lower.contains(&d.key_hex) {
            hits.push(format!("key of {}", d.serial));
        }
    }
    for t in tokens.values().flatten() {
        if logs.contains(t.as_str()) || logs.contains(&t.replace(' ', "")) {
            hits.push("a token".to_owned());
        }
    }
    assert!(hits.is_empty(), "secrets in logs: {hits:?}");
}

/// After a crash run: every start was a clean one (it listened; nothing panicked or logged an
/// error; no second KEK and no second first key were made), the first API key appears once (where
/// `serve` prints it on first start) and no device key, the KEK or a token anywhere in the logs,
/// and the audit holds no device key, the KEK or the API key.
fn scan_crash_run(
    server: &Server,
    db: &Db,
    devs: &[TestDevice],
    tokens: &HashMap<String, Vec<String>>,
) {
    let kek = std::fs::read_to_string(server.dir.join("kek.hex")).unwrap();
    let kek = kek.trim().to_lowercase();
    assert_eq!(kek.len(), 64);
    let api_key = server.first_key.clone().unwrap();
    let (mut starts, mut new_keks, mut problems) = (0, 0, Vec::new());
    for entry in std::fs::read_dir(&server.dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(n) = name
            .strip_prefix("stdout-")
            .and_then(|n| n.strip_suffix(".log"))
        else {
            continue;
        };
        starts += 1;
        let out = std::fs::read_to_string(&path).unwrap();
        let err = std::fs::read_to_string(server.dir.join(format!("stderr-{n}.log"))).unwrap();
        if !out.contains("listening on http://") {
            problems.push(format!("start {n} did not listen"));
        }
        if err
            .lines()
            .any(|l| l.contains(r#""level":"ERROR""#) || l.contains("panicked"))
        {
            problems.push(format!("start {n} logged an error or panicked"));
        }
        new_keks += usize::from(err.contains("created a new key-encryption key"));
    }
    assert!(starts >= 25, "{starts} starts");
    assert_eq!(new_keks, 1, "one KEK, made on the first start");
    assert!(problems.is_empty(), "{problems:#?}");
    let logs = server.logs();
    assert_eq!(
        logs.matches(api_key.as_str()).count(),
        1,
        "the API key beyond its first print"
    );
    assert!(!logs.to_lowercase().contains(&kek), "the KEK in the logs");
    scan_logs(&[server], devs, tokens);
    let audit = match db {
        Db::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            let mut q = c
                .prepare("SELECT kind || ' ' || body FROM audit_events")
                .unwrap();
            let rows = q.query_map([], |r| r.get::<_, String>(0)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
        }
        Db::Postgres(pg, url) => pg.psql(url, "SELECT kind || ' ' || body FROM audit_events"),
    };
    assert!(audit.lines().count() > 200, "the audit was read");
    let audit = audit.to_lowercase();
    for (what, secret) in [
        ("the KEK", kek.as_str()),
        ("the API key", &api_key.to_lowercase()),
    ] {
        assert!(!audit.contains(secret), "{what} in the audit");
    }
    for d in devs {
        assert!(
            !audit.contains(&d.key_hex),
            "the key of {} in the audit",
            d.serial
        );
    }
}

fn storm(url: &str, name: &str, replicas: usize) {
    let dir = scratch(&format!("storm-{name}-{replicas}"));
    let url = url.to_owned();
    let mut servers: Vec<Server> = Vec::new();
    let first = Server::start(&url, &dir, &[]);
    let key = first.first_key.clone().unwrap();
    servers.push(first);
    for _ in 1..replicas {
        servers.push(Server::start(&url, &dir, &[]));
    }
    let clients: Vec<Client> = servers.iter().map(|s| Client::new(&s.base, &key)).collect();
    let devs = devices(16, 7 + replicas as u64);
    provision(&clients[0], &devs);
    let keys_per_device = 6;
    let jobs: Vec<(usize, String)> = (0..devs.len())
        .flat_map(|d| (0..keys_per_device).map(move |k| (d, format!("k{d}-{k}-{replicas}"))))
        .collect();
    let bodies: Mutex<HashMap<String, Vec<Reply>>> = Mutex::new(HashMap::new());
    for round in jobs.chunks(8) {
        std::thread::scope(|s| {
            for (n, (d, key)) in round.iter().enumerate() {
                for copy in 0..5 {
                    let req = request(&devs[*d], key, n);
                    let c = &clients[(n + copy) % clients.len()];
                    let bodies = &bodies;
                    s.spawn(move || {
                        let r = send(c, &req).unwrap();
                        bodies
                            .lock()
                            .unwrap()
                            .entry(key.clone())
                            .or_default()
                            .push(r);
                    });
                }
            }
        });
    }
    let bodies = bodies.into_inner().unwrap();
    let mut divergent = 0;
    let mut fresh_total = 0;
    for (key, replies) in &bodies {
        assert_eq!(replies.len(), 5);
        assert!(
            replies.iter().all(|r| r.status == 200),
            "{key}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        divergent += replies.iter().filter(|r| r.body != replies[0].body).count();
        let fresh = replies.iter().filter(|r| !r.replayed).count();
        assert_eq!(
            fresh, 1,
            "{key}: exactly one copy issues, the others replay"
        );
        fresh_total += fresh;
    }
    assert_eq!(divergent, 0);
    let tokens = history(&clients[0], &devs);
    let issued: usize = tokens.values().map(Vec::len).sum();
    assert_eq!(issued, jobs.len(), "no extra issuances");
    assert_eq!(fresh_total, jobs.len());
    verify_tokens(&devs, &tokens, &dir);
    let refs: Vec<&Server> = servers.iter().collect();
    scan_logs(&refs, &devs, &tokens);
    let (ok, out) = admin(&["audit", "verify", "--database", &url]);
    assert!(ok, "{out}");
    eprintln!(
        "storm {name} x{replicas}: {} keys x 5 copies, 0 divergent, {issued} issuances",
        jobs.len()
    );
}

#[test]
fn storm_sqlite() {
    let db = Db::sqlite();
    storm(&db.url(), db.name(), 1);
}

#[test]
fn storm_postgres_one_and_three_replicas() {
    let db = Db::postgres();
    storm(&db.url(), db.name(), 1);
    let Db::Postgres(pg, _) = &db else {
        unreachable!()
    };
    storm(&pg.database(), db.name(), 3);
}

fn crashes(db: &Db) {
    use rand::{Rng, SeedableRng};
    let dir = scratch(&format!("crash-{}", db.name()));
    let url = db.url();
    let mut server = Server::start(&url, &dir, &[]);
    let key = server.first_key.clone().unwrap();
    let devs = devices(8, 99);
    provision(&Client::new(&server.base, &key), &devs);
    // From here the service kills itself right before 4 % of its commits; the test kills it
    // at random too.
    const FAULT: (&str, &str) = ("PAYLOCK_TEST_FAULT", "kill-before-commit:40");
    server.kill_and_restart_with(&[FAULT]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut first: HashMap<String, Vec<u8>> = HashMap::new();
    let mut sent: Vec<(String, (String, String, Value, Option<String>))> = Vec::new();
    let mut kills = 0;
    let mut n = 0;
    while kills < 24 || n < 200 {
        let d = &devs[n % devs.len()];
        let k = format!("c{n}");
        let req = request(d, &k, n);
        sent.push((k.clone(), req.clone()));
        let client = Client::new(&server.base, &key);
        match send(&client, &req) {
            Ok(r) if r.status == 200 => {
                first.insert(k, r.body);
            }
            Ok(r) => panic!(
                "unexpected {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ),
            Err(_) => {}
        }
        n += 1;
        if !server.alive() || rng.random_range(0..10) == 0 {
            kills += 1;
            server.kill_and_restart();
        }
        assert!(n < 2_000, "too few crashes");
    }
    // The re-sends must not crash: keys the crashes left unanswered are issued now.
    server.kill_and_restart_with(&[]);
    // Every key again, twice: a known answer must come back byte for byte.
    let client = Client::new(&server.base, &key);
    let mut mismatches = 0;
    for (k, req) in &sent {
        let a = send(&client, req).unwrap();
        let b = send(&client, req).unwrap();
        assert_eq!(a.status, 200);
        assert!(b.replayed);
        if first.get(k).is_some_and(|body| *body != a.body) || a.body != b.body {
            mismatches += 1;
        }
    }
    assert_eq!(mismatches, 0);
    let tokens = history(&client, &devs);
    assert_eq!(tokens.values().map(Vec::len).sum::<usize>(), sent.len());
    verify_tokens(&devs, &tokens, &dir);
    let (ok, out) = admin(&["audit", "verify", "--database", &url]);
    assert!(ok, "{out}");
    scan_crash_run(&server, db, &devs, &tokens);
    eprintln!(
        "crashes {}: {kills} kills over {} requests, 0 mismatches",
        db.name(),
        sent.len()
    );
}

#[test]
fn crashes_sqlite() {
    crashes(&Db::sqlite());
}

#[test]
fn crashes_postgres() {
    crashes(&Db::postgres());
}

#[test]
fn postgres_restart_under_load() {
    let db = Db::postgres();
    let Db::Postgres(pg, url) = &db else {
        unreachable!()
    };
    let dir = scratch("restart");
    let server = Server::start(url, &dir, &[]);
    let key = server.first_key.clone().unwrap();
    let devs = devices(8, 11);
    provision(&Client::new(&server.base, &key), &devs);
    let statuses: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (statuses, done, devs, base, key) = (&statuses, &done, &devs, &server.base, &key);
            s.spawn(move || {
                let c = Client::new(base, key);
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::SeqCst) || n < 30 {
                    let req = request(&devs[(t + n) % devs.len()], &format!("r{t}-{n}"), n);
                    loop {
                        let r = send(&c, &req).expect("the service stays up");
                        statuses.lock().unwrap().push(r.status);
                        if r.status == 200 {
                            break;
                        }
                        assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
                        assert!(r.retry_after);
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    n += 1;
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        pg.ctl("restart");
        std::thread::sleep(std::time::Duration::from_millis(500));
        pg.ctl("stop");
        std::thread::sleep(std::time::Duration::from_millis(1_500));
        pg.ctl("start");
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let statuses = statuses.into_inner().unwrap();
    let unavailable = statuses.iter().filter(|s| **s == 503).count();
    assert!(unavailable > 0, "the outage was seen");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503));
    let client = Client::new(&server.base, &key);
    let tokens = history(&client, &devs);
    verify_tokens(&devs, &tokens, &dir);
    eprintln!(
        "restart: {} answers, {unavailable} were 503, all retried to 200",
        statuses.len()
    );
}

/// Concurrent copies of PaygOps commits (`PUT /credit_updates/{uuid}`) of one device's PENDING
/// updates: each update committed once (one fresh answer, every copy the same body, one
/// audit event), and the device's audit chain intact.
fn commit_copies(db: &Db) {
    const COPIES: usize = 5;
    let dir = scratch(&format!("commit-copies-{}", db.name()));
    let server = Server::start(&db.url(), &dir, &[]);
    let c = Client::new(&server.base, server.first_key.as_ref().unwrap());
    let dev = json!({"serial_number": "CC1", "key": "000102030405060708090a0b0c0d0e0f", "starting_code": 5});
    assert_eq!(c.call("POST", "/paygops/devices", Some(dev)).status, 200);
    let uuids: Vec<String> = (0..8).map(|i| format!("cc-{i}")).collect();
    for (i, uuid) in uuids.iter().enumerate() {
        let body = json!({"device_serial_number": "CC1", "credit_unit": "DAYS", "credit_value": 1 + i,
            "credit_update_type": "ADD_CREDIT", "status": "PENDING"});
        let r = c.call(
            "POST",
            &format!("/paygops/credit_updates/{uuid}"),
            Some(body),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let replies: Mutex<HashMap<String, Vec<Reply>>> = Mutex::default();
    std::thread::scope(|s| {
        for _ in 0..COPIES {
            let (c, uuids, replies) = (&c, &uuids, &replies);
            s.spawn(move || {
                for uuid in uuids {
                    let path = format!("/paygops/credit_updates/{uuid}");
                    let r = c.call("PUT", &path, Some(json!({"status": "COMMITTED"})));
                    replies
                        .lock()
                        .unwrap()
                        .entry(uuid.clone())
                        .or_default()
                        .push(r);
                }
            });
        }
    });
    let replies = replies.into_inner().unwrap();
    assert_eq!(replies.len(), uuids.len());
    for (uuid, list) in &replies {
        assert_eq!(list.len(), COPIES);
        for r in list {
            assert_eq!(
                r.status,
                200,
                "{uuid}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.body, list[0].body, "{uuid}: divergent bodies");
        }
        let fresh = list.iter().filter(|r| !r.replayed).count();
        assert_eq!(fresh, 1, "{uuid}: committed once");
        assert_eq!(list[0].json()["status"], "COMMITTED");
    }
    let sql = "SELECT count(*) FROM audit_events WHERE kind = 'credit_update.committed'";
    let events = match db {
        Db::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap()
            .to_string(),
        Db::Postgres(pg, url) => pg.psql(url, sql).trim().to_owned(),
    };
    assert_eq!(
        events,
        uuids.len().to_string(),
        "one audit event per commit"
    );
    let (ok, out) = admin(&["audit", "verify", "--database", &db.url()]);
    assert!(ok && out.contains("intact"), "{out}");
}

#[test]
fn commit_copies_sqlite() {
    commit_copies(&Db::sqlite());
}

#[test]
fn commit_copies_postgres() {
    commit_copies(&Db::postgres());
}
