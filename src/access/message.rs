//! What a token says (spec §6): the eight type codes, the actions a server can issue and the
//! authenticated message a device reads back.

/// The public TEST key `K_TEST`: TEST codes are the same for every device of a suite/profile.
pub const K_TEST: [u8; 16] = *b"AST1-test-key-00";
/// The device id TEST codes are MACed with; never a real device's id.
pub const TEST_DEVICE_ID: u32 = 0xFFFF_FFFF;

/// The 3-bit type code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// 0: add credit (may arrive in any order inside the window).
    AddCredit,
    /// 1: set the remaining credit and re-lock; a barrier.
    SetCredit,
    /// 2: PAYG off for good; a barrier.
    UnlockPermanent,
    /// 3: move the counter forward; a barrier.
    CounterSync,
    /// 4: set a device parameter; ordered.
    SetParam,
    /// 5: a public, device-independent test code.
    Test,
    /// 6: reserved in v1.
    KeyChange,
    /// 7: reserved in v1.
    Extension,
}

impl TokenType {
    /// Every code, in order.
    pub const ALL: [Self; 8] = [
        Self::AddCredit,
        Self::SetCredit,
        Self::UnlockPermanent,
        Self::CounterSync,
        Self::SetParam,
        Self::Test,
        Self::KeyChange,
        Self::Extension,
    ];

    /// The 3-bit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::AddCredit => 0,
            Self::SetCredit => 1,
            Self::UnlockPermanent => 2,
            Self::CounterSync => 3,
            Self::SetParam => 4,
            Self::Test => 5,
            Self::KeyChange => 6,
            Self::Extension => 7,
        }
    }

    /// The type with this code (only the low 3 bits count).
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code & 7 {
            0 => Self::AddCredit,
            1 => Self::SetCredit,
            2 => Self::UnlockPermanent,
            3 => Self::CounterSync,
            4 => Self::SetParam,
            5 => Self::Test,
            6 => Self::KeyChange,
            _ => Self::Extension,
        }
    }

    /// The name used in the spec and the vector files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AddCredit => "ADD_CREDIT",
            Self::SetCredit => "SET_CREDIT",
            Self::UnlockPermanent => "UNLOCK_PERMANENT",
            Self::CounterSync => "COUNTER_SYNC",
            Self::SetParam => "SET_PARAM",
            Self::Test => "TEST",
            Self::KeyChange => "KEY_CHANGE",
            Self::Extension => "EXTENSION",
        }
    }

    /// Barriers void every lower counter when accepted.
    #[must_use]
    pub const fn is_barrier(self) -> bool {
        matches!(
            self,
            Self::SetCredit | Self::UnlockPermanent | Self::CounterSync
        )
    }
}

impl core::fmt::Display for TokenType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a token does, with its argument: the input of generation and the meaning of an
/// accepted token. Credit amounts are in the device's provisioned unit (hours or days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Add this much credit (`0..=2^v − 1`).
    AddCredit(u32),
    /// Set the remaining credit to this (0 locks now) and return to PAYG.
    SetCredit(u32),
    /// PAYG off for good.
    UnlockPermanent,
    /// Move the counter forward only; the value field is derived from the counter.
    CounterSync,
    /// Set parameter `id` (0-15) to `value` (`v − 4` bits).
    SetParam {
        /// Parameter number: 0 low-credit warning, 1 max load, 2 clear tamper, 8-15 vendor.
        id: u8,
        /// The payload.
        value: u16,
    },
    /// A test code: 0 show info, 1 output test, others vendor-defined.
    Test(u16),
}

impl Action {
    /// The type code this action travels as.
    #[must_use]
    pub const fn token_type(self) -> TokenType {
        match self {
            Self::AddCredit(_) => TokenType::AddCredit,
            Self::SetCredit(_) => TokenType::SetCredit,
            Self::UnlockPermanent => TokenType::UnlockPermanent,
            Self::CounterSync => TokenType::CounterSync,
            Self::SetParam { .. } => TokenType::SetParam,
            Self::Test(_) => TokenType::Test,
        }
    }
}

/// A token whose MAC verified: what it says and which counter it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AstMessage {
    /// The meaning, decoded from type and value.
    pub action: Action,
    /// The full reconstructed counter (0 for TEST).
    pub counter: u32,
    /// The raw value field, as MACed (for UNLOCK_PERMANENT the device ignores it).
    pub value: u32,
}

impl AstMessage {
    /// The token's type.
    #[must_use]
    pub const fn token_type(&self) -> TokenType {
        self.action.token_type()
    }
}

/// A SET_PARAM parameter number: low-credit warning threshold, in credit units.
pub const PARAM_LOW_CREDIT_WARNING: u8 = 0;
/// A SET_PARAM parameter number: maximum load in watts (0 = no limit).
pub const PARAM_MAX_LOAD_W: u8 = 1;
/// A SET_PARAM parameter number: clear the tamper flag (payload 0).
pub const PARAM_CLEAR_TAMPER: u8 = 2;
/// Test id: show firmware, device id, key revision and max counter.
pub const TEST_SHOW_INFO: u16 = 0;
/// Test id: outputs on for at most 60 s, only on a never-activated device.
pub const TEST_OUTPUT: u16 = 1;
