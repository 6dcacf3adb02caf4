//! `GET /iap-accounts/{id}/history.csv`: an account's history, filtered as its page is, as
//! CSV (RFC 4180). It streams, a thousand entries per read, so ten million rows cost the
//! server what ten thousand do; each read is a keyset page of the history, newest first, so
//! entries recorded while the file downloads never shift the rows still to come.

use app::auth::Identity;
use app::domain::csv;
use app::i18n::{Locale, Msg, t};
use app::models::{HistoryCursor, HistoryFilter, LedgerLine};
use app::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{StatusCode, header};
use std::collections::HashMap;

/// Entries per database read.
const CHUNK: i64 = 1_000;

const HEADER: &str = "entry,date,type,description,credits,held,reverses\r\n";

pub async fn history_csv(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    // The access guard sent anyone without a session to the login page already.
    let Some(who) = req.extensions().get::<Identity>().cloned() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let locale = app::locale::of_request(who.locale, req.headers());
    let filter = match HistoryFilter::from_query(|k| query.get(k).cloned()) {
        Ok(filter) => filter,
        Err(error) => {
            let message = format!("{}: {}\n", error.field, error.text().render(locale));
            return (StatusCode::UNPROCESSABLE_ENTITY, message).into_response();
        }
    };
    let companies = (!who.is_admin).then_some(who.active_company_ids.as_slice());
    let visible = match state.pool.acquire().await {
        Ok(mut conn) => {
            app::db::accounts::visible(&mut conn, companies, id, app::clock::now_ms()).await
        }
        Err(e) => Err(e),
    };
    match visible {
        Ok(Some(_)) => {}
        Ok(None) => {
            return super::empty_page(
                StatusCode::NOT_FOUND,
                t(Msg::PageNotFound),
                t(Msg::ErrNotFound),
                ("/iap-accounts", t(Msg::IapAccountTitle)),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, account = id, "history export failed to start");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    tracing::info!(account = id, by = who.login, "history exported");
    let rows = Rows {
        state,
        account: id,
        filter,
        locale,
        cursor: None,
        done: false,
    };
    // Fused: the compression layer polls the body once more after its end, which an unfold
    // answers with a panic (and browsers with a cancelled download).
    let body = futures::stream::once(async { Ok(Bytes::from_static(HEADER.as_bytes())) })
        .chain(futures::stream::unfold(rows, Rows::next))
        .fuse();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"iap-account-{id}-history.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Where the export is: the next read starts after `cursor`.
struct Rows {
    state: AppState,
    account: i64,
    filter: HistoryFilter,
    locale: Locale,
    cursor: Option<HistoryCursor>,
    done: bool,
}

impl Rows {
    /// The next thousand rows as CSV, `None` after the last; a failed read ends the body
    /// with an error, so the download is cut rather than silently short.
    async fn next(mut self) -> Option<(Result<Bytes, sqlx::Error>, Self)> {
        if self.done {
            return None;
        }
        let lines = match self.read().await {
            Ok(lines) => lines,
            Err(e) => {
                tracing::error!(error = %e, account = self.account, "history export cut short");
                self.done = true;
                return Some((Err(e), self));
            }
        };
        if lines.is_empty() {
            return None;
        }
        self.done = (lines.len() as i64) < CHUNK;
        self.cursor = lines.last().map(HistoryCursor::of);
        let mut out = String::with_capacity(lines.len() * 80);
        for line in &lines {
            write_line(&mut out, line, self.locale);
        }
        Some((Ok(Bytes::from(out)), self))
    }

    async fn read(&self) -> Result<Vec<LedgerLine>, sqlx::Error> {
        let mut conn = self.state.pool.acquire().await?;
        app::db::accounts::history(&mut conn, self.account, &self.filter, self.cursor, CHUNK).await
    }
}

/// One entry: its id, the UTC time in ISO 8601, the kind's stored name, the description in
/// the reader's language, the exact credits and held changes, and for a reversal the entry it
/// gives back from.
fn write_line(out: &mut String, line: &LedgerLine, locale: Locale) {
    let at = line.created_at.to_string();
    csv::number(out, &line.id.to_string());
    out.push(',');
    csv::number(out, &format!("{}T{}Z", &at[..10], &at[11..]));
    out.push(',');
    csv::number(out, line.kind.as_str());
    out.push(',');
    csv::text(out, &line.description.render(locale));
    out.push(',');
    csv::number(out, &line.amount.decimal());
    out.push(',');
    csv::number(out, &line.held_delta.decimal());
    out.push(',');
    if let Some(entry) = line.reverses {
        csv::number(out, &entry.to_string());
    }
    csv::end(out);
}
