//! Foundation tests: config fixtures, store safety, the vault and the profile CLI, driven through
//! the real `ferry` binary and the library.

#[path = "../support/mod.rs"]
mod support;

mod config_fixtures;
mod import;
mod profiles;
mod store_safety;
mod vault;
