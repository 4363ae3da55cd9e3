//! Accounts: see the trait in `lib.rs` for what each method promises.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use si_domain::Role;
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT};
use crate::model::*;
use crate::sql::USER_SELECT;
use crate::{StoreError, StoreResult};

impl Backend {
    /// The person a one-time link names, unless their access was withdrawn since.
    async fn live_user(&self, id: Option<i64>) -> StoreResult<Option<User>> {
        match id {
            Some(id) => Ok(crate::Accounts::user(self, id).await?.filter(|u| !u.revoked)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl crate::Accounts for Backend {
    async fn organisation_by_identifier(&self, identifier: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE identifier = $1",
        )
        .bind(identifier)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn organisation_by_name(&self, name: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query("SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE name = $1 ORDER BY id LIMIT 1").bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn organisation(&self, id: i64) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn create_organisation(&self, o: &NewOrganisation) -> StoreResult<Organisation> {
        let row = sqlx::query(
            "INSERT INTO organisations (name, kind, department, identifier, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, kind, department, identifier, identifier_check",
        )
        .bind(&o.name)
        .bind(o.kind.code())
        .bind(&o.department)
        .bind(&o.identifier)
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| unique_violation(e, "Une organisation porte déjà cet identifiant."))?;
        org_from_row(&row)
    }

    async fn create_organisations(&self, orgs: &[NewOrganisation]) -> StoreResult<Vec<Organisation>> {
        let mut tx = self.write_tx().await?;
        let mut out = Vec::with_capacity(orgs.len());
        let now = Utc::now();
        for o in orgs {
            let insert = |identifier: Option<&str>| {
                sqlx::query(
                    "INSERT INTO organisations (name, kind, department, identifier, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT DO NOTHING RETURNING id, name, kind, department, identifier, identifier_check",
                )
                .bind(o.name.clone())
                .bind(o.kind.code())
                .bind(o.department.clone())
                .bind(identifier.map(str::to_string))
                .bind(now)
            };
            let row = match insert(o.identifier.as_deref()).fetch_optional(&mut *tx).await? {
                Some(row) => row,
                // The identifier is taken: the organisation goes without it.
                None => insert(None).fetch_one(&mut *tx).await?,
            };
            out.push(org_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn set_identifier_check(&self, organisation_id: i64, check: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE organisations SET identifier_check = $1, identifier_checked_at = $2 WHERE id = $3")
            .bind(check)
            .bind(at)
            .bind(organisation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_user(&self, u: &NewUser) -> StoreResult<User> {
        let row = sqlx::query(
            "INSERT INTO users (email, name, password_hash, role, region, organisation_id, email_verified, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id, email, name, password_hash, role, region, organisation_id, requested_organisation_id, email_verified, revoked_at",
        )
        .bind(u.email.trim().to_lowercase())
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(u.role.code())
        .bind(&u.region)
        .bind(u.organisation_id)
        .bind(false)
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| unique_violation(e, "Un compte existe déjà avec cette adresse électronique."))?;
        user_from_row(&row)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(safe(format!("{USER_SELECT} WHERE email = $1")))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query(safe(format!("{USER_SELECT} WHERE id = $1"))).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn create_web_session(&self, id_hash: &str, user_id: i64, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO web_sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(id_hash)
            .bind(user_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        // Expired sessions are pruned as new ones arrive, so the table stays small.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(Utc::now()).execute(&self.pool).await?;
        Ok(())
    }

    async fn web_session_user(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.password_hash, u.role, u.region, u.organisation_id, u.requested_organisation_id, u.email_verified, u.revoked_at \
             FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.revoked_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        user_id: i64,
        name: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(DIALECT.insert_api_token())
            .bind(token_hash)
            .bind(user_id)
            .bind(name)
            .bind(expires_at)
            .bind(Utc::now())
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    async fn api_token_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
        let now = Utc::now();
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.password_hash, u.role, u.region, u.organisation_id, u.requested_organisation_id, u.email_verified, u.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND u.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            // When it was last used, for its owner's list: written at most once an hour.
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(now)
                .bind(token_hash)
                .bind(now - chrono::Duration::hours(1))
                .execute(&self.pool)
                .await?;
        }
        row.as_ref().map(user_from_row).transpose()
    }

    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, name, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    async fn revoke_api_token(&self, user_id: i64, id: i64) -> StoreResult<bool> {
        let n = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    async fn reviewers(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(safe(format!(
            "{USER_SELECT} WHERE role IN ('regional_coordinator', 'national_admin') ORDER BY role DESC, region, email"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_role(&self, id: i64, role: Role, region: Option<&str>) -> StoreResult<()> {
        let n = sqlx::query("UPDATE users SET role = $1, region = $2 WHERE id = $3")
            .bind(role.code())
            .bind(region)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn revoke_user(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET revoked_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        end_access(&mut tx, id).await?;
        sqlx::query("DELETE FROM password_tokens WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn organisation_members(&self, organisation_id: i64) -> StoreResult<Vec<User>> {
        let rows =
            sqlx::query(safe(format!("{USER_SELECT} WHERE organisation_id = $1 AND revoked_at IS NULL ORDER BY id")))
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn request_membership(&self, user_id: i64, organisation_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET requested_organisation_id = $1 WHERE id = $2 AND organisation_id IS NULL")
            .bind(organisation_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn membership_requests(&self, organisation_id: i64) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(safe(format!(
            "{USER_SELECT} WHERE requested_organisation_id = $1 AND organisation_id IS NULL AND email_verified = $2 \
             AND revoked_at IS NULL ORDER BY id"
        )))
        .bind(organisation_id)
        .bind(true)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn settle_membership(
        &self,
        organisation_id: i64,
        user_id: i64,
        accept: bool,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // Only a request still waiting for this organisation is settled: a second click, or a
        // request withdrawn meanwhile, changes nothing.
        let sql = if accept {
            "UPDATE users SET organisation_id = requested_organisation_id, requested_organisation_id = NULL \
             WHERE id = $1 AND requested_organisation_id = $2 AND organisation_id IS NULL AND revoked_at IS NULL \
             AND email_verified = $3"
        } else {
            "UPDATE users SET requested_organisation_id = NULL \
             WHERE id = $1 AND requested_organisation_id = $2 AND organisation_id IS NULL"
        };
        // A request counts once its author has confirmed the address (as the members' list shows).
        let mut q = sqlx::query(sql).bind(user_id).bind(organisation_id);
        if accept {
            q = q.bind(true);
        }
        let mut tx = self.write_tx().await?;
        let settled = q.execute(&mut *tx).await?.rows_affected() == 1;
        if settled {
            insert_emails(&mut tx, letters, at).await?;
        }
        tx.commit().await?;
        Ok(settled)
    }

    async fn remove_member(&self, organisation_id: i64, user_id: i64) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET organisation_id = NULL WHERE id = $1 AND organisation_id = $2")
            .bind(user_id)
            .bind(organisation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            // A removed member keeps no way in to the organisation's events: every session and
            // token of theirs ends with the membership.
            end_access(&mut tx, user_id).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn end_sessions(&self, user_id: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn create_email_change(
        &self,
        token_hash: &str,
        user_id: i64,
        new_email: &str,
        expires_at: DateTime<Utc>,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO email_changes (token_hash, user_id, new_email, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(new_email.trim().to_lowercase())
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        insert_emails(&mut tx, letters, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn peek_email_change(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT new_email FROM email_changes WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn use_email_change(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        compose: ComposeAddress<'_>,
    ) -> StoreResult<Option<(User, String)>> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "UPDATE email_changes SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING user_id, new_email",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (user_id, new_email): (i64, String) = (row.try_get("user_id")?, row.try_get("new_email")?);
        let old = sqlx::query(safe(format!("{USER_SELECT} WHERE id = $1 AND revoked_at IS NULL")))
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old.as_ref().map(user_from_row).transpose()? else { return Ok(None) };
        sqlx::query("UPDATE users SET email = $1, email_verified = $2 WHERE id = $3")
            .bind(&new_email)
            .bind(true)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, "Un compte existe déjà avec cette adresse électronique."))?;
        insert_emails(&mut tx, &compose(&old, &new_email), now).await?;
        tx.commit().await?;
        Ok(Some((old, new_email)))
    }

    async fn mark_email_verified(&self, user_id: i64, letters: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET email_verified = $1 WHERE id = $2")
            .bind(true)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        insert_emails(&mut tx, letters, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        // One transaction: a new password never lands while the old one's sessions live on.
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET password_hash = $1, email_verified = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(true)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // Whoever knew the old password, or took a token with it, is out.
        end_access(&mut tx, user_id).await?;
        insert_emails(&mut tx, letters, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_password_token(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO password_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        insert_emails(&mut tx, letters, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
        let user_id: Option<i64> = sqlx::query_scalar(
            "UPDATE password_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        self.live_user(user_id).await
    }

    async fn peek_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
        let user_id: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM password_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        self.live_user(user_id).await
    }
}

/// Ends every web session and API token of a person, inside the change that takes their access away
/// (revocation, removal from an organisation, a new password).
async fn end_access(tx: &mut Tx, user_id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    Ok(())
}
