//! Append-only, hash-chained audit events.
//!
//! Events live in streams: one per device (`device:<id>`, its head kept on the device row, so
//! an issuance appends under the row lock it already holds and replicas never contend on a
//! global head) and one per tenant (`tenant:<id>`: API keys, imports). Each event's hash covers
//! the previous one; [`verify`] recomputes every chain and compares it with the recorded heads,
//! so an edited, inserted or deleted event is found.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The `prev` of a stream's first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// One stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `device:<id>` or `tenant:<id>`.
    pub stream: String,
    /// 1, 2, 3… within the stream.
    pub seq: i64,
    /// Unix microseconds.
    pub at: i64,
    /// `issuance`, `device.provisioned`, `credit_update.committed`, `api_key.created`, …
    pub kind: String,
    /// JSON details (never a key or a token).
    pub body: String,
    /// The previous event's hash.
    pub prev: Vec<u8>,
    /// This event's hash.
    pub hash: Vec<u8>,
}

/// The hash of an event with these fields.
#[must_use]
pub fn hash(prev: &[u8], stream: &str, seq: i64, at: i64, kind: &str, body: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"paylock-audit-v1");
    h.update(prev);
    for part in [stream, kind, body] {
        h.update(u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    h.finalize().to_vec()
}

/// The next event of a stream whose head is (`seq`, `head`).
#[must_use]
pub fn next(stream: &str, seq: i64, head: &[u8], kind: &str, body: &str, at: i64) -> Event {
    follow(
        stream.to_owned(),
        seq,
        head,
        kind.to_owned(),
        body.to_owned(),
        at,
    )
}

/// [`next`], taking the stream, kind and body it keeps (an issuance builds them for this event
/// alone, so they are moved rather than copied).
#[must_use]
pub fn follow(stream: String, seq: i64, head: &[u8], kind: String, body: String, at: i64) -> Event {
    let seq = seq + 1;
    Event {
        hash: hash(head, &stream, seq, at, &kind, &body),
        stream,
        seq,
        at,
        kind,
        body,
        prev: head.to_vec(),
    }
}

/// What `audit verify` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Streams checked.
    pub streams: usize,
    /// Events checked.
    pub events: usize,
    /// Every problem, one line each.
    pub problems: Vec<String>,
}

/// Checks `events` (any order) against the recorded heads (`stream` → (`seq`, `hash`)).
#[must_use]
pub fn verify(events: Vec<Event>, heads: &BTreeMap<String, (i64, Vec<u8>)>) -> Report {
    let mut by_stream: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let total = events.len();
    for e in events {
        by_stream.entry(e.stream.clone()).or_default().push(e);
    }
    let mut problems = Vec::new();
    for (stream, mut list) in by_stream.iter_mut().map(|(s, l)| (s, std::mem::take(l))) {
        list.sort_by_key(|e| e.seq);
        let mut prev = GENESIS.to_vec();
        let mut expected = 1;
        for e in &list {
            if e.seq != expected {
                problems.push(format!(
                    "{stream}: event {expected} is missing (next is {})",
                    e.seq
                ));
                expected = e.seq;
            }
            if e.prev != prev {
                problems.push(format!(
                    "{stream}: event {} does not follow the one before",
                    e.seq
                ));
            }
            if hash(&e.prev, &e.stream, e.seq, e.at, &e.kind, &e.body) != e.hash {
                problems.push(format!("{stream}: event {} was edited", e.seq));
            }
            prev.clone_from(&e.hash);
            expected += 1;
        }
        match heads.get(stream.as_str()) {
            Some((seq, head)) if *seq == expected - 1 && *head == prev => {}
            Some((seq, _)) => problems.push(format!(
                "{stream}: events after {} are missing (the head records event {seq})",
                expected - 1
            )),
            None => problems.push(format!("{stream}: events without a recorded head")),
        }
    }
    for (stream, (seq, _)) in heads {
        if *seq > 0 && !by_stream.contains_key(stream) {
            problems.push(format!("{stream}: all {seq} events are missing"));
        }
    }
    Report {
        streams: heads.len().max(by_stream.len()),
        events: total,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> crate::store::AuditDump {
        let mut events = Vec::new();
        let mut head = GENESIS.to_vec();
        for i in 0..n {
            let e = next("device:1", i, &head, "issuance", "{\"count\":2}", i * 10);
            head.clone_from(&e.hash);
            events.push(e);
        }
        let heads = BTreeMap::from([("device:1".to_owned(), (n, head))]);
        (events, heads)
    }

    #[test]
    fn intact_chain_verifies_and_every_tamper_is_found() {
        let (events, heads) = chain(5);
        assert!(verify(events.clone(), &heads).problems.is_empty());
        let mut edited = events.clone();
        edited[2].body = "{\"count\":4}".into();
        assert!(!verify(edited, &heads).problems.is_empty());
        let mut deleted = events.clone();
        deleted.remove(2);
        assert!(!verify(deleted, &heads).problems.is_empty());
        let mut tail = events.clone();
        tail.pop();
        assert!(!verify(tail, &heads).problems.is_empty());
        assert!(!verify(Vec::new(), &heads).problems.is_empty());
    }
}
