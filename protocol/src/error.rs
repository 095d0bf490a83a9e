//! Refusals as data: a stable kind, the field it concerns, and a message that names the field
//! and what was expected. A message never repeats a value given: a key or a starting code
//! pasted into the wrong field would be printed back.

use core::fmt;

use paylock::IssueError;
use serde::Serialize;

/// What was wrong with a request, as a stable snake_case name (`missing_field`, `out_of_range`,
/// …): the names of the batch protocol's `error.kind`, which never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is not JSON.
    InvalidJson,
    /// The line is not UTF-8.
    InvalidUtf8,
    /// The line is longer than [`crate::MAX_LINE`].
    LineTooLong,
    /// The request is not an object, or cannot be read for another reason than one field.
    InvalidRequest,
    /// A required field is absent or null.
    MissingField,
    /// A field holds the wrong JSON type or form.
    WrongType,
    /// A number outside what the field takes.
    OutOfRange,
    /// A field that contradicts another one.
    ConflictingField,
    /// A field this request must not have.
    FieldNotAllowed,
    /// A `value` given with a token type that carries none.
    ValueNotAllowed,
    /// A key that is not 32 hex digits.
    InvalidKey,
    /// A `scheme` no registered scheme has.
    UnknownScheme,
    /// An `op` the scheme (or the batch) does not answer.
    UnknownOp,
    /// A model name no config defined.
    UnknownModel,
    /// A registry config that is not an object.
    InvalidConfig,
    /// A device record that is not an object.
    InvalidDevice,
    /// A simulate event the device cannot take.
    InvalidEvent,
    /// A simulated device that cannot be built.
    Simulation,
    /// A request whose work would pass the bound of one request.
    TooMuchWork,
    /// Text that is not a token of the expected form.
    MalformedToken,
    /// A command or code the scheme does not issue.
    UnsupportedCommand,
    /// Credit the scheme cannot carry exactly.
    InexactCredit,
    /// A counter with no later one: the device needs new provisioning.
    CounterExhausted,
    /// A Nexus message ID the code cannot use (see `next_valid_id`).
    IdCollision,
    /// A Nexus message ID reserved for old test codes (see `next_valid_id`).
    IdReserved,
    /// A passthrough of a length that devices would misread.
    InvalidLength,
    /// An AST suite this build leaves out.
    SuiteUnavailable,
    /// An AST suite number that is not 0, 1 or 2.
    InvalidSuite,
    /// An AST profile that is not L, M or S.
    InvalidProfile,
    /// A credit unit that is not `hours` or `days`.
    InvalidUnit,
    /// An AST device mode that is not `PAYG` or `UNLOCKED`.
    InvalidMode,
    /// A keypad protocol the scheme does not have.
    InvalidProtocol,
    /// A Nexus message type the protocol does not have.
    InvalidMessageType,
    /// A token type the scheme does not have.
    InvalidTokenType,
    /// Nexus wipe flags that are not one of the four.
    InvalidFlags,
    /// A simulated clock that is not `rtc` or `runtime`.
    InvalidClock,
    /// A simulated lockout that is not `default` or `none`.
    InvalidLockout,
}

impl ErrorKind {
    /// Every kind, for reading a name back.
    const ALL: [Self; 36] = [
        Self::InvalidJson,
        Self::LineTooLong,
        Self::InvalidRequest,
        Self::MissingField,
        Self::WrongType,
        Self::OutOfRange,
        Self::ConflictingField,
        Self::FieldNotAllowed,
        Self::ValueNotAllowed,
        Self::InvalidKey,
        Self::UnknownScheme,
        Self::UnknownOp,
        Self::UnknownModel,
        Self::InvalidConfig,
        Self::InvalidDevice,
        Self::InvalidEvent,
        Self::Simulation,
        Self::TooMuchWork,
        Self::MalformedToken,
        Self::UnsupportedCommand,
        Self::InexactCredit,
        Self::CounterExhausted,
        Self::IdCollision,
        Self::IdReserved,
        Self::InvalidLength,
        Self::SuiteUnavailable,
        Self::InvalidSuite,
        Self::InvalidProfile,
        Self::InvalidUnit,
        Self::InvalidMode,
        Self::InvalidProtocol,
        Self::InvalidMessageType,
        Self::InvalidTokenType,
        Self::InvalidFlags,
        Self::InvalidClock,
        Self::InvalidLockout,
    ];

    /// The kind called `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The protocol's name of the kind.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::LineTooLong => "line_too_long",
            Self::InvalidRequest => "invalid_request",
            Self::MissingField => "missing_field",
            Self::WrongType => "wrong_type",
            Self::OutOfRange => "out_of_range",
            Self::ConflictingField => "conflicting_field",
            Self::FieldNotAllowed => "field_not_allowed",
            Self::ValueNotAllowed => "value_not_allowed",
            Self::InvalidKey => "invalid_key",
            Self::UnknownScheme => "unknown_scheme",
            Self::UnknownOp => "unknown_op",
            Self::UnknownModel => "unknown_model",
            Self::InvalidConfig => "invalid_config",
            Self::InvalidDevice => "invalid_device",
            Self::InvalidEvent => "invalid_event",
            Self::Simulation => "simulation",
            Self::TooMuchWork => "too_much_work",
            Self::MalformedToken => "malformed_token",
            Self::UnsupportedCommand => "unsupported_command",
            Self::InexactCredit => "inexact_credit",
            Self::CounterExhausted => "counter_exhausted",
            Self::IdCollision => "id_collision",
            Self::IdReserved => "id_reserved",
            Self::InvalidLength => "invalid_length",
            Self::SuiteUnavailable => "suite_unavailable",
            Self::InvalidSuite => "invalid_suite",
            Self::InvalidProfile => "invalid_profile",
            Self::InvalidUnit => "invalid_unit",
            Self::InvalidMode => "invalid_mode",
            Self::InvalidProtocol => "invalid_protocol",
            Self::InvalidMessageType => "invalid_message_type",
            Self::InvalidTokenType => "invalid_token_type",
            Self::InvalidFlags => "invalid_flags",
            Self::InvalidClock => "invalid_clock",
            Self::InvalidLockout => "invalid_lockout",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl PartialEq<str> for ErrorKind {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

/// A refused request: `kind`, the `field` (a path such as `state.max_count` or `events[3].at`)
/// when one field is at fault, and a message naming it and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    /// The class of the refusal.
    pub kind: ErrorKind,
    /// What was wrong, naming the field; never a value given.
    pub message: String,
    /// The field at fault, as a path from the request (`params.hours`, `events[3].at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a refused message ID (`id_collision`, `id_reserved`): the next ID that works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_valid_id: Option<u32>,
    /// For a command an issuer refused: its typed refusal, for a caller that words refusals
    /// its own way (a service's API). Not part of the batch protocol's answer.
    #[serde(skip)]
    pub issue: Option<IssueError>,
}

impl Error {
    /// An error about the request as a whole (no one field).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            next_valid_id: None,
            issue: None,
        }
    }

    /// An error about `field`: the message is `field "<field>" <what>`.
    pub fn at(kind: ErrorKind, field: impl Into<String>, what: impl fmt::Display) -> Self {
        let field = field.into();
        Self {
            kind,
            message: format!("field {field:?} {what}"),
            field: Some(field),
            next_valid_id: None,
            issue: None,
        }
    }

    /// An error about `field` with a message of its own (it still names the field).
    pub fn about(kind: ErrorKind, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: Some(field.into()),
            next_valid_id: None,
            issue: None,
        }
    }

    /// A required field that is absent or null.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::at(ErrorKind::MissingField, field, "is required")
    }

    /// A field of the wrong type: `expected` says what it must be (`a string`).
    pub fn wrong_type(field: impl Into<String>, expected: &str) -> Self {
        Self::at(
            ErrorKind::WrongType,
            field,
            format_args!("must be {expected}"),
        )
    }

    /// A number above `max`; the value itself is not repeated.
    pub fn too_large(field: impl Into<String>, max: impl fmt::Display) -> Self {
        Self::at(
            ErrorKind::OutOfRange,
            field,
            format_args!("must be at most {max}"),
        )
    }

    /// A field holding none of `names`; the value itself is not repeated.
    pub fn not_one_of(field: impl Into<String>, names: &[&str], kind: ErrorKind) -> Self {
        Self::at(
            kind,
            field,
            format_args!("must be one of: {}", names.join(", ")),
        )
    }

    /// A field that contradicts what `why` implies; the value itself is not repeated.
    pub fn conflicting(field: impl Into<String>, why: &str) -> Self {
        Self::at(
            ErrorKind::ConflictingField,
            field,
            format_args!("contradicts {why}"),
        )
    }

    /// The same error naming the next message ID that works.
    #[must_use]
    pub const fn with_next_valid_id(mut self, id: u32) -> Self {
        self.next_valid_id = Some(id);
        self
    }

    /// The same error with `more` added to its message.
    #[must_use]
    pub fn and(mut self, more: impl fmt::Display) -> Self {
        self.message.push_str(&more.to_string());
        self
    }

    /// The same error raised for a field of the object `outer`: the field becomes
    /// `outer.<field>`, in the message too.
    #[must_use]
    pub fn within(mut self, outer: &str) -> Self {
        if let Some(field) = &self.field {
            let inner = format!("field {field:?}");
            let path = join(outer, field);
            self.message = self.message.replacen(&inner, &format!("field {path:?}"), 1);
            self.field = Some(path);
        }
        self
    }
}

/// `outer.inner`, or `outer[3]` for an index.
fn join(outer: &str, inner: &str) -> String {
    if inner.starts_with('[') {
        format!("{outer}{inner}")
    } else {
        format!("{outer}.{inner}")
    }
}
