//! Code shared by the Metrics targets: a report and an answer built from fuzzed fields with
//! paylock's own device and server code, which the targets then change one byte at a time.

use arbitrary::Arbitrary;
use paylock::Key;
use paylock::metrics::{AuthMethod, BuildError, Layout, Request, Values};
use paylock_metrics::DataFormat;

/// One value of a report.
#[derive(Arbitrary, Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Decimal(i64, u8),
    Text(String),
}

/// The fields of a report; names come from the data format (condensed) or `names`.
#[derive(Arbitrary, Debug)]
pub struct Report {
    pub condensed: bool,
    pub method: u8,
    pub serial: String,
    pub timestamp: Option<u32>,
    pub count: Option<u32>,
    pub data: Option<Vec<Scalar>>,
    pub rows: Option<Vec<(Option<i16>, Vec<Scalar>)>>,
}

/// Names of the data and of the rows, and the interval between rows.
pub fn format() -> DataFormat {
    DataFormat {
        id: Some(7.into()),
        data_order: Some(names("d")),
        historical_data_order: Some(row_names()),
        historical_data_interval: Some(60),
        other: serde_json::Map::new(),
    }
}

fn names(prefix: &str) -> Vec<String> {
    (0..8).map(|i| format!("{prefix}{i}")).collect()
}

/// Eight values, then the row's relative time.
fn row_names() -> Vec<String> {
    let mut names = names("h");
    names.push("relative_time".to_owned());
    names
}

pub fn method(selector: u8) -> AuthMethod {
    AuthMethod::ALL[usize::from(selector % 5)]
}

fn write(f: &mut Values<'_, '_>, name: &str, value: &Scalar) -> Result<(), BuildError> {
    match value {
        Scalar::Null => f.null(name),
        Scalar::Bool(b) => f.bool(name, *b),
        Scalar::Int(i) => f.int(name, *i),
        Scalar::Uint(u) => f.uint(name, *u),
        // Not JSON: a device sends none.
        Scalar::Float(x) if !x.is_finite() => f.null(name),
        Scalar::Float(x) => f.float(name, *x),
        Scalar::Decimal(m, s) => match f.decimal(name, *m, *s % 40) {
            Err(BuildError::InexactDecimal) => f.null(name),
            other => other,
        },
        Scalar::Text(t) => f.str(name, t),
    }
}

fn values(f: &mut Values<'_, '_>, prefix: &str, values: &[Scalar]) -> Result<(), BuildError> {
    values
        .iter()
        .take(8)
        .enumerate()
        .try_for_each(|(i, v)| write(f, &format!("{prefix}{i}"), v))
}

/// The signed report text, or `None` when the method's part is missing.
pub fn build(report: &Report, key: &Key, buf: &mut [u8]) -> Option<String> {
    let form = if report.condensed {
        Layout::Condensed
    } else {
        Layout::Simple
    };
    let mut request = Request::new(buf, form, &report.serial).ok()?;
    request.data_format_id(7).ok()?;
    if let Some(ts) = report.timestamp {
        request.timestamp(u64::from(ts)).ok()?;
    }
    if let Some(rc) = report.count {
        request.request_count(u64::from(rc)).ok()?;
    }
    if let Some(data) = &report.data {
        request.data(|f| values(f, "d", data)).ok()?;
    }
    if let Some(rows) = &report.rows {
        request
            .historical_data(|hd| {
                rows.iter().take(6).try_for_each(|(relative, row)| {
                    hd.row(|f| {
                        values(f, "h", row)?;
                        let Some(seconds) = relative else {
                            return Ok(());
                        };
                        // Condensed: the relative time is the ninth position.
                        for i in row.len().min(8)..8 {
                            f.null(&format!("h{i}"))?;
                        }
                        f.int("relative_time", i64::from(*seconds))
                    })
                })
            })
            .ok()?;
    }
    request
        .sign(key, method(report.method))
        .ok()
        .map(str::to_owned)
}
