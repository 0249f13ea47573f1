//! SFTP remote tests: every behaviour against the in-process server (`support::sftp_server`)
//! and, with FERRY_REAL_SERVERS=1, against OpenSSH's sshd as well (twin tests named `…_real`).
//!
//! Map: `harness` (targets, profiles, trust stores, a scripted prompt, ssh-agent and key
//! helpers), `login` (password, keyboard-interactive, keys, agent, failures), `trust`
//! (host-key policies), `failures` (connect errors, dropped connections, full disks, denied
//! paths, hostile names), `files` (listing and metadata), `streams` (pipelined reads and
//! writes, resume, server-side hashing).

mod failures;
mod files;
mod harness;
mod login;
mod streams;
mod trust;
