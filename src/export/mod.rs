//! Exports of the compiled rule for pipelines that cannot load svcshell itself: [`vrl`] writes a VRL program
//! for Vector's `remap` transform.

pub mod vrl;
