//! svcshell runs Elastic's detection rule "System Shells via Services" (rule
//! `0022d47d-39c7-4f69-a232-4fe9dc7a3acd`, v313) on every record a log shipper carries, and forwards the
//! matching ones as ECS alerts; or, with the `rule_file` property, another single-event EQL rule loaded from
//! Elastic's own rule files ([`rule`]).
//!
//! ```
//! use svcshell::{Action, Filter};
//!
//! let filter = Filter::from_properties(&[("mode", "tag")]).unwrap();
//! let record = br#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"]},
//!   "host":{"os":{"type":"windows"}},
//!   "process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;
//! match filter.process(record).action {
//!     Action::Alert(out) => assert!(out.windows(7).any(|w| w == b"\"alert\"")),
//!     other => panic!("expected an alert, got {other:?}"),
//! }
//! assert_eq!(filter.stats().alerts, 1);
//! ```
//!
//! Layout: [`eql`] compiles and evaluates the rule; [`record`] reads fields straight from the record bytes;
//! [`source`] derives the rule's fields from raw shipper shapes; [`rule`] holds the rule as data and loads rule
//! files; [`alert`] writes the ECS alert fields;
//! [`config`] checks shipper properties ([`settings`] reads them from a file); [`filter`] ties them together; `ffi` is the C ABI; [`export`] writes
//! the rule for pipelines that cannot load svcshell (VRL for Vector).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod alert;
pub mod config;
pub mod eql;
pub mod export;
/// The C ABI (`include/svcshell.h`): the only home of `extern "C"` in the crate.
pub mod ffi;
pub mod filter;
pub mod record;
pub mod rule;
pub mod settings;
pub mod source;

pub use config::{Config, ConfigError, Mode};
pub use filter::{Action, Filter, Outcome, Stats, Verdict};
pub use record::RecordError;

/// This library's version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
