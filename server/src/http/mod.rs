//! The HTTP router: Leptos pages and server functions, static files, and the middleware
//! every request passes through, outermost first:
//! tracing → body limit → [`cross_site`] → [`session`] → [`access`] → handler.
//! The IAP JSON-RPC API ([`iap`]) is merged beside them with layers of its own.

pub mod access;
pub mod cross_site;
pub mod iap;
pub mod operator;
pub mod payment;
pub mod session;
pub mod sms_gateway;

use app::auth::Identity;
use app::state::{AppState, ClientAddr};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Requests larger than this are refused before any handler reads them.
const BODY_LIMIT: usize = 1024 * 1024;

/// Every route of iapd over `state`; the operator endpoint answers callers on this machine
/// (`local_ip`) that hold `operator_secret`, the SMS gateway's reports those that hold
/// `sms_gateway_secret`.
pub fn router(
    state: AppState,
    operator_secret: Arc<str>,
    local_ip: IpAddr,
    sms_gateway_secret: Option<app::secret::Secret>,
) -> Router {
    let api = iap::router(&state)
        .merge(payment::router(&state))
        .merge(sms_gateway::router(&state.pool, sms_gateway_secret))
        .merge(operator::router(&state, operator_secret, local_ip))
        .layer(TraceLayer::new_for_http().make_span_with(request_span));
    let routes = generate_route_list(App);
    let page_routes = routes.clone();
    Router::new()
        // POST only: no server function, and so nothing that changes state, answers a GET.
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route("/iap/1/credit", get(iap::credit::credit))
        .leptos_routes_with_handler(
            routes,
            get(move |state: State<AppState>, req: Request<Body>| {
                let routes = page_routes.clone();
                async move { page_handler(state, routes, req).await }
            }),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn(access::guard))
        .layer(from_fn_with_state(state.clone(), session::resolve))
        .layer(from_fn(cross_site::refuse))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
        .merge(api)
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

/// What server functions and pages find in their context: the state, the identity the
/// session middleware resolved, and the client address.
fn request_context(
    state: &AppState,
    req: &Request<Body>,
) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    let identity = req.extensions().get::<Identity>().cloned();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| ClientAddr(c.0.ip().to_string()));
    move || {
        provide_context(state.clone());
        if let Some(identity) = identity.clone() {
            provide_context(identity);
        }
        if let Some(client) = client.clone() {
            provide_context(client);
        }
    }
}

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> Response {
    let context = request_context(&state, &req);
    handle_server_fns_with_context(context, req)
        .await
        .into_response()
}

async fn page_handler(
    State(state): State<AppState>,
    routes: Vec<leptos_axum::AxumRouteListing>,
    req: Request<Body>,
) -> Response {
    let context = request_context(&state, &req);
    let options = state.leptos_options.clone();
    let handler =
        leptos_axum::render_route_with_context(routes, context, move || shell(options.clone()));
    handler(State(state), req).await.into_response()
}
