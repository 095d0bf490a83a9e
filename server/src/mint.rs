//! Everything that computes a token: (device parameters, secret, counter, scheme state, order)
//! → (token text, new counter, new scheme state). Pure and synchronous; the rest of the
//! service never names a scheme's issuer.
//!
//! Every token is computed through a [`Registry`]: a device's scheme and parameters name a
//! registered scheme and a model config, the model (built once per config and kept) issues from
//! the device's record, lent as typed fields ([`Record`]), and carries the scheme state in and
//! out ([`Carry`]). OpenPAYGO keeps there the chain points of the values it issued last (at most
//! [`KEPT_POINTS`], all moved to the device's current count after every token), so a token at
//! count 30,000 costs what one at count 10 does unless its value is new to the device.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use paylock::{Command, Credit, IssueError};
use paylock_protocol::read::{Field, Record};
use paylock_protocol::registry::Carry;
use paylock_protocol::{Input, Model, Registry};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::device::{FieldError, Params, Scalar, Secret};

pub use paylock_protocol::openpaygo::KEPT_POINTS;

/// What to issue, in the device's own credit unit ([`Params::unit_seconds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Order {
    /// Add this many units.
    AddCredit {
        /// Units.
        units: u32,
    },
    /// Set the credit to this many units from entry.
    SetCredit {
        /// Units.
        units: u32,
    },
    /// End pay-as-you-go (OpenPAYGO's DISABLE_PAYG).
    Unlock,
    /// Move the device's counter forward (OpenPAYGO, AST).
    CounterSync,
    /// Nexus: clear credit and/or the used-ID window or the restricted flag.
    Wipe {
        /// What to clear.
        target: Wipe,
    },
    /// AST: set a device parameter.
    SetParam {
        /// Parameter id (0-15).
        id: u16,
        /// Value.
        value: u32,
    },
    /// AST: a public test code (uses no counter).
    Test {
        /// Test id.
        id: u16,
    },
}

/// Nexus wipe targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Wipe {
    /// Credit only.
    Credit,
    /// Credit and the used-ID window.
    CreditAndWindow,
    /// The used-ID window only (factory use).
    Window,
    /// The restricted flag.
    RestrictedFlag,
}

/// Per-device scheme state kept with the counter (stored as JSON: `{"chain": [[value, count,
/// code], …]}`, nothing for schemes that keep none).
pub type State = Carry;

/// A token and what to store after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minted {
    /// The text for an SMS: grouped digits, Nexus in its `*…#` form.
    pub token: String,
    /// The keys to press.
    pub keys: String,
    /// The token's own sequence number (OpenPAYGO count, Nexus message ID, AST counter), `None`
    /// for codes without one (Nexus maintenance codes, AST test codes).
    pub sequence: Option<u32>,
    /// The device counter to store.
    pub counter: u32,
    /// The scheme state to store.
    pub state: State,
}

/// Why no token was minted (the message never holds a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MintError(pub String);

fn refused(order: &Order, e: &IssueError) -> MintError {
    let what = match order {
        Order::AddCredit { .. } => "add_credit",
        Order::SetCredit { .. } => "set_credit",
        Order::Unlock => "unlock",
        Order::CounterSync => "counter_sync",
        Order::Wipe { .. } => "wipe",
        Order::SetParam { .. } => "set_param",
        Order::Test { .. } => "test",
    };
    match e {
        IssueError::Unsupported => MintError(format!(
            "{what} is not supported by this device's token scheme"
        )),
        IssueError::OutOfRange { field, found, max } => MintError(format!(
            "{what}: {field} {found} is more than the {max} this device's tokens carry"
        )),
        IssueError::Unit => MintError(format!(
            "{what}: the amount cannot be carried exactly by this device's tokens"
        )),
        _ => MintError(format!("{what}: {e}")),
    }
}

/// A model as the registry builds it for one scheme configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ModelKey {
    Openpaygo {
        time_divider: u8,
        restricted_digit_set: bool,
        extended_token: bool,
    },
    Nexus {
        full: bool,
    },
    Access {
        suite: u8,
        profile: char,
        days: bool,
    },
    /// A scheme registered with the service, built from `{"scheme": name}`.
    Registered {
        name: String,
    },
}

impl ModelKey {
    fn of(params: &Params) -> Self {
        match params {
            Params::Openpaygo {
                time_divider,
                restricted_digit_set,
                extended_token,
                ..
            } => Self::Openpaygo {
                time_divider: *time_divider,
                restricted_digit_set: *restricted_digit_set,
                extended_token: *extended_token,
            },
            Params::NexusFull => Self::Nexus { full: true },
            Params::NexusSmall => Self::Nexus { full: false },
            Params::Ast1 {
                suite,
                profile,
                unit,
                ..
            } => Self::Access {
                suite: *suite,
                profile: *profile,
                days: unit == "days",
            },
            Params::Registered { name, .. } => Self::Registered { name: name.clone() },
        }
    }

    /// The registered scheme's name and the model config (built once per key).
    fn config(&self) -> (&str, serde_json::Value) {
        match self {
            Self::Openpaygo {
                time_divider,
                restricted_digit_set,
                extended_token,
            } => (
                "openpaygo",
                json!({"restricted_digit_set": restricted_digit_set,
                       "extended_token": extended_token, "time_divider": time_divider}),
            ),
            Self::Nexus { full } => (
                "nexus",
                json!({"protocol": if *full { "full" } else { "small" }}),
            ),
            Self::Access {
                suite,
                profile,
                days,
            } => (
                "access",
                json!({"suite": suite, "profile": profile.to_string(),
                       "unit": if *days { "days" } else { "hours" }}),
            ),
            Self::Registered { name } => (name, json!({ "scheme": name })),
        }
    }
}

/// The registry's names of the built-in schemes: their devices are provisioned under the
/// `token_scheme`s `openpaygo`, `nexus_full`, `nexus_small` and `ast1`, never under these.
const BUILTIN_SCHEMES: [&str; 3] = ["openpaygo", "nexus", "access"];

/// Computes tokens through a registry, keeping one model per scheme configuration.
#[derive(Debug)]
pub struct Minter {
    registry: Arc<Registry>,
    models: RwLock<HashMap<ModelKey, Arc<dyn Model>>>,
}

impl Default for Minter {
    /// The built-in schemes.
    fn default() -> Self {
        Self::new(Arc::new(Registry::with_builtin_schemes()))
    }
}

impl Minter {
    /// Tokens of the schemes registered in `registry` (`openpaygo`, `nexus` and `access` serve
    /// the devices of those token schemes; a scheme registered under one of those names
    /// replaces it).
    #[must_use]
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            models: RwLock::default(),
        }
    }

    /// The schemes registered besides the built-in ones: the `token_scheme`s a device can
    /// name beyond `openpaygo`, `nexus_full`, `nexus_small` and `ast1`.
    pub fn registered_schemes(&self) -> impl Iterator<Item = &str> {
        self.registry
            .schemes()
            .filter(|name| !BUILTIN_SCHEMES.contains(name))
    }

    /// Whether a registered scheme's tokens fit an OpenPAYGO Metrics answer, which lists a
    /// device's pending tokens as 1 to 48 digits (`tkl`): its keypad must be digits only and
    /// a token at most 48 keys. The built-in schemes' tokens do (a Nexus keycode's `*`…`#`
    /// frame is the keypad's, not the token's).
    ///
    /// # Errors
    /// Why not, naming the scheme.
    pub fn metrics_tokens(&self, params: &Params) -> Result<(), String> {
        let Params::Registered { name, .. } = params else {
            return Ok(());
        };
        let capabilities = self.model(params).map_err(|e| e.0)?.capabilities();
        let keys = capabilities.keypad.keys();
        if keys.bytes().all(|b| b.is_ascii_digit()) && capabilities.token_len <= 48 {
            Ok(())
        } else {
            Err(format!(
                "token_scheme {name:?} has tokens of {} keys from {keys:?}: an OpenPAYGO \
                 Metrics answer carries tokens of 1 to 48 digits",
                capabilities.token_len
            ))
        }
    }

    /// Whether this service computes the tokens of a device with `params`: a device of a
    /// registered scheme stays in the ledger when the service is started without that scheme
    /// (plain `paylock serve` on its database), and is read but not issued for until the scheme
    /// is registered again.
    ///
    /// # Errors
    /// What to tell the caller, naming the device's `token_scheme`.
    pub fn serves(&self, params: &Params) -> Result<(), String> {
        match params {
            Params::Registered { name, .. } if !self.registered_schemes().any(|n| n == name) => {
                Err(format!(
                    "the device's token_scheme {name:?} is not registered with this service: \
                     start it with a registry holding {name:?} to issue its tokens"
                ))
            }
            _ => Ok(()),
        }
    }

    /// The parameters and first counter of a device of the registered scheme `name`, its
    /// record being `secret`'s key and `fields`: checked by the scheme's own model, which
    /// issues a token from the record (and throws it away), so a record field the model
    /// cannot read is refused here, named, and not at the device's first payment.
    ///
    /// # Errors
    /// `token_scheme` when no scheme of that name is registered or its model does not build,
    /// `counter` out of range, or the record field the model refuses.
    pub fn registered(
        &self,
        name: &str,
        secret: &Secret,
        counter: Option<u64>,
        fields: std::collections::BTreeMap<String, Scalar>,
    ) -> Result<(Params, u32), FieldError> {
        if !self.registered_schemes().any(|n| n == name) {
            let mut known = vec!["openpaygo", "nexus_full", "nexus_small", "ast1"];
            known.extend(self.registered_schemes());
            return Err(FieldError::new(
                "token_scheme",
                format!(
                    "field \"token_scheme\" is {name:?}, not one of {}",
                    known.join(", ")
                ),
            ));
        }
        let mut params = Params::Registered {
            name: name.to_owned(),
            unit_seconds: 86_400,
            fields,
        };
        let model = self
            .model(&params)
            .map_err(|e| FieldError::new("token_scheme", e.0))?;
        let capabilities = model.capabilities();
        let credit = capabilities.add_credit.or(capabilities.set_credit);
        if let (Params::Registered { unit_seconds, .. }, Some(range)) = (&mut params, credit) {
            *unit_seconds = Credit::new(1, range.unit)
                .seconds()
                .and_then(|s| i64::try_from(s).ok())
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    FieldError::new("token_scheme", "the scheme's credit unit has no length")
                })?;
        }
        let counter = counter.unwrap_or(capabilities.first_counter.into());
        let counter = u32::try_from(counter)
            .ok()
            .filter(|c| *c < u32::MAX)
            .ok_or_else(|| {
                FieldError::new(
                    "counter",
                    format!(
                        "field \"counter\" is {counter}, it must be 0-{}",
                        u32::MAX - 1
                    ),
                )
            })?;
        let probe = match (capabilities.add_credit, capabilities.set_credit) {
            (Some(r), _) => Command::AddCredit(Credit::new(r.min.max(1), r.unit)),
            (None, Some(r)) => Command::SetCredit(Credit::new(r.min, r.unit)),
            (None, None) => Command::Unlock,
        };
        let read = record(&params, secret, |record| {
            model.issue_carrying(
                Input::Record(record),
                counter,
                &mut Carry::default(),
                &probe,
            )
        });
        match read {
            // Refused by the issuer, not for the record: the record read.
            Ok(_) => Ok((params, counter)),
            Err(e) if e.issue.is_some() => Ok((params, counter)),
            Err(e) => Err(FieldError::new(
                e.field.as_deref().unwrap_or("token_scheme"),
                e.message,
            )),
        }
    }

    /// The model for `params`, built on first use.
    fn model(&self, params: &Params) -> Result<Arc<dyn Model>, MintError> {
        let key = ModelKey::of(params);
        if let Some(model) = self.models.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(model);
        }
        let (scheme, config) = key.config();
        let model: Arc<dyn Model> = self
            .registry
            .scheme(scheme)
            .and_then(|s| s.model(Input::Value(&config)))
            .map_err(|e| MintError(format!("the device's token scheme: {}", e.message)))?
            .into();
        if let Ok(mut models) = self.models.write() {
            models.insert(key, Arc::clone(&model));
        }
        Ok(model)
    }

    /// Mints the token for `order` on a device with `params` and `secret` at `counter`.
    ///
    /// # Errors
    /// [`MintError`] when the scheme cannot express the order or its amount.
    pub fn mint(
        &self,
        params: &Params,
        secret: &Secret,
        counter: u32,
        state: &State,
        order: Order,
    ) -> Result<Minted, MintError> {
        let model = self.model(params)?;
        let command = command(params, order, &*model)?;
        let mut carry = state.clone();
        let issued = record(params, secret, |record| {
            model.issue_carrying(Input::Record(record), counter, &mut carry, &command)
        })
        .map_err(|e| match e.issue {
            Some(why) => refused(&order, &why),
            None if e.field.as_deref() == Some("test_code") => {
                MintError("no count free of the device's Test Code".into())
            }
            None => MintError(e.message),
        })?;
        Ok(Minted {
            token: issued.token,
            keys: issued.keys,
            sequence: issued.sequence,
            counter: issued.counter,
            state: carry,
        })
    }
}

/// Runs `f` on the device's record: the fields the scheme's model reads.
fn record<T>(params: &Params, secret: &Secret, f: impl FnOnce(Record<'_>) -> T) -> T {
    let key = Field::Key(&secret.key);
    match params {
        Params::Openpaygo { test_code, .. } => {
            let starting_code = ("starting_code", Field::U64(secret.starting_code.into()));
            match test_code {
                Some(code) => f(Record(&[
                    ("key", key),
                    starting_code,
                    ("test_code", Field::Str(code)),
                ])),
                None => f(Record(&[("key", key), starting_code])),
            }
        }
        Params::NexusFull | Params::NexusSmall => f(Record(&[("secret_key_hex", key)])),
        Params::Registered { fields, .. } => {
            let mut record = Vec::with_capacity(fields.len() + 1);
            record.push(("key", key));
            record.extend(fields.iter().map(|(name, value)| {
                let field = match value {
                    Scalar::Bool(b) => Field::Bool(*b),
                    Scalar::U64(n) => Field::U64(*n),
                    Scalar::Str(s) => Field::Str(s),
                };
                (name.as_str(), field)
            }));
            f(Record(&record))
        }
        Params::Ast1 {
            device_id, key_rev, ..
        } => f(Record(&[
            ("device_id", Field::U64((*device_id).into())),
            ("key_rev", Field::U64((*key_rev).into())),
            ("device_key_hex", key),
        ])),
    }
}

/// The scheme-neutral command for `order`, credit in the model's own unit.
fn command(params: &Params, order: Order, model: &dyn Model) -> Result<Command, MintError> {
    let credit = |units| {
        let capabilities = model.capabilities();
        capabilities
            .add_credit
            .or(capabilities.set_credit)
            .map(|range| Credit::new(units, range.unit))
            .ok_or_else(|| refused(&order, &IssueError::Unsupported))
    };
    Ok(match order {
        Order::AddCredit { units } => Command::AddCredit(credit(units)?),
        Order::SetCredit { units } => Command::SetCredit(credit(units)?),
        Order::Unlock => Command::Unlock,
        Order::CounterSync => Command::CounterSync,
        Order::SetParam { id, value } => Command::SetParam { id, value },
        Order::Test { id } => Command::Test(id),
        Order::Wipe { target } if matches!(params, Params::NexusFull | Params::NexusSmall) => {
            Command::Scheme {
                kind: paylock_protocol::nexus::KIND_WIPE,
                arg: match target {
                    Wipe::Credit => 0,
                    Wipe::CreditAndWindow => 1,
                    Wipe::Window => 2,
                    Wipe::RestrictedFlag => 3,
                },
            }
        }
        Order::Wipe { .. } => return Err(refused(&order, &IssueError::Unsupported)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylock::Key;

    fn mint(
        params: &Params,
        secret: &Secret,
        counter: u32,
        state: &State,
        order: Order,
    ) -> Result<Minted, MintError> {
        Minter::default().mint(params, secret, counter, state, order)
    }

    fn opg() -> (Params, Secret) {
        (
            Params::Openpaygo {
                time_divider: 1,
                restricted_digit_set: false,
                extended_token: false,
                test_code: None,
            },
            Secret {
                key: Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap(),
                starting_code: 123_456_789,
            },
        )
    }

    #[test]
    fn openpaygo_doc_token_and_kept_points() {
        let (params, secret) = opg();
        let m = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        assert_eq!(
            (m.token.as_str(), m.keys.as_str(), m.counter),
            ("662 486 790", "662486790", 2)
        );
        assert_eq!(m.state.chain.len(), 1);
        // The next tokens, continued from kept points, are those of a walk from the start.
        let mut state = m.state;
        let mut counter = m.counter;
        for units in [30, 1, 7, 30, 1] {
            let m = mint(
                &params,
                &secret,
                counter,
                &state,
                Order::AddCredit { units },
            )
            .unwrap();
            let fresh = mint(
                &params,
                &secret,
                counter,
                &State::default(),
                Order::AddCredit { units },
            )
            .unwrap();
            assert_eq!(m.keys, fresh.keys);
            (counter, state) = (m.counter, m.state);
        }
        assert_eq!(state.chain.len(), 3);
        assert!(state.chain.iter().all(|p| p.1 == counter));
    }

    #[test]
    fn test_code_is_skipped_to_the_next_count_of_the_same_parity() {
        let (mut params, secret) = opg();
        let first = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        if let Params::Openpaygo { test_code, .. } = &mut params {
            *test_code = Some(first.keys.clone());
        }
        let skipped = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        assert_eq!(skipped.counter, 4);
        assert_ne!(skipped.keys, first.keys);
    }

    /// Nexus and AST tokens through the registry are the core issuers' own, counters and
    /// sequence numbers as the ledger stores them.
    #[test]
    fn nexus_and_ast_tokens_are_the_core_issuers() {
        use paylock::nexus::{FullIssuer, Maintenance, SmallIssuer, WipeTarget};
        use paylock::{Issuer, TimeUnit, access};
        let key = Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap();
        let secret = Secret {
            key: key.clone(),
            starting_code: 0,
        };
        let none = State::default();
        let add = |units| Order::AddCredit { units };
        // Nexus full: 5 hours at ID 7, then a credit wipe at ID 8.
        let m = mint(&Params::NexusFull, &secret, 7, &none, add(5)).unwrap();
        let mut next = 7;
        let code = FullIssuer::new()
            .issue(
                &key,
                &mut next,
                &Command::AddCredit(Credit::new(5, TimeUnit::Hours)),
            )
            .unwrap();
        assert_eq!(
            (m.token.as_str(), m.keys.as_str(), m.sequence, m.counter),
            (code.display().as_str(), code.keys().as_str(), Some(7), next)
        );
        let wipe = Order::Wipe {
            target: Wipe::Credit,
        };
        let m = mint(&Params::NexusFull, &secret, 8, &none, wipe).unwrap();
        let code = FullIssuer::new()
            .wipe_state(&key, 8, WipeTarget::Credit)
            .unwrap();
        assert_eq!(
            (m.keys.as_str(), m.sequence, m.counter),
            (code.keys().as_str(), Some(8), 9)
        );
        // Nexus small: 3 days at ID 0; a maintenance code uses no ID.
        let m = mint(&Params::NexusSmall, &secret, 0, &none, add(3)).unwrap();
        let mut next = 0;
        let code = SmallIssuer::new()
            .issue(
                &key,
                &mut next,
                &Command::AddCredit(Credit::new(3, TimeUnit::Days)),
            )
            .unwrap();
        assert_eq!((m.keys.as_str(), m.counter), (code.keys().as_str(), next));
        let m = mint(&Params::NexusSmall, &secret, 4, &none, wipe).unwrap();
        let code = SmallIssuer::new().maintenance(&key, Maintenance::WipeState0);
        assert_eq!(
            (m.keys.as_str(), m.sequence, m.counter),
            (code.keys().as_str(), None, 4)
        );
        // AST: 12 hours at counter 1; a test code uses no counter; a wipe is refused.
        let params = Params::Ast1 {
            suite: 0,
            profile: 'L',
            unit: "hours".into(),
            device_id: 77,
            key_rev: 0,
        };
        let m = mint(&params, &secret, 1, &none, add(12)).unwrap();
        let (suite, profile, unit) = params.ast().unwrap();
        let config = access::AstConfig {
            suite,
            profile,
            device_id: 77,
            key_rev: 0,
            unit,
        };
        let ast = access::AstSecret::new(key.clone(), config).unwrap();
        let mut next = 1;
        let token = access::AstIssuer
            .issue(
                &ast,
                &mut next,
                &Command::AddCredit(Credit::new(12, TimeUnit::Hours)),
            )
            .unwrap();
        assert_eq!(
            (m.token.as_str(), m.sequence, m.counter),
            (token.as_str(), Some(1), next)
        );
        let m = mint(&params, &secret, 2, &none, Order::Test { id: 1 }).unwrap();
        assert_eq!((m.sequence, m.counter), (None, 2));
        assert_eq!(
            mint(&params, &secret, 2, &none, wipe).unwrap_err().0,
            "wipe is not supported by this device's token scheme"
        );
    }

    /// An issuer's refusal keeps the service's wording (the 400 bodies the APIs return).
    #[test]
    fn refusals_keep_their_wording() {
        let (params, secret) = opg();
        let none = State::default();
        assert_eq!(
            mint(&params, &secret, 0, &none, Order::AddCredit { units: 996 })
                .unwrap_err()
                .0,
            "add_credit: value 996 is more than the 995 this device's tokens carry"
        );
        assert_eq!(
            mint(&params, &secret, 0, &none, Order::Test { id: 1 })
                .unwrap_err()
                .0,
            "test is not supported by this device's token scheme"
        );
    }

    /// Tokens come from the registry the service is given: a scheme registered under a
    /// built-in's name (here one that wraps `nexus` and counts its models' tokens) serves that
    /// scheme's devices, its model built once.
    #[test]
    fn tokens_come_from_the_registry_given() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use paylock_protocol::{Error, Scheme};

        #[derive(Debug)]
        struct Counted(Box<dyn Model>, Arc<AtomicUsize>);
        impl Model for Counted {
            fn capabilities(&self) -> paylock::capability::Capabilities {
                self.0.capabilities()
            }
            fn issue_carrying(
                &self,
                device: Input<'_>,
                counter: u32,
                carry: &mut Carry,
                command: &Command,
            ) -> Result<paylock_protocol::registry::Issued, Error> {
                self.1.fetch_add(1, Ordering::Relaxed);
                self.0.issue_carrying(device, counter, carry, command)
            }
            fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError> {
                self.0.dry_run(counter, command)
            }
        }
        #[derive(Debug)]
        struct Counting(Arc<AtomicUsize>, Arc<AtomicUsize>);
        impl Scheme for Counting {
            fn model(&self, config: Input<'_>) -> Result<Box<dyn Model>, Error> {
                self.1.fetch_add(1, Ordering::Relaxed);
                let model = paylock_protocol::nexus::Nexus.model(config)?;
                Ok(Box::new(Counted(model, Arc::clone(&self.0))))
            }
        }

        let (tokens, models) = (Arc::default(), Arc::default());
        let mut registry = Registry::with_builtin_schemes();
        registry.register_scheme("nexus", Counting(Arc::clone(&tokens), Arc::clone(&models)));
        let minter = Minter::new(Arc::new(registry));
        let secret = Secret {
            key: Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap(),
            starting_code: 0,
        };
        let week = Order::AddCredit { units: 7 };
        for counter in 0..3 {
            let got = minter
                .mint(
                    &Params::NexusSmall,
                    &secret,
                    counter,
                    &State::default(),
                    week,
                )
                .unwrap();
            let builtin = mint(
                &Params::NexusSmall,
                &secret,
                counter,
                &State::default(),
                week,
            );
            assert_eq!(got, builtin.unwrap());
        }
        assert_eq!(
            (
                tokens.load(Ordering::Relaxed),
                models.load(Ordering::Relaxed)
            ),
            (3, 1)
        );
        // OpenPAYGO devices still get the built-in scheme's tokens.
        let (params, secret) = opg();
        let m = minter
            .mint(&params, &secret, 0, &State::default(), week)
            .unwrap();
        assert_eq!(tokens.load(Ordering::Relaxed), 3);
        assert_eq!(m.counter, 2);
    }
}
