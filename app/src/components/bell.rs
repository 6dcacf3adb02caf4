//! The bell in the top bar: alerts about the accounts the user may see (a threshold crossed,
//! an account depleted or recovered), with the count of unread ones. Opening it lists the
//! newest and marks them read.
//!
//! Every page shows the bell, so what it costs is paid on every first visit: the page only
//! asks for the count (a number), once it is interactive, again when the tab regains focus
//! and every minute, so no page waits for it on the server. Reading and wording the list is
//! split out of the main wasm (`#[lazy]`) and loaded the first time the bell is opened.

use crate::functions::alerts::unread_notifications;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use leptos::prelude::*;

/// One notification, worded for the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BellLine {
    pub href: String,
    pub text: String,
    pub time: String,
    pub unread: bool,
}

/// The newest notifications, worded; marks them read.
#[lazy]
async fn open_bell() -> Result<Vec<BellLine>, crate::error::AppError> {
    use crate::i18n::Arg;
    let list = crate::functions::alerts::get_notifications().await?;
    if let Some(newest) = list.items.first().filter(|_| list.unread > 0) {
        crate::functions::alerts::mark_notifications_read(newest.id).await?;
    }
    Ok(list
        .items
        .into_iter()
        .map(|n| {
            let amount = |credits| crate::locale::amount(credits, n.whole_number, &n.unit_name);
            let mut args = vec![
                ("account", Arg::Text(n.account_name.clone())),
                ("available", Arg::Text(amount(n.available))),
            ];
            if let Some(threshold) = n.threshold {
                args.push(("threshold", Arg::Text(amount(threshold))));
            }
            BellLine {
                href: format!("/iap-accounts/{}", n.account_id),
                text: tf(n.kind.message(), &args),
                time: crate::locale::date_time(n.created_at),
                unread: n.unread,
            }
        })
        .collect())
}

#[component]
pub fn Bell(open: Signal<bool>, on_toggle: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let unread = LocalResource::new(move || {
        refresh.track();
        unread_notifications()
    });
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::focus, move |_| {
            refresh.try_update(|n| *n += 1);
        });
        on_cleanup(move || handle.remove());
        if let Ok(timer) = set_interval_with_handle(
            move || {
                refresh.try_update(|n| *n += 1);
            },
            std::time::Duration::from_secs(60),
        ) {
            on_cleanup(move || timer.clear());
        }
    }
    // Each opening reads the list again (and marks it read).
    let openings = RwSignal::new(0u32);
    let lines = LocalResource::new(move || {
        let opened = openings.get();
        async move {
            if opened == 0 {
                Ok(Vec::new())
            } else {
                let lines = open_bell().await;
                // Opening marked them read: ask for the count again, so the badge clears
                // now and counts what arrives later.
                refresh.try_update(|n| *n += 1);
                lines
            }
        }
    });
    let count = move || unread.get().and_then(Result::ok).unwrap_or(0);
    let label = move || match count() {
        0 => t(Msg::Notifications).to_owned(),
        n => tf(
            Msg::NotificationsUnread,
            &[("count", crate::i18n::Arg::Int(i64::from(n)))],
        ),
    };
    let toggle = move |_| {
        if !open.get_untracked() {
            openings.update(|n| *n += 1);
        }
        on_toggle();
    };
    view! {
        <div class="o-dropdown">
            <button
                type="button"
                class="o-topbar-btn o-bell-btn"
                aria-label=label
                aria-expanded=move || open.get().to_string()
                data-testid="bell"
                on:click=toggle
            >
                <svg class="o-bell-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                    <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" />
                </svg>
                {move || (count() > 0).then(|| view! { <span class="o-bell-count" aria-hidden="true" data-testid="bell-count">{count()}</span> })}
            </button>
            <Show when=move || open.get()>
                <div class="o-dropdown-menu o-dropdown-menu-end o-bell-menu">
                    <div class="o-dropdown-header">{t(Msg::Notifications)}</div>
                    {move || match lines.get() {
                        None => view! { <p class="o-bell-empty">{t(Msg::Loading)}</p> }.into_any(),
                        Some(Err(error)) => view! { <p class="o-bell-empty">{crate::locale::error(&error)}</p> }.into_any(),
                        Some(Ok(lines)) if lines.is_empty() => view! { <p class="o-bell-empty">{t(Msg::NotificationsEmpty)}</p> }.into_any(),
                        Some(Ok(lines)) => view! {
                            <ul class="o-bell-list">
                                {lines.into_iter().map(|line| view! {
                                    <li class="o-bell-item" class:o-unread=line.unread>
                                        <a class="o-dropdown-item" href=line.href>
                                            <span class="o-bell-text">{line.text}</span>
                                            <span class="o-bell-time o-muted">{line.time}</span>
                                        </a>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                            .into_any(),
                    }}
                </div>
            </Show>
        </div>
    }
}
