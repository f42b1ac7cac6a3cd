//! The scheduled run of the subscription-renewal function against the local stack, on a table of
//! the test's own: renewals from the sharded expiry index, the catch-ups of the run's slot from
//! the connection shards, batched sends, the deadline, the listing of every connection across
//! the shards, and moving connections written before the shards existed.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use m365_connector::domain::{ConnectionId, ConnectionStatus, PageLimit};
use m365_connector::store::batch::Write;
use m365_connector::store::connections::connection_item;
use m365_connector::store::subscriptions::subscription_item;
use m365_connector::store::{client_state_hash, keys, SubscriptionRecord};
use m365_connector::sync::renewal::{self, RENEWAL_MARGIN};
use serde_json::Value;
use tokio::time::Instant;

use crate::helpers::{connection_for, Harness};
use crate::sync::private_table;

/// What was written: connection ids by whether they are due a catch-up at `now`, and the
/// subscriptions due a renewal.
#[derive(Default)]
struct Seeded {
    all: Vec<ConnectionId>,
    catch_ups: BTreeSet<String>,
    renewals: BTreeSet<String>,
}

/// `count` connections (every 5th waiting for re-authentication, the first `unsharded` of them
/// written under the unsharded gsi1 partition as before the shards) with one subscription each,
/// every 3rd expiring within the renewal margin.
async fn seed(h: &Harness, count: usize, unsharded: usize, now: DateTime<Utc>) -> Seeded {
    let user = m365_connector::domain::AppUserId::parse("renewal-user").unwrap();
    let (slot, _) = renewal::run_slot(now);
    let mut seeded = Seeded::default();
    let mut writes = Vec::new();
    for i in 0..count {
        let mut c = connection_for(&user);
        c.created_at = now - chrono::Duration::seconds(i as i64);
        if i % 5 == 4 {
            c.status = ConnectionStatus::ReauthRequired;
        }
        let mut item = connection_item(&c).unwrap();
        if i < unsharded {
            item.insert(
                keys::GSI1_PK.into(),
                AttributeValue::S(keys::UNSHARDED_CONNECTIONS.into()),
            );
        } else if c.status == ConnectionStatus::Active && renewal::slot_of(&c.id) == slot {
            seeded.catch_ups.insert(c.id.to_string());
        }
        writes.push(Write::Put(item));
        let sub = SubscriptionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            connection_id: c.id.clone(),
            tenant_id: c.tenant_id.clone(),
            folder: "inbox".into(),
            resource: "me/mailFolders('inbox')/messages".into(),
            client_state_hash: client_state_hash("s"),
            expires_at: if i % 3 == 0 {
                now + RENEWAL_MARGIN - chrono::Duration::hours(1)
            } else {
                now + chrono::Duration::days(5)
            },
        };
        if i % 3 == 0 {
            seeded.renewals.insert(sub.id.clone());
        }
        writes.push(Write::Put(subscription_item(&sub).unwrap()));
        seeded.all.push(c.id);
    }
    h.connector.store.write_batch(writes).await.unwrap();
    seeded
}

fn far_deadline() -> Instant {
    Instant::now() + Duration::from_secs(300)
}

#[tokio::test]
async fn a_run_renews_what_expires_and_catches_up_its_slot_with_batched_sends_only() {
    let meter = integration_tests::Meter::default();
    let mut h = Harness::start_metered(&meter).await;
    private_table(&mut h, Some(&meter)).await;
    let now = Utc::now();
    let seeded = seed(&h, 120, 0, now).await;

    meter.reset();
    let report = renewal::sweep(&h.connector, now, far_deadline())
        .await
        .unwrap();

    let calls = meter.snapshot();
    // A retried run (same half hour) enqueues nothing twice: same dedup ids.
    renewal::sweep(&h.connector, now, far_deadline())
        .await
        .unwrap();

    assert!(report.complete);
    assert_eq!(report.renewals, seeded.renewals.len());
    assert_eq!(report.catch_ups, seeded.catch_ups.len());
    let jobs = h.sync_jobs().await;
    let renewed: BTreeSet<String> = jobs
        .iter()
        .filter(|j| j["kind"] == "renew")
        .map(|j| j["subscription_id"].as_str().unwrap().to_owned())
        .collect();
    let caught_up: BTreeSet<String> = jobs
        .iter()
        .filter(|j| j["kind"] == "periodic")
        .map(|j| j["connection_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(renewed, seeded.renewals);
    assert_eq!(caught_up, seeded.catch_ups);
    assert_eq!(jobs.len(), renewed.len() + caught_up.len());
    // Only batched sends, at most 10 jobs each; Queries: one per expiry shard and slot shard.
    let count = |op: &str| {
        calls
            .iter()
            .filter(|((_, o), _)| o == op)
            .map(|(_, u)| u.calls)
            .sum::<u32>()
    };
    assert_eq!(count("SendMessage"), 0);
    assert!(count("SendMessageBatch") as usize <= jobs.len().div_ceil(10) + 12);
    assert_eq!(
        count("Query") as usize,
        keys::SUBSCRIPTION_EXPIRY_SHARDS as usize + renewal::shards_of_slot(0).count()
    );
}

#[tokio::test]
async fn a_run_out_of_time_stops_before_reading_and_counts_a_renewal_failure() {
    let mut h = Harness::start().await;
    private_table(&mut h, None).await;
    let now = Utc::now();
    seed(&h, 10, 0, now).await;

    let near = Instant::now() + renewal::STOP_BEFORE_DEADLINE / 2;
    let (report, lines) =
        m365_connector::metrics::capture(renewal::sweep(&h.connector, now, near)).await;

    let report = report.unwrap();
    assert!(!report.complete);
    assert_eq!((report.renewals, report.catch_ups), (0, 0));
    assert!(h.sync_jobs().await.is_empty());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line["RenewalFailures"], 1);
    assert_eq!(line["stage"], "sweep");
}

#[tokio::test]
async fn listing_every_connection_merges_the_shards_newest_first_page_by_page() {
    let mut h = Harness::start().await;
    private_table(&mut h, None).await;
    let now = Utc::now();
    // 5 of them still under the unsharded partition: the listing finds those too.
    let seeded = seed(&h, 40, 5, now).await;

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = h
            .connector
            .store
            .list_connections(
                None,
                PageLimit::parse(Some("7")).unwrap(),
                cursor.as_deref(),
            )
            .await
            .unwrap()
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 7);
        listed.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Seeded newest first (one second apart), so the listing is the seeding order.
    assert_eq!(listed, seeded.all);
    assert!(pages >= 6);

    let foreign = h
        .connector
        .store
        .list_connections(None, PageLimit::parse(Some("7")).unwrap(), Some("bm9wZQ"))
        .await
        .unwrap();
    assert!(foreign.is_err(), "a forged cursor is a 400");
}

#[tokio::test]
async fn connections_written_before_the_shards_are_moved_and_then_caught_up() {
    let mut h = Harness::start().await;
    private_table(&mut h, None).await;
    let now = Utc::now();
    let seeded = seed(&h, 30, 30, now).await;

    // Not in any shard yet: the catch-up does not see them.
    let report = renewal::sweep(&h.connector, now, far_deadline())
        .await
        .unwrap();
    assert_eq!(report.catch_ups, 0);
    h.sync_jobs().await;

    let ran = subscription_renewal::run(&h.connector, now, far_deadline())
        .await
        .unwrap();
    assert_eq!(ran.migrated, 30);
    let again = subscription_renewal::run(&h.connector, now, far_deadline())
        .await
        .unwrap();
    assert_eq!(again.migrated, 0);

    // A run in the next slot's half hour catches up that slot's moved connections.
    let later = now + chrono::Duration::minutes(30);
    let (slot, _) = renewal::run_slot(later);
    let due: HashSet<String> = seeded
        .all
        .iter()
        .enumerate()
        .filter(|(i, id)| i % 5 != 4 && renewal::slot_of(id) == slot)
        .map(|(_, id)| id.to_string())
        .collect();
    h.sync_jobs().await;
    let report = renewal::sweep(&h.connector, later, far_deadline())
        .await
        .unwrap();
    assert_eq!(report.catch_ups, due.len());
    let listed = h
        .connector
        .store
        .list_connections(None, PageLimit::parse(Some("100")).unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed.items.len(), 30);
}
