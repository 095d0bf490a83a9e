//! The `issue` op: any registered scheme's model, any scheme-neutral command, on the wire.
//!
//! `{"op":"issue","scheme":"nexus","model":{"protocol":"small"},
//! "device":{"secret_key_hex":"…"},"counter":0,"command":{"type":"ADD_CREDIT","amount":7,
//! "unit":"days"}}` → `{"ok":true,"token":"…","keys":"…","sequence":0,"counter":1}`. `model`
//! is the model config a [`super::Registry::configure`] entry holds (without `scheme`),
//! `device` the device's provisioning record, `counter` its issuer counter. `command` is one of
//! `ADD_CREDIT` / `SET_CREDIT` (`amount` and `unit`: `seconds`, `minutes`, `hours` or `days`),
//! `UNLOCK`, `COUNTER_SYNC`, `SET_PARAM` (`id`, `value`), `TEST` (`id`) and `SCHEME` (`kind`,
//! `arg`). The command is checked against the model's capabilities first, as
//! [`super::Registry::issue`] does.

use paylock::{Command, Credit, TimeUnit};
use serde::Deserialize;

use super::model::IssuedAnswer;
use super::{Registry, refused};
use crate::error::{Error, ErrorKind};
use crate::field::{self, names};
use crate::read::Input;

names! {
    /// The `type` of a command on the wire.
    pub enum CommandType (ErrorKind::InvalidTokenType) {
        /// [`Command::AddCredit`].
        AddCredit = "ADD_CREDIT",
        /// [`Command::SetCredit`].
        SetCredit = "SET_CREDIT",
        /// [`Command::Unlock`].
        Unlock = "UNLOCK",
        /// [`Command::CounterSync`].
        CounterSync = "COUNTER_SYNC",
        /// [`Command::SetParam`].
        SetParam = "SET_PARAM",
        /// [`Command::Test`].
        Test = "TEST",
        /// [`Command::Scheme`].
        Scheme = "SCHEME",
    }
}

names! {
    /// A unit of credit on the wire.
    pub enum UnitName (ErrorKind::InvalidUnit) {
        /// Seconds.
        Seconds = "seconds",
        /// Minutes.
        Minutes = "minutes",
        /// Hours.
        Hours = "hours",
        /// Days.
        Days = "days",
    }
}

/// A scheme-neutral [`Command`] as the `issue` op takes it.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct WireCommand {
    /// What the command does.
    pub r#type: CommandType,
    /// ADD_CREDIT / SET_CREDIT: how much.
    #[serde(default)]
    pub amount: Option<u32>,
    /// ADD_CREDIT / SET_CREDIT: of what.
    #[serde(default)]
    pub unit: Option<UnitName>,
    /// SET_PARAM: the parameter; TEST: the test.
    #[serde(default)]
    pub id: Option<u16>,
    /// SET_PARAM: the value.
    #[serde(default)]
    pub value: Option<u32>,
    /// SCHEME: the scheme's own kind.
    #[serde(default)]
    pub kind: Option<u16>,
    /// SCHEME: its argument.
    #[serde(default)]
    pub arg: Option<u32>,
}

impl WireCommand {
    /// The command, every field it needs present.
    ///
    /// # Errors
    /// `missing_field` naming `command.<field>`.
    pub fn command(&self) -> Result<Command, Error> {
        fn need<T>(v: Option<T>, name: &str) -> Result<T, Error> {
            v.ok_or_else(|| Error::missing(format!("command.{name}")))
        }
        let credit = || -> Result<Credit, Error> {
            let unit = match need(self.unit, "unit")? {
                UnitName::Seconds => TimeUnit::Seconds,
                UnitName::Minutes => TimeUnit::Minutes,
                UnitName::Hours => TimeUnit::Hours,
                UnitName::Days => TimeUnit::Days,
            };
            Ok(Credit::new(need(self.amount, "amount")?, unit))
        };
        Ok(match self.r#type {
            CommandType::AddCredit => Command::AddCredit(credit()?),
            CommandType::SetCredit => Command::SetCredit(credit()?),
            CommandType::Unlock => Command::Unlock,
            CommandType::CounterSync => Command::CounterSync,
            CommandType::SetParam => Command::SetParam {
                id: need(self.id, "id")?,
                value: need(self.value, "value")?,
            },
            CommandType::Test => Command::Test(need(self.id, "id")?),
            CommandType::Scheme => Command::Scheme {
                kind: need(self.kind, "kind")?,
                arg: need(self.arg, "arg")?,
            },
        })
    }
}

/// The fields of the `issue` op besides the model config and the device record.
#[derive(Deserialize)]
struct IssueOp {
    counter: u32,
    #[serde(deserialize_with = "field::object")]
    command: WireCommand,
}

impl Registry {
    /// Answers an `issue` request of scheme `scheme`.
    pub(crate) fn answer_issue(
        &self,
        scheme: &str,
        request: Input<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let scheme = self.scheme(scheme)?;
        let op: IssueOp = request.read()?;
        let command = op.command.command()?;
        let config = request.object("model")?;
        let model = scheme.model(config).map_err(|e| e.within("model"))?;
        model
            .capabilities()
            .check(&command)
            .map_err(|e| refused(&command, e.into()))?;
        let device = request.object("device")?;
        let issued = model
            .issue(device, op.counter, &command)
            .map_err(|e| e.within("device"))?;
        crate::batch::write(
            out,
            &IssuedAnswer {
                ok: field::True,
                issued: &issued,
            },
        );
        Ok(())
    }
}
