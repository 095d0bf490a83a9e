//! The `openpaygo` device model: issuing from a device record, continuing the value chains the
//! caller carries, never issuing the device's Test Code.

use paylock::capability::Capabilities;
use paylock::openpaygo::{ChainPoint, OpenPaygoIssuer, OpenPaygoSecret, capabilities};
use paylock::{Command, IssueError, Issuer, Key};
use serde::Deserialize;

use super::{form, secret};
use crate::error::{Error, ErrorKind};
use crate::field;
use crate::read::Input;
use crate::registry::{Carry, Issued, Model, PlanRefusal, refused};

/// Chain points carried per device.
pub const KEPT_POINTS: usize = 8;

/// Tokens tried past the device's Test Code before giving up (each skip moves two counts).
const TEST_CODE_SKIPS: usize = 4;

/// An `openpaygo` model config.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct OpenPaygoConfig {
    /// Keypad with only the digits 1-4.
    pub restricted_digit_set: bool,
    /// 12-digit extended tokens.
    pub extended_token: bool,
    /// Activation units per day (1-255).
    pub time_divider: u64,
}

/// An `openpaygo` device record.
#[derive(Clone, Debug, Deserialize)]
pub struct OpenPaygoRecord {
    /// The device key.
    #[serde(deserialize_with = "field::key")]
    pub key: Key,
    /// The device's starting code (0-999,999,999).
    pub starting_code: u64,
    /// The factory's Test Code: a token equal to it is never issued.
    #[serde(default)]
    pub test_code: Option<String>,
}

/// OpenPAYGO devices of one token form and time divider.
#[derive(Debug)]
pub struct OpenPaygoModel {
    issuer: OpenPaygoIssuer,
    capabilities: Capabilities,
    throwaway: OpenPaygoSecret,
}

impl OpenPaygoModel {
    /// The model of `config`.
    ///
    /// # Errors
    /// `time_divider` outside 1-255.
    pub fn new(config: &OpenPaygoConfig) -> Result<Self, Error> {
        let divider = u8::try_from(config.time_divider)
            .map_err(|_| Error::too_large("time_divider", u8::MAX))?;
        if divider == 0 {
            return Err(Error::at(
                ErrorKind::OutOfRange,
                "time_divider",
                "must be 1-255",
            ));
        }
        let form = form(config.restricted_digit_set, config.extended_token);
        Ok(Self {
            issuer: OpenPaygoIssuer::new(form).with_time_divider(divider),
            capabilities: capabilities(form, divider),
            throwaway: secret(Key::new([0; 16]), 0)?,
        })
    }

    /// Issues `command` for the device of `record` at `counter` (the count of its last token),
    /// continuing from the chain points in `carry` and leaving there those of the new count.
    ///
    /// # Errors
    /// The record's or the issuer's refusal.
    pub fn issue_record(
        &self,
        record: &OpenPaygoRecord,
        counter: u32,
        carry: &mut Carry,
        command: &Command,
    ) -> Result<Issued, Error> {
        let secret = secret(record.key.clone(), record.starting_code)?;
        let refuse = |e: IssueError| refused(command, PlanRefusal::Issuer(e));
        let message = self.issuer.message(command).map_err(refuse)?;
        let mut points: Vec<ChainPoint> = carry
            .chain
            .iter()
            .map(|&(v, c, code)| ChainPoint::new(v, c, code))
            .collect();
        let mut count = counter;
        for _ in 0..TEST_CODE_SKIPS {
            let from = points
                .iter()
                .find(|p| p.value() == message.value())
                .copied();
            let (generated, point) = self
                .issuer
                .generate_from(&secret, count, message, from.as_ref())
                .map_err(|e| refuse(e.into()))?;
            points.retain(|p| p.value() != message.value());
            points.truncate(KEPT_POINTS - 1);
            for p in &mut points {
                *p = self.issuer.advance(&secret, *p, generated.count);
            }
            points.insert(0, point);
            count = generated.count;
            carry.chain = points
                .iter()
                .map(|p| (p.value(), p.count(), p.code()))
                .collect();
            let keys = generated.token.as_str();
            // A token equal to the Test Code is skipped: the next count of the same parity.
            if record.test_code.as_deref() == Some(keys) {
                continue;
            }
            return Ok(Issued {
                token: generated
                    .token
                    .grouped(3)
                    .map_or_else(|_| keys.to_owned(), |t| t.as_str().to_owned()),
                keys: keys.to_owned(),
                sequence: Some(count),
                counter: count,
            });
        }
        Err(Error::at(
            ErrorKind::OutOfRange,
            "test_code",
            "matches every token of the next counts: no count is free of it",
        ))
    }
}

impl Model for OpenPaygoModel {
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn issue_carrying(
        &self,
        device: Input<'_>,
        counter: u32,
        carry: &mut Carry,
        command: &Command,
    ) -> Result<Issued, Error> {
        self.issue_record(&device.read()?, counter, carry, command)
    }

    fn dry_run(&self, counter: u32, command: &Command) -> Result<u32, IssueError> {
        let mut next = counter;
        self.issuer.issue(&self.throwaway, &mut next, command)?;
        Ok(next)
    }
}
