//! Credentials: API tokens for machines, passwords and session cookies for people.
//! Only hashes of secrets are stored; a stolen database grants nothing.

use crate::error::ApiError;
use crate::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use backline_domain::Actor;
use backline_store::{StoreError, User};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random secret: 32 bytes, URL-safe base64, with a prefix that says what it is.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Tokens are long random values, so a fast hash is enough (no dictionary to attack).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks `password` against `hash` (or, for an unknown person, against a decoy so the answer
/// takes as long) on the blocking pool: argon2 costs tens of milliseconds of CPU by design,
/// which on an async worker would stall every other request that worker serves.
pub async fn password_matches(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, decoy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// `hash_password` on the blocking pool, for request handlers (see `password_matches`).
pub async fn hash_password_off_runtime(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))?
}

/// A password hash that matches nothing, verified when the email is unknown so that a
/// sign-in takes as long for a missing user as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_secret("decoy-")).unwrap_or_default())
}

/// Creates an API token for `user` and returns it; only its hash is kept.
pub async fn issue_api_token(
    store: &backline_store::Store,
    user: &User,
) -> Result<String, StoreError> {
    let token = new_secret("bl_");
    store
        .create_api_token(user.id, &hash_secret(&token))
        .await?;
    Ok(token)
}

/// The caller of an API request, authenticated by `Authorization: Bearer TOKEN`.
pub struct Caller(pub User);

impl Caller {
    /// The caller as the visibility rules see it.
    pub fn actor(&self) -> Actor {
        self.0.actor()
    }
}

/// A caller who must be vendor staff: authenticated like [`Caller`], then refused with 403
/// (as [`staff_only`]) before the handler reads anything else. For endpoints whose first rule
/// is the role; those that answer 404 for what the caller cannot see take `Caller` and check
/// the role after.
pub struct Staff(pub User);

impl Staff {
    /// The caller as the visibility rules see it.
    pub fn actor(&self) -> Actor {
        self.0.actor()
    }
}

/// Refuses everyone but vendor staff (admins and agents).
pub fn staff_only(user: &User) -> Result<(), ApiError> {
    if user.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only vendor staff can do this".into()))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        staff_only(&user)?;
        Ok(Staff(user))
    }
}

/// A caller who may change settings (see [`User::may_change_settings`]): authenticated like
/// [`Caller`], then refused with 403 before the handler reads anything else.
pub struct SettingsEditor(pub User);

/// Refuses everyone but admins and the agents an admin allowed to change settings.
pub fn settings_only(user: &User) -> Result<(), ApiError> {
    if user.may_change_settings() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "changing settings is for admins, and for agents an admin has allowed to".into(),
        ))
    }
}

impl FromRequestParts<AppState> for SettingsEditor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        settings_only(&user)?;
        Ok(SettingsEditor(user))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthenticated {
                code: "unauthenticated",
                message: "send an API token: Authorization: Bearer TOKEN".into(),
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthenticated {
                code: "unauthenticated",
                message: "the Authorization header must be: Bearer TOKEN".into(),
            })?;
        let user = state.tokens.user_for_token(&state.store, token).await?;
        Ok(Caller(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    /// On a single-threaded runtime, a check done inline would finish on its first poll and
    /// hold the only thread meanwhile; on the blocking pool the first poll must yield.
    #[tokio::test(flavor = "current_thread")]
    async fn password_checks_leave_the_async_worker_free() {
        let hash = hash_password("s3cret-enough").unwrap();
        let mut check = pin!(password_matches("s3cret-enough".into(), Some(hash.clone())));
        let mut context = Context::from_waker(Waker::noop());
        assert!(check.as_mut().poll(&mut context).is_pending());
        assert!(check.await);
        assert!(!password_matches("wrong".into(), Some(hash)).await);
        assert!(!password_matches("anything".into(), None).await);

        let mut hashing = pin!(hash_password_off_runtime("another one".into()));
        assert!(hashing.as_mut().poll(&mut context).is_pending());
        let hashed = hashing.await.unwrap();
        assert!(verify_password("another one", &hashed));
    }
}
