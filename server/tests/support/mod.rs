//! Real things for the server tests: a PostgreSQL server started with initdb/pg_ctl on a free
//! port, the service (`paylock serve`) on a free port, an HTTP client, and the token checkers.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The `paylock` binary, which mounts the service as `paylock serve` and `paylock admin`. It is
/// another package's (`paylock-cli`, which depends on this one), so cargo does not build it for
/// these tests: the first test to need it builds it, into this test's own profile directory.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/<test>: the binary goes to target/<profile>/paylock.
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_owned(),
            Some(other) => other.to_owned(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "paylock-cli",
                "--bin",
                "paylock",
                "--profile",
            ])
            .arg(&profile)
            .arg("--target-dir")
            .arg(profile_dir.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(
            status.success(),
            "building paylock (package paylock-cli) failed"
        );
        profile_dir.join("paylock")
    })
}

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under target/ (kept for inspection, removed on the next run).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn pg_bin(name: &str) -> PathBuf {
    for v in ["17", "16", "15", "14"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/{name}"));
        if p.exists() {
            return p;
        }
    }
    panic!("PostgreSQL server binaries not found (apt-get install postgresql)");
}

/// A PostgreSQL server of its own, stopped on drop.
pub struct Pg {
    pub dir: PathBuf,
    pub port: u16,
}

impl Pg {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "paylock-pg-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success());
            let status = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "{args:?}");
        };
        let data = dir.join("data");
        run(&[
            pg_bin("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        let port = free_port();
        let pg = Self { dir, port };
        pg.ctl("start");
        pg
    }

    fn opts(&self) -> String {
        format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
            self.port,
            self.dir.display()
        )
    }

    pub fn ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let mut args = vec![
            pg_bin("pg_ctl").to_str().unwrap().to_owned(),
            "-D".into(),
            data.to_str().unwrap().to_owned(),
            "-l".into(),
            self.dir.join("log").to_str().unwrap().to_owned(),
            "-w".into(),
        ];
        if action != "start" {
            args.extend(["-m".into(), "immediate".into()]);
        }
        if action != "stop" {
            args.extend(["-o".into(), self.opts()]);
        }
        args.push(action.into());
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {action}");
    }

    /// A new empty database; its URL.
    pub fn database(&self) -> String {
        let name = format!("t{}", SEQ.fetch_add(1, Ordering::SeqCst));
        let status = Command::new(pg_bin("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                &name,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn psql(&self, url: &str, sql: &str) -> String {
        let out = Command::new(pg_bin("psql"))
            .args([url, "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_bin("pg_ctl"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which database a test runs on.
pub enum Db {
    Sqlite(PathBuf),
    Postgres(Pg, String),
}

impl Db {
    pub fn sqlite() -> Self {
        Self::Sqlite(scratch("sqlite").join("ledger.db"))
    }

    pub fn postgres() -> Self {
        let pg = Pg::start();
        let url = pg.database();
        Self::Postgres(pg, url)
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(_, url) => url.clone(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(..) => "postgres",
        }
    }

    /// Runs SQL as the database owner (tamper tests).
    pub fn sql(&self, sql: &str) -> String {
        match self {
            Self::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                c.execute_batch(sql).unwrap();
                String::new()
            }
            Self::Postgres(pg, url) => pg.psql(url, sql),
        }
    }
}

/// The service, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: PathBuf,
    pub first_key: Option<String>,
    pub port: u16,
    env: Vec<(String, String)>,
    db: String,
}

impl Server {
    pub fn start(db: &str, dir: &Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut s = Self {
            child: Command::new("true").spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            dir: dir.to_owned(),
            first_key: None,
            port,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            db: db.to_owned(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let out = std::fs::File::create(self.dir.join(format!("stdout-{n}.log"))).unwrap();
        let err = std::fs::File::create(self.dir.join(format!("stderr-{n}.log"))).unwrap();
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .arg("--database")
            .arg(&self.db)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--kek-file")
            .arg(self.dir.join("kek.hex"))
            .env("PAYLOCK_LOG", "trace")
            .stdout(out)
            .stderr(err);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::blocking::Client::new();
        loop {
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            assert!(Instant::now() < deadline, "server did not start");
            assert!(self.child.try_wait().unwrap().is_none(), "server exited");
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = std::fs::read_to_string(self.dir.join(format!("stdout-{n}.log"))).unwrap();
        if let Some(key) = text.lines().find(|l| l.starts_with("plk_")) {
            self.first_key = Some(key.to_owned());
        }
    }

    /// kill -9, then start again on the same port.
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.spawn();
    }

    /// kill -9, then start again on the same port with `env` in place of the old variables.
    pub fn kill_and_restart_with(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.kill_and_restart();
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Every log line it wrote.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for e in std::fs::read_dir(&self.dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "log") {
                all.push_str(&std::fs::read_to_string(p).unwrap());
            }
        }
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `paylock admin …`; (success, stdout).
pub fn admin(args: &[&str]) -> (bool, String) {
    let out = Command::new(bin())
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A new API key for `tenant` with `scopes` (the last line `api-key new` prints).
pub fn new_key(db: &str, tenant: &str, scopes: &str) -> (String, i64) {
    let (ok, out) = admin(&[
        "api-key",
        "new",
        "--database",
        db,
        "--scopes",
        scopes,
        "--tenant",
        tenant,
    ]);
    assert!(ok, "{out}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("key id: "))
        .unwrap()
        .parse()
        .unwrap();
    (out.lines().last().unwrap().to_owned(), id)
}

pub struct Client {
    pub http: reqwest::blocking::Client,
    pub base: String,
    pub key: String,
}

/// A response: status, header Idempotent-Replayed, body bytes.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub replayed: bool,
    pub retry_after: bool,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
}

impl Client {
    pub fn new(base: &str, key: &str) -> Self {
        Self {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.to_owned(),
            key: key.to_owned(),
        }
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.key));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send()?;
        let status = r.status().as_u16();
        let replayed = r
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let retry_after = r.headers().get("retry-after").is_some();
        Ok(Reply {
            status,
            replayed,
            retry_after,
            body: r.bytes()?.to_vec(),
        })
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.send(
            method,
            path,
            body.map(|b| serde_json::to_vec(&b).unwrap()),
            &[],
        )
        .unwrap()
    }

    pub fn issue_v1(&self, serial: &str, key: &str, body: &Value) -> Result<Reply, reqwest::Error> {
        self.send(
            "POST",
            &format!("/v1/devices/{serial}/issue"),
            Some(serde_json::to_vec(body).unwrap()),
            &[("Idempotency-Key", key)],
        )
    }
}

/// A test device and its secret, as provisioned.
#[derive(Clone, Debug)]
pub struct TestDevice {
    pub serial: String,
    pub scheme: &'static str,
    pub key_hex: String,
    pub starting_code: u32,
    pub counter: u32,
    pub restricted: bool,
}

impl TestDevice {
    pub fn provision_body(&self) -> Value {
        match self.scheme {
            "openpaygo" => {
                json!({"serial_number": self.serial, "token_scheme": "openpaygo", "key": self.key_hex,
                "starting_code": self.starting_code, "counter": self.counter, "restricted_digit_set": self.restricted})
            }
            "ast1" => {
                json!({"serial_number": self.serial, "token_scheme": "ast1", "key": self.key_hex,
                "suite": "siphash", "profile": "L", "unit": "hours", "device_id": self.starting_code, "counter": self.counter.max(1)})
            }
            other => {
                json!({"serial_number": self.serial, "token_scheme": other, "key": self.key_hex, "counter": self.counter})
            }
        }
    }
}

/// Random test devices of every scheme.
pub fn devices(n: usize, seed: u64) -> Vec<TestDevice> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let scheme = ["openpaygo", "openpaygo", "nexus_full", "ast1"][i % 4];
            let key: [u8; 16] = rng.random();
            TestDevice {
                serial: format!("D{seed}-{i:04}"),
                scheme,
                key_hex: hex::encode(key),
                starting_code: rng.random_range(0..=999_999_999),
                // OpenPAYGO devices continue from high imported counts (half of them from 0, to go
                // through the engine from a blank store); the others start new.
                counter: match scheme {
                    "openpaygo" if i % 8 < 2 => 0,
                    "openpaygo" => rng.random_range(1..30_000),
                    "ast1" => 1,
                    _ => 0,
                },
                restricted: scheme == "openpaygo" && i % 8 == 1,
            }
        })
        .collect()
}

/// Enters each device's stored tokens, in order, on paylock's device engine: every one must be
/// applied, then a second entry must be a duplicate. Returns (accepted, problems).
pub fn check_on_engine(
    devices: &[TestDevice],
    tokens: &std::collections::HashMap<String, Vec<String>>,
) -> (usize, Vec<String>) {
    use paylock::Key;
    use paylock::device::{ClockModel, Config, Engine, Entry, Lockout, MemStorage};
    let mut accepted = 0;
    let mut problems = Vec::new();
    for d in devices {
        let list = tokens.get(&d.serial).cloned().unwrap_or_default();
        let key = Key::from_hex(&d.key_hex).unwrap();
        let config = Config::new(ClockModel::Rtc, Lockout::None);
        let mut check = |enter: &mut dyn FnMut(&str, u32) -> Entry| {
            for (i, t) in list.iter().enumerate() {
                let at = u32::try_from(i).unwrap() * 10 + 10;
                match enter(t, at) {
                    Entry::Applied { .. } => accepted += 1,
                    other => problems.push(format!("{}: token {i} gave {other:?}", d.serial)),
                }
                if !matches!(enter(t, at + 1), Entry::Duplicate | Entry::Rejected(_)) {
                    problems.push(format!("{}: token {i} accepted twice", d.serial));
                }
            }
        };
        let store = || MemStorage::<{ paylock::device::sim::SLOT_LEN }>::new();
        match d.scheme {
            "openpaygo" => {
                use paylock::openpaygo::{
                    Form, OpenPaygoDeviceState, OpenPaygoSecret, OpenPaygoState, OpenPaygoVerifier,
                };
                use paylock::{Context, Outcome, Verifier};
                let form = if d.restricted {
                    Form::STANDARD_RESTRICTED
                } else {
                    Form::STANDARD
                };
                let secret = OpenPaygoSecret::new(key, d.starting_code).unwrap();
                if d.counter == 0 {
                    let (mut engine, _) =
                        Engine::boot(OpenPaygoVerifier::new(form), secret, config, store(), 0)
                            .unwrap();
                    check(&mut |t, at| engine.enter(t.replace(' ', "").as_bytes(), at).unwrap());
                } else {
                    // A device imported at a high count: the verifier from that state.
                    let decoder = OpenPaygoVerifier::new(form);
                    let mut state = OpenPaygoDeviceState::from(OpenPaygoState {
                        max_count: d.counter,
                        used_counts: 0,
                    });
                    check(&mut |t, at| match decoder.verify(
                        &secret,
                        &mut state,
                        t.replace(' ', "").as_bytes(),
                        &Context::at(at),
                    ) {
                        Outcome::Applied {
                            command,
                            sequence,
                            spent,
                        } => Entry::Applied {
                            command,
                            sequence,
                            spent,
                        },
                        Outcome::Duplicate => Entry::Duplicate,
                        Outcome::Rejected(r) => Entry::Rejected(r),
                    });
                }
            }
            "nexus_full" => {
                use paylock::nexus::NexusVerifier;
                let (mut engine, _) =
                    Engine::boot(NexusVerifier::full(1), key, config, store(), 0).unwrap();
                check(&mut |t, at| engine.enter(t.as_bytes(), at).unwrap());
            }
            _ => {
                use paylock::access::{AstConfig, AstSecret, AstVerifier, Profile, Suite, Unit};
                let cfg = AstConfig {
                    suite: Suite::SipHash24,
                    profile: Profile::L,
                    device_id: d.starting_code,
                    key_rev: 0,
                    unit: Unit::Hours,
                };
                let secret = AstSecret::new(key, cfg).unwrap();
                let (mut engine, _) =
                    Engine::boot(AstVerifier::without_lockout(), secret, config, store(), 0)
                        .unwrap();
                check(&mut |t, at| engine.enter(t.as_bytes(), at).unwrap());
            }
        }
    }
    (accepted, problems)
}

/// The OpenPAYGO devices' tokens on the `openpaygo` 0.6.3 reference decoder (the venv .ci/run
/// makes). Skipped, with a note, when the venv is absent, unless PAYLOCK_REQUIRE_REFERENCE=1.
pub fn check_on_reference(
    devices: &[TestDevice],
    tokens: &std::collections::HashMap<String, Vec<String>>,
    dir: &Path,
) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var("PAYLOCK_REQUIRE_REFERENCE").is_err(),
            "the reference decoder venv is missing"
        );
        eprintln!("note: .venv absent, reference decoder check skipped");
        return;
    }
    let list: Vec<Value> = devices
        .iter()
        .filter(|d| d.scheme == "openpaygo")
        .map(|d| json!({"serial": d.serial, "key": d.key_hex, "starting_code": d.starting_code, "restricted": d.restricted,
            "initial_count": d.counter, "tokens": tokens.get(&d.serial).cloned().unwrap_or_default().iter().map(|t| t.replace(' ', "")).collect::<Vec<_>>()}))
        .collect();
    let file = dir.join("reference.json");
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/openpaygo_reference.py"
        ))
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "reference decoder: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "reference decoder: {}",
        text.lines().last().unwrap_or_default()
    );
}
