//! Exports of the compiled rule for pipelines that cannot load svcshell itself: [`vrl`] writes a VRL program
//! for Vector's `remap` transform, [`vector`] a Vector config fragment around it (route, throttle, unit tests).

pub mod vector;
pub mod vrl;
