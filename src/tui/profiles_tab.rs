//! The Profiles tab's state: the cursor, the tests under way and their last reports. The
//! profiles themselves are the app's (the picker shares them). No I/O here.

use std::collections::{HashMap, HashSet};

use crate::engine::api::TestReport;

#[derive(Debug, Default)]
pub struct ProfilesTab {
    pub cursor: usize,
    /// Profiles being tested.
    pub testing: HashSet<String>,
    /// The last test of each profile.
    pub reports: HashMap<String, TestReport>,
}
