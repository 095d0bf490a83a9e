//! Provisioning: one device from JSON, or a CSV file in one transaction.
//!
//! CSV formats (header names are matched without regard to case or surrounding spaces):
//! - OpenPAYGO's own: `Serial Number, Starting Code, Key, Count, Time Divider, Restricted Digit
//!   Mode, Hardware Model, Version, Test Code` (`Version` is ignored; a token equal to the Test
//!   Code is never issued).
//! - paylock's, for every scheme: `Serial Number, Token Scheme` (`openpaygo`, `nexus_full`,
//!   `nexus_small`, `ast1`), `Key` (or `Batch Key` for AST), `Counter`, and the scheme's own
//!   columns: `Starting Code, Time Divider, Restricted Digit Mode, Extended Token, Test Code`
//!   (OpenPAYGO); `Suite, Profile, Unit, Device ID, Key Revision` (AST); `Hardware Model`.
//! - Either may add OpenPAYGO Metrics columns: `Metrics Data Format` (the data format as JSON)
//!   and `Metrics Auth Method` (`da`, `ra`…).
//! - A row of a scheme registered with the service (through `POST /v1/imports`) takes every
//!   column not named above as its record's field, named by the header.
//!
//! A malformed row refuses the whole file (nothing stored, every bad row named). A row identical
//! to a stored device is skipped; a row for a known serial with any other difference (the Metrics
//! data format and auth method included) is reported as a conflict and never overwrites it. A
//! Metrics field the row leaves out is no change (docs/server.md, "Provisioning").

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::device::{Provision, ProvisionInput, Secret, split_registered};
use crate::http::{AppState, error, store_error};
use crate::kek::Kek;
use crate::mint::Minter;
use crate::report::Profile;
use crate::store::{Api, Compare, DeviceRow, ImportReport, NewDevice, Store, StoreError};

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportError {
    /// Rows that are malformed, one message each.
    Rows(Vec<String>),
    /// The database.
    Store(StoreError),
}

/// Compares a new device with a stored one: `None` if identical, else what differs.
#[must_use]
pub fn compare(kek: Arc<Kek>) -> Compare {
    Box::new(move |old: &DeviceRow, new: &NewDevice| {
        let mut differs = Vec::new();
        if old.params != new.params {
            differs.push("token scheme parameters");
        }
        if old.imported_counter != new.counter {
            differs.push("counter");
        }
        if old.model != new.model {
            differs.push("hardware model");
        }
        differs.extend(profile_differs(
            old.metrics.as_deref(),
            new.metrics.as_deref(),
        ));
        let scheme = new.params.scheme();
        let same_key = match (
            kek.open(old.tenant_id, &old.serial, old.params.scheme(), &old.sealed),
            kek.open(old.tenant_id, &new.serial, scheme, &new.sealed),
        ) {
            (Ok(a), Ok(b)) => match (Secret::from_bytes(&a), Secret::from_bytes(&b)) {
                (Some(a), Some(b)) => a.same_as(&b),
                _ => false,
            },
            _ => false,
        };
        if !same_key {
            differs.push("key");
        }
        (!differs.is_empty()).then(|| differs.join(", "))
    })
}

/// The Metrics profile fields a new row changes. A field the row leaves out is no change: a CRM
/// re-sending an export made before (or without) its Metrics columns re-imports the same devices,
/// so only a field it gives, and gives otherwise than stored, is a conflict.
fn profile_differs(old: Option<&str>, new: Option<&str>) -> Vec<&'static str> {
    let read = |text: Option<&str>| -> Option<Profile> {
        text.map_or(Some(Profile::default()), |t| serde_json::from_str(t).ok())
    };
    let (Some(old), Some(new)) = (read(old), read(new)) else {
        // An unreadable stored (or sealed) profile is never silently taken as equal.
        return vec!["metrics profile"];
    };
    let mut differs = Vec::new();
    if new.data_format.is_some() && new.data_format != old.data_format {
        differs.push("metrics data format");
    }
    if new.auth_method.is_some() && new.auth_method != old.auth_method {
        differs.push("metrics auth method");
    }
    differs
}

fn seal_checked(kek: &Kek, tenant: i64, p: Provision) -> Result<NewDevice, String> {
    let sealed = kek
        .seal(tenant, &p.serial, p.params.scheme(), &p.secret.to_bytes())
        .map_err(|e| e.to_string())?;
    Ok(NewDevice {
        serial: p.serial,
        params: p.params,
        sealed,
        counter: i64::from(p.counter),
        model: p.model,
        metrics: p.metrics,
    })
}

/// Provisions one device from a JSON body; the same body again is harmless.
///
/// # Errors
/// A 400 naming the field, a 400 `DEVICE_CONFLICT` for a known serial with other fields, 503.
pub async fn provision_one(
    state: &AppState,
    tenant: i64,
    mut body: Value,
) -> Result<DeviceRow, Response> {
    let fields = split_registered(&mut body);
    let input: ProvisionInput = serde_json::from_value(body).map_err(|e| {
        let msg = format!("invalid device: {e}");
        error(StatusCode::BAD_REQUEST, &msg, &msg, None)
    })?;
    let bad = |m: &str, field: Option<&str>| error(StatusCode::BAD_REQUEST, m, m, field);
    let checked = input
        .check_with(&state.minter, fields)
        .map_err(|e| bad(&e.message, Some(&e.field)))?;
    let device = seal_checked(&state.kek, tenant, checked).map_err(|m| bad(&m, None))?;
    let serial = device.serial.clone();
    let report = state
        .store
        .provision(
            tenant,
            vec![device],
            compare(state.kek.clone()),
            crate::store::API_SOURCE.into(),
        )
        .await
        .map_err(|e| store_error(state, &e, Api::V1))?;
    if let Some(c) = report.conflicts.first() {
        let msg = format!(
            "device {} already exists with a different {}",
            c.serial_number, c.differs
        );
        return Err(error(
            StatusCode::BAD_REQUEST,
            "DEVICE_CONFLICT",
            &msg,
            Some("serial_number"),
        ));
    }
    state
        .store
        .device(tenant, serial)
        .await
        .map_err(|e| store_error(state, &e, Api::V1))?
        .ok_or_else(|| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "device vanished",
                None,
            )
        })
}

fn flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => None,
        "1" | "true" | "yes" | "y" => Some(true),
        _ => Some(false),
    }
}

/// The columns of the CSV formats; a registered scheme's row takes any other as its own.
const COLUMNS: [&str; 20] = [
    "serial number",
    "token scheme",
    "key",
    "batch key",
    "starting code",
    "count",
    "counter",
    "time divider",
    "restricted digit mode",
    "extended token",
    "test code",
    "suite",
    "profile",
    "unit",
    "device id",
    "key revision",
    "hardware model",
    "version",
    "metrics data format",
    "metrics auth method",
];

fn builtin(name: &str) -> bool {
    crate::device::TokenScheme::parse(name).is_some()
}

/// A registered scheme's cell: digits are an unsigned integer, `true`/`false` a boolean,
/// anything else text.
fn cell(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text
            .parse::<u64>()
            .ok()
            .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
            .map_or_else(|| Value::String(text.to_owned()), Value::from),
    }
}

/// Reads a device CSV, each row checked (a registered scheme's by `minter`'s registry).
///
/// # Errors
/// Every malformed row, one message each.
pub fn parse_csv(bytes: &[u8], minter: &Minter) -> Result<Vec<Provision>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| vec![format!("header: {e}")])?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let serial_col =
        col("serial number").ok_or_else(|| vec!["no \"Serial Number\" column".to_owned()])?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {line}: {e}"));
                continue;
            }
        };
        let get = |name: &str| {
            col(name)
                .and_then(|c| record.get(c))
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str, field: &str| -> Result<Option<u64>, String> {
            get(name)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        format!("row {line}: column {name:?} ({field}) must be a whole number")
                    })
                })
                .transpose()
        };
        let parsed = (|| -> Result<ProvisionInput, String> {
            Ok(ProvisionInput {
                serial_number: record.get(serial_col).map(str::to_owned),
                token_scheme: get("token scheme"),
                key: get("key"),
                batch_key: get("batch key"),
                starting_code: number("starting code", "starting_code")?,
                counter: match number("count", "counter")? {
                    Some(c) => Some(c),
                    None => number("counter", "counter")?,
                },
                time_divider: number("time divider", "time_divider")?,
                restricted_digit_set: get("restricted digit mode").and_then(|v| flag(&v)),
                extended_token: get("extended token").and_then(|v| flag(&v)),
                test_code: get("test code"),
                suite: get("suite"),
                profile: get("profile"),
                unit: get("unit"),
                device_id: number("device id", "device_id")?,
                key_rev: number("key revision", "key_rev")?,
                model: get("hardware model"),
                metrics_data_format: get("metrics data format")
                    .map(|v| {
                        serde_json::from_str(&v).map_err(|_| {
                            format!(
                                "row {line}: column \"Metrics Data Format\" must be a JSON object"
                            )
                        })
                    })
                    .transpose()?,
                metrics_auth_method: get("metrics auth method"),
                ..ProvisionInput::default()
            })
        })();
        // A registered scheme's own columns are its record's fields, named by their headers.
        let fields = match &parsed {
            Ok(p) if !p.token_scheme.as_deref().is_none_or(builtin) => headers
                .iter()
                .zip(record.iter())
                .filter(|(h, v)| !COLUMNS.contains(&h.as_str()) && !v.is_empty())
                .map(|(h, v)| (h.replace(' ', "_"), cell(v)))
                .collect(),
            _ => std::collections::BTreeMap::new(),
        };
        match parsed.and_then(|p| {
            p.check_with(minter, fields)
                .map_err(|e| format!("row {line}: {}", e.message))
        }) {
            Ok(p) => rows.push(p),
            Err(m) => problems.push(m),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        let s = &r.serial;
        if !seen.insert(s.clone()) {
            problems.push(format!(
                "row {}: serial number {s} appears twice in the file",
                i + 2
            ));
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Imports a CSV file for `tenant` in one transaction.
///
/// # Errors
/// [`ImportError::Rows`] for malformed rows (nothing stored), or the database.
pub async fn import_csv(
    store: &Store,
    kek: &Arc<Kek>,
    minter: &Minter,
    tenant: i64,
    bytes: &[u8],
    source: &str,
) -> Result<ImportReport, ImportError> {
    let rows = parse_csv(bytes, minter).map_err(ImportError::Rows)?;
    let devices = rows
        .into_iter()
        .map(|r| seal_checked(kek, tenant, r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ImportError::Rows(vec![e]))?;
    store
        .provision(tenant, devices, compare(kek.clone()), source.to_owned())
        .await
        .map_err(ImportError::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openpaygo_csv_reads_and_bad_rows_are_named() {
        let csv = b"Serial Number,Starting Code,Key,Count,Time Divider,Restricted Digit Mode,Hardware Model,Version,Test Code
SLT220000001,516959010,bc41ec9530f6dac86b1a29ab82edc5fb,1,4,1,SuperLight,X20,
SLT240000002,432435255,dac86b1a29ab82edc5fbbc41ec9530f6,1,4,0,SuperLight,X40,999333777
";
        let rows = parse_csv(csv, &Minter::default()).unwrap();
        assert_eq!(rows.len(), 2);
        let p = &rows[1];
        assert_eq!(p.counter, 1);
        assert!(
            matches!(p.params, crate::device::Params::Openpaygo { time_divider: 4, restricted_digit_set: false, ref test_code, .. } if test_code.as_deref() == Some("999333777"))
        );
        let bad = b"Serial Number,Starting Code,Key,Count\nA,1,zz,0\nB,x,00,0\n";
        let problems = parse_csv(bad, &Minter::default()).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("row 2") && problems[0].contains("key"));
        assert!(problems[1].starts_with("row 3") && problems[1].contains("starting"));
        assert!(!problems.join(" ").contains("zz"), "no key material echoed");
    }
}
