//! Shared set-up: the local stack's configuration and clients, built from the environment that
//! `make test` (scripts/stack.py) exports.

use chrono::Utc;
use m365_connector::aws::AwsClients;
use m365_connector::config::Config;
use m365_connector::domain::{AppUserId, Capability, Connection, ConnectionId, ConnectionStatus};
use m365_connector::store::Store;

pub struct Stack {
    pub config: Config,
    pub aws: AwsClients,
    pub store: Store,
}

/// The local stack, or a panic that says how to get one.
pub async fn stack() -> Stack {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the integration tests through `make test`, which starts the local stack"
    );
    let config =
        Config::from_env().expect("the local stack's configuration (run through `make test`)");
    let aws = AwsClients::from_env().await;
    let store = Store::new(aws.dynamodb.clone(), &config.table_name);
    Stack { config, aws, store }
}

/// A unique id for test data, so tests can share one table and run in parallel.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A connection as the OAuth callback would create it, for a fresh mailbox.
pub fn connection_for(user: &AppUserId) -> Connection {
    let now = Utc::now();
    Connection {
        id: ConnectionId::new_random(),
        user_id: user.clone(),
        tenant_id: uuid::Uuid::new_v4().to_string(),
        ms_user_id: uuid::Uuid::new_v4().to_string(),
        email: "alice@contoso.example".into(),
        display_name: "Alice".into(),
        status: ConnectionStatus::Active,
        capabilities: vec![
            Capability::MailRead,
            Capability::MailSend,
            Capability::Calendar,
        ],
        scopes: vec!["Mail.Read".into(), "Mail.Send".into()],
        created_at: now,
        updated_at: now,
        last_error: None,
    }
}
