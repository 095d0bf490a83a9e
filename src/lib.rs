#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod access;
pub mod capability;
pub mod device;
pub mod key;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod nexus;
pub mod openpaygo;
pub mod persist;
pub mod scheme;
mod siphash;
pub mod token;

pub use key::{Key, KeyError};
pub use scheme::{
    Command, Context, Credit, IssueError, Issuer, Outcome, Payg, Rejection, TimeUnit, Verifier,
};
pub use token::{ParseError, TokenText};
