//! One message never holds its folder back. A page whose writes DynamoDB or EventBridge refuse
//! (the content, not throttling or an outage: see `SyncError::is_refusal`) is applied again
//! message by message; a message refused even alone is quarantined (logged with its ids, counted,
//! left out) and the page, cursor included, goes on. Any other failure fails the job as before,
//! so a passing outage never costs a message.

use std::future::Future;

/// Applies `items` with `apply`: all at once (`true`: that attempt carries the page's cursor),
/// or, when that is refused, one at a time (`false`). Returns `None` when the first attempt went
/// through, else the items refused alone with their errors, in order (maybe none).
pub(super) async fn apply_isolating<'a, T, E, F, Fut>(
    items: &'a [T],
    is_refusal: impl Fn(&E) -> bool,
    mut apply: F,
) -> Result<Option<Vec<(&'a T, E)>>, E>
where
    F: FnMut(&'a [T], bool) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    match apply(items, true).await {
        Ok(()) => return Ok(None),
        Err(e) if is_refusal(&e) && !items.is_empty() => {}
        Err(e) => return Err(e),
    }
    let mut refused = Vec::new();
    for item in items {
        match apply(std::slice::from_ref(item), false).await {
            Ok(()) => {}
            Err(e) if is_refusal(&e) => refused.push((item, e)),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(refused))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, PartialEq)]
    enum E {
        Refused(u32),
        Outage,
    }

    /// Runs `apply_isolating` over 1..=5 where `bad` items are refused and `down` fails all;
    /// returns its result and every attempt made (the items, and whether it carried the cursor).
    async fn run(bad: &[u32], down: bool) -> (Result<Option<Vec<u32>>, E>, Vec<(Vec<u32>, bool)>) {
        let items = [1, 2, 3, 4, 5];
        let attempts = Mutex::new(Vec::new());
        let result = apply_isolating(
            &items,
            |e| matches!(e, E::Refused(_)),
            |batch: &[u32], together| {
                attempts.lock().unwrap().push((batch.to_vec(), together));
                let refused = batch.iter().find(|i| bad.contains(i)).copied();
                async move {
                    match (down, refused) {
                        (true, _) => Err(E::Outage),
                        (false, Some(i)) => Err(E::Refused(i)),
                        (false, None) => Ok(()),
                    }
                }
            },
        )
        .await
        .map(|refused| refused.map(|r| r.into_iter().map(|(i, _)| *i).collect()));
        (result, attempts.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_page_that_goes_through_is_one_attempt_with_the_cursor() {
        let (result, attempts) = run(&[], false).await;
        assert_eq!(result, Ok(None));
        assert_eq!(attempts, vec![(vec![1, 2, 3, 4, 5], true)]);
    }

    #[tokio::test]
    async fn a_refused_page_is_applied_one_by_one_and_only_the_refused_message_is_left_out() {
        let (result, attempts) = run(&[3], false).await;
        assert_eq!(result, Ok(Some(vec![3])));
        assert_eq!(attempts.len(), 6);
        assert!(attempts[1..]
            .iter()
            .all(|(b, together)| b.len() == 1 && !together));
    }

    #[tokio::test]
    async fn an_outage_fails_the_page_and_quarantines_nothing() {
        let (result, attempts) = run(&[], true).await;
        assert_eq!(result, Err(E::Outage));
        assert_eq!(attempts.len(), 1);
        // Refused as a whole, then an outage while isolating: the job fails, nothing is lost.
        let items = [1, 2];
        let calls = Mutex::new(0);
        let result = apply_isolating(
            &items,
            |e| matches!(e, E::Refused(_)),
            |_: &[u32], together| {
                *calls.lock().unwrap() += 1;
                async move {
                    if together {
                        Err(E::Refused(0))
                    } else {
                        Err(E::Outage)
                    }
                }
            },
        )
        .await;
        assert!(matches!(result, Err(E::Outage)));
        assert_eq!(*calls.lock().unwrap(), 2);
    }
}
