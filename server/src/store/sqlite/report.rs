//! Device reports on SQLite: the writer thread is the device lock, so a report is verified and
//! stored inside one writer job, after every job queued before it.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::report::{
    DecideReport, LedgerToken, RECENT_TOKENS, ReportContext, ReportRow, ReportState, only_device,
};
use super::{DEVICE_COLS, Sqlite, device_row, insert_event, unavailable};
use crate::audit;
use crate::store::{StoreError, Stored};
use crate::time;

impl Sqlite {
    /// See [`crate::store::Store::report`].
    ///
    /// # Errors
    /// As there.
    pub async fn report(&self, serial: String, decide: DecideReport) -> Result<Stored, StoreError> {
        self.write(move |c| report(c, &serial, decide)).await
    }

    /// See [`crate::store::Store::reports`].
    ///
    /// # Errors
    /// As there.
    pub async fn reports(&self, tenant: i64, serial: String) -> Result<Vec<ReportRow>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.id, r.device_id, r.received_at, r.request_count, r.timestamp, r.auth_method,
                        r.raw, r.metrics, r.answer, r.tokens
                 FROM device_reports r JOIN devices d ON d.id = r.device_id
                 WHERE d.tenant_id = ?1 AND d.serial = ?2 ORDER BY r.id",
            )?;
            let rows = stmt.query_map(params![tenant, serial], report_row)?;
            rows.collect()
        })
        .await
    }
}

fn report_row(r: &Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok(ReportRow {
        id: r.get(0)?,
        device_id: r.get(1)?,
        received_at: r.get(2)?,
        request_count: r.get(3)?,
        timestamp: r.get(4)?,
        auth_method: r.get(5)?,
        raw: r.get(6)?,
        metrics: r.get(7)?,
        answer: r.get(8)?,
        tokens: r.get(9)?,
    })
}

fn context(c: &Connection, serial: &str) -> Result<ReportContext, StoreError> {
    let db = |e: rusqlite::Error| unavailable(&e);
    let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE serial = ?1 LIMIT 2");
    let found = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![serial], device_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db)?;
    let device = only_device(found)?;
    let state = c
        .prepare_cached(
            "SELECT last_request_count, last_timestamp FROM device_report_state WHERE device_id = ?1",
        )
        .and_then(|mut s| {
            s.query_row(params![device.id], |r| {
                Ok(ReportState {
                    last_request_count: r.get(0)?,
                    last_timestamp: r.get(1)?,
                })
            })
            .optional()
        })
        .map_err(db)?
        .unwrap_or_default();
    let mut tokens = c
        .prepare_cached(
            "SELECT sequence, token FROM issuances
             WHERE device_id = ?1 AND status = 'COMMITTED' AND token IS NOT NULL
             ORDER BY id DESC LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![device.id, RECENT_TOKENS], |r| {
                Ok(LedgerToken {
                    sequence: r.get(0)?,
                    token: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db)?;
    tokens.reverse();
    let profile = c
        .prepare_cached("SELECT metrics_profile FROM devices WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![device.id], |r| r.get(0)))
        .map_err(db)?;
    Ok(ReportContext {
        device,
        state,
        tokens,
        profile,
    })
}

fn report(c: &Connection, serial: &str, decide: DecideReport) -> Result<Stored, StoreError> {
    let db = |e: rusqlite::Error| unavailable(&e);
    let ctx = context(c, serial)?;
    let plan = decide(&ctx).map_err(StoreError::Refused)?;
    let device = &ctx.device;
    let at = time::now_micros();
    let event = audit::next(
        &device.stream(),
        device.audit_seq,
        &device.audit_head,
        &plan.event.0,
        &plan.event.1,
        at,
    );
    c.prepare_cached(
        "INSERT INTO device_reports (tenant_id, device_id, received_at, request_count, timestamp,
           auth_method, raw, metrics, answer, tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            device.tenant_id,
            device.id,
            at,
            plan.request_count,
            plan.timestamp,
            plan.auth_method,
            plan.raw,
            plan.metrics,
            plan.answer,
            plan.tokens,
        ])
    })
    .map_err(db)?;
    c.prepare_cached(
        "INSERT INTO device_report_state (device_id, last_request_count, last_timestamp, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET last_request_count = excluded.last_request_count,
           last_timestamp = excluded.last_timestamp, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            device.id,
            plan.state.last_request_count,
            plan.state.last_timestamp,
            at
        ])
    })
    .map_err(db)?;
    c.prepare_cached("UPDATE devices SET audit_seq = ?2, audit_head = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![device.id, event.seq, event.hash]))
        .map_err(db)?;
    insert_event(c, &event).map_err(db)?;
    Ok(Stored {
        status: 200,
        body: plan.answer.into_bytes(),
    })
}
