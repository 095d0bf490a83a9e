//! Why a request is refused or an answer cannot be built: one error type, with sub-enums that
//! name the field and the fault. No error repeats a key or a signature.

/// Everything [`crate::verify`] and [`crate::Answer`] can refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The text is not JSON (RFC 8259: no `NaN`, `Infinity` or unpaired surrogate escapes,
    /// which Python's `json` would take; at most 128 levels of nesting).
    #[error("the request is not JSON: {message} (line {line}, column {column})")]
    Json {
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// An integer Python would keep exactly and this parser would not.
    #[error("the number at byte {position} {problem}")]
    Number {
        /// Byte offset of the literal.
        position: usize,
        /// What is wrong with it.
        problem: NumberProblem,
    },
    /// The request is JSON but not an object.
    #[error("the request is not a JSON object")]
    NotAnObject,
    /// A top-level field is missing or has the wrong type.
    #[error("{field} {problem}")]
    Field {
        /// The field's full name (`serial_number`, `timestamp`…).
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// The request is not authentic, or not fresh.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The data format is missing, incomplete or does not fit the data.
    #[error("data format: {0}")]
    DataFormat(#[from] FormatError),
    /// A historical row cannot be expanded or dated.
    #[error("historical_data row {index}: {problem}")]
    Row {
        /// Position of the row, from 0.
        index: usize,
        /// What is wrong with it.
        problem: RowProblem,
    },
    /// A time answer for a request that asked for none (0.6.3 raises "No time requested").
    #[error(
        "the request asked for no time (active_until_timestamp_requested or active_seconds_left_requested)"
    )]
    NoTimeRequested,
}

/// What is wrong with an integer literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberProblem {
    /// Below -2^63 or above 2^64 - 1.
    Beyond64Bits,
    /// `-0` (Python reads the integer 0).
    NegativeZero,
}

impl core::fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Beyond64Bits => "is an integer beyond 64 bits",
            Self::NegativeZero => "is the integer -0",
        })
    }
}

/// What is wrong with a top-level field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// It is required and absent.
    Missing,
    /// Not a string.
    NotAString,
    /// Not a non-negative integer below 2^64 (or null).
    NotACount,
    /// Not a number of seconds.
    NotATime,
    /// Not an object or a list (or null).
    NotAContainer,
    /// An embedded data format that does not have the data format's shape.
    NotADataFormat,
}

impl core::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::NotAString => "is not a string",
            Self::NotACount => "is not a non-negative integer below 2^64",
            Self::NotATime => "is not a number of seconds",
            Self::NotAContainer => "is not an object or a list",
            Self::NotADataFormat => "is not a data format",
        })
    }
}

/// Why a request is not authentic or not fresh. A mismatch carries no detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `auth` value (or an empty one): 0.6.3 answers "not valid".
    #[error("the request is not signed")]
    Missing,
    /// `auth` is not a string.
    #[error("auth is not a string")]
    NotAString,
    /// `auth` does not start with `sa`, `ta`, `ca`, `da` or `ra`.
    #[error("auth does not start with a known method (sa, ta, ca, da, ra)")]
    UnknownMethod,
    /// Not the method the device is known to sign with ([`crate::Device::method`]).
    #[error("auth uses another method than the device's")]
    WrongMethod,
    /// The method's part is missing (`ta` without a timestamp, `ca` without a count); 0.6.3
    /// raises.
    #[error("the method needs a non-zero {field}")]
    MissingPart {
        /// `timestamp` or `request_count`.
        field: &'static str,
    },
    /// The signature is not the device key's over this request.
    #[error("the signature does not match")]
    Mismatch,
    /// Not above the last accepted value: an older request sent again.
    #[error("{field} is below the last accepted one")]
    Replayed {
        /// `request_count` or `timestamp`.
        field: &'static str,
    },
    /// Equal to the last accepted value: the same request again (0.6.3 refuses it too). A
    /// service may answer it with the answer it stored the first time.
    #[error("{field} equals the last accepted one")]
    Repeated {
        /// `request_count` or `timestamp`.
        field: &'static str,
    },
    /// Neither a request count nor a timestamp: nothing shows the request is new.
    #[error("the request has neither a request_count nor a timestamp")]
    NotFresh,
}

/// What the data format lacks for the data it must expand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Condensed data and no data format (neither given nor in the request).
    #[error("none is known for this request")]
    Missing,
    /// No (or an empty) `data_order` for condensed `data`.
    #[error("no data_order for the condensed data")]
    NoDataOrder,
    /// No (or an empty) `historical_data_order` for a condensed row or an index key.
    #[error("no historical_data_order for the condensed historical data")]
    NoHistoricalOrder,
    /// No `historical_data_interval` for a row without a time.
    #[error("no historical_data_interval for a row without timestamp or relative_time")]
    NoInterval,
    /// More values than names (0.6.3 drops the extra values silently).
    #[error("{field} has {given} values, the order names {named}")]
    TooManyValues {
        /// `data` or `historical_data`.
        field: &'static str,
        /// Values in the list.
        given: usize,
        /// Names in the order.
        named: usize,
    },
}

/// What is wrong with a historical row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowProblem {
    /// Neither a list nor an object (or `historical_data` is not a list).
    NotARow,
    /// `relative_time` or `timestamp` is not a number.
    NotATime,
    /// A date before year 1 or after year 9999 (Python's `datetime` range).
    OutOfRange,
}

impl core::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NotARow => "is not a list or an object",
            Self::NotATime => "has a relative_time or timestamp that is not a number",
            Self::OutOfRange => "is dated outside years 1 to 9999",
        })
    }
}

impl MetricsError {
    /// A short stable name of the error's kind (`json`, `field`, `auth_mismatch`…), for
    /// programs that answer with data.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Json { .. } => "json",
            Self::Number { .. } => "number",
            Self::NotAnObject => "not_an_object",
            Self::Field { .. } => "field",
            Self::Auth(AuthError::Missing) => "auth_missing",
            Self::Auth(AuthError::NotAString) => "auth_not_a_string",
            Self::Auth(AuthError::UnknownMethod) => "auth_unknown_method",
            Self::Auth(AuthError::WrongMethod) => "auth_wrong_method",
            Self::Auth(AuthError::MissingPart { .. }) => "auth_missing_part",
            Self::Auth(AuthError::Mismatch) => "auth_mismatch",
            Self::Auth(AuthError::Replayed { .. }) => "replayed",
            Self::Auth(AuthError::Repeated { .. }) => "repeated",
            Self::Auth(AuthError::NotFresh) => "not_fresh",
            Self::DataFormat(_) => "data_format",
            Self::Row { .. } => "row",
            Self::NoTimeRequested => "no_time_requested",
        }
    }

    /// The field the error is about, when there is one.
    #[must_use]
    pub const fn field(&self) -> Option<&'static str> {
        match self {
            Self::Field { field, .. }
            | Self::Auth(
                AuthError::MissingPart { field }
                | AuthError::Replayed { field }
                | AuthError::Repeated { field },
            )
            | Self::DataFormat(FormatError::TooManyValues { field, .. }) => Some(field),
            Self::Auth(_) => Some("auth"),
            Self::Row { .. } => Some("historical_data"),
            Self::DataFormat(FormatError::NoDataOrder) => Some("data_order"),
            Self::DataFormat(FormatError::NoHistoricalOrder) => Some("historical_data_order"),
            Self::DataFormat(FormatError::NoInterval) => Some("historical_data_interval"),
            _ => None,
        }
    }
}
