//! The `connections` function: the app-facing HTTP API over the user's mailbox connections.
//! Routes (template.yaml and the local router carry the same list):
//! - `GET /connections` - list, `?user_id=&limit=&cursor=`.

use lambda_http::{http::Method, http::StatusCode, Body, Request, RequestExt, Response};
use m365_connector::auth::ApiKeyVerifier;
use m365_connector::config::Config;
use m365_connector::domain::{AppUserId, PageLimit};
use m365_connector::http::{self, ApiError};
use m365_connector::secrets::SecretCache;
use m365_connector::store::Store;
use m365_connector::{aws::AwsClients, connections};

/// Everything a request needs, built once per container.
pub struct State {
    pub store: Store,
    pub secrets: SecretCache,
    pub api_keys: ApiKeyVerifier,
}

impl State {
    pub fn new(config: &Config, aws: &AwsClients) -> Self {
        Self {
            store: Store::new(aws.dynamodb.clone(), &config.table_name),
            secrets: SecretCache::new(aws.secrets.clone(), config.secrets_cache_ttl),
            api_keys: ApiKeyVerifier::new(&config.api_keys_secret_id),
        }
    }
}

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    http::respond(route(state, &request).await)
}

async fn route(state: &State, request: &Request) -> Result<Response<Body>, ApiError> {
    let segments: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["connections"] => {
            if request.method() != Method::GET {
                return Err(ApiError::MethodNotAllowed);
            }
            authenticate(state, request).await?;
            list_connections(state, request).await
        }
        _ => Err(ApiError::NotFound(format!(
            "no route for {}",
            request.uri().path()
        ))),
    }
}

async fn authenticate(state: &State, request: &Request) -> Result<(), ApiError> {
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let key = state.api_keys.authenticate(&state.secrets, header).await?;
    tracing::debug!(api_key_id = %key.0, "authenticated");
    Ok(())
}

async fn list_connections(state: &State, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = request.query_string_parameters();
    let user = query.first("user_id").map(AppUserId::parse).transpose()?;
    let limit = PageLimit::parse(query.first("limit"))?;
    let list = connections::list(&state.store, user.as_ref(), limit, query.first("cursor")).await?;
    Ok(http::json(StatusCode::OK, &list))
}
