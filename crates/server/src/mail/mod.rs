//! Conversations by email. Mail comes in three ways (the SMTP listener `smtp`, the IMAP
//! poller `imap`, `backline mail deliver`), is stored raw before anything else, and is placed
//! by one pipeline (`intake`: the domain's rules over what storage knows). Mail goes out
//! through the outbox: `notifier` turns case events into mail, `sending` delivers it with
//! the threading and loop-prevention headers. `api` and `pages` show admins what came in
//! and let them deal with what waits in quarantine.

pub mod api;
pub mod imap;
pub mod intake;
pub mod notifier;
pub mod pages;
pub mod sending;
pub mod smtp;

pub use sending::SmtpTarget;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;
use backline_domain::mail::{MailLimits, OwnIdentity, RateLimit};
use backline_domain::{CaseTokenSecret, Email, MailDomain};
use backline_store::Store;
use tokio::sync::Notify;

/// Who we are in mail, and the limits intake works to.
pub struct MailContext {
    pub identity: OwnIdentity,
    /// Where replies go (`support@example.com`); the case token becomes its subaddress.
    pub reply_mailbox: Email,
    /// The From header of what we send.
    pub from: String,
    pub secret: CaseTokenSecret,
    pub limits: MailLimits,
    pub rate: RateLimit,
    /// The largest file attached to a comment, in bytes.
    pub max_attachment_bytes: usize,
    /// Woken when a message is stored, so intake starts at once instead of at its next look.
    pub received: Notify,
}

/// The setting holding the secret that signs case tokens.
const CASE_TOKEN_SECRET: &str = "mail:case_token_secret";

/// 25 MiB per file by default, as the large mail providers allow.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;

/// A message carries its files base64-encoded (a third larger) beside its text: the largest
/// message is twice the largest file, so a message with one file at the limit gets in.
pub fn message_limit_for(max_attachment_bytes: usize) -> MailLimits {
    MailLimits {
        max_message_bytes: max_attachment_bytes.saturating_mul(2),
    }
}

impl MailContext {
    /// From the sender address (`--mail-from`) and the secret kept in the database.
    pub async fn load(
        store: &Store,
        from: &str,
        max_attachment_bytes: usize,
    ) -> anyhow::Result<MailContext> {
        let address = from_address(from)?;
        let domain = MailDomain::parse(address.domain())
            .map_err(|e| anyhow::anyhow!("--mail-from: {}", e.0))?;
        // The secret that signs case tokens: made once, shared by every node through the
        // database, so a token minted by one node verifies on another and after restarts.
        let hex = store
            .setting_or_init(CASE_TOKEN_SECRET, || {
                use rand::RngCore;
                let mut bytes = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut bytes);
                hex::encode(bytes)
            })
            .await?;
        let secret = CaseTokenSecret::new(hex::decode(hex.trim())?)
            .map_err(|e| anyhow::anyhow!("the stored case token secret: {}", e.0))?;
        Ok(MailContext {
            identity: OwnIdentity {
                message_id_domain: domain,
                addresses: vec![address.clone()],
            },
            reply_mailbox: address,
            from: from.to_string(),
            secret,
            limits: message_limit_for(max_attachment_bytes),
            rate: RateLimit::default(),
            max_attachment_bytes,
            received: Notify::new(),
        })
    }

    /// For a state built without `Application` (a secret of its own, nothing persisted).
    pub fn ephemeral() -> MailContext {
        use rand::RngCore;
        let mut bytes = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let address = Email::parse("support@backline.localhost").expect("a valid address");
        MailContext {
            identity: OwnIdentity {
                message_id_domain: MailDomain::parse("backline.localhost").expect("valid"),
                addresses: vec![address.clone()],
            },
            reply_mailbox: address,
            from: "support@backline.localhost".into(),
            secret: CaseTokenSecret::new(bytes).expect("32 bytes"),
            limits: message_limit_for(DEFAULT_MAX_ATTACHMENT_BYTES),
            rate: RateLimit::default(),
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            received: Notify::new(),
        }
    }
}

/// The address inside a From value such as `Support <support@example.com>`.
fn from_address(from: &str) -> anyhow::Result<Email> {
    let inner = match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => &from[open + 1..close],
        _ => from,
    };
    Email::parse(inner).map_err(|e| anyhow::anyhow!("--mail-from: {}", e.0))
}

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/mail", get(api::list))
        .route("/mail/settings", get(api::settings).put(api::put_settings))
        .route("/mail/{id}", get(api::read))
        .route("/mail/{id}/raw", get(api::raw))
        .route("/mail/{id}/retry", post(api::retry))
        .route("/mail/{id}/case", post(api::open_case))
        .route("/mail/{id}/dismiss", post(api::dismiss))
        .route(
            "/organizations/{slug}/domains",
            get(api::domains).put(api::put_domains),
        )
        .route(
            "/organizations/{slug}/followers/{user}",
            put(api::follow).delete(api::unfollow),
        )
        .route(
            "/me/notifications",
            get(api::my_notifications).put(api::put_my_notifications),
        );
    Router::new().nest("/api/v1", api).merge(pages::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_address_is_read_with_or_without_a_name() {
        assert_eq!(
            from_address("Support <Help@Example.com>").unwrap().as_str(),
            "help@example.com"
        );
        assert_eq!(
            from_address("help@example.com").unwrap().as_str(),
            "help@example.com"
        );
        assert!(from_address("Support").is_err());
    }

    #[test]
    fn a_message_with_a_file_at_the_limit_gets_in() {
        let limits = message_limit_for(DEFAULT_MAX_ATTACHMENT_BYTES);
        assert!(limits.max_message_bytes > DEFAULT_MAX_ATTACHMENT_BYTES * 4 / 3 + 64 * 1024);
    }
}
