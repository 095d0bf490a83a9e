//! Schemes by name: the one place a request's `scheme` is looked up, for the batch protocol,
//! parallel batches, the simulator, CRMs' device models and the service.
//!
//! A [`Scheme`] answers its own batch ops, builds device models from config, and may provision
//! simulated devices. A CRM selling more than one product configures one model per product;
//! a model issues for a device from its provisioning record (the batch protocol's field names,
//! read into the scheme's typed record), so a CRM keeps one record per device for both.
//!
//! ```
//! use paylock_protocol::Registry;
//! use paylock::{Command, Credit, TimeUnit};
//! use serde_json::json;
//!
//! let mut registry = Registry::with_builtin_schemes();
//! registry.configure(&json!({"models": {
//!     "lamp-s1": {"scheme": "nexus", "protocol": "small"},
//! }}))?;
//! let device = json!({"secret_key_hex": "deadbeefdeadbeefdeadbeefdeadbeef"});
//! let week = Command::AddCredit(Credit::new(7, TimeUnit::Days));
//! let issued = registry.issue("lamp-s1", &device, 0, &week)?;
//! assert_eq!((issued.keys.len(), issued.counter), (15, 1)); // store the counter for next time
//!
//! // 500 days is more than one small code carries: refused before the plan is sold.
//! let plan = [week, Command::AddCredit(Credit::new(500, TimeUnit::Days))];
//! let refused = registry.check_plan("lamp-s1", &plan).unwrap_err();
//! assert_eq!(
//!     refused.to_string(),
//!     "command 2 (ADD_CREDIT 500 days): 500 days is outside 1-405 days"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod command;
mod model;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::fmt;
use std::sync::OnceLock;

use paylock::capability::{Amount, CheckError};
use paylock::{Command, IssueError};
use serde::Deserialize;
use serde_json::Value;

pub use command::WireCommand;
pub use model::{Carry, Issued, IssuerModel, Model};

use crate::error::{Error, ErrorKind};
use crate::read::Input;
use crate::simulate::SimulatedDevice;

/// A token scheme the protocol speaks.
///
/// Only [`Scheme::model`] is required: with it the scheme answers the `issue` op and takes part
/// in [`Registry::configure`]. A scheme that has a device side gives [`Scheme::simulated`] and
/// answers the `simulate` op; one with batch ops of its own lists them in [`Scheme::ops`].
pub trait Scheme: Send + Sync + fmt::Debug {
    /// Builds a device model from its config (the object that names the scheme).
    ///
    /// # Errors
    /// A config field missing or invalid, named in the error.
    fn model(&self, config: Input<'_>) -> Result<Box<dyn Model>, Error>;

    /// The batch ops of the scheme's own (`generate`, `decode`, …), besides `issue` and
    /// `simulate`.
    fn ops(&self) -> &'static [&'static str] {
        &[]
    }

    /// Answers `request`, one of [`Scheme::ops`], appending its answer object to `out`.
    ///
    /// # Errors
    /// The request's refusal.
    fn answer(&self, op: &str, request: Input<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        let _ = (request, out);
        Err(Error::at(
            ErrorKind::UnknownOp,
            "op",
            format_args!("{op} is not an op of this scheme"),
        ))
    }

    /// A new simulated device (blank store, on at time 0) provisioned with `device`.
    ///
    /// # Errors
    /// A provisioning field missing or invalid, or a scheme without a device side.
    fn simulated(&self, device: Input<'_>) -> Result<SimulatedDevice, Error> {
        let _ = device;
        Err(Error::at(
            ErrorKind::UnsupportedCommand,
            "scheme",
            "has no simulated device",
        ))
    }
}

/// A scheme under its name.
#[derive(Debug)]
struct Registered {
    name: String,
    scheme: Arc<dyn Scheme>,
    /// A built-in scheme: every request it answers, it has read whole with [`Input::read`],
    /// so the request was valid JSON (see `batch`'s leading envelope).
    builtin: bool,
}

/// Registered schemes and configured models.
#[derive(Debug, Default)]
pub struct Registry {
    /// In the order of registration: the order refusals list them in.
    schemes: Vec<Registered>,
    models: BTreeMap<String, Box<dyn Model>>,
}

impl Registry {
    /// No schemes, no models.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in schemes: `openpaygo`, `nexus` and `access` (the modules of the same names
    /// describe their ops, model configs and device records).
    #[must_use]
    pub fn with_builtin_schemes() -> Self {
        let mut registry = Self::new();
        registry.register("openpaygo", Arc::new(crate::openpaygo::OpenPaygo), true);
        registry.register("nexus", Arc::new(crate::nexus::Nexus), true);
        registry.register("access", Arc::new(crate::access::Access), true);
        registry
    }

    /// The built-in schemes, shared: what `paylock batch` and the bindings answer with.
    #[must_use]
    pub fn builtin() -> &'static Self {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(Self::with_builtin_schemes)
    }

    /// Makes `scheme` available under `name`; a later registration of the name replaces the
    /// earlier one (models already built keep theirs).
    pub fn register_scheme(
        &mut self,
        name: impl Into<String>,
        scheme: impl Scheme + 'static,
    ) -> &mut Self {
        self.register(name.into(), Arc::new(scheme), false);
        self
    }

    fn register(&mut self, name: impl Into<String>, scheme: Arc<dyn Scheme>, builtin: bool) {
        let entry = Registered {
            name: name.into(),
            scheme,
            builtin,
        };
        match self.schemes.iter_mut().find(|r| r.name == entry.name) {
            Some(slot) => *slot = entry,
            None => self.schemes.push(entry),
        }
    }

    /// The registered scheme names, in the order of registration.
    pub fn schemes(&self) -> impl Iterator<Item = &str> {
        self.schemes.iter().map(|r| r.name.as_str())
    }

    /// The scheme called `name`.
    ///
    /// # Errors
    /// `unknown_scheme`, listing the registered names (never the one given).
    pub fn scheme(&self, name: &str) -> Result<&dyn Scheme, Error> {
        let found = self.schemes.iter().find(|r| r.name == name);
        found.map(|r| r.scheme.as_ref()).ok_or_else(|| {
            let known: Vec<_> = self.schemes().collect();
            Error::not_one_of("scheme", &known, ErrorKind::UnknownScheme)
        })
    }

    /// Whether `name` is a built-in scheme (not replaced by a registration).
    pub(crate) fn is_builtin(&self, name: &str) -> bool {
        self.schemes.iter().any(|r| r.name == name && r.builtin)
    }

    /// Builds the models of `{"models": {"<model>": {"scheme": "<name>", …}}}`, replacing
    /// models of the same name. Nothing changes unless every model builds.
    ///
    /// # Errors
    /// The first model that fails to build, its name in the message.
    pub fn configure(&mut self, config: &Value) -> Result<(), Error> {
        let root = config
            .as_object()
            .ok_or_else(|| Error::new(ErrorKind::InvalidConfig, "the config is a JSON object"))?;
        let models = match root.get("models") {
            None | Some(Value::Null) => return Err(Error::missing("models")),
            Some(Value::Object(models)) => models,
            Some(_) => return Err(Error::wrong_type("models", "an object")),
        };
        let mut built = BTreeMap::new();
        for (name, config) in models {
            let model = self.build(name, config).map_err(|e| in_model(name, e))?;
            built.insert(name.clone(), model);
        }
        self.models.extend(built);
        Ok(())
    }

    fn build(&self, name: &str, config: &Value) -> Result<Box<dyn Model>, Error> {
        if config.is_null() {
            return Err(Error::missing(name));
        }
        if !config.is_object() {
            return Err(Error::wrong_type(name, "an object"));
        }
        let named: Named<'_> = Input::Value(config).read()?;
        self.scheme(&named.scheme)?.model(Input::Value(config))
    }

    /// The model called `name`.
    ///
    /// # Errors
    /// `unknown_model` when none is configured.
    pub fn model(&self, name: &str) -> Result<&dyn Model, Error> {
        self.models.get(name).map(AsRef::as_ref).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownModel,
                "no model of that name is configured",
            )
        })
    }

    /// The configured models, sorted by name.
    pub fn models(&self) -> impl Iterator<Item = (&str, &dyn Model)> {
        self.models.iter().map(|(n, m)| (n.as_str(), m.as_ref()))
    }

    /// Issues `command` for `device` (its provisioning record) of model `model` at `counter`,
    /// after checking it against the model's capabilities.
    ///
    /// # Errors
    /// An unknown model, a device record that is not an object or lacks a field, or a command
    /// the model cannot carry.
    pub fn issue(
        &self,
        model: &str,
        device: &Value,
        counter: u32,
        command: &Command,
    ) -> Result<Issued, Error> {
        let model = self.model(model)?;
        if !device.is_object() {
            return Err(Error::new(
                ErrorKind::InvalidDevice,
                "the device record is a JSON object",
            ));
        }
        model
            .capabilities()
            .check(command)
            .map_err(|e| refused(command, e.into()))?;
        model.issue(Input::Value(device), counter, command)
    }

    /// Checks that every command of `plan` can be issued for a new device of `model`, in
    /// order: against the capabilities, then by issuing it for a throwaway device, so the
    /// issuer's own limits show up too before the plan is sold.
    ///
    /// # Errors
    /// [`PlanError`] naming the first command refused and why.
    pub fn check_plan(&self, model: &str, plan: &[Command]) -> Result<(), PlanError> {
        let model = self
            .models
            .get(model)
            .ok_or_else(|| PlanError::UnknownModel(model.into()))?;
        let capabilities = model.capabilities();
        let mut counter = capabilities.first_counter;
        for (index, command) in plan.iter().enumerate() {
            let refuse = |reason| PlanError::Refused {
                index,
                command: *command,
                reason,
            };
            capabilities.check(command).map_err(|e| refuse(e.into()))?;
            counter = model
                .dry_run(counter, command)
                .map_err(|e| refuse(e.into()))?;
        }
        Ok(())
    }
}

/// The `scheme` a model config names.
#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow, deserialize_with = "crate::field::text")]
    scheme: alloc::borrow::Cow<'a, str>,
}

/// Why a payment plan cannot be sold for a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No model of that name is configured (the message does not repeat the name).
    #[error("no model of that name is configured")]
    UnknownModel(String),
    /// A command of the plan is refused.
    #[error("command {} ({}): {reason}", .index + 1, Described(.command))]
    Refused {
        /// Its position in the plan, from 0 (messages count from 1).
        index: usize,
        /// The command.
        command: Command,
        /// Why.
        reason: PlanRefusal,
    },
}

/// Why one command of a plan is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanRefusal {
    /// The model's capabilities rule it out.
    #[error(transparent)]
    Capability(#[from] CheckError),
    /// The issuer refused it.
    #[error(transparent)]
    Issuer(#[from] IssueError),
}

/// `e`, raised while building model `name`, saying so.
fn in_model(name: &str, mut e: Error) -> Error {
    e.message = format!("model {name:?}: {}", e.message);
    e
}

/// A command refused by capabilities or by the issuer, as an error of a stable kind.
pub(crate) fn refused(command: &Command, why: PlanRefusal) -> Error {
    let kind = match why {
        PlanRefusal::Capability(CheckError::Unsupported(_))
        | PlanRefusal::Issuer(IssueError::Unsupported) => ErrorKind::UnsupportedCommand,
        PlanRefusal::Capability(CheckError::Unit { .. } | CheckError::Inexact { .. })
        | PlanRefusal::Issuer(IssueError::Unit) => ErrorKind::InexactCredit,
        PlanRefusal::Issuer(IssueError::CounterExhausted { .. }) => ErrorKind::CounterExhausted,
        _ => ErrorKind::OutOfRange,
    };
    let mut e = Error::new(
        kind,
        format!("{} cannot be issued: {why}", Described(command)),
    );
    if let PlanRefusal::Issuer(issued) = why {
        e.issue = Some(issued);
    }
    e
}

/// A command as a short phrase: `ADD_CREDIT 7 days`, `SET_PARAM 2=300`, `UNLOCK`.
pub(crate) struct Described<'a>(pub &'a Command);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.0.kind();
        match *self.0 {
            Command::AddCredit(c) | Command::SetCredit(c) => write!(f, "{kind} {}", Amount::of(c)),
            Command::SetParam { id, value } => write!(f, "{kind} {id}={value}"),
            Command::Test(id) => write!(f, "{kind} {id}"),
            Command::Scheme { kind: k, arg } => write!(f, "{kind} {k}:{arg}"),
            _ => write!(f, "{kind}"),
        }
    }
}
