//! Catalogue: see the trait in `lib.rs` for what each method promises.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT};
use crate::StoreResult;
use crate::model::*;
use crate::sql::{EVENT_COLUMNS, EVENT_SELECT, bind_params, filter_sql};

#[async_trait]
impl crate::Catalogue for Backend {
    async fn search_events(&self, f: &EventFilter) -> StoreResult<(u64, Vec<EventRecord>)> {
        let q = filter_sql(f, DIALECT);
        let (with, from, where_sql, order, params) = (q.with, q.from, q.where_sql, q.order, q.params);
        let count_sql = format!("{with}SELECT COUNT(*) FROM {from}{where_sql}");
        let total: i64 = bind_params!(sqlx::query_scalar(safe(count_sql)), &params).fetch_one(&self.pool).await?;
        let per_page = i64::from(f.per_page.clamp(1, 100));
        let offset = i64::from(f.page.max(1) - 1) * per_page;
        let sql = format!(
            "{with}{EVENT_COLUMNS} FROM {from} JOIN organisations o ON o.id = e.organisation_id{where_sql} \
             ORDER BY {order} LIMIT {per_page} OFFSET {offset}"
        );
        let rows = bind_params!(sqlx::query(safe(sql.clone())), &params).fetch_all(&self.pool).await?;
        let items = rows.iter().map(event_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((total as u64, items))
    }

    async fn facets(&self, f: &EventFilter) -> StoreResult<Facets> {
        let mut out = Facets::default();
        // (dimension, grouped expression, join for multi-valued codes, the filter without this dimension)
        let dims: [(&str, &str, Option<&str>, EventFilter); 7] = [
            ("region", "e.region", None, EventFilter { regions: vec![], ..f.clone() }),
            ("department", "e.department", None, EventFilter { departments: vec![], ..f.clone() }),
            ("type", "e.event_type", None, EventFilter { types: vec![], ..f.clone() }),
            ("format", "e.format", None, EventFilter { formats: vec![], ..f.clone() }),
            ("audience", "fc.code", Some("audience"), EventFilter { audiences: vec![], ..f.clone() }),
            ("sector", "fc.code", Some("sector"), EventFilter { sectors: vec![], ..f.clone() }),
            ("theme", "fc.code", Some("theme"), EventFilter { themes: vec![], ..f.clone() }),
        ];
        for (name, expr, kind, filter) in dims {
            let q = filter_sql(&filter, DIALECT);
            let codes_join = kind
                .map(|k| format!(" JOIN event_codes fc ON fc.event_id = e.id AND fc.kind = '{k}'"))
                .unwrap_or_default();
            let sql = format!(
                "{}SELECT {expr} AS value, COUNT(*) AS n FROM {}{codes_join}{} AND {expr} IS NOT NULL GROUP BY {expr}",
                q.with, q.from, q.where_sql
            );
            let rows = bind_params!(sqlx::query(safe(sql)), &q.params).fetch_all(&self.pool).await?;
            let mut counts = std::collections::BTreeMap::new();
            for r in rows {
                let value: String = r.try_get("value")?;
                let n: i64 = r.try_get("n")?;
                counts.insert(value, n as u64);
            }
            out.0.insert(name.to_string(), counts);
        }
        Ok(out)
    }

    async fn catalogue_rows_after(&self, after: i64, limit: u32) -> StoreResult<Vec<CatalogueRow>> {
        // A slice at a time (by id): the index is built from slices, so a national catalogue's rows
        // (their search text, ~400,000 codes) are never all in memory at once.
        let slice = format!("id > $1 ORDER BY id LIMIT {limit}");
        self.catalogue_rows_where(&slice, &[crate::sql::Param::Int(after)], true).await
    }

    async fn catalogue_rows_of(&self, ids: &[i64]) -> StoreResult<Vec<CatalogueRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ps: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let params: Vec<crate::sql::Param> = ids.iter().map(|i| crate::sql::Param::Int(*i)).collect();
        self.catalogue_rows_where(&format!("id IN ({}) ORDER BY id", ps.join(", ")), &params, false).await
    }

    async fn catalogue_moves_after(&self, version: i64) -> StoreResult<Vec<(i64, i64)>> {
        let rows = sqlx::query("SELECT version, event_id FROM catalogue_moves WHERE version > $1 ORDER BY version")
            .bind(version)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("version")?, r.try_get("event_id")?))).collect()
    }

    async fn public_versions(&self) -> StoreResult<PublicVersions> {
        let mut v = PublicVersions::default();
        for r in sqlx::query("SELECT kind, version FROM public_changes").fetch_all(&self.pool).await? {
            let kind: String = r.try_get("kind")?;
            match kind.as_str() {
                "labels" => v.labels = r.try_get("version")?,
                "seats" => v.seats = r.try_get("version")?,
                "queue" => v.queue = r.try_get("version")?,
                _ => {}
            }
        }
        Ok(v)
    }

    async fn events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<EventRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ps: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{EVENT_SELECT} WHERE e.id IN ({})", ps.join(", "));
        let mut q = sqlx::query(safe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        let mut found: std::collections::HashMap<i64, EventRecord> = std::collections::HashMap::new();
        for row in q.fetch_all(&self.pool).await? {
            let r = event_from_row(&row)?;
            found.insert(r.id, r);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn search_all(&self, f: &EventFilter, max: u32) -> StoreResult<Vec<EventRecord>> {
        let q = filter_sql(f, DIALECT);
        let sql = format!(
            "{}{EVENT_COLUMNS} FROM {} JOIN organisations o ON o.id = e.organisation_id{} ORDER BY {} LIMIT {max}",
            q.with, q.from, q.where_sql, q.order
        );
        let rows = bind_params!(sqlx::query(safe(sql)), &q.params).fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn count_labelled(&self, edition: i32) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE edition = $1 AND moderation = 'labelled'")
            .bind(i64::from(edition))
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn submission_times(&self, edition: i32) -> StoreResult<Vec<DateTime<Utc>>> {
        Ok(sqlx::query_scalar("SELECT submitted_at FROM events WHERE edition = $1 AND submitted_at IS NOT NULL")
            .bind(i64::from(edition))
            .fetch_all(&self.pool)
            .await?)
    }
}

impl Backend {
    /// The catalogue rows of the labelled events matching `tail` (a condition on `id` then its
    /// order and limit), with their codes; `contiguous` when they are every labelled event of their
    /// id range (a slice).
    async fn catalogue_rows_where(
        &self,
        tail: &str,
        params: &[crate::sql::Param],
        contiguous: bool,
    ) -> StoreResult<Vec<CatalogueRow>> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT id, edition, organisation_id, region, department, event_type, format, accessible, first_day, last_day, \
             lat, lon, title, search, seats_capacity, seats_max_group, session_count FROM events \
             WHERE moderation = 'labelled' AND {tail}"
        );
        let mut rows = bind_params!(sqlx::query(safe(sql)), params).fetch(&self.pool);
        let mut out: Vec<CatalogueRow> = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(CatalogueRow {
                id: r.try_get("id")?,
                edition: r.try_get::<i64, _>("edition")? as i32,
                organisation_id: r.try_get("organisation_id")?,
                region: r.try_get("region")?,
                department: r.try_get("department")?,
                event_type: r.try_get("event_type")?,
                format: r.try_get("format")?,
                accessible: r.try_get("accessible")?,
                first_day: r.try_get("first_day")?,
                last_day: r.try_get("last_day")?,
                lat: r.try_get("lat")?,
                lon: r.try_get("lon")?,
                title: r.try_get("title")?,
                search: r.try_get("search")?,
                codes: Vec::new(),
                seats_capacity: r.try_get::<Option<i64>, _>("seats_capacity")?.and_then(|c| u32::try_from(c).ok()),
                seats_max_group: r.try_get::<Option<i64>, _>("seats_max_group")?.and_then(|c| u32::try_from(c).ok()),
                session_count: u32::try_from(r.try_get::<i64, _>("session_count")?).unwrap_or(0),
            });
        }
        drop(rows);
        let (Some(first), Some(last)) = (out.first().map(|r| r.id), out.last().map(|r| r.id)) else { return Ok(out) };
        // The codes of the rows read, by event id (rows are in id order): a slice's by their range,
        // a few events' by their ids.
        let (sql, params) = if contiguous {
            (
                "SELECT c.event_id, c.kind, c.code FROM event_codes c JOIN events e ON e.id = c.event_id \
                 WHERE e.moderation = 'labelled' AND c.event_id >= $1 AND c.event_id <= $2 ORDER BY c.event_id"
                    .to_string(),
                vec![crate::sql::Param::Int(first), crate::sql::Param::Int(last)],
            )
        } else {
            let ps: Vec<String> = (1..=out.len()).map(|i| format!("${i}")).collect();
            (
                format!(
                    "SELECT c.event_id, c.kind, c.code FROM event_codes c WHERE c.event_id IN ({}) ORDER BY c.event_id",
                    ps.join(", ")
                ),
                out.iter().map(|r| crate::sql::Param::Int(r.id)).collect(),
            )
        };
        let mut codes = bind_params!(sqlx::query(safe(sql)), &params).fetch(&self.pool);
        let mut k = 0;
        while let Some(c) = codes.try_next().await? {
            let id: i64 = c.try_get("event_id")?;
            while k < out.len() && out[k].id < id {
                k += 1;
            }
            if k < out.len() && out[k].id == id {
                out[k].codes.push((c.try_get("kind")?, c.try_get("code")?));
            }
        }
        Ok(out)
    }
}
