//! The single-table layout: every partition/sort key, index and TTL attribute is built here and
//! nowhere else. The README's "Data layout" section documents the same table.
//!
//! | entity              | pk                              | sk                       | gsi1 (pk / sk)                          | gsi2 (pk / sk)                  | ttl |
//! |---------------------|---------------------------------|--------------------------|-----------------------------------------|---------------------------------|-----|
//! | connection          | `CONN#{id}`                     | `META`                   | `CONNS#{shard}` / `{created}#{id}`      | `USER#{user_id}` / `{created}#{id}` |     |
//! | mailbox claim       | `MSUSER#{tenant}#{oid}`         | `META`                   |                                         |                                 |     |
//! | token set           | `CONN#{id}`                     | `TOKENS`                 |                                         |                                 |     |
//! | OAuth state         | `OAUTH#{sha256(state)}`         | `META`                   |                                         |                                 | yes |
//! | connect result      | `RESULT#{sha256(result id)}`    | `META`                   | `RESULTS` / `{expires}#{sha256(id)}`    |                                 | yes |
//! | outbox entry        | `OUTBOX`                        | `{created}#{entry id}`   |                                         |                                 |     |
//! | tenant consent      | `TENANT#{tenant}`               | `CONSENT`                |                                         |                                 |     |
//! | tenant policy       | `TENANT#{tenant}`               | `POLICY`                 |                                         |                                 |     |
//! | Graph subscription  | `SUB#{subscription id}`         | `META`                   | `SUBEXP#{shard}` / `{expires}#{sub id}` | `CONN#{id}` / `SUB#{sub id}`    |     |
//! | delta cursor        | `CONN#{id}`                     | `CURSOR#{folder}`        |                                         |                                 |     |
//! | message metadata    | `CONN#{id}`                     | `MSG#{message id}`       | `MSGS#{id}` / `{received}#{message id}` | `WITH#{id}#{1st counterpart}` / `{received}#{message id}` | |
//! | calendar window     | `CONN#{id}`                     | `CALWINDOW`              |                                         |                                 |     |
//! | calendar event      | `CONN#{id}`                     | `EVT#{event id}`         | `EVTS#{id}` / `{start}#{event id}`      |                                 |     |
//! | counterpart (2nd+)  | `WITH#{id}#{address}`           | `{received}#{message id}`|                                         | same as pk / sk                 |     |
//! | idempotency record (a send's too) | `CONN#{id}`       | `IDEM#{sha256(key)}`     |                                         |                                 | yes |
//! | staged upload       | `CONN#{id}`                     | `UPLOAD#{upload id}`     |                                         |                                 | yes |
//! | scheduling link     | `SLINK#{link id}`               | `META`                   |                                         |                                 | yes |
//! | slot lease          | `SLEASE#{sha256(address)}`      | `{bucket, UTC}`          |                                         |                                 | yes |
//! | rate-limit window   | `RATE#{scope}#{sha256(subject)}`| `{window epoch seconds}` |                                         |                                 | yes |
//!
//! Staged upload objects live in the uploads bucket under [`upload_object_key`], the requests of
//! queued sends under [`send_payload_object_key`].

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::domain::{AppUserId, ConnectionId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// Epoch seconds after which DynamoDB's TTL sweeper may delete the item. Sweeping lags by up to
/// days, so readers must also check expiry themselves.
pub const TTL: &str = "ttl";

/// Sort key of an entity's main item.
pub const META: &str = "META";
pub const TOKENS: &str = "TOKENS";
pub const CONSENT: &str = "CONSENT";
/// Sort key of a tenant's access policy, beside its consent in the tenant's partition.
pub const POLICY: &str = "POLICY";

/// How many partitions the subscription-expiry index is spread over, so the renewal sweep never
/// hammers one hot partition.
pub const SUBSCRIPTION_EXPIRY_SHARDS: u8 = 10;

/// A secret or arbitrary-length value reduced to a fixed, key-safe form.
pub fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

pub fn connection_pk(id: &ConnectionId) -> String {
    format!("CONN#{id}")
}

/// How many gsi1 partitions the connections are spread over (`CONNS#{shard}`), so that neither
/// the writes of every connection change nor the periodic catch-up's reads meet in one partition
/// (DynamoDB caps each partition, of a table or an index, at 1,000 write and 3,000 read units a
/// second). A multiple of the catch-up slots: a slot's connections are whole shards (see
/// `sync::renewal`), so a run reads only its own.
pub const CONNECTION_SHARDS: u8 = 12;

/// The one gsi1 partition that held every connection before they were sharded. Items written
/// earlier stay there until the renewal sweep moves them (`Store::migrate_unsharded_connections`);
/// listings read it too until then.
pub const UNSHARDED_CONNECTIONS: &str = "CONNS";

/// The shard of a connection: a stable hash of its id.
pub fn connection_shard(id: &ConnectionId) -> u8 {
    let hash = u64::from_str_radix(&digest(id.as_str())[..12], 16).unwrap_or(0);
    (hash % u64::from(CONNECTION_SHARDS)) as u8
}

/// The gsi1 partition of connection shard `shard` (`0..CONNECTION_SHARDS`).
pub fn connections_shard_pk(shard: u8) -> String {
    format!("{UNSHARDED_CONNECTIONS}#{shard}")
}

/// The gsi1 partition a connection is listed under.
pub fn connection_listing_pk(id: &ConnectionId) -> String {
    connections_shard_pk(connection_shard(id))
}

/// Every gsi1 partition that may list connections: the shards, then the unsharded one.
pub fn connection_listing_partitions() -> impl Iterator<Item = String> {
    (0..CONNECTION_SHARDS)
        .map(connections_shard_pk)
        .chain([UNSHARDED_CONNECTIONS.to_owned()])
}

pub fn user_connections_pk(user: &AppUserId) -> String {
    format!("USER#{}", user.as_str())
}

/// Sort key of a connection in both listing indexes: creation time, then id for uniqueness.
pub fn connection_order(created_at: &DateTime<Utc>, id: &ConnectionId) -> String {
    format!(
        "{}#{id}",
        created_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

pub fn mailbox_claim_pk(tenant_id: &str, ms_user_id: &str) -> String {
    format!("MSUSER#{tenant_id}#{ms_user_id}")
}

pub fn oauth_state_pk(state: &str) -> String {
    format!("OAUTH#{}", digest(state))
}

/// A sign-in's result, waiting for the app to claim it (hash-keyed like OAuth states).
pub fn connect_result_pk(result_id: &str) -> String {
    format!("RESULT#{}", digest(result_id))
}

/// gsi1 partition of the waiting connect results, ordered by expiry, so that the scheduled sweep
/// deletes the unclaimed ones (tokens and all) without waiting for DynamoDB's TTL.
pub const CONNECT_RESULTS: &str = "RESULTS";

pub fn connect_result_expiry(expires_at: &DateTime<Utc>, result_id: &str) -> String {
    format!(
        "{}#{}",
        expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        digest(result_id)
    )
}

/// The one partition of the outbox: entries are rare and short-lived (written with the change
/// they announce, deleted once delivered), so a single partition is far from its write limits.
pub const OUTBOX: &str = "OUTBOX";

/// An outbox entry's sort key: creation time first, so the drain reads the oldest first.
pub fn outbox_sk(created_at: &DateTime<Utc>, entry_id: &str) -> String {
    format!(
        "{}#{entry_id}",
        created_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

pub fn tenant_pk(tenant_id: &str) -> String {
    format!("TENANT#{tenant_id}")
}

pub fn subscription_pk(subscription_id: &str) -> String {
    format!("SUB#{subscription_id}")
}

/// The gsi1 partition (expiry shard) a subscription is indexed under.
pub fn subscription_expiry_shard(subscription_id: &str) -> String {
    let shard = Sha256::digest(subscription_id.as_bytes())[0] % SUBSCRIPTION_EXPIRY_SHARDS;
    subscription_expiry_shard_pk(shard)
}

/// The gsi1 partition of expiry shard `shard` (`0..SUBSCRIPTION_EXPIRY_SHARDS`).
pub fn subscription_expiry_shard_pk(shard: u8) -> String {
    format!("SUBEXP#{shard}")
}

/// Sort key of a subscription in its expiry shard: expiry time, then id.
pub fn subscription_expiry_order(expires_at: &DateTime<Utc>, subscription_id: &str) -> String {
    format!(
        "{}#{subscription_id}",
        expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// The exclusive upper bound of the expiry orders of subscriptions expiring before `deadline`.
pub fn subscription_expiry_upper_bound(deadline: &DateTime<Utc>) -> String {
    format!("{}#", deadline.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Prefix of the gsi2 sort keys that list a connection's subscriptions.
pub const SUBSCRIPTION_OF_CONNECTION_PREFIX: &str = "SUB#";

pub fn subscription_of_connection_sk(subscription_id: &str) -> String {
    format!("{SUBSCRIPTION_OF_CONNECTION_PREFIX}{subscription_id}")
}

/// The subscription id named by a [`subscription_of_connection_sk`].
pub fn subscription_id_of_connection_sk(sk: &str) -> &str {
    sk.strip_prefix(SUBSCRIPTION_OF_CONNECTION_PREFIX)
        .unwrap_or(sk)
}

pub fn cursor_sk(folder: &str) -> String {
    format!("CURSOR#{folder}")
}

pub fn message_sk(message_id: &str) -> String {
    format!("MSG#{message_id}")
}

/// Sort key of the window the calendar's delta cursor covers (Graph keeps it in its tokens).
pub const CALENDAR_WINDOW: &str = "CALWINDOW";

/// Sort key of a synced calendar event instance in its connection's partition.
pub fn calendar_event_sk(event_id: &str) -> String {
    format!("EVT#{event_id}")
}

/// The gsi1 partition of a connection's calendar events, ordered by start.
pub fn calendar_events_by_start_pk(id: &ConnectionId) -> String {
    format!("EVTS#{id}")
}

/// Sort key of a calendar event in the by-start index: start time (UTC, fixed width), then id.
pub fn calendar_event_order(start: &DateTime<Utc>, event_id: &str) -> String {
    format!(
        "{}#{event_id}",
        start.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

pub fn messages_by_time_pk(id: &ConnectionId) -> String {
    format!("MSGS#{id}")
}

/// Sort key of a message in every time-ordered index: received time, then id.
pub fn received_order(received_at: &DateTime<Utc>, message_id: &str) -> String {
    format!(
        "{}#{message_id}",
        received_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

pub fn counterpart_pk(id: &ConnectionId, address: &str) -> String {
    format!("WITH#{id}#{}", address.to_ascii_lowercase())
}

/// Sort key of the idempotency record of an operation key (see [`booking_idempotency_key`]).
pub fn idempotency_sk(key: &str) -> String {
    idempotency_sk_for_digest(&digest(key))
}

/// Sort key of the idempotency record whose key has the [`digest`] `key_digest` (a send's job
/// names its send by that digest, never by the key).
pub fn idempotency_sk_for_digest(key_digest: &str) -> String {
    format!("IDEM#{key_digest}")
}

/// The operation key of a booking's idempotency record. Sends use the client's key as is; a
/// booking's is scoped, so one client key can name both a send and a booking.
pub fn booking_idempotency_key(key: &str) -> String {
    format!("events:{key}")
}

pub fn upload_sk(upload_id: &str) -> String {
    format!("UPLOAD#{upload_id}")
}

/// S3 key of a staged upload. The `upload-` prefix (no `/` before it) is what the send-mail
/// and mail-sync functions' IAM policies are scoped to.
pub fn upload_object_key(id: &ConnectionId, upload_id: &str) -> String {
    format!("{}{upload_id}", upload_object_prefix(id))
}

/// The S3 prefix of every staged upload of a connection (the purge deletes what is under it).
pub fn upload_object_prefix(id: &ConnectionId) -> String {
    format!("upload-{id}/")
}

/// S3 key of a queued send's request, in the uploads bucket until the send is over. The `send-`
/// prefix is what the send functions' IAM policies are scoped to.
pub fn send_payload_object_key(id: &ConnectionId, key_digest: &str) -> String {
    format!("send-{id}/{key_digest}")
}

/// A scheduling link (the id is a UUID; the link's secret is never part of a key).
pub fn scheduling_link_pk(link_id: &str) -> String {
    format!("SLINK#{link_id}")
}

/// An interviewer's leases, one item per booked bucket: hashed, so the table's keys carry no
/// addresses, and one partition per interviewer, so a Query reads their week for fairness.
pub fn lease_pk(address: &str) -> String {
    format!("SLEASE#{}", digest(&address.to_ascii_lowercase()))
}

/// A lease bucket as its sort key (fixed-width UTC, so string order is time order).
pub fn lease_sk(bucket: &DateTime<Utc>) -> String {
    bucket.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A rate-limit counter of `scope` (`link`, `ip`) for `subject`, hashed (an IP is personal data).
pub fn rate_limit_pk(scope: &str, subject: &str) -> String {
    format!("RATE#{scope}#{}", digest(subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_appear_in_keys() {
        let pk = oauth_state_pk("very-secret-state");
        assert!(pk.starts_with("OAUTH#") && !pk.contains("very-secret-state"));
        assert_eq!(pk.len(), "OAUTH#".len() + 64);
        assert!(!idempotency_sk("key-1").contains("key-1"));
        assert_eq!(
            idempotency_sk("key-1"),
            idempotency_sk_for_digest(&digest("key-1"))
        );
        let id = ConnectionId::new_random();
        let object = send_payload_object_key(&id, &digest("key-1"));
        assert!(object.starts_with("send-") && !object.contains("key-1"));
    }

    #[test]
    fn expiry_shards_are_stable_and_bounded() {
        let a = subscription_expiry_shard("sub-1");
        assert_eq!(a, subscription_expiry_shard("sub-1"));
        let shards: std::collections::HashSet<_> = (0..500)
            .map(|i| subscription_expiry_shard(&format!("sub-{i}")))
            .collect();
        assert_eq!(shards.len(), SUBSCRIPTION_EXPIRY_SHARDS as usize);
    }

    #[test]
    fn connection_shards_are_stable_bounded_and_all_used() {
        let id = ConnectionId::new_random();
        assert_eq!(connection_listing_pk(&id), connection_listing_pk(&id));
        let shards: std::collections::HashSet<u8> = (0..500)
            .map(|_| connection_shard(&ConnectionId::new_random()))
            .collect();
        assert_eq!(shards.len(), CONNECTION_SHARDS as usize);
        assert_eq!(connections_shard_pk(11), "CONNS#11");
        assert_eq!(
            connection_listing_partitions().last().as_deref(),
            Some(UNSHARDED_CONNECTIONS)
        );
    }

    #[test]
    fn subscription_keys_round_trip_and_order_by_expiry() {
        let sk = subscription_of_connection_sk("sub-1");
        assert_eq!(subscription_id_of_connection_sk(&sk), "sub-1");
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let later = DateTime::from_timestamp(1_700_000_001, 0).unwrap();
        assert!(subscription_expiry_order(&at, "zzz") < subscription_expiry_upper_bound(&later));
        assert!(subscription_expiry_order(&later, "a") > subscription_expiry_upper_bound(&later));
        assert_eq!(subscription_expiry_shard_pk(3), "SUBEXP#3");
    }

    #[test]
    fn a_booking_and_a_send_with_one_client_key_have_different_records() {
        assert_ne!(
            idempotency_sk("k1"),
            idempotency_sk(&booking_idempotency_key("k1"))
        );
    }

    #[test]
    fn counterpart_addresses_are_case_folded() {
        let id = ConnectionId::new_random();
        assert_eq!(
            counterpart_pk(&id, "Bob@Contoso.Example"),
            counterpart_pk(&id, "bob@contoso.example")
        );
    }
}
