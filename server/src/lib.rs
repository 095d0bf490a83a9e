//! The paylock issuer ledger and HTTP service.
//!
//! A CRM points at it instead of keeping device counters itself: every device's counter and
//! scheme state live in one database (SQLite by default, PostgreSQL for several replicas), each
//! issuance is one idempotent, audited transaction, and device keys are encrypted at rest.
//! It speaks the PaygOps Device API v2 under `/paygops/` and a native API under `/v1/`.
//!
//! The command-line surface is [`cli`]: [`cli::ServeArgs`] with [`cli::run_serve`] and
//! [`cli::AdminArgs`] with [`cli::run_admin`], which the `paylock` CLI mounts as `paylock serve`
//! and `paylock admin`. A program that registers schemes of its own starts the service with
//! [`cli::Service`] and runs admin commands with [`cli::Admin`], both given its registry
//! (docs/server.md, "Your own scheme").

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here

pub mod apikey;
pub mod audit;
pub mod cli;
pub mod credit;
pub mod device;
pub mod fault;
pub mod http;
pub mod import;
pub mod kek;
pub mod metrics;
pub mod mint;
pub mod report;
pub mod store;
pub mod time;
