//! The pure parts of booking a link: which pool members attend (fairness) and which leases a
//! slot takes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::model::Pool;
use super::LEASE_BUCKET_MINUTES;

/// For each pool, `pick` members free for the slot: the ones with the fewest interviews booked
/// through the connector in the surrounding week, ties broken by the pool's order. `None` when
/// some pool has fewer than `pick` free members.
///
/// A member of two pools is picked at most once (parsing forbids that today, but a pick must
/// never name the same person twice).
pub fn pick_members(
    pools: &[Pool],
    free: &HashSet<String>,
    booked_this_week: &HashMap<String, usize>,
) -> Option<Vec<String>> {
    let mut chosen: Vec<String> = Vec::new();
    for pool in pools {
        let mut candidates: Vec<(usize, usize, &String)> = pool
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| free.contains(*m) && !chosen.contains(m))
            .map(|(order, m)| (booked_this_week.get(m).copied().unwrap_or(0), order, m))
            .collect();
        if candidates.len() < pool.pick {
            return None;
        }
        candidates.sort();
        chosen.extend(
            candidates
                .into_iter()
                .take(pool.pick)
                .map(|(_, _, m)| m.clone()),
        );
    }
    Some(chosen)
}

/// The lease buckets a slot covers: every [`LEASE_BUCKET_MINUTES`]-minute bucket (aligned to the
/// Unix epoch) that `[start, end)` touches. Two slots that overlap share at least one bucket (the
/// bucket of any instant in both), so two bookings of the same interviewer for overlapping
/// times write the same lease item and one of their transactions fails. Slots start and end on
/// bucket boundaries (durations and granularities are multiples of the bucket, and every zone's
/// offset is a multiple of 15 minutes), so back-to-back slots never share one.
pub fn lease_buckets(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let size = LEASE_BUCKET_MINUTES * 60;
    let first = start.timestamp().div_euclid(size) * size;
    let mut out = Vec::new();
    let mut t = first;
    while t < end.timestamp() {
        if let Some(bucket) = DateTime::from_timestamp(t, 0) {
            out.push(bucket);
        }
        t += size;
    }
    out
}

/// The week around a slot in which interviews are counted for fairness: three and a half days
/// either side of its start.
pub fn fairness_window(start: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let half = Duration::hours(84);
    (start - half, start + half)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(members: &[&str], pick: usize) -> Pool {
        Pool {
            members: members.iter().map(|m| m.to_string()).collect(),
            pick,
        }
    }

    fn set(v: &[&str]) -> HashSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_free_member_with_the_fewest_interviews_this_week_is_picked_ties_by_order() {
        let pools = [pool(&["a", "b", "c", "d"], 2)];
        let counts = HashMap::from([("a".to_string(), 3), ("b".to_string(), 1)]);
        // c and d have none: both picked, in pool order.
        assert_eq!(
            pick_members(&pools, &set(&["a", "b", "c", "d"]), &counts),
            Some(vec!["c".to_string(), "d".to_string()])
        );
        // d busy: c (0), then b (1) before a (3).
        assert_eq!(
            pick_members(&pools, &set(&["a", "b", "c"]), &counts),
            Some(vec!["c".to_string(), "b".to_string()])
        );
        // Equal counts: the pool's order decides.
        assert_eq!(
            pick_members(&[pool(&["x", "y"], 1)], &set(&["x", "y"]), &HashMap::new()),
            Some(vec!["x".to_string()])
        );
    }

    #[test]
    fn a_pool_with_too_few_free_members_makes_the_slot_unbookable() {
        let pools = [pool(&["a", "b"], 1), pool(&["c", "d", "e"], 2)];
        assert_eq!(
            pick_members(&pools, &set(&["a", "c"]), &HashMap::new()),
            None
        );
        assert_eq!(
            pick_members(&pools, &set(&["b", "c", "e"]), &HashMap::new()),
            Some(vec!["b".into(), "c".into(), "e".into()])
        );
    }

    #[test]
    fn overlapping_slots_share_a_lease_bucket_and_adjacent_ones_do_not() {
        let a = lease_buckets(t("2026-03-09T09:00:00Z"), t("2026-03-09T09:45:00Z"));
        assert_eq!(a.len(), 3);
        let b = lease_buckets(t("2026-03-09T09:30:00Z"), t("2026-03-09T10:00:00Z"));
        assert!(a.iter().any(|x| b.contains(x)), "overlap shares a bucket");
        let c = lease_buckets(t("2026-03-09T09:45:00Z"), t("2026-03-09T10:30:00Z"));
        assert!(!a.iter().any(|x| c.contains(x)), "back to back shares none");
        // Even slots not on bucket boundaries share one when they overlap by a minute.
        let d = lease_buckets(t("2026-03-09T09:44:00Z"), t("2026-03-09T09:46:00Z"));
        assert!(a.iter().any(|x| d.contains(x)));
    }
}
