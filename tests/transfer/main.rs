//! The engine's transfer queue against real sockets: drops and resume, crashes, concurrency,
//! whole trees, fail-fast errors and honest progress.

#[path = "../support/mod.rs"]
mod support;

mod bundles;
mod commands;
mod concurrency;
mod crash;
mod download_bundles;
mod failures;
mod flaky;
mod other_servers;
mod policies;
mod pool_lending;
mod real;
mod resilience;
mod segmented;
mod segmented_ftp;
mod spares;
