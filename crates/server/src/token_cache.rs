//! A short-lived cache of token -> user, so a busy API client does not cost a database
//! lookup per request. Entries live a few seconds: a change to a user (role, organisation)
//! or a deleted token takes effect within that time.

use crate::auth::hash_secret;
use crate::error::ApiError;
use backline_store::{Store, StoreError, User};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (User, Instant)>>,
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
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (user.clone(), Instant::now()));
        Ok(user)
    }

    /// Drops what this node holds for `user`, so a change of their rights takes effect here
    /// at once (other nodes see it when their entries expire).
    pub fn forget_user(&self, user: backline_domain::UserId) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (cached, _)| cached.id != user);
    }

    fn get(&self, hash: &str) -> Option<User> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(user, _)| user.clone())
    }
}
