//! Device models: a scheme in one configuration, issuing for a device from its typed record.

use core::fmt;
use core::marker::PhantomData;

use paylock::capability::Capabilities;
use paylock::{Command, IssueError, Issuer};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{PlanRefusal, refused};
use crate::error::Error;
use crate::field::True;
use crate::read::Input;

/// A token ready for a customer, and the counter to store for the device's next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issued {
    /// The printed form, with the scheme's grouping.
    pub token: String,
    /// The keys to press, in order.
    pub keys: String,
    /// The token's own sequence number (OpenPAYGO count, Nexus message ID, AST counter);
    /// `None` for codes without one.
    pub sequence: Option<u32>,
    /// The device's issuer counter after this token: pass it to the next issue.
    pub counter: u32,
}

/// The answer of the `issue` op.
#[derive(Debug, Serialize)]
pub(crate) struct IssuedAnswer<'a> {
    pub ok: True,
    #[serde(flatten)]
    pub issued: &'a Issued,
}

/// What a model keeps for a device between its tokens besides the counter, stored by the caller
/// with it (opaque to everyone else): OpenPAYGO keeps the chain points of the values it issued
/// last, so that a token at count 30,000 costs what one at count 10 does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carry {
    /// OpenPAYGO chain points, most recent first: (value, count, code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<(u32, u32, u64)>,
}

/// A device model: a scheme in one configuration (token form, protocol, profile...).
///
/// Issuing is pure: the same device record, counter and command give the same token.
pub trait Model: Send + Sync + fmt::Debug {
    /// What the model's devices accept.
    fn capabilities(&self) -> Capabilities;

    /// Issues `command` for the device whose provisioning record is `device`, at `counter`.
    ///
    /// # Errors
    /// A record field missing or wrong (named in the error), or a command the issuer refuses.
    fn issue(&self, device: Input<'_>, counter: u32, command: &Command) -> Result<Issued, Error> {
        self.issue_carrying(device, counter, &mut Carry::default(), command)
    }

    /// [`Model::issue`] with what the model carries for the device, updated for the next token.
    ///
    /// # Errors
    /// As [`Model::issue`].
    fn issue_carrying(
        &self,
        device: Input<'_>,
        counter: u32,
        carry: &mut Carry,
        command: &Command,
    ) -> Result<Issued, Error>;

    /// Issues `command` at `counter` for a throwaway device (an all-zero key, say), returning
    /// the next counter: the model's own refusals, without a real device record.
    ///
    /// # Errors
    /// The issuer's refusal.
    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError>;
}

/// Any [`Issuer`] with `u32` counters as a [`Model`] over a typed device record `R`: `secret`
/// turns a record into the issuer's secret, `throwaway` is the secret dry runs use.
///
/// `R` is read from the record with serde; a refusal names the field and never repeats its
/// value (see [`crate::field`] for keys and names).
pub struct IssuerModel<I: Issuer, R, F> {
    issuer: I,
    capabilities: Capabilities,
    secret: F,
    throwaway: I::Secret,
    record: PhantomData<fn(R)>,
}

impl<I, R, F> IssuerModel<I, R, F>
where
    I: Issuer<Counter = u32>,
    R: DeserializeOwned,
    F: Fn(R) -> Result<I::Secret, Error>,
{
    /// `issuer`, described by `capabilities`, reading device records with `secret`.
    pub const fn new(
        issuer: I,
        capabilities: Capabilities,
        secret: F,
        throwaway: I::Secret,
    ) -> Self {
        Self {
            issuer,
            capabilities,
            secret,
            throwaway,
            record: PhantomData,
        }
    }

    /// Issues `command` for the device of `record` at `counter`.
    ///
    /// # Errors
    /// The record's or the issuer's refusal.
    pub fn issue_record(&self, record: R, counter: u32, command: &Command) -> Result<Issued, Error>
    where
        I::Token: fmt::Display,
    {
        let secret = (self.secret)(record)?;
        let mut next = counter;
        let token = self
            .issuer
            .issue(&secret, &mut next, command)
            .map_err(|e| refused(command, PlanRefusal::Issuer(e)))?
            .to_string();
        let keys = self.capabilities.keypad.keys_of(&token).collect();
        Ok(Issued {
            token,
            keys,
            // The counter the token used: one before the next (Nexus may skip a reserved ID).
            sequence: next.checked_sub(1).filter(|_| next != counter),
            counter: next,
        })
    }
}

impl<I: Issuer, R, F> fmt::Debug for IssuerModel<I, R, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerModel")
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl<I, R, F> Model for IssuerModel<I, R, F>
where
    I: Issuer<Counter = u32> + Send + Sync,
    I::Secret: Send + Sync,
    I::Token: fmt::Display,
    R: DeserializeOwned,
    F: Fn(R) -> Result<I::Secret, Error> + Send + Sync,
{
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn issue_carrying(
        &self,
        device: Input<'_>,
        counter: u32,
        _carry: &mut Carry,
        command: &Command,
    ) -> Result<Issued, Error> {
        self.issue_record(device.read()?, counter, command)
    }

    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError> {
        let mut next = counter;
        self.issuer.issue(&self.throwaway, &mut next, command)?;
        Ok(next)
    }
}
