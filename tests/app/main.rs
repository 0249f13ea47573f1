//! The full-screen app: key sequences in and requests out, snapshots of every tab and dialog,
//! whole flows against a real engine and the in-process servers, and the real binary in a
//! pseudo-terminal.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod hostile;
mod jumps;
mod keys;
mod pty;
mod snapshots;
mod stage;
mod whole;
