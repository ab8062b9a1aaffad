//! Test support shared by the integration tests: an independent reference of the rule and of every record
//! shape ([`reference`]), and a deterministic labelled generator of records of every shape ([`gen`]) whose
//! labels come from that reference.
//!
//! Nothing here uses the library: the reference is an oracle only while it shares no code with what it
//! checks. Include it from a test file with `#[path = "support/mod.rs"] mod support;`.
#![allow(dead_code)] // each test binary uses a different subset

pub mod gen;
pub mod reference;
