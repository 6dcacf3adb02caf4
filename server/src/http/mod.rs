//! The HTTP router: Leptos pages and server functions, static files, and the middleware
//! every request passes through, outermost first:
//! [`metrics`] → client address → tracing → compression → [`assets`] cache policy → body
//! limit → security [`headers`] → [`cross_site`] → [`session`] → [`access`] → handler.
//! The IAP JSON-RPC API ([`iap`]) and `/metrics` are merged beside them with layers of
//! their own.

pub mod access;
pub mod assets;
pub mod client;
pub mod cross_site;
pub mod export;
pub mod headers;
pub mod iap;
pub mod metrics;
pub mod operator;
pub mod payment;
pub mod session;
pub mod sms_gateway;

use app::auth::Identity;
use app::state::{AppState, ClientAddr};
use app::{App, page_shell, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, generate_route_list, handle_server_fns_with_context,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Requests larger than this are refused before any handler reads them.
const BODY_LIMIT: usize = 1024 * 1024;

/// What the router needs besides the shared state.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// The operator endpoint's secret (see `owner`).
    pub operator_secret: Arc<str>,
    /// The address the server listens on.
    pub local_ip: IpAddr,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[client::Cidr]>,
    /// What the SMS gateway's delivery reports must carry (`SMS_GATEWAY_WEBHOOK_SECRET`).
    pub sms_gateway_secret: Option<app::secret::Secret>,
    /// What a `/metrics` scrape must carry (`METRICS_TOKEN`); unset, there is no `/metrics`.
    pub metrics_token: Option<app::secret::Secret>,
}

/// Every route of iapd over `state`; the operator endpoint answers callers on this machine
/// (`local_ip`) that hold `operator_secret`, the SMS gateway's reports those that hold
/// `sms_gateway_secret`.
pub fn router(state: AppState, config: RouterConfig) -> Router {
    let RouterConfig {
        operator_secret,
        local_ip,
        trusted_proxies,
        sms_gateway_secret,
        metrics_token,
    } = config;
    let http_metrics = Arc::new(metrics::HttpMetrics::default());
    let api = iap::router(&state)
        .merge(payment::router(&state))
        .merge(sms_gateway::router(&state.pool, sms_gateway_secret))
        .merge(
            Router::new()
                .route("/healthz", get(healthz))
                .with_state(state.clone()),
        )
        .merge(operator::router(&state, operator_secret, local_ip))
        .merge(metrics::router(&state, http_metrics.clone(), metrics_token))
        .layer(TraceLayer::new_for_http().make_span_with(request_span));
    // Built once: the renderer finds each request's identity in the request (see
    // `request_context`), so nothing about the route list is copied per page.
    let options = state.leptos_options.clone();
    // Shared, as axum clones a handler for every request it serves.
    let render = Arc::new(leptos_axum::render_route_with_context(
        page_routes(),
        request_context(state.clone()),
        move || page_shell(options.clone()),
    ));
    Router::new()
        // POST only: no server function, and so nothing that changes state, answers a GET.
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route("/iap/1/credit", get(iap::credit::credit))
        .route("/iap-accounts/{id}/history.csv", get(export::history_csv))
        .leptos_routes_with_handler(
            page_routes(),
            get(move |state: State<AppState>, req: Request<Body>| render.clone()(state, req)),
        )
        .fallback(fallback_handler)
        .layer(from_fn(access::guard))
        .layer(from_fn_with_state(state.clone(), session::resolve))
        .layer(from_fn(cross_site::refuse))
        .layer(from_fn_with_state(state.secure_cookies, headers::secure))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn(too_large_as_app_error))
        .layer(from_fn(assets::cache_policy))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
        .merge(api)
        .layer(from_fn_with_state(trusted_proxies, resolve_client))
        .layer(from_fn_with_state(http_metrics, metrics::record))
}

/// The page routes, listed once per process and shared by every router built after.
///
/// Leptos lists them by rendering the app with resource loading switched off through a
/// process-wide flag (`leptos_server`'s `SuppressResourceLoad`). A resource that a request
/// polls for the first time while that flag is up never loads, so its page's body never
/// ends (leptos-rs/leptos#4773). Listing once, before any router in the process serves,
/// closes that window: a second router in the same process (tests, or an embedding
/// program) reuses the list instead of raising the flag under pages being rendered.
pub fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The body limit answers 413 in plain text. A server function's caller expects an
/// `AppError` it can show, so that refusal is re-dressed as one (keeping the 413).
async fn too_large_as_app_error(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let server_fn = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    if !server_fn || response.status() != http::StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let error = app::error::AppError::BadRequest(format!(
        "the request is larger than {} KiB",
        BODY_LIMIT / 1024
    ));
    let body = serde_json::to_string(&error).unwrap_or_default();
    (
        http::StatusCode::PAYLOAD_TOO_LARGE,
        [(http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Puts the client's address (see [`client`]) in the request's extensions.
async fn resolve_client(
    State(trusted): State<Arc<[client::Cidr]>>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = client::client_ip(peer.ip(), forwarded, &trusted);
        req.extensions_mut().insert(ClientAddr(ip.to_string()));
    }
    next.run(req).await
}

/// For load balancers and supervisors: 200 while the database answers and the ledger writer
/// serves, 503 otherwise (money operations are then refused rather than left hanging).
/// `background` says whether this node runs the background work; it does not change the
/// status, since every node serves requests alike.
async fn healthz(State(state): State<AppState>) -> Response {
    let database = sqlx::query("SELECT 1").execute(&state.pool).await.is_ok();
    let ledger = state.ledger.healthy();
    let status = if database && ledger {
        http::StatusCode::OK
    } else {
        http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if status.is_success() { "ok" } else { "unavailable" },
        "database": database,
        "ledger": ledger,
        "background": state.leader.leading(),
    });
    (status, axum::Json(body)).into_response()
}

/// A request's span, named by the route it matched (`/iap-accounts/{id}`) rather than the
/// path it asked for, so logs group by route and carry no ids or tokens from the URL.
fn request_span(req: &Request<Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route)
}

/// What server functions and pages find in their context: the state, and what the
/// middleware found in the request (the identity the session resolved, the client address,
/// the script nonce) and its language. Leptos provides the request's parts before calling
/// this, for pages and server functions alike.
fn request_context(state: AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        if let Some(parts) = use_context::<http::request::Parts>() {
            let identity = parts.extensions.get::<Identity>();
            provide_context(app::locale::of_request(
                identity.and_then(|i| i.locale),
                &parts.headers,
            ));
            if let Some(headers::ScriptNonce(nonce)) = parts.extensions.get() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.clone()));
            }
            if let Some(identity) = identity {
                provide_context(identity.clone());
            }
            if let Some(client) = parts.extensions.get::<ClientAddr>() {
                provide_context(client.clone());
            }
        }
        provide_context(state.clone());
    }
}

/// Static files, and the "page not found" page for anything else: rendered with the same
/// context as every page, so its top bar knows who is signed in.
async fn fallback_handler(
    uri: axum::http::Uri,
    State(state): State<AppState>,
    req: Request<Body>,
) -> Response {
    let context = request_context(state.clone());
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell);
    handler(uri, State(state), req).await
}

/// Runs a server function; an error it returns gets the HTTP status that says what it is
/// (401, 403, 404, 409, 422, 429...) rather than a blanket 500.
async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> Response {
    let context = request_context(state);
    let response = handle_server_fns_with_context(context, req)
        .await
        .into_response();
    if response.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A page of its own outside the app (access denied, an unknown account): a title, a
/// sentence and a way back, in the site's stylesheet. The texts are the app's own messages.
pub(crate) fn empty_page(
    status: StatusCode,
    title: &str,
    body: &str,
    (back_href, back_label): (&str, &str),
) -> Response {
    let page = format!(
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} - iapd</title>
<link rel="stylesheet" href="{css}"></head><body><div class="o-empty-page">
<h1>{title}</h1><p>{body}</p><a class="btn btn-primary" href="{back_href}">{back_label}</a></div></body></html>"#,
        lang = app::locale::current().code(),
        css = app::assets::stylesheet(),
    );
    (status, axum::response::Html(page)).into_response()
}
