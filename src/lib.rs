//! ferry: move files between this machine and SFTP, FTP and FTPS servers.
//!
//! A tour of the crate:
//! - [`paths`] and [`config`]: where files live and what `config.toml` says.
//! - [`vault`]: the key that seals secrets (Argon2id passphrase or key file) and the sealing itself.
//! - [`store`]: the one redb file holding profiles, settings, the system log and transfer history.
//! - [`profile`] and [`ssh_config`]: server profiles, their URLs and import from `~/.ssh/config`.
//! - [`remote`]: the `Remote` trait with SFTP, FTP/FTPS and local implementations, and host-key trust.
//! - [`text`]: server names kept as exact bytes, and the one escaping of server text for terminals.
//! - [`engine`]: the one owner of store, vault key, queue and pools; `Request`/`Response`/`Event`.
//! - [`tui`]: the full-screen app, a front end of the engine.
//! - [`cli`]: the command line, a thin layer over the rest.

pub mod cli;
pub mod config;
pub mod engine;
pub mod logging;
pub mod paths;
pub mod profile;
pub mod remote;
pub mod ssh_config;
pub mod store;
pub mod text;
pub mod transfer;
pub mod tui;
pub mod units;
pub mod vault;
