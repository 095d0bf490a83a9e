//! Device reports on PostgreSQL: one transaction holds the device row (`SELECT … FOR UPDATE`,
//! the lock every issuance of the device also takes), reads the last accepted report, stores
//! the new one and moves the last count. A concurrent copy of the report waits for the lock,
//! then reads the count the first one stored and is refused.

use tokio_postgres::Row;

use super::super::report::{
    DecideReport, LedgerToken, RECENT_TOKENS, ReportContext, ReportRow, ReportState, only_device,
};
use super::{Postgres, db, device_row, insert_event};
use crate::audit;
use crate::store::{StoreError, Stored};
use crate::time;

/// A device by serial, locked (two rows: the serial is ambiguous across tenants).
const LOCK_BY_SERIAL: &str = concat!(
    "SELECT ",
    device_cols!(),
    " FROM devices WHERE serial = $1 LIMIT 2 FOR UPDATE"
);
const READ_STATE: &str =
    "SELECT last_request_count, last_timestamp FROM device_report_state WHERE device_id = $1";
/// The device's latest committed tokens with a count, newest first: an index range of
/// `UNIQUE (device_id, sequence)` read backwards (a device's counts grow with every token, so
/// this is the order they were issued in; a token without a count is never pending).
const READ_TOKENS: &str = "SELECT sequence, token FROM issuances
     WHERE device_id = $1 AND sequence IS NOT NULL AND status = 'COMMITTED' AND token IS NOT NULL
     ORDER BY sequence DESC LIMIT $2";
const READ_PROFILE: &str = "SELECT metrics_profile FROM devices WHERE id = $1";
const ADD_REPORT: &str =
    "INSERT INTO device_reports (tenant_id, device_id, received_at, request_count, timestamp,
       auth_method, raw, metrics, answer, tokens)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const SET_STATE: &str =
    "INSERT INTO device_report_state (device_id, last_request_count, last_timestamp, updated_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (device_id) DO UPDATE SET last_request_count = excluded.last_request_count,
       last_timestamp = excluded.last_timestamp, updated_at = excluded.updated_at";
const SET_HEAD: &str = "UPDATE devices SET audit_seq = $2, audit_head = $3 WHERE id = $1";

impl Postgres {
    /// See [`crate::store::Store::report`].
    ///
    /// # Errors
    /// As there.
    pub async fn report(&self, serial: String, decide: DecideReport) -> Result<Stored, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| db(&e))?;
        let (lock, read_state, read_tokens, read_profile, add_report, set_state, set_head) =
            tokio::try_join!(
                tx.prepare_cached(LOCK_BY_SERIAL),
                tx.prepare_cached(READ_STATE),
                tx.prepare_cached(READ_TOKENS),
                tx.prepare_cached(READ_PROFILE),
                tx.prepare_cached(ADD_REPORT),
                tx.prepare_cached(SET_STATE),
                tx.prepare_cached(SET_HEAD),
            )
            .map_err(|e| db(&e))?;
        let found = tx
            .query(&lock, &[&serial])
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(device_row)
            .collect::<Result<Vec<_>, _>>()?;
        let device = only_device(found)?;
        let state = tx
            .query_opt(&read_state, &[&device.id])
            .await
            .map_err(|e| db(&e))?
            .map(|r| {
                Ok::<_, StoreError>(ReportState {
                    last_request_count: r.try_get(0).map_err(|e| db(&e))?,
                    last_timestamp: r.try_get(1).map_err(|e| db(&e))?,
                })
            })
            .transpose()?
            .unwrap_or_default();
        let mut tokens: Vec<LedgerToken> = tx
            .query(&read_tokens, &[&device.id, &RECENT_TOKENS])
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(|r| {
                Ok(LedgerToken {
                    sequence: r.try_get(0).map_err(|e| db(&e))?,
                    token: r.try_get(1).map_err(|e| db(&e))?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        tokens.reverse();
        let profile: Option<String> = tx
            .query_one(&read_profile, &[&device.id])
            .await
            .map_err(|e| db(&e))?
            .try_get(0)
            .map_err(|e| db(&e))?;
        let ctx = ReportContext {
            device,
            state,
            tokens,
            profile,
        };
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
        tx.execute(
            &add_report,
            &[
                &device.tenant_id,
                &device.id,
                &at,
                &plan.request_count,
                &plan.timestamp,
                &plan.auth_method,
                &plan.raw,
                &plan.metrics,
                &plan.answer,
                &plan.tokens,
            ],
        )
        .await
        .map_err(|e| db(&e))?;
        tx.execute(
            &set_state,
            &[
                &device.id,
                &plan.state.last_request_count,
                &plan.state.last_timestamp,
                &at,
            ],
        )
        .await
        .map_err(|e| db(&e))?;
        tx.execute(&set_head, &[&device.id, &event.seq, &event.hash])
            .await
            .map_err(|e| db(&e))?;
        insert_event(&tx, &event).await?;
        tx.commit().await.map_err(|e| db(&e))?;
        Ok(Stored {
            status: 200,
            body: plan.answer.into_bytes(),
        })
    }

    /// See [`crate::store::Store::reports`].
    ///
    /// # Errors
    /// As there.
    pub async fn reports(&self, tenant: i64, serial: String) -> Result<Vec<ReportRow>, StoreError> {
        let c = self.client().await?;
        c.query(
            "SELECT r.id, r.device_id, r.received_at, r.request_count, r.timestamp, r.auth_method,
                    r.raw, r.metrics, r.answer, r.tokens
             FROM device_reports r JOIN devices d ON d.id = r.device_id
             WHERE d.tenant_id = $1 AND d.serial = $2 ORDER BY r.id",
            &[&tenant, &serial],
        )
        .await
        .map_err(|e| db(&e))?
        .iter()
        .map(report_row)
        .collect()
    }
}

fn report_row(r: &Row) -> Result<ReportRow, StoreError> {
    let g = |e: tokio_postgres::Error| db(&e);
    Ok(ReportRow {
        id: r.try_get(0).map_err(g)?,
        device_id: r.try_get(1).map_err(g)?,
        received_at: r.try_get(2).map_err(g)?,
        request_count: r.try_get(3).map_err(g)?,
        timestamp: r.try_get(4).map_err(g)?,
        auth_method: r.try_get(5).map_err(g)?,
        raw: r.try_get(6).map_err(g)?,
        metrics: r.try_get(7).map_err(g)?,
        answer: r.try_get(8).map_err(g)?,
        tokens: r.try_get(9).map_err(g)?,
    })
}
