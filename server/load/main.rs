//! Load generator for the ledger: starts `paylock serve` on a database, provisions
//! devices, then measures new issuances (rate, p50, p99), replays of those keys, and a
//! duplicate storm (every key sent by 5 concurrent copies) against the plain run.
//!
//! `paylock-load --bin target/release/paylock --database sqlite:/tmp/x.db [--seconds 5]
//! [--concurrency 64] [--devices 500]`; `server/load/run.sh` runs it on SQLite and PostgreSQL.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::indexing_slicing
)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

struct Args {
    bin: String,
    database: String,
    seconds: f64,
    concurrency: usize,
    devices: usize,
}

fn args() -> Args {
    let mut a = Args {
        bin: "target/release/paylock".into(),
        database: String::new(),
        seconds: 5.0,
        concurrency: 64,
        devices: 500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_default();
        match flag.as_str() {
            "--bin" => a.bin = v,
            "--database" => a.database = v,
            "--seconds" => a.seconds = v.parse().unwrap(),
            "--concurrency" => a.concurrency = v.parse().unwrap(),
            "--devices" => a.devices = v.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!a.database.is_empty(), "--database is required");
    a
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Sends `keys` (device index, key) with `copies` concurrent copies each, `concurrency` at once.
async fn run(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    keys: &[(usize, String)],
    copies: usize,
    concurrency: usize,
    deadline: Option<Instant>,
) -> (usize, Vec<Duration>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..(concurrency / copies).max(1) {
        let (client, next, base, api_key) = (
            client.clone(),
            next.clone(),
            base.to_owned(),
            api_key.to_owned(),
        );
        let keys: Arc<Vec<(usize, String)>> = Arc::new(keys.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut done = 0;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((device, key)) = keys.get(i) else { break };
                let body = json!({"device_serial_number": format!("L{device:05}"), "credit_unit": "DAYS",
                    "credit_value": 1 + i % 30});
                let url = format!("{base}/paygops/credit_updates/{key}");
                let sends = (0..copies).map(|_| {
                    let t = Instant::now();
                    let req = client.post(&url).bearer_auth(&api_key).json(&body).send();
                    async move {
                        let r = req.await.expect("request");
                        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                        r.bytes().await.unwrap();
                        t.elapsed()
                    }
                });
                for d in futures_join(sends).await {
                    lat.push(d);
                }
                done += 1;
            }
            (done, lat)
        }));
    }
    let mut done = 0;
    let mut lat = Vec::new();
    for t in tasks {
        let (d, l) = t.await.unwrap();
        done += d;
        lat.extend(l);
    }
    let elapsed = start.elapsed();
    lat.sort();
    (done, lat, elapsed)
}

async fn futures_join<F: Future<Output = Duration> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<Duration> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let dir = std::env::temp_dir().join(format!("paylock-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(&a.bin)
        .args([
            "serve",
            "--database",
            &a.database,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log",
            "warn",
        ])
        .arg("--kek-file")
        .arg(dir.join("kek.hex"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server binary");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let started = Instant::now();
    while client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut out = String::new();
    {
        use std::io::Read;
        let mut stdout = server.stdout.take().unwrap();
        let mut buf = [0u8; 4096];
        let n = stdout.read(&mut buf).unwrap();
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let api_key = out
        .lines()
        .find(|l| l.starts_with("plk_"))
        .expect("first key")
        .to_owned();
    // Devices at high counts, so the chain shortcut matters.
    let provisioned = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut handles = Vec::new();
    for i in 0..a.devices {
        let (client, base, api_key, sem) =
            (client.clone(), base.clone(), api_key.clone(), sem.clone());
        handles.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let body = json!({"serial_number": format!("L{i:05}"), "key": format!("{:032x}", i + 1),
                "starting_code": 123_456_789, "counter": 20_000 + i});
            let r = client
                .post(format!("{base}/v1/devices"))
                .bearer_auth(&api_key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let db = if a.database.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "{db}: {} devices provisioned in {:.1} s",
        a.devices,
        provisioned.elapsed().as_secs_f64()
    );
    let keys: Vec<(usize, String)> = (0..1_000_000)
        .map(|i| (i % a.devices, format!("n-{i}")))
        .collect();
    let deadline = Instant::now() + Duration::from_secs_f64(a.seconds);
    let (done, lat, elapsed) = run(
        &client,
        &base,
        &api_key,
        &keys,
        1,
        a.concurrency,
        Some(deadline),
    )
    .await;
    let plain_rate = done as f64 / elapsed.as_secs_f64();
    println!(
        "{db}: new issuances {plain_rate:.0}/s  p50 {:.1} ms  p99 {:.1} ms  ({done} in {:.1} s, {} clients)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        elapsed.as_secs_f64(),
        a.concurrency
    );
    let issued = &keys[..done];
    let (rdone, rlat, relapsed) =
        run(&client, &base, &api_key, issued, 1, a.concurrency, None).await;
    println!(
        "{db}: replayed keys {:.0}/s  p50 {:.1} ms  p99 {:.1} ms  ({rdone} keys)",
        rdone as f64 / relapsed.as_secs_f64(),
        percentile(&rlat, 0.5),
        percentile(&rlat, 0.99)
    );
    // Storm: the same number of new keys, each sent by 5 concurrent copies.
    let storm_keys: Vec<(usize, String)> = (0..done)
        .map(|i| (i % a.devices, format!("s-{i}")))
        .collect();
    let (sdone, slat, selapsed) = run(
        &client,
        &base,
        &api_key,
        &storm_keys,
        5,
        a.concurrency,
        None,
    )
    .await;
    let storm_rate = sdone as f64 / selapsed.as_secs_f64();
    println!(
        "{db}: duplicate storm (5 copies per key) {storm_rate:.0} keys/s  p99 {:.1} ms  -> {:.2}x the plain run's time per key",
        percentile(&slat, 0.99),
        plain_rate / storm_rate
    );
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
