//! The history's filters on Account Information: a plain GET form, so a filtered history has
//! an address of its own, works without JavaScript, and its CSV export takes the same query.

use crate::domain::FieldError;
use crate::domain::ledger::EntryKind;
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::HistoryFilter;
use leptos::prelude::*;

/// `action` is the page's own address; `shown` the filter in force (the last valid one);
/// `typed` the query's raw values, kept in the fields when one of them is refused by `error`.
#[component]
pub fn HistoryFilters(
    action: String,
    shown: HistoryFilter,
    typed: Vec<(&'static str, String)>,
    error: Option<FieldError>,
    csv: String,
) -> impl IntoView {
    let typed_any = typed.iter().any(|(_, v)| !v.trim().is_empty());
    let value = move |name: &str| {
        typed
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let invalid = |name: &str| error.as_ref().is_some_and(|e| e.field == name);
    let message = error.as_ref().map(|e| crate::locale::text(&e.text()));
    let field = error.as_ref().map(|e| e.field.clone()).unwrap_or_default();
    let (kind, from, to, q) = (value("kind"), value("from"), value("to"), value("q"));
    // Anything typed, valid or not, can be cleared.
    let filtered = shown != HistoryFilter::default() || typed_any;
    let clear = action.clone();
    view! {
        <form class="o-history-filters" method="get" action=action aria-label=t(Msg::HistoryFilters)>
            <div class="o-filter">
                <label for="history-kind">{t(Msg::FilterKind)}</label>
                <select id="history-kind" name="kind" aria-invalid=invalid("kind").to_string()>
                    <option value="" selected=kind.is_empty()>{t(Msg::FilterAllKinds)}</option>
                    {EntryKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str() selected=kind == k.as_str()>{t(k.label())}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="o-filter">
                <label for="history-from">{t(Msg::FilterFrom)}</label>
                <input id="history-from" type="date" name="from" value=from aria-invalid=invalid("from").to_string() />
            </div>
            <div class="o-filter">
                <label for="history-to">{t(Msg::FilterTo)}</label>
                <input id="history-to" type="date" name="to" value=to aria-invalid=invalid("to").to_string() />
            </div>
            <div class="o-filter o-filter-grow">
                <label for="history-q">{t(Msg::FilterText)}</label>
                <input id="history-q" type="search" name="q" value=q maxlength="100" aria-invalid=invalid("q").to_string() />
            </div>
            <div class="o-filter-buttons">
                <button type="submit" class="btn btn-primary">{t(Msg::FilterApply)}</button>
                {filtered.then(|| view! { <a class="btn btn-secondary" href=clear rel="external">{t(Msg::FilterClear)}</a> })}
                <a class="btn btn-secondary" href=csv rel="external" download>{t(Msg::ExportCsv)}</a>
            </div>
            {message.map(|m| view! {
                <div class="o-field-error o-filter-error" id=format!("history-{field}-error") role="alert">{m}</div>
            })}
        </form>
    }
}
