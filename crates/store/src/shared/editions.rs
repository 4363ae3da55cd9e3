//! Editions: see the trait in `lib.rs` for what each method promises.

use async_trait::async_trait;
use si_domain::Edition;
use sqlx::Row;

use super::Backend;
use super::rows::*;
use crate::model::*;
use crate::{StoreError, StoreResult};

#[async_trait]
impl crate::Editions for Backend {
    async fn editions(&self) -> StoreResult<Vec<Edition>> {
        let rows = sqlx::query("SELECT * FROM editions ORDER BY year DESC").fetch_all(&self.pool).await?;
        let mut editions = rows.iter().map(edition_from_row).collect::<StoreResult<Vec<_>>>()?;
        let overrides =
            sqlx::query("SELECT * FROM edition_regions ORDER BY year, region").fetch_all(&self.pool).await?;
        for r in &overrides {
            let year = r.try_get::<i64, _>("year")? as i32;
            if let Some(e) = editions.iter_mut().find(|e| e.year == year) {
                e.regions.push(region_dates_from_row(r)?);
            }
        }
        Ok(editions)
    }

    async fn edition(&self, year: i32) -> StoreResult<Option<Edition>> {
        let row = sqlx::query("SELECT * FROM editions WHERE year = $1")
            .bind(i64::from(year))
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut edition) = row.as_ref().map(edition_from_row).transpose()? else {
            return Ok(None);
        };
        let overrides = sqlx::query("SELECT * FROM edition_regions WHERE year = $1 ORDER BY region")
            .bind(i64::from(year))
            .fetch_all(&self.pool)
            .await?;
        edition.regions = overrides.iter().map(region_dates_from_row).collect::<StoreResult<_>>()?;
        Ok(Some(edition))
    }

    async fn upsert_edition(&self, e: &Edition) -> StoreResult<()> {
        // An edition saved as it is (every node's start saves the demonstration edition) changes
        // nothing the public sees: the counter stays, and no node reads the catalogue whole for it.
        if crate::Editions::edition(self, e.year).await?.as_ref() == Some(e) {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO editions (year, number, theme, demo, week_start, week_end, eligible_from, eligible_to, opens_at, deadline) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (year) DO UPDATE SET number = excluded.number, \
             theme = excluded.theme, demo = excluded.demo, week_start = excluded.week_start, week_end = excluded.week_end, \
             eligible_from = excluded.eligible_from, eligible_to = excluded.eligible_to, opens_at = excluded.opens_at, \
             deadline = excluded.deadline",
        )
        .bind(i64::from(e.year))
        .bind(i64::from(e.number))
        .bind(&e.theme)
        .bind(e.demo)
        .bind(e.week_start)
        .bind(e.week_end)
        .bind(e.eligible_from)
        .bind(e.eligible_to)
        .bind(e.opens_at)
        .bind(e.deadline)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM edition_regions WHERE year = $1").bind(i64::from(e.year)).execute(&mut *tx).await?;
        for o in &e.regions {
            sqlx::query(
                "INSERT INTO edition_regions (year, region, week_start, week_end, eligible_from, eligible_to) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(i64::from(e.year))
            .bind(&o.region)
            .bind(o.week_start)
            .bind(o.week_end)
            .bind(o.eligible_from)
            .bind(o.eligible_to)
            .execute(&mut *tx)
            .await?;
        }
        public_changed(&mut tx, PublicChange::Labels).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn newest_labelled_edition(&self) -> StoreResult<Option<i32>> {
        let year: Option<i64> = sqlx::query_scalar("SELECT MAX(edition) FROM events WHERE moderation = 'labelled'")
            .fetch_one(&self.pool)
            .await?;
        Ok(year.map(|y| y as i32))
    }

    async fn reason_templates(&self) -> StoreResult<Vec<ReasonTemplate>> {
        let rows = sqlx::query("SELECT id, title, body FROM reason_templates ORDER BY title, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(ReasonTemplate { id: r.try_get("id")?, title: r.try_get("title")?, body: r.try_get("body")? }))
            .collect()
    }

    async fn save_reason_template(&self, id: Option<i64>, title: &str, body: &str) -> StoreResult<()> {
        match id {
            Some(id) => {
                let n = sqlx::query("UPDATE reason_templates SET title = $1, body = $2 WHERE id = $3")
                    .bind(title)
                    .bind(body)
                    .bind(id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            None => {
                sqlx::query("INSERT INTO reason_templates (title, body) VALUES ($1, $2)")
                    .bind(title)
                    .bind(body)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn delete_reason_template(&self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM reason_templates WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
