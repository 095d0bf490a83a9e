//! Schemes chosen per device model from configuration, for CRMs selling more than one product.
//!
//! A scheme registers a [`Factory`] under a name; a model is built by that factory from a JSON
//! config object; a device is described by its provisioning record, a JSON object the model
//! reads when issuing. Field names, error kinds and messages are the batch protocol's, so a CRM
//! can keep one record per device for both.
//!
//! ```
//! use paylock_protocol::registry::Registry;
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

pub mod access;
pub mod nexus;
pub mod openpaygo;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::batch::fields::{not_one_of, one_of};
use crate::batch::{BatchError, Fields};
use paylock::capability::{Amount, Capabilities, CheckError};
use paylock::scheme::{Command, IssueError, Issuer};

/// A token ready for a customer, and the counter to store for the device's next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The printed form, with the scheme's grouping.
    pub token: String,
    /// The keys to press, in order.
    pub keys: String,
    /// The device's issuer counter after this token: pass it to the next issue.
    pub counter: u32,
}

/// A device model: a scheme in one configuration (token form, protocol, profile...).
///
/// Issuing is pure: the same device record, counter and command give the same token.
pub trait Model: Send + Sync + fmt::Debug {
    /// What the model's devices accept.
    fn capabilities(&self) -> Capabilities;

    /// Issues `command` for the device `device` (its provisioning record) at `counter`.
    ///
    /// # Errors
    /// A field of `device` that is missing or wrong (named in the message), or a command the
    /// issuer refuses.
    fn issue(
        &self,
        device: &Fields<'_>,
        counter: u32,
        command: &Command,
    ) -> Result<Issued, BatchError>;

    /// Issues `command` at `counter` for a throwaway device (an all-zero key, say), returning
    /// the next counter: the model's own refusals, without a real device record.
    ///
    /// # Errors
    /// The issuer's refusal.
    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError>;
}

/// Builds a model from its config object (the one holding `"scheme"`).
pub type Factory = fn(&Fields<'_>) -> Result<Box<dyn Model>, BatchError>;

/// Any [`Issuer`] with `u32` counters as a [`Model`]: `read_secret` turns a device record into
/// the issuer's secret, `throwaway` is the secret dry runs use.
pub struct IssuerModel<I: Issuer, F> {
    issuer: I,
    capabilities: Capabilities,
    read_secret: F,
    throwaway: I::Secret,
}

impl<I, F> IssuerModel<I, F>
where
    I: Issuer<Counter = u32>,
    F: Fn(&Fields<'_>) -> Result<I::Secret, BatchError>,
{
    /// `issuer`, described by `capabilities`, reading device records with `read_secret`.
    pub const fn new(
        issuer: I,
        capabilities: Capabilities,
        read_secret: F,
        throwaway: I::Secret,
    ) -> Self {
        Self {
            issuer,
            capabilities,
            read_secret,
            throwaway,
        }
    }
}

impl<I: Issuer, F> fmt::Debug for IssuerModel<I, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerModel")
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl<I, F> Model for IssuerModel<I, F>
where
    I: Issuer<Counter = u32> + Send + Sync,
    I::Secret: Send + Sync,
    I::Token: fmt::Display,
    F: Fn(&Fields<'_>) -> Result<I::Secret, BatchError> + Send + Sync,
{
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn issue(
        &self,
        device: &Fields<'_>,
        counter: u32,
        command: &Command,
    ) -> Result<Issued, BatchError> {
        let secret = (self.read_secret)(device)?;
        let mut next = counter;
        let token = self
            .issuer
            .issue(&secret, &mut next, command)
            .map_err(|e| refused(command, e.into()))?
            .to_string();
        let keys = self.capabilities.keypad.keys_of(&token).collect();
        Ok(Issued {
            token,
            keys,
            counter: next,
        })
    }

    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError> {
        let mut next = counter;
        self.issuer.issue(&self.throwaway, &mut next, command)?;
        Ok(next)
    }
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

/// Registered schemes and configured models.
#[derive(Debug, Default)]
pub struct Registry {
    schemes: BTreeMap<String, Factory>,
    models: BTreeMap<String, Box<dyn Model>>,
}

impl Registry {
    /// No schemes, no models.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in schemes: [`openpaygo`], [`nexus`] and [`access`] (their modules describe
    /// the model config and device record each reads).
    #[must_use]
    pub fn with_builtin_schemes() -> Self {
        let mut registry = Self::new();
        registry
            .register_scheme("openpaygo", openpaygo::factory)
            .register_scheme("nexus", nexus::factory)
            .register_scheme("access", access::factory);
        registry
    }

    /// Makes `name` available to model configs; a later registration of the name replaces
    /// the earlier one (models already built keep theirs).
    pub fn register_scheme(&mut self, name: impl Into<String>, factory: Factory) -> &mut Self {
        self.schemes.insert(name.into(), factory);
        self
    }

    /// The registered scheme names, sorted.
    pub fn schemes(&self) -> impl Iterator<Item = &str> {
        self.schemes.keys().map(String::as_str)
    }

    /// Builds the models of `{"models": {"<model>": {"scheme": "<name>", …}}}`, replacing
    /// models of the same name. Nothing changes unless every model builds.
    ///
    /// # Errors
    /// The first model that fails to build, its name in the message.
    pub fn configure(&mut self, config: &Value) -> Result<(), BatchError> {
        let root = config
            .as_object()
            .ok_or_else(|| BatchError::new("invalid_config", "the config is a JSON object"))?;
        let models = Fields::new(root).object("models")?;
        // `Fields` reads values by name; the model names come from the map itself.
        let names = root.get("models").and_then(Value::as_object).into_iter();
        let mut built = BTreeMap::new();
        for name in names.flat_map(Map::keys) {
            let model = models.object(name).and_then(|f| self.build(&f));
            built.insert(name.clone(), model.map_err(|e| in_model(name, e))?);
        }
        self.models.extend(built);
        Ok(())
    }

    fn build(&self, config: &Fields<'_>) -> Result<Box<dyn Model>, BatchError> {
        let scheme = config.str("scheme")?;
        let factory = self.schemes.get(scheme).ok_or_else(|| {
            let known: Vec<_> = self.schemes().collect();
            not_one_of("scheme", &known, "unknown_scheme")
        })?;
        factory(config)
    }

    /// The model called `name`.
    ///
    /// # Errors
    /// `unknown_model` when none is configured.
    pub fn model(&self, name: &str) -> Result<&dyn Model, BatchError> {
        self.models
            .get(name)
            .map(Box::as_ref)
            .ok_or_else(|| BatchError::new("unknown_model", "no model of that name is configured"))
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
    ) -> Result<Issued, BatchError> {
        let model = self.model(model)?;
        let record = device.as_object().ok_or_else(|| {
            BatchError::new("invalid_device", "the device record is a JSON object")
        })?;
        model
            .capabilities()
            .check(command)
            .map_err(|e| refused(command, e.into()))?;
        model.issue(&Fields::new(record), counter, command)
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

/// A required string field naming one of `options`, as that option's value; any other name
/// is an error of `kind` (the batch protocol's wording).
fn choice<T: Copy>(
    f: &Fields<'_>,
    name: &str,
    options: &[(&str, T)],
    kind: &'static str,
) -> Result<T, BatchError> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let given = one_of(f, name, &names, kind)?;
    // `one_of` has checked the name: the lookup always finds it.
    options
        .iter()
        .find_map(|(n, v)| (*n == given).then_some(*v))
        .ok_or_else(|| not_one_of(name, &names, kind))
}

/// `e`, raised while building model `name`, saying so.
fn in_model(name: &str, e: BatchError) -> BatchError {
    BatchError::new(e.kind, format!("model {name:?}: {}", e.message))
}

/// A command refused by capabilities or by the issuer, as a batch error of a stable kind.
fn refused(command: &Command, why: PlanRefusal) -> BatchError {
    let kind = match why {
        PlanRefusal::Capability(CheckError::Unsupported(_))
        | PlanRefusal::Issuer(IssueError::Unsupported) => "unsupported_command",
        PlanRefusal::Capability(CheckError::Unit { .. } | CheckError::Inexact { .. })
        | PlanRefusal::Issuer(IssueError::Unit) => "inexact_credit",
        PlanRefusal::Issuer(IssueError::CounterExhausted { .. }) => "counter_exhausted",
        _ => "out_of_range",
    };
    BatchError::new(
        kind,
        format!("{} cannot be issued: {why}", Described(command)),
    )
}

/// A command as a short phrase: `ADD_CREDIT 7 days`, `SET_PARAM 2=300`, `UNLOCK`.
struct Described<'a>(&'a Command);

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
