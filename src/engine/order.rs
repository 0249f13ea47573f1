//! The queue's order, per profile: which queued transfers start next, found without sorting
//! the whole queue each time one finishes (a 100,000-file upload would otherwise spend its
//! time here). No I/O.

use std::collections::{BTreeSet, HashMap};

/// Every transfer in the queue, whatever its state, by profile and then (position, id).
#[derive(Default)]
pub struct QueueOrder {
    by_profile: HashMap<String, BTreeSet<(u64, u64)>>,
}

/// What the scheduler may do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Pick {
    /// Start these, in this order.
    Start(Vec<u64>),
    /// A profile with queued work whose capacity is not known yet.
    NeedCapacity(String),
}

impl QueueOrder {
    pub fn add(&mut self, profile: &str, position: u64, id: u64) {
        self.by_profile
            .entry(profile.to_string())
            .or_default()
            .insert((position, id));
    }

    pub fn remove(&mut self, profile: &str, position: u64, id: u64) {
        if let Some(set) = self.by_profile.get_mut(profile) {
            set.remove(&(position, id));
            if set.is_empty() {
                self.by_profile.remove(profile);
            }
        }
    }

    /// The transfers of `profile` after `(position, id)`, in order.
    pub fn after(&self, profile: &str, position: u64, id: u64) -> impl Iterator<Item = u64> + '_ {
        use std::ops::Bound::{Excluded, Unbounded};
        self.by_profile
            .get(profile)
            .into_iter()
            .flat_map(move |set| set.range((Excluded((position, id)), Unbounded)))
            .map(|&(_, id)| id)
    }

    /// Up to `room` transfers for which `is_queued` holds, earliest position first across
    /// profiles, taking at most `free[profile]` from each (and counting them off).
    pub fn pick(
        &self,
        room: usize,
        is_queued: impl Fn(u64) -> bool,
        free: &mut HashMap<String, usize>,
    ) -> Pick {
        let mut picked: Vec<u64> = Vec::new();
        while picked.len() < room {
            let mut best: Option<((u64, u64), &str)> = None;
            for (profile, set) in &self.by_profile {
                let head = set
                    .iter()
                    .find(|(_, id)| is_queued(*id) && !picked.contains(id));
                let Some(&head) = head else {
                    continue;
                };
                match free.get(profile.as_str()) {
                    None => return Pick::NeedCapacity(profile.clone()),
                    Some(0) => continue,
                    Some(_) => {}
                }
                if best.is_none_or(|(key, _)| head < key) {
                    best = Some((head, profile));
                }
            }
            let Some(((_, id), profile)) = best else {
                break;
            };
            if let Some(left) = free.get_mut(profile) {
                *left -= 1;
            }
            picked.push(id);
        }
        Pick::Start(picked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> QueueOrder {
        let mut order = QueueOrder::default();
        for (profile, position, id) in [("a", 1, 10), ("b", 2, 20), ("a", 3, 30), ("b", 4, 40)] {
            order.add(profile, position, id);
        }
        order
    }

    fn free(a: usize, b: usize) -> HashMap<String, usize> {
        HashMap::from([("a".to_string(), a), ("b".to_string(), b)])
    }

    #[test]
    fn picks_in_position_order_across_profiles() {
        assert_eq!(
            order().pick(3, |_| true, &mut free(5, 5)),
            Pick::Start(vec![10, 20, 30])
        );
    }

    #[test]
    fn respects_each_profiles_room_and_skips_what_is_not_queued() {
        let mut room = free(1, 5);
        assert_eq!(
            order().pick(5, |id| id != 20, &mut room),
            Pick::Start(vec![10, 40])
        );
        assert_eq!(room["a"], 0);
        assert_eq!(
            order().pick(5, |_| true, &mut free(0, 0)),
            Pick::Start(vec![])
        );
    }

    #[test]
    fn asks_for_an_unknown_profiles_capacity() {
        let mut room = HashMap::from([("a".to_string(), 5)]);
        assert_eq!(
            order().pick(5, |_| true, &mut room),
            Pick::NeedCapacity("b".to_string())
        );
        let mut removed = order();
        removed.remove("b", 2, 20);
        removed.remove("b", 4, 40);
        assert_eq!(
            removed.pick(5, |_| true, &mut room),
            Pick::Start(vec![10, 30])
        );
    }
}
