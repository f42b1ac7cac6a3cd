//! DynamoDB's batch operations, with their limits and their unprocessed-item retries in one place.
//!
//! - [`Store::batch_get`]: BatchGetItem, at most [`BATCH_GET_MAX`] keys per call, one call at a
//!   time; [`Store::batch_get_concurrent`]: the same with several calls in flight.
//! - [`Store::write_batch`]: BatchWriteItem, at most [`BATCH_WRITE_MAX`] requests per call, in the
//!   order given; [`Store::delete_keys`]: deletes, several calls in flight.
//!
//! Under load DynamoDB answers part of a batch and hands the rest back as unprocessed; both go
//! through [`retry_unprocessed`], the only retry loop for batches, which repeats the leftover with
//! exponential backoff and fails (never silently drops) when some are still left after
//! [`BATCH_RETRIES`] retries.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{dynamo, keys, s, Item, Store, StoreError};

/// BatchWriteItem takes at most 25 requests per call.
pub const BATCH_WRITE_MAX: usize = 25;
/// BatchGetItem takes at most 100 keys per call.
pub const BATCH_GET_MAX: usize = 100;
/// How many times unprocessed batch items are retried before the batch fails.
pub const BATCH_RETRIES: u32 = 8;
const GET_EXHAUSTED: &str = "BatchGetItem left unprocessed keys after retries";
const WRITE_EXHAUSTED: &str = "BatchWriteItem left unprocessed items after retries";
/// The wait before the first retry; it doubles with every further one.
const BACKOFF_BASE: Duration = if cfg!(test) {
    Duration::from_millis(1)
} else {
    Duration::from_millis(25)
};

/// One request of a batched write.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put(Item),
    Delete { pk: String, sk: String },
}

impl Write {
    /// The (pk, sk) the write touches.
    pub(crate) fn key(&self) -> (String, String) {
        match self {
            Self::Put(item) => {
                let get = |n: &str| {
                    item.get(n)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                (get(keys::PK), get(keys::SK))
            }
            Self::Delete { pk, sk } => (pk.clone(), sk.clone()),
        }
    }

    fn into_request(self) -> Result<WriteRequest, StoreError> {
        match self {
            Self::Put(item) => PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|p| WriteRequest::builder().put_request(p).build()),
            Self::Delete { pk, sk } => DeleteRequest::builder()
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .build()
                .map(|d| WriteRequest::builder().delete_request(d).build()),
        }
        .map_err(dynamo("BatchWriteItem"))
    }
}

/// What one batch call did: the items it returned and the requests it left unprocessed.
struct Answered<T> {
    items: Vec<Item>,
    unprocessed: Vec<T>,
}

/// Sends `pending` through `call` until nothing is left unprocessed, waiting
/// `BACKOFF_BASE * 2^n` before the n-th retry. Returns every item the calls returned and how many
/// calls were made. Leftovers after the last retry are `StoreError::Conflict(exhausted)`.
async fn retry_unprocessed<T, F, Fut>(
    exhausted: &'static str,
    mut pending: Vec<T>,
    call: F,
) -> Result<(Vec<Item>, usize), StoreError>
where
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Answered<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut calls = 0;
    for attempt in 0..=BATCH_RETRIES {
        if attempt > 0 {
            tokio::time::sleep(BACKOFF_BASE * (1 << (attempt - 1))).await;
        }
        calls += 1;
        let answered = call(pending).await?;
        items.extend(answered.items);
        pending = answered.unprocessed;
        if pending.is_empty() {
            return Ok((items, calls));
        }
    }
    Err(StoreError::Conflict(exhausted))
}

impl Store {
    /// BatchGetItem over any number of keys ([`BATCH_GET_MAX`] per call, one after the other).
    /// The items come back in no particular order; absent keys are simply missing.
    pub(crate) async fn batch_get(&self, all: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        self.batch_get_concurrent(all, 1).await
    }

    /// [`Store::batch_get`] with up to `concurrency` calls in flight at once: the latency of one
    /// round trip per `concurrency` calls instead of one per call, and a bounded burst on the
    /// table. The first failed call fails the whole lookup.
    pub(crate) async fn batch_get_concurrent(
        &self,
        all: Vec<Item>,
        concurrency: usize,
    ) -> Result<Vec<Item>, StoreError> {
        use futures::{StreamExt, TryStreamExt};
        let answered: Vec<Vec<Item>> =
            futures::stream::iter(all.chunks(BATCH_GET_MAX).map(<[Item]>::to_vec))
                .map(|chunk| async move {
                    retry_unprocessed(GET_EXHAUSTED, chunk, |pending| self.batch_get_once(pending))
                        .await
                        .map(|(items, _)| items)
                })
                .buffer_unordered(concurrency.max(1))
                .try_collect()
                .await?;
        Ok(answered.into_iter().flatten().collect())
    }

    async fn batch_get_once(&self, keys_: Vec<Item>) -> Result<Answered<Item>, StoreError> {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys_))
            .build()
            .map_err(dynamo("BatchGetItem"))?;
        let answer = self
            .client
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await
            .map_err(dynamo("BatchGetItem"))?;
        Ok(Answered {
            items: answer
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default(),
            unprocessed: answer
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default(),
        })
    }

    /// Applies writes with BatchWriteItem, [`BATCH_WRITE_MAX`] per call in the given order;
    /// unprocessed items are retried with backoff and a call that still leaves some is an error
    /// (nothing is dropped silently). A batch may not touch one key twice, so when several writes
    /// name the same key only the last one is sent. Returns the number of BatchWriteItem calls
    /// made.
    pub async fn write_batch(&self, writes: Vec<Write>) -> Result<usize, StoreError> {
        self.write_batch_with(writes, 1).await
    }

    /// Deletes items by key, `in_flight` BatchWriteItem calls at a time (in no particular order).
    /// Returns the number of calls made.
    pub async fn delete_keys(
        &self,
        keys_: Vec<(String, String)>,
        in_flight: usize,
    ) -> Result<usize, StoreError> {
        let writes = keys_
            .into_iter()
            .map(|(pk, sk)| Write::Delete { pk, sk })
            .collect();
        self.write_batch_with(writes, in_flight).await
    }

    /// [`Store::write_batch`] with up to `in_flight` calls at once (order kept only with 1).
    async fn write_batch_with(
        &self,
        writes: Vec<Write>,
        in_flight: usize,
    ) -> Result<usize, StoreError> {
        let mut last = HashMap::new();
        for (i, w) in writes.iter().enumerate() {
            last.insert(w.key(), i);
        }
        let requests = writes
            .into_iter()
            .enumerate()
            .filter(|(i, w)| last.get(&w.key()) == Some(i))
            .map(|(_, w)| w.into_request())
            .collect::<Result<Vec<_>, _>>()?;
        let made: Vec<usize> = stream::iter(requests.chunks(BATCH_WRITE_MAX))
            .map(|chunk| async move {
                retry_unprocessed(WRITE_EXHAUSTED, chunk.to_vec(), |pending| {
                    self.batch_write_once(pending)
                })
                .await
                .map(|(_, made)| made)
            })
            .buffered(in_flight.max(1))
            .try_collect()
            .await?;
        Ok(made.into_iter().sum())
    }

    async fn batch_write_once(
        &self,
        requests: Vec<WriteRequest>,
    ) -> Result<Answered<WriteRequest>, StoreError> {
        let out = self
            .client
            .batch_write_item()
            .request_items(&self.table, requests)
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("ValidationException") {
                    StoreError::Invalid {
                        operation: "BatchWriteItem",
                        source: Box::new(e),
                    }
                } else {
                    dynamo("BatchWriteItem")(e)
                }
            })?;
        Ok(Answered {
            items: Vec::new(),
            unprocessed: out
                .unprocessed_items
                .and_then(|mut m| m.remove(&self.table))
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn item(n: u32) -> Item {
        Item::from([(keys::PK.to_owned(), s(n.to_string()))])
    }

    #[tokio::test]
    async fn unprocessed_requests_are_retried_until_none_are_left() {
        let seen = Mutex::new(Vec::new());
        let (items, calls) =
            retry_unprocessed(GET_EXHAUSTED, vec![1, 2, 3], |pending: Vec<u32>| {
                seen.lock().unwrap().push(pending.clone());
                // Each call answers the first pending request and hands the rest back.
                let (first, rest) = pending
                    .split_first()
                    .map(|(f, r)| (*f, r.to_vec()))
                    .unwrap();
                async move {
                    Ok(Answered {
                        items: vec![item(first)],
                        unprocessed: rest,
                    })
                }
            })
            .await
            .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(items, vec![item(1), item(2), item(3)]);
        assert_eq!(
            seen.into_inner().unwrap(),
            vec![vec![1, 2, 3], vec![2, 3], vec![3]]
        );
    }

    #[tokio::test]
    async fn a_batch_still_unprocessed_after_the_retries_fails() {
        let calls = Mutex::new(0);
        let err = retry_unprocessed(WRITE_EXHAUSTED, vec![1u32], |pending| {
            *calls.lock().unwrap() += 1;
            async move {
                Ok(Answered {
                    items: Vec::new(),
                    unprocessed: pending,
                })
            }
        })
        .await
        .unwrap_err();
        assert_eq!(*calls.lock().unwrap(), BATCH_RETRIES as usize + 1);
        assert!(matches!(err, StoreError::Conflict(WRITE_EXHAUSTED)));
    }

    #[test]
    fn a_write_names_the_key_it_touches() {
        let put = Write::Put(Item::from([
            (keys::PK.to_owned(), s("A")),
            (keys::SK.to_owned(), s("B")),
        ]));
        let delete = Write::Delete {
            pk: "A".into(),
            sk: "B".into(),
        };
        assert_eq!(put.key(), delete.key());
    }
}
