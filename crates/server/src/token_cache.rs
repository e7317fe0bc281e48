//! Short-lived caches of credential -> user, so a busy API client or a person clicking
//! through pages does not cost a database lookup per request: API tokens, and web sessions
//! (with their CSRF token). Entries live a few seconds: a change to a user (role,
//! organisation) or a deleted token or session takes effect within that time on other
//! nodes, and at once on the node where it was made (`forget`, `forget_user`).

use crate::auth::hash_secret;
use crate::error::ApiError;
use backline_domain::UserId;
use backline_store::{Store, StoreError, User};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 10_000;

/// What a cache entry says about whom it is for, so a change to that person can drop it.
pub trait ForUser: Clone {
    fn user_id(&self) -> UserId;
}

impl ForUser for User {
    fn user_id(&self) -> UserId {
        self.id
    }
}

/// A web session: the user and the session's CSRF token.
impl ForUser for (User, String) {
    fn user_id(&self) -> UserId {
        self.0.id
    }
}

/// Hashed credential -> what it stands for, for `TTL`.
pub struct CredentialCache<T> {
    entries: Mutex<HashMap<String, (T, Instant)>>,
}

impl<T> Default for CredentialCache<T> {
    fn default() -> Self {
        CredentialCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

/// API tokens -> their user.
pub type TokenCache = CredentialCache<User>;
/// Web session tokens -> their user and CSRF token.
pub type SessionCache = CredentialCache<(User, String)>;

impl<T: ForUser> CredentialCache<T> {
    pub fn get(&self, hash: &str) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(value, _)| value.clone())
    }

    pub fn put(&self, hash: String, value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (value, Instant::now()));
    }

    /// Drops one credential (a signed-out session) on this node.
    pub fn forget(&self, hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(hash);
    }

    /// Drops what this node holds for `user`, so a change of their rights takes effect here
    /// at once (other nodes see it when their entries expire).
    pub fn forget_user(&self, user: UserId) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (cached, _)| cached.user_id() != user);
    }
}

impl TokenCache {
    pub async fn user_for_token(&self, store: &Store, token: &str) -> Result<User, ApiError> {
        let hash = hash_secret(token);
        if let Some(user) = self.get(&hash) {
            return Ok(user);
        }
        let user = store.user_for_api_token(&hash).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::Unauthenticated {
                code: "invalid_token",
                message: "the API token is not valid".into(),
            },
            other => other.into(),
        })?;
        self.put(hash, user.clone());
        Ok(user)
    }
}
