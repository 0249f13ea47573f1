//! Test servers and helpers shared by the integration tests: real sockets, no protocol mocks.
#![allow(dead_code)]

pub mod engine;
pub mod env;
pub mod ftp_server;
pub mod hostile;
pub mod keys;
pub mod real_servers;
pub mod relay;
pub mod sftp_server;
pub mod wait;
