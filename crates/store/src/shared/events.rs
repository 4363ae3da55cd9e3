//! Events: see the trait in `lib.rs` for what each method promises.

use crate::Announce;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use si_domain::lifecycle::{self, Action};
use si_domain::{AuditAction, EventData, Moderation, PublicStatus};
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT};
use crate::model::*;
use crate::sql::{EVENT_SELECT, IndexColumns, bind_params, index_columns};
use crate::{ChangeOutcome, StoreError, StoreResult, Transition};

#[async_trait]
impl crate::Events for Backend {
    async fn create_event(&self, edition: i32, organisation_id: i64, actor: i64, data: &EventData) -> StoreResult<i64> {
        let now = Utc::now();
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO events (edition, organisation_id, created_by, data, moderation, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $5) RETURNING id",
        )
        .bind(i64::from(edition))
        .bind(organisation_id)
        .bind(actor)
        .bind(json(data)?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        write_index(&mut tx, id, data).await?;
        audit_entry(&mut tx, id, Some(actor), AuditAction::Create, (None, Some(Moderation::Draft)), None, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_event_announced(
        &self,
        id: i64,
        actor: i64,
        data: &EventData,
        announce: Announce<'_>,
    ) -> StoreResult<ChangeOutcome> {
        let now = Utc::now();
        let mut tx = self.write_tx().await?;
        let row = lock_event(&mut tx, id, "moderation, data, pending_data").await?;
        let was_pending = row.try_get::<Option<String>, _>("pending_data")?.is_some();
        let state = stored_state(&row)?;
        let state = lifecycle::next(state, Action::Edit, false).map_err(StoreError::Conflict)?;
        if state == Moderation::Labelled {
            let published: String = row.try_get("data")?;
            let published: EventData =
                serde_json::from_str(&published).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let changed = published.material_changes(data);
            if !changed.is_empty() {
                // The public keeps the labelled version; the change waits for review.
                sqlx::query(
                    "UPDATE events SET version = version + 1, pending_data = $1, change_submitted_at = COALESCE(change_submitted_at, $2), updated_at = $2 WHERE id = $3",
                )
                .bind(json(data)?)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let what = format!("modification à instruire : {}", changed.join(", "));
                audit_entry(
                    &mut tx,
                    id,
                    Some(actor),
                    Action::Edit.audit(true),
                    (Some(state), Some(state)),
                    Some(&what),
                    now,
                )
                .await?;
                if !was_pending {
                    announced(&mut tx, id, announce, now).await?;
                }
                tx.commit().await?;
                return Ok(ChangeOutcome::SentToReview);
            }
            // Not material: applies at once, and replaces any pending change (the organiser undid it).
        }
        // Applied at once (a draft, an event awaiting changes, a labelled event's non-material edit);
        // only a labelled event ever has a pending change to clear.
        sqlx::query(
            "UPDATE events SET version = version + 1, data = $1, pending_data = NULL, change_submitted_at = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(json(data)?)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        write_index(&mut tx, id, data).await?;
        audit_entry(&mut tx, id, Some(actor), Action::Edit.audit(false), (Some(state), Some(state)), None, now).await?;
        tx.commit().await?;
        Ok(ChangeOutcome::Applied)
    }

    async fn event(&self, id: i64) -> StoreResult<Option<EventRecord>> {
        let row =
            sqlx::query(safe(format!("{EVENT_SELECT} WHERE e.id = $1"))).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn organisation_events(&self, organisation_id: i64) -> StoreResult<Vec<EventRecord>> {
        let rows = sqlx::query(safe(format!(
            "{EVENT_SELECT} WHERE e.organisation_id = $1 ORDER BY e.edition DESC, e.updated_at DESC, e.id DESC"
        )))
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn transition_announced(&self, t: &Transition<'_>, announce: Announce<'_>) -> StoreResult<EventRecord> {
        let mut tx = self.write_tx().await?;
        let state = stored_state(&lock_event(&mut tx, t.id, "moderation").await?)?;
        if !matches!(t.action, Action::Submit | Action::Withdraw) {
            return Err(StoreError::Conflict("Cette action passe par sa propre opération.".into()));
        }
        let to = lifecycle::next(state, t.action, false).map_err(StoreError::Conflict)?;
        let submitted = if to == Moderation::Submitted { Some(t.at) } else { None };
        sqlx::query("UPDATE events SET version = version + 1, moderation = $1, updated_at = $2, submitted_at = COALESCE($3, submitted_at) WHERE id = $4")
            .bind(to.code())
            .bind(t.at)
            .bind(submitted)
            .bind(t.id)
            .execute(&mut *tx)
            .await?;
        audit_entry(&mut tx, t.id, Some(t.actor), t.action.audit(false), (Some(state), Some(to)), t.reason, t.at)
            .await?;
        let record = announced(&mut tx, t.id, announce, t.at).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn decide_announced(
        &self,
        id: i64,
        actor: i64,
        decision: Decision,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord> {
        let mut tx = self.write_tx().await?;
        let row = lock_event_at(&mut tx, id, "moderation, edition, label_number, version", version).await?;
        let state = stored_state(&row)?;
        let edition: i64 = row.try_get("edition")?;
        let existing_label: Option<String> = row.try_get("label_number")?;
        let to = lifecycle::next(state, Action::Decide(decision), false).map_err(StoreError::Conflict)?;
        let label = if decision == Decision::Label && existing_label.is_none() {
            // The counter row is locked by this update until commit: numbers are sequential without gaps.
            let n: i64 = sqlx::query_scalar(
                "UPDATE editions SET last_label = last_label + 1 WHERE year = $1 RETURNING last_label",
            )
            .bind(edition)
            .fetch_one(&mut *tx)
            .await?;
            Some(format!("SI-{edition}-{n:05}"))
        } else {
            existing_label
        };
        sqlx::query(
            "UPDATE events SET version = version + 1, moderation = $1, label_number = $2, decided_at = $3, decision_reason = $4, updated_at = $3, \
             labelled_at = CASE WHEN $1 = 'labelled' THEN $3 ELSE labelled_at END WHERE id = $5",
        )
        .bind(to.code())
        .bind(&label)
        .bind(at)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit_entry(
            &mut tx,
            id,
            Some(actor),
            Action::Decide(decision).audit(false),
            (Some(state), Some(to)),
            reason,
            at,
        )
        .await?;
        let record = announced(&mut tx, id, announce, at).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn queue_items(&self, regions: Option<&[String]>) -> StoreResult<Vec<QueueItem>> {
        let (scope, params) = match regions {
            Some([]) => return Ok(Vec::new()),
            Some(r) => crate::sql::region_scope(r, 1),
            None => (String::new(), Vec::new()),
        };
        self.queue_rows(&scope, &params).await
    }

    async fn queue_items_of(&self, ids: &[i64]) -> StoreResult<Vec<QueueItem>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (scope, params) = id_scope("e.id", ids);
        self.queue_rows(&scope, &params).await
    }

    async fn duplicate_pool_of(&self, organisations: &[i64]) -> StoreResult<Vec<EventBrief>> {
        if organisations.is_empty() {
            return Ok(Vec::new());
        }
        let (scope, params) = id_scope("organisation_id", organisations);
        self.pool_rows(&format!("moderation IN ('submitted', 'labelled', 'changes_requested'){scope}"), &params).await
    }

    async fn queue_moves_after(&self, version: i64) -> StoreResult<Vec<QueueMove>> {
        let rows = sqlx::query(
            "SELECT version, event_id, organisation_id FROM queue_moves WHERE version > $1 ORDER BY version",
        )
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueMove {
                    version: r.try_get("version")?,
                    event_id: r.try_get("event_id")?,
                    organisation_id: r.try_get("organisation_id")?,
                })
            })
            .collect()
    }

    async fn moderation_counts(&self, edition: i32, regions: Option<&[String]>) -> StoreResult<Vec<(String, u64)>> {
        let (scope, mut params) = match regions {
            Some([]) => return Ok(Vec::new()),
            Some(r) => crate::sql::region_scope(r, 2),
            None => (String::new(), Vec::new()),
        };
        params.insert(0, crate::sql::Param::Int(i64::from(edition)));
        let sql = format!(
            "SELECT e.moderation AS state, COUNT(*) AS n FROM events e WHERE e.edition = $1{scope} GROUP BY e.moderation \
             UNION ALL SELECT 'change_pending' AS state, COUNT(*) AS n FROM events e \
             WHERE e.edition = $1 AND e.moderation = 'labelled' AND e.change_submitted_at IS NOT NULL{scope}"
        );
        let rows = bind_params!(sqlx::query(safe(sql)), &params).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>("state")?, r.try_get::<i64, _>("n")? as u64))).collect()
    }

    async fn duplicate_pool(&self, regions: Option<&[String]>) -> StoreResult<Vec<EventBrief>> {
        let (scope, params) = match regions {
            Some([]) => return Ok(Vec::new()),
            Some(r) => crate::sql::region_scope(r, 1),
            None => (String::new(), Vec::new()),
        };
        let filter = format!(
            "organisation_id IN ({}) AND moderation IN ('submitted', 'labelled', 'changes_requested')",
            crate::sql::queue_union("e.organisation_id", "events e", &scope, true)
        );
        self.pool_rows(&filter, &params).await
    }

    async fn decide_change_announced(
        &self,
        id: i64,
        actor: i64,
        accept: bool,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord> {
        let mut tx = self.write_tx().await?;
        let row = lock_event_at(&mut tx, id, "moderation, pending_data, version", version).await?;
        // The change accepted is the one the reviewer read, never one that replaced it since.
        let state = stored_state(&row)?;
        let pending: Option<String> = row.try_get("pending_data")?;
        let action = Action::DecideChange { accept };
        lifecycle::next(state, action, pending.is_some()).map_err(StoreError::Conflict)?;
        let pending = pending.unwrap_or_default();
        if accept {
            let data: EventData = serde_json::from_str(&pending).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "UPDATE events SET version = version + 1, data = pending_data, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, \
                 decision_reason = $2, updated_at = $1 WHERE id = $3",
            )
            .bind(at)
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            write_index(&mut tx, id, &data).await?;
        } else {
            sqlx::query(
                "UPDATE events SET version = version + 1, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, decision_reason = $2, \
                 updated_at = $1 WHERE id = $3",
            )
            .bind(at)
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        audit_entry(&mut tx, id, Some(actor), action.audit(false), (Some(state), Some(state)), reason, at).await?;
        let record = announced(&mut tx, id, announce, at).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn revoke_label_announced(
        &self,
        id: i64,
        actor: i64,
        reason: &str,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord> {
        let mut tx = self.write_tx().await?;
        let row = lock_event_at(&mut tx, id, "moderation, version", version).await?;
        let state = stored_state(&row)?;
        let to = lifecycle::next(state, Action::Revoke, false).map_err(StoreError::Conflict)?;
        sqlx::query(
            "UPDATE events SET version = version + 1, moderation = $4, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, \
             decision_reason = $2, updated_at = $1 WHERE id = $3",
        )
        .bind(at)
        .bind(reason)
        .bind(id)
        .bind(to.code())
        .execute(&mut *tx)
        .await?;
        audit_entry(&mut tx, id, Some(actor), Action::Revoke.audit(false), (Some(state), Some(to)), Some(reason), at)
            .await?;
        let record = announced(&mut tx, id, announce, at).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_draft(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let row = lock_event(&mut tx, id, "moderation").await?;
        lifecycle::deletable(stored_state(&row)?).map_err(StoreError::Conflict)?;
        for table in ["audit", "event_codes"] {
            sqlx::query(safe(format!("DELETE FROM {table} WHERE event_id = $1"))).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM events WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_public_status(
        &self,
        id: i64,
        actor: i64,
        status: PublicStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<EventRecord> {
        let mut tx = self.write_tx().await?;
        let row = lock_event(&mut tx, id, "moderation, public_status").await?;
        let state = stored_state(&row)?;
        lifecycle::next(state, Action::SetPublicStatus, false).map_err(StoreError::Conflict)?;
        sqlx::query("UPDATE events SET version = version + 1, public_status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.code())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit_entry(
            &mut tx,
            id,
            Some(actor),
            Action::SetPublicStatus.audit(false),
            (Some(state), Some(state)),
            Some(status.label()),
            at,
        )
        .await?;
        tx.commit().await?;
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    async fn audit(&self, event_id: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT a.at, u.email, a.action, a.from_state, a.to_state, a.reason FROM audit a \
             LEFT JOIN users u ON u.id = a.actor_id WHERE a.event_id = $1 ORDER BY a.id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("email")?,
                    action: r.try_get("action")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    async fn insert_labelled(&self, edition: i32, events: &[(i64, EventData, DateTime<Utc>)]) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let mut last: i64 = sqlx::query_scalar(safe(format!(
            "SELECT last_label FROM editions WHERE year = $1{}",
            DIALECT.for_update()
        )))
        .bind(i64::from(edition))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        // Bulk path (demo data, benchmarks): every derived column in the INSERT itself, rows by
        // hundreds per statement (round trips dominate on PostgreSQL), codes likewise, audit
        // entries in one statement per batch.
        // The organisations' names, a thousand per query (one round trip each was a third of the
        // load on PostgreSQL).
        let mut org_names: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        let wanted: Vec<i64> =
            events.iter().map(|e| e.0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for part in wanted.chunks(1_000) {
            let (scope, params) = id_scope("id", part);
            let sql = format!("SELECT id, name FROM organisations WHERE TRUE{scope}");
            for r in bind_params!(sqlx::query(safe(sql)), &params).fetch_all(&mut *tx).await? {
                org_names.insert(r.try_get("id")?, r.try_get("name")?);
            }
        }
        if wanted.iter().any(|o| !org_names.contains_key(o)) {
            return Err(StoreError::NotFound);
        }
        let rows_per_insert = DIALECT.bulk_rows();
        const COLUMNS: usize = 6 + IndexColumns::NAMES.len();
        let mut ids = Vec::with_capacity(events.len());
        for chunk in events.chunks(rows_per_insert) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let b = r * COLUMNS;
                    let p: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", b + c)).collect();
                    format!(
                        "({}, {}, {}, 'labelled', {}, {}, {}, {5}, {5}, {5}, {5}, {})",
                        p[0],
                        p[1],
                        p[2],
                        p[3],
                        p[4],
                        p[5],
                        p[6..].join(", ")
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO events (edition, organisation_id, data, moderation, public_status, label_number, submitted_at, \
                 decided_at, created_at, updated_at, labelled_at, {}) VALUES {} RETURNING id, label_number",
                IndexColumns::NAMES.join(", "),
                values.join(", ")
            );
            let mut q = sqlx::query(safe(sql));
            let mut codes: Vec<(String, Vec<(&'static str, &'static str)>)> = Vec::with_capacity(chunk.len());
            for (org, data, at) in chunk {
                let mut ix = index_columns(data, &org_names[org]);
                let ix_codes = std::mem::take(&mut ix.codes);
                last += 1;
                let label = format!("SI-{edition}-{last:05}");
                q = q
                    .bind(i64::from(edition))
                    .bind(*org)
                    .bind(json(data)?)
                    .bind(PublicStatus::Scheduled.code())
                    .bind(label.clone())
                    .bind(*at);
                q = bind_index(q, ix);
                codes.push((label, ix_codes));
            }
            // RETURNING order is not promised: match rows back by their unique label number.
            let mut by_label = std::collections::HashMap::with_capacity(chunk.len());
            for row in q.fetch_all(&mut *tx).await? {
                let id: i64 = row.try_get("id")?;
                let label: String = row.try_get("label_number")?;
                by_label.insert(label, id);
            }
            let mut code_rows: Vec<(i64, &'static str, &'static str)> = Vec::new();
            for (label, list) in &codes {
                let id = *by_label.get(label).ok_or_else(|| StoreError::Corrupt(format!("{label} not inserted")))?;
                ids.push(id);
                code_rows.extend(list.iter().map(|(k, c)| (id, *k, *c)));
            }
            for part in code_rows.chunks(rows_per_insert * 5) {
                let values: Vec<String> =
                    (0..part.len()).map(|r| format!("(${}, ${}, ${})", 3 * r + 1, 3 * r + 2, 3 * r + 3)).collect();
                let sql = format!("INSERT INTO event_codes (event_id, kind, code) VALUES {}", values.join(", "));
                let mut q = sqlx::query(safe(sql));
                for (id, kind, code) in part {
                    q = q.bind(*id).bind(*kind).bind(*code);
                }
                q.execute(&mut *tx).await?;
            }
        }
        ids.sort_unstable();
        if let (Some(first), Some(last_id)) = (ids.first(), ids.last()) {
            sqlx::query(
                "INSERT INTO audit (event_id, at, actor_id, action, from_state, to_state, reason) \
                 SELECT id, decided_at, NULL, 'label', 'submitted', 'labelled', 'données de démonstration' \
                 FROM events WHERE id >= $1 AND id <= $2 AND edition = $3",
            )
            .bind(*first)
            .bind(*last_id)
            .bind(i64::from(edition))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE editions SET last_label = $1 WHERE year = $2")
            .bind(last)
            .bind(i64::from(edition))
            .execute(&mut *tx)
            .await?;
        public_changed(&mut tx, PublicChange::Labels).await?;
        public_changed(&mut tx, PublicChange::Queue).await?;
        tx.commit().await?;
        Ok(events.len() as u64)
    }
}

/// ` AND {column} IN ($1, …)` with its parameters.
fn id_scope(column: &str, ids: &[i64]) -> (String, Vec<crate::sql::Param>) {
    let ps: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    (format!(" AND {column} IN ({})", ps.join(", ")), ids.iter().map(|i| crate::sql::Param::Int(*i)).collect())
}

impl Backend {
    /// The queue's rows (both parts) within `scope` (` AND …` over `e`), with their audiences,
    /// oldest first.
    async fn queue_rows(&self, scope: &str, params: &[crate::sql::Param]) -> StoreResult<Vec<QueueItem>> {
        let review_region = crate::sql::REVIEW_REGION;
        let columns = format!(
            "e.id, e.edition, e.organisation_id, o.name AS org_name, e.title, {review_region} AS review_region, \
             e.department, e.event_type, e.weak_signal, e.first_day, e.last_day, e.submitted_at, e.change_submitted_at, e.version"
        );
        let sql = crate::sql::queue_union(
            &columns,
            "events e JOIN organisations o ON o.id = e.organisation_id",
            scope,
            false,
        );
        // Rows are turned into items as they arrive (the national queue is 8,000 rows: a node's
        // first queue page held them all as database rows as well, +20 MB on SQLite).
        use futures_util::TryStreamExt;
        let mut rows = bind_params!(sqlx::query(safe(sql)), params).fetch(&self.pool);
        let mut items = Vec::new();
        while let Some(r) = rows.try_next().await? {
            items.push(queue_item_from_row(&r)?);
        }
        drop(rows);
        let codes_sql = format!(
            "SELECT c.event_id, c.code FROM event_codes c WHERE c.kind = 'audience' AND c.event_id IN ({})",
            crate::sql::queue_union("e.id", "events e", scope, false)
        );
        let mut codes = bind_params!(sqlx::query(safe(codes_sql)), params).fetch(&self.pool);
        let mut by_event: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        while let Some(r) = codes.try_next().await? {
            by_event.entry(r.try_get("event_id")?).or_default().push(r.try_get("code")?);
        }
        drop(codes);
        for item in &mut items {
            item.audiences = by_event.remove(&item.id).unwrap_or_default();
        }
        items.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
        Ok(items)
    }

    /// Duplicate detection's facts of the events matching `filter`.
    async fn pool_rows(&self, filter: &str, params: &[crate::sql::Param]) -> StoreResult<Vec<EventBrief>> {
        let sql = format!("SELECT id, organisation_id, edition, title, first_day, last_day FROM events WHERE {filter}");
        use futures_util::TryStreamExt;
        let mut rows = bind_params!(sqlx::query(safe(sql)), params).fetch(&self.pool);
        let mut pool = Vec::new();
        while let Some(r) = rows.try_next().await? {
            pool.push(EventBrief {
                id: r.try_get("id")?,
                organisation_id: r.try_get("organisation_id")?,
                edition: r.try_get::<i64, _>("edition")? as i32,
                title: r.try_get("title")?,
                first_day: r.try_get("first_day")?,
                last_day: r.try_get("last_day")?,
            });
        }
        Ok(pool)
    }
}
