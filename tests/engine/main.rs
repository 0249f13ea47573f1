//! The engine as the only door: browsing, profiles, the vault, questions, watchers, relays
//! between servers and stopping, all through `Request`/`Response`/`Event` against real sockets.

#[path = "../support/mod.rs"]
mod support;

mod browse;
mod jump;
mod profiles;
mod questions;
mod relay;
mod watchers;
