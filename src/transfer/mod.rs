//! Transfers: copying files between any two `Remote`s with part files, resume, verification and
//! bandwidth limits. Knows nothing of the screen.

mod blocks;
pub mod bundle;
pub mod conflict;
pub mod copy;
mod digest;
pub mod execute;
mod fresh_part;
pub mod gather;
pub(crate) mod lanes;
pub mod limit;
pub mod model;
pub mod plan;
pub mod pool;
pub mod retry;
mod segments;
mod streamed;
mod verification;
