//! A test-only fault hook: `PAYLOCK_TEST_FAULT=kill-before-commit:<per-mille>` makes the process
//! kill itself with SIGKILL right before a database commit, that often. Unset, it costs a
//! branch. It exists so the crash tests can hit the window between the writes and the commit.

use std::sync::OnceLock;

fn per_mille() -> u32 {
    static RATE: OnceLock<u32> = OnceLock::new();
    *RATE.get_or_init(|| {
        std::env::var("PAYLOCK_TEST_FAULT")
            .ok()
            .and_then(|v| v.strip_prefix("kill-before-commit:").map(str::to_owned))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    })
}

/// Whether the hook is armed (the PostgreSQL issuance then waits for its writes before it
/// sends the commit it otherwise pipelines with them, so the kill lands between the two).
#[must_use]
pub fn armed() -> bool {
    per_mille() != 0
}

/// Called right before a commit: may SIGKILL the process (test hook only).
pub fn before_commit() {
    let rate = per_mille();
    if rate == 0 {
        return;
    }
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_ok() && u32::from(u16::from_le_bytes(b)) % 1000 < rate {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}
