//! Telling a lost condition apart from every other DynamoDB failure.
//!
//! Every conditional write in the store goes through [`conditional`]: success is `Ok(Ok(output))`,
//! a lost condition is `Ok(Err(ConditionLost))` (with the item as it was, when the write asked for
//! it), anything else is a [`StoreError::Dynamo`] naming the operation.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::{dynamo, Item, StoreError};

/// A conditional write whose condition did not hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ConditionLost {
    /// The item as it was, when the write asked for it
    /// (`ReturnValuesOnConditionCheckFailure::AllOld`) and it existed.
    pub old: Option<Item>,
}

/// The service errors of the operations that take a condition.
pub(crate) trait ConditionalError:
    std::error::Error + Send + Sync + Sized + 'static
{
    /// Whether the error is the condition not holding (for a transaction: on any of its items).
    fn is_condition_failure(&self) -> bool;

    /// The item as it was, for a condition failure that returned it.
    fn into_old_item(self) -> Option<Item> {
        None
    }
}

impl ConditionalError for PutItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }

    fn into_old_item(self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(c) => c.item,
            _ => None,
        }
    }
}

impl ConditionalError for UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }

    fn into_old_item(self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(c) => c.item,
            _ => None,
        }
    }
}

impl ConditionalError for DeleteItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }

    fn into_old_item(self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(c) => c.item,
            _ => None,
        }
    }
}

impl ConditionalError for TransactWriteItemsError {
    fn is_condition_failure(&self) -> bool {
        match self {
            Self::TransactionCanceledException(t) => t
                .cancellation_reasons()
                .iter()
                .any(|r| r.code() == Some("ConditionalCheckFailed")),
            _ => false,
        }
    }
}

/// Sorts the result of a conditional write: the output, a lost condition, or a store error.
pub(crate) fn conditional<T, E, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<Result<T, ConditionLost>, StoreError>
where
    E: ConditionalError,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(SdkError::ServiceError(e)) if e.err().is_condition_failure() => {
            Ok(Err(ConditionLost {
                old: e.into_err().into_old_item(),
            }))
        }
        Err(e) => Err(dynamo(operation)(e)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, TransactionCanceledException,
    };
    use aws_sdk_dynamodb::types::CancellationReason;

    use super::*;

    fn service<E>(e: E) -> SdkError<E, ()> {
        SdkError::service_error(e, ())
    }

    #[test]
    fn a_condition_failure_is_told_apart_and_keeps_the_old_item() {
        let old: Item = Item::from([("pk".to_owned(), super::super::s("X"))]);
        let e = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .set_item(Some(old.clone()))
                .build(),
        );
        let lost = conditional::<(), _, _>("PutItem", Err(service(e))).unwrap();
        assert_eq!(lost, Err(ConditionLost { old: Some(old) }));

        let e = UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        );
        let lost = conditional::<(), _, _>("UpdateItem", Err(service(e))).unwrap();
        assert_eq!(lost, Err(ConditionLost::default()));
        assert_eq!(
            conditional::<_, DeleteItemError, ()>("DeleteItem", Ok(7)).unwrap(),
            Ok(7)
        );
    }

    #[test]
    fn a_transaction_lost_only_on_a_condition_counts_as_a_condition_failure() {
        let cancelled = |code: &str| {
            TransactWriteItemsError::TransactionCanceledException(
                TransactionCanceledException::builder()
                    .cancellation_reasons(CancellationReason::builder().code("None").build())
                    .cancellation_reasons(CancellationReason::builder().code(code).build())
                    .build(),
            )
        };
        let lost = conditional::<(), _, _>(
            "TransactWriteItems",
            Err(service(cancelled("ConditionalCheckFailed"))),
        );
        assert!(matches!(lost, Ok(Err(_))));
        let other = conditional::<(), _, _>(
            "TransactWriteItems",
            Err(service(cancelled("ThrottlingError"))),
        );
        assert!(matches!(
            other,
            Err(StoreError::Dynamo {
                operation: "TransactWriteItems",
                ..
            })
        ));
    }

    #[test]
    fn other_failures_are_store_errors() {
        let e = PutItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("InternalServerError")
                .build(),
        );
        let err = conditional::<(), _, _>("PutItem", Err(service(e))).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Dynamo {
                operation: "PutItem",
                ..
            }
        ));
    }
}
