//! Outbox: see the trait in `lib.rs` for what each method promises.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT};
use crate::model::*;
use crate::{StoreError, StoreResult};

#[async_trait]
impl crate::Outbox for Backend {
    async fn enqueue_emails(&self, emails: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_emails(&mut tx, emails, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_email(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<Option<OutboxEmail>> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(safe(format!(
            "SELECT id, recipient, subject, text_body, html_body, attachments, attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT 1{}",
            DIALECT.claim()
        )))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        sqlx::query("UPDATE outbox SET locked_until = $1 WHERE id = $2")
            .bind(lease_until)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(OutboxEmail {
            id,
            email: NewEmail {
                recipient: row.try_get("recipient")?,
                subject: row.try_get("subject")?,
                text: row.try_get("text_body")?,
                html: row.try_get("html_body")?,
                attachments: match row.try_get::<Option<String>, _>("attachments")? {
                    Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    None => Vec::new(),
                },
            },
            attempts: row.try_get("attempts")?,
        }))
    }

    async fn email_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET sent_at = $1, locked_until = NULL WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn email_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, locked_until = NULL WHERE id = $3")
            .bind(error)
            .bind(retry_at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN sent_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0) AS retrying, \
             COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxStats {
            pending: row.try_get::<i64, _>("pending")? as u64,
            retrying: row.try_get::<i64, _>("retrying")? as u64,
            sent: row.try_get::<i64, _>("sent")? as u64,
            oldest_pending: sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        })
    }

    async fn digest_day_claimed(&self, day: chrono::NaiveDate) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM digest_runs WHERE day = $1")
            .bind(day)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn claim_digest_day(
        &self,
        day: chrono::NaiveDate,
        at: DateTime<Utc>,
        letters: &[NewEmail],
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("INSERT INTO digest_runs (day, at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            // Due at once: the outbox reads the real clock, whatever instant the work is claimed for.
            insert_emails(&mut tx, letters, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }
}
