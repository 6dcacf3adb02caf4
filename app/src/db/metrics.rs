//! How much work is waiting, for `/metrics`: each count is read from an index or a small
//! table, so a scrape stays cheap however long the history grows.

use sqlx::AnyConnection;

/// The depth of each outbox and queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Depths {
    /// Mails waiting for their (next) attempt.
    pub mail_queued: i64,
    /// SMS waiting for the gateway's answer.
    pub sms_outgoing: i64,
    /// SMS batches whose job is not finished.
    pub sms_batches_pending: i64,
    /// Delivery reports waiting to reach their Odoo database.
    pub sms_reports_queued: i64,
    /// Orders paid for or being paid, not yet settled.
    pub orders_pending: i64,
    /// Holds reserving credits.
    pub holds_open: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn depths(conn: &mut AnyConnection) -> Result<Depths, sqlx::Error> {
    sqlx::query_as(
        "SELECT
            (SELECT COUNT(*) FROM mail_outbox WHERE state = 'queued') AS mail_queued,
            (SELECT COUNT(*) FROM sms_messages WHERE state = 'outgoing') AS sms_outgoing,
            (SELECT COUNT(*) FROM sms_batches WHERE state = 'pending') AS sms_batches_pending,
            (SELECT COUNT(*) FROM sms_reports WHERE state = 'queued') AS sms_reports_queued,
            (SELECT COUNT(*) FROM orders WHERE state = 'pending') AS orders_pending,
            (SELECT COUNT(*) FROM holds WHERE state = 'open') AS holds_open",
    )
    .fetch_one(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_database_has_nothing_waiting() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("connection");
        assert_eq!(depths(&mut conn).await.expect("depths"), Depths::default());
    }
}
