//! `paylock-load`: load figures for the ledger, client included, on one machine.
//!
//! For each `--database` it starts `paylock serve` on a free port, imports `--devices`
//! OpenPAYGO devices at high counts, then measures three phases over real HTTP with
//! `--concurrency` requests in flight:
//! - new issuances for `--seconds` (PaygOps `POST /credit_updates/{uuid}`, a new UUID each);
//! - replays of every key just issued (each body must equal the first answer, byte for byte);
//! - a duplicate storm: as many new keys again, each sent by `--copies` concurrent copies
//!   (every copy must get the same body), reported as its time per key over the plain run's.
//!
//! With `--other-routes`, two more phases, of routes whose API key is checked in their own
//! statement: PaygOps `PUT /credit_updates/{uuid}` committing PENDING updates made for it
//! (`--seconds`, one PUT per update), and `GET /paygops/devices/{serial}` (`--seconds`).
//!
//! It also reads the CPU time the client, the service and the database processes used, so a
//! figure taken while other work shares the machine can be told apart. Any non-200 answer or
//! divergent body makes it exit 1. One table at the end, one row per database.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)] // figures for people: rounding is fine

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;

/// Load figures for paylock-server: new issuances, replays and a duplicate storm.
#[derive(Parser, Debug)]
#[command(name = "paylock-load")]
struct Args {
    /// The service binary to start.
    #[arg(long, default_value = "target/server/paylock")]
    bin: PathBuf,
    /// `sqlite:PATH` or `postgres://…` (an empty database); repeat for one row each.
    #[arg(long = "database", required = true)]
    databases: Vec<String>,
    /// Length of the new-issuance phase.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Devices to import (keys are spread over them in turn).
    #[arg(long, default_value_t = 500)]
    devices: usize,
    /// Concurrent copies of each key in the storm.
    #[arg(long, default_value_t = 5)]
    copies: usize,
    /// The service's log filter during the run.
    #[arg(long, default_value = "warn")]
    log: String,
    /// Also measure PaygOps commits (`PUT /credit_updates/{uuid}`) and device reads
    /// (`GET /devices/{serial}`).
    #[arg(long)]
    other_routes: bool,
}

/// Clock ticks of user + system time, from `/proc` (Linux; 0 elsewhere).
fn ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Ticks of every process called `postgres` (the server and its backends).
fn database_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(ticks)
        .sum()
}

/// Busy ticks of the whole machine (all CPUs), from `/proc/stat`.
fn machine_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let f: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
            Some(f.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0)
}

/// CPU used by each party between two snapshots.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    client: u64,
    service: u64,
    database: u64,
    machine: u64,
}

impl Cpu {
    fn now(service: u32) -> Self {
        Self {
            client: ticks(std::process::id()),
            service: ticks(service),
            database: database_ticks(),
            machine: machine_ticks(),
        }
    }

    fn since(self, before: Self) -> Self {
        Self {
            client: self.client.saturating_sub(before.client),
            service: self.service.saturating_sub(before.service),
            database: self.database.saturating_sub(before.database),
            machine: self.machine.saturating_sub(before.machine),
        }
    }

    /// Ticks used by processes other than these three.
    fn others(self) -> u64 {
        self.machine
            .saturating_sub(self.client + self.service + self.database)
    }
}

/// Milliseconds per tick (Linux's USER_HZ is 100).
const TICK_MS: f64 = 10.0;

/// One phase's figures.
#[derive(Debug, Default)]
struct Phase {
    keys: usize,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: Vec<String>,
    cpu: Cpu,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.keys as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let i = ((self.latencies.len().saturating_sub(1)) as f64 * p).round() as usize;
        self.latencies
            .get(i)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn cpu_ms_per_key(&self, ticks: u64) -> f64 {
        ticks as f64 * TICK_MS / self.keys.max(1) as f64
    }
}

/// A running service and what the run needs to talk to it.
struct Service {
    child: Child,
    base: String,
    auth: String,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

async fn start(args: &Args, database: &str, n: usize) -> Result<Service, String> {
    let dir = std::env::temp_dir().join(format!("paylock-load-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let dir = TempDir(dir);
    let port = free_port()?;
    let mut child = Command::new(&args.bin)
        .args(["serve", "--database", database, "--log", &args.log])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--kek-file")
        .arg(dir.0.join("kek.hex"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", args.bin.display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4 * args.concurrency)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        let up = client.get(format!("{base}/healthz")).send().await;
        if up.is_ok_and(|r| r.status() == 200) {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some()
        {
            let _ = child.kill();
            return Err(format!("the service on {database} did not start"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The first API key is printed once, on the line after the banner.
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains("listening on") {
        let got = stdout.read(&mut buf).map_err(|e| e.to_string())?;
        if got == 0 {
            break;
        }
        out.extend_from_slice(buf.get(..got).unwrap_or_default());
    }
    let key = String::from_utf8_lossy(&out)
        .lines()
        .find(|l| l.starts_with("plk_"))
        .ok_or("the service printed no first API key (is the database empty?)")?
        .to_owned();
    Ok(Service {
        child,
        base,
        auth: format!("Bearer {key}"),
        client,
        _dir: dir,
    })
}

/// Imports `n` OpenPAYGO devices at counts from 20,000 (so resuming the chain matters).
async fn provision(s: &Service, n: usize) -> Result<(), String> {
    let mut csv = String::from("Serial Number,Starting Code,Key,Count\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{},123456789,{:032x},{}\n",
            serial(i),
            i + 1,
            20_000 + i
        ));
    }
    let r = s
        .client
        .post(format!("{}/v1/imports", s.base))
        .header("authorization", &s.auth)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() == 200 {
        Ok(())
    } else {
        Err(format!(
            "import: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ))
    }
}

fn serial(device: usize) -> String {
    format!("L{device:05}")
}

/// One key: the method, URL and body every copy sends.
#[derive(Clone)]
struct Key {
    method: reqwest::Method,
    url: String,
    body: Bytes,
}

fn keys(s: &Service, prefix: &str, count: usize, devices: usize) -> Vec<Key> {
    (0..count)
        .map(|i| Key {
            method: reqwest::Method::POST,
            url: format!("{}/paygops/credit_updates/{prefix}-{i}", s.base),
            body: Bytes::from(format!(
                r#"{{"device_serial_number":"{}","credit_unit":"DAYS","credit_value":{}}}"#,
                serial(i % devices),
                1 + i % 30
            )),
        })
        .collect()
}

/// PENDING credit updates (`prefix`), and the PUT that commits each.
fn pending(s: &Service, prefix: &str, count: usize, devices: usize) -> (Vec<Key>, Vec<Key>) {
    let made = keys(s, prefix, count, devices)
        .into_iter()
        .map(|mut k| {
            let body = String::from_utf8_lossy(&k.body).replacen('}', r#","status":"PENDING"}"#, 1);
            k.body = Bytes::from(body);
            k
        })
        .collect();
    let commits = (0..count)
        .map(|i| Key {
            method: reqwest::Method::PUT,
            url: format!("{}/paygops/credit_updates/{prefix}-{i}", s.base),
            body: Bytes::from_static(br#"{"status":"COMMITTED"}"#),
        })
        .collect();
    (made, commits)
}

/// `GET /paygops/devices/{serial}`, the devices in turn.
fn reads(s: &Service, count: usize, devices: usize) -> Vec<Key> {
    (0..count)
        .map(|i| Key {
            method: reqwest::Method::GET,
            url: format!("{}/paygops/devices/{}", s.base, serial(i % devices)),
            body: Bytes::new(),
        })
        .collect()
}

/// Sends one copy; the body, or why it failed.
async fn send(s: &Service, key: &Key, replay: bool) -> Result<Bytes, String> {
    let mut request = s
        .client
        .request(key.method.clone(), &key.url)
        .header("authorization", &s.auth);
    if !key.body.is_empty() {
        request = request
            .header("content-type", "application/json")
            .body(key.body.clone());
    }
    let r = request
        .send()
        .await
        .map_err(|e| format!("{}: {e}", key.url))?;
    let status = r.status();
    let replayed = r.headers().contains_key("idempotent-replayed");
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "{}: {status} {}",
            key.url,
            String::from_utf8_lossy(&body)
        ));
    }
    if replay && !replayed {
        return Err(format!("{}: a replay was not marked replayed", key.url));
    }
    Ok(body)
}

/// Sends `keys` (each by `copies` concurrent copies), `concurrency` requests in flight, until
/// the keys or the time run out. Returns the phase and the first body of each key sent.
async fn phase(
    s: &Arc<Service>,
    keys: Arc<Vec<Key>>,
    expected: Option<Arc<Vec<Bytes>>>,
    copies: usize,
    concurrency: usize,
    limit: Option<Duration>,
) -> (Phase, Vec<Bytes>) {
    let next = Arc::new(AtomicUsize::new(0));
    let before = Cpu::now(s.child.id());
    let start = Instant::now();
    let deadline = limit.map(|l| start + l);
    let workers: Vec<_> = (0..(concurrency / copies).max(1))
        .map(|_| {
            let (s, keys, next, expected) =
                (s.clone(), keys.clone(), next.clone(), expected.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut bodies = Vec::new();
                let mut failures = Vec::new();
                while deadline.is_none_or(|d| Instant::now() < d) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(key) = keys.get(i) else { break };
                    let copies: Vec<_> = (0..copies)
                        .map(|_| {
                            let (s, key) = (s.clone(), key.clone());
                            let replay = expected.is_some();
                            tokio::spawn(async move {
                                let t = Instant::now();
                                (send(&s, &key, replay).await, t.elapsed())
                            })
                        })
                        .collect();
                    let mut first: Option<Bytes> = None;
                    for c in copies {
                        let Ok((got, took)) = c.await else {
                            failures.push("a request task panicked".to_owned());
                            continue;
                        };
                        lat.push(took);
                        match got {
                            Err(e) => failures.push(e),
                            Ok(body) => match &first {
                                Some(f) if *f != body => {
                                    failures
                                        .push(format!("{}: copies got different bodies", key.url));
                                }
                                Some(_) => {}
                                None => first = Some(body),
                            },
                        }
                    }
                    let body = first.unwrap_or_default();
                    if let Some(want) = expected.as_ref().and_then(|e| e.get(i))
                        && *want != body
                    {
                        failures.push(format!(
                            "{}: the replay differs from the first answer",
                            key.url
                        ));
                    }
                    bodies.push((i, body));
                }
                (lat, bodies, failures)
            })
        })
        .collect();
    let mut out = Phase::default();
    let mut bodies = Vec::new();
    for w in workers {
        match w.await {
            Ok((lat, b, f)) => {
                out.latencies.extend(lat);
                bodies.extend(b);
                out.failures.extend(f);
            }
            Err(e) => out.failures.push(e.to_string()),
        }
    }
    out.elapsed = start.elapsed();
    out.cpu = Cpu::now(s.child.id()).since(before);
    out.latencies.sort();
    out.requests = out.latencies.len();
    out.keys = bodies.len();
    bodies.sort_by_key(|(i, _)| *i);
    (out, bodies.into_iter().map(|(_, b)| b).collect())
}

/// The figures of one database.
struct Row {
    database: &'static str,
    plain: Phase,
    replays: Phase,
    storm: Phase,
    /// `--other-routes`: commits of PENDING updates, and device reads.
    other: Option<(Phase, Phase)>,
}

async fn measure(args: &Args, database: &str, n: usize) -> Result<Row, String> {
    let s = Arc::new(start(args, database, n).await?);
    provision(&s, args.devices).await?;
    let name = if database.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    // Enough keys for any rate this machine could reach in the time given.
    let most = (args.seconds * 20_000.0) as usize + 1000;
    let fresh = Arc::new(keys(&s, "n", most, args.devices));
    let (plain, bodies) = phase(
        &s,
        fresh.clone(),
        None,
        1,
        args.concurrency,
        Some(Duration::from_secs_f64(args.seconds)),
    )
    .await;
    let issued = Arc::new(fresh.get(..plain.keys).unwrap_or_default().to_vec());
    let (replays, _) = phase(
        &s,
        issued,
        Some(Arc::new(bodies)),
        1,
        args.concurrency,
        None,
    )
    .await;
    let storm_keys = Arc::new(keys(&s, "s", plain.keys, args.devices));
    let (storm, _) = phase(&s, storm_keys, None, args.copies, args.concurrency, None).await;
    let other = if args.other_routes {
        Some(other_routes(args, &s, most).await?)
    } else {
        None
    };
    Ok(Row {
        database: name,
        plain,
        replays,
        storm,
        other,
    })
}

/// Commits of PENDING updates (made beforehand, not measured), then device reads, each for
/// `--seconds`.
async fn other_routes(
    args: &Args,
    s: &Arc<Service>,
    most: usize,
) -> Result<(Phase, Phase), String> {
    let limit = Some(Duration::from_secs_f64(args.seconds));
    // As many PENDING updates as the commits could reach: made in a phase of their own.
    let count = most.min(20_000);
    let (made, commits) = pending(s, "p", count, args.devices);
    let (making, _) = phase(s, Arc::new(made), None, 1, args.concurrency, None).await;
    if let Some(first) = making.failures.first() {
        return Err(format!("PENDING updates for the commits: {first}"));
    }
    let (commits, _) = phase(s, Arc::new(commits), None, 1, args.concurrency, limit).await;
    let reads = Arc::new(reads(s, most, args.devices));
    let (reads, _) = phase(s, reads, None, 1, args.concurrency, limit).await;
    Ok((commits, reads))
}

fn print(args: &Args, rows: &[Row]) {
    println!(
        "\n{} cores; client, service and database share them. {} requests in flight, {} devices, {} s of new issuances, storm of {} copies per key.",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        args.concurrency,
        args.devices,
        args.seconds,
        args.copies
    );
    println!(
        "| DB | issuances/s | p50 / p99 ms | replays/s | replay p99 ms | storm keys/s | storm ratio per key / per request | CPU ms per issuance: client / service / database | other processes' CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let p = &r.plain;
        println!(
            "| {} | {:.0} | {:.1} / {:.1} | {:.0} | {:.1} | {:.0} | {:.2}× / {:.2}× | {:.2} / {:.2} / {:.2} | {:.0}% |",
            r.database,
            p.rate(),
            p.percentile(0.5),
            p.percentile(0.99),
            r.replays.rate(),
            r.replays.percentile(0.99),
            r.storm.rate(),
            p.rate() / r.storm.rate(),
            p.rate() / (r.storm.rate() * args.copies as f64),
            p.cpu_ms_per_key(p.cpu.client),
            p.cpu_ms_per_key(p.cpu.service),
            p.cpu_ms_per_key(p.cpu.database),
            p.cpu.others() as f64 * TICK_MS / 10.0 / p.elapsed.as_secs_f64()
        );
    }
    println!(
        "(storm ratio: the storm's time per key, and per request (a key is {} requests), over the plain run's; other processes' CPU: in % of one core, during the new issuances)",
        args.copies
    );
    if rows.iter().any(|r| r.other.is_some()) {
        println!(
            "\n| DB | route | requests/s | p50 / p99 ms | CPU ms per request: client / service / database | other processes' CPU |"
        );
        println!("|---|---|---:|---:|---:|---:|");
    }
    for r in rows {
        let Some((commits, reads)) = &r.other else {
            continue;
        };
        for (route, p) in [
            ("PUT /paygops/credit_updates/{uuid}", commits),
            ("GET /paygops/devices/{serial}", reads),
        ] {
            println!(
                "| {} | `{route}` | {:.0} | {:.1} / {:.1} | {:.2} / {:.2} / {:.2} | {:.0}% |",
                r.database,
                p.rate(),
                p.percentile(0.5),
                p.percentile(0.99),
                p.cpu_ms_per_key(p.cpu.client),
                p.cpu_ms_per_key(p.cpu.service),
                p.cpu_ms_per_key(p.cpu.database),
                p.cpu.others() as f64 * TICK_MS / 10.0 / p.elapsed.as_secs_f64()
            );
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut rows = Vec::new();
    for (n, database) in args.databases.iter().enumerate() {
        match measure(&args, database, n).await {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    print(&args, &rows);
    let mut failed = false;
    for r in &rows {
        let other = r.other.as_ref();
        for (what, p) in [
            ("new", Some(&r.plain)),
            ("replay", Some(&r.replays)),
            ("storm", Some(&r.storm)),
            ("commit", other.map(|o| &o.0)),
            ("read", other.map(|o| &o.1)),
        ]
        .into_iter()
        .filter_map(|(what, p)| Some((what, p?)))
        {
            if let Some(first) = p.failures.first() {
                eprintln!(
                    "{}: {} failed {what} requests, first: {first}",
                    r.database,
                    p.failures.len()
                );
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
