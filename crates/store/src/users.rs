//! People, their API tokens and their web sessions. Secrets are stored only as hashes,
//! computed by the caller.

use crate::rows::{convert, corrupt, stored};
use crate::sql::{Arg, Sql};
use crate::{OrgRef, Result, Store, StoreError, User};
use backline_domain::{OrgId, Role, Tier, Timestamp, UserId};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org: Option<OrgId>,
    pub tier: Option<Tier>,
    pub password_hash: Option<String>,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.tier, u.created_at, \
     o.id AS o_id, o.slug AS o_slug, o.name AS o_name, pa.terms AS partner_terms \
     FROM users u LEFT JOIN organizations o ON o.id = u.org_id \
     LEFT JOIN partner_agreements pa ON pa.partner_id = o.served_by_id";

/// A row of `USER_COLUMNS`.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    name: String,
    role: String,
    tier: Option<i64>,
    created_at: Timestamp,
    o_id: Option<OrgId>,
    o_slug: Option<String>,
    o_name: Option<String>,
    partner_terms: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<User> {
        let org = match (r.o_id, r.o_slug, r.o_name) {
            (Some(id), Some(slug), Some(name)) => Some(OrgRef { id, slug, name }),
            _ => None,
        };
        let tier = r
            .tier
            .map(|t| Tier::new(t).map_err(|e| StoreError::Corrupt(e.0)))
            .transpose()?;
        let role = stored(Role::parse, &r.role)?;
        // A customer served by a partner lives under that partner's agreement.
        let limits = match r.partner_terms {
            Some(terms) if role == Role::Customer => {
                let terms: backline_domain::partner::Agreement =
                    serde_json::from_str(&terms).map_err(corrupt)?;
                backline_domain::AccessLimits {
                    no_vendor_contact: terms.vendor_direct_contact
                        == backline_domain::partner::VendorContact::Never,
                    no_vendor_kb: !terms.customers_see_vendor_kb,
                }
            }
            _ => backline_domain::AccessLimits::default(),
        };
        Ok(User {
            limits,
            id: r.id,
            email: r.email,
            name: r.name,
            role,
            org,
            tier,
            created_at: r.created_at,
        })
    }
}

/// A user with their password hash, for signing in.
#[derive(sqlx::FromRow)]
struct UserWithPassword {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
}

/// A signed-in user with the session's CSRF token.
#[derive(sqlx::FromRow)]
struct UserWithCsrf {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
}

impl Store {
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        let id: UserId = sqlx::query_scalar(
            "INSERT INTO users (email, name, role, org_id, tier, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(user.org)
        .bind(user.tier.map(Tier::level))
        .bind(user.password_hash.as_deref())
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique("a user with this email already exists"))?;
        self.user(id).await
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        let row: UserRow = sqlx::query_as(&format!("SELECT {USER_COLUMNS} WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<User> {
        let row: UserRow = sqlx::query_as(&format!("SELECT {USER_COLUMNS} WHERE u.email = $1"))
            .bind(email)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The user and their password hash, for signing in.
    pub async fn user_with_password(&self, email: &str) -> Result<(User, Option<String>)> {
        let row: UserWithPassword = sqlx::query_as(&format!(
            "SELECT u.password_hash, {USER_COLUMNS} WHERE u.email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((row.user.try_into()?, row.password_hash))
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Users in email order, optionally of one organisation, or vendor staff only.
    pub async fn list_users(&self, org: Option<OrgId>, staff_only: bool) -> Result<Vec<User>> {
        let mut sql = Sql::new(&format!("SELECT {USER_COLUMNS} WHERE 1 = 1"));
        if let Some(org) = org {
            sql.push(" AND u.org_id = ").bind(Arg::Int(org.0));
        }
        if staff_only {
            sql.push(" AND u.role IN ('admin', 'agent')");
        }
        sql.push(" ORDER BY u.email");
        convert(sql.query_as::<UserRow>().fetch_all(&self.read).await?)
    }

    pub async fn create_api_token(&self, user: UserId, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(token_hash)
            .bind(Timestamp::now())
            .execute(&self.write)
            .await
            .map_err(StoreError::unique("token collision; try again"))?;
        Ok(())
    }

    pub async fn user_for_api_token(&self, token_hash: &str) -> Result<User> {
        let row: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn create_web_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf_token: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        // Sign-in is a good moment to forget sessions that have run out.
        let now = Timestamp::now();
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.write)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.write)
        .await
        .map_err(StoreError::unique("session collision; try again"))?;
        Ok(())
    }

    /// The signed-in user and the session's CSRF token, if the session exists and is current.
    pub async fn web_session(&self, token_hash: &str) -> Result<(User, String)> {
        let row: UserWithCsrf = sqlx::query_as(&format!(
            "SELECT ws.csrf_token, {USER_COLUMNS} JOIN web_sessions ws ON ws.user_id = u.id \
             WHERE ws.token_hash = $1 AND ws.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(Timestamp::now())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((row.user.try_into()?, row.csrf_token))
    }

    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The users of the customer organisations that use any of `services`, with the limits
    /// their partner's agreement sets (who hears about an incident on those services).
    pub async fn customer_users_of_services(
        &self,
        services: &[backline_domain::ServiceId],
    ) -> Result<Vec<User>> {
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {USER_COLUMNS} WHERE u.role = 'customer' AND u.org_id IN \
             (SELECT su.org_id FROM service_usage su WHERE su.service_id IN ("
        ));
        sql.bind_list(services.iter().map(|s| Arg::Int(s.0)))
            .push(")) ORDER BY u.email");
        convert(sql.query_as::<UserRow>().fetch_all(&self.read).await?)
    }

    /// The technicians of the partners that serve any of `customers`.
    pub async fn technicians_serving(&self, customers: &[OrgId]) -> Result<Vec<User>> {
        if customers.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {USER_COLUMNS} WHERE u.role = 'partner' AND u.org_id IN \
             (SELECT c.served_by_id FROM organizations c WHERE c.id IN ("
        ));
        sql.bind_list(customers.iter().map(|c| Arg::Int(c.0)))
            .push(")) ORDER BY u.email");
        convert(sql.query_as::<UserRow>().fetch_all(&self.read).await?)
    }
}

impl Store {
    /// Notes a rate-limited attempt (a failed sign-in, a subscription) under each key (the
    /// account, the client address).
    pub async fn record_limited_attempt(&self, keys: &[String], at: Timestamp) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for key in keys {
            sqlx::query("INSERT INTO limited_attempts (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The attempts under `key` since `since`.
    pub async fn limited_attempts(&self, key: &str, since: Timestamp) -> Result<Vec<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM limited_attempts WHERE key = $1 AND at > $2 ORDER BY at",
        )
        .bind(key)
        .bind(since)
        .fetch_all(&self.read)
        .await?)
    }

    /// Forgets the attempts under `key` (a successful sign-in clears its account's failures;
    /// the address keeps its own).
    pub async fn clear_limited_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM limited_attempts WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
