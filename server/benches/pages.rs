//! `make bench`, pages part: 64 keep-alive clients render the signed-in IAP Account list
//! (server-side rendering, streamed) against the real server, release build, beside a
//! hello-world axum route served by this process and measured with the same client: the
//! reference, and beside the smallest page Leptos serves (a router, one route and the
//! hydration scripts, rendered by `leptos_axum` in this process): the framework's own floor
//! on this machine. Then the server process's resident memory, read from `/proc`. Prints
//! figures; asserts nothing. `BENCH_SECONDS` and `BENCH_CLIENTS` override the defaults (5 s, 64).

use axum::Router;
use axum::routing::get;
use std::time::{Duration, Instant};

mod http_client;
use http_client::{Client, Served, clients, run_time};

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("iapd-pages-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/bench.sqlite", dir.display());
    let served = Served::start_with(&url, &["--demo"]).await;
    let cookie = login(served.port).await;
    let probe = format!(
        "GET /iap-accounts HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {cookie}\r\n\r\n",
        served.port
    );
    let (status, head, _) = Client::connect(served.port)
        .await
        .exchange(probe.as_bytes())
        .await;
    assert_eq!(status, 200, "the signed-in list answers: {head}");

    let hello = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hello_port = hello.local_addr().expect("addr").port();
    let hello_app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let hello_server = tokio::spawn(async move { axum::serve(hello, hello_app).await });
    let (leptos_port, leptos_server) = minimal_leptos::serve().await;

    println!(
        "iapd pages benchmark: {} keep-alive clients, {}s per scenario",
        clients(),
        run_time().as_secs()
    );
    println!(
        "{:<40} {:>10} {:>9} {:>9} {:>8}",
        "scenario", "req/s", "p50 ms", "p99 ms", "ratio"
    );
    let reference = run(hello_port, "/", None).await;
    report("reference: axum hello world", &reference, None);
    let floor = run(leptos_port, "/", None).await;
    report("reference: smallest Leptos page (SSR)", &floor, None);
    let list = run(served.port, "/iap-accounts", Some(&cookie)).await;
    report("IAP Account list, signed in (SSR)", &list, Some(&floor));
    let login_page = run(served.port, "/login", None).await;
    report("login page (SSR)", &login_page, Some(&floor));
    println!("(ratios are to the smallest Leptos page; target: 5,000 pages/s, p99 <= 50 ms)");
    if let Some((rss, peak)) = served.memory() {
        println!("server memory: {rss} MB resident, {peak} MB at peak (target: <= 80 MB)");
    }
    hello_server.abort();
    leptos_server.abort();
    served.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The smallest server-rendered Leptos app: what any Leptos page costs on this machine.
mod minimal_leptos {
    use leptos::prelude::*;
    use leptos_axum::{LeptosRoutes, generate_route_list};
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::path;

    #[component]
    fn Minimal() -> impl IntoView {
        view! {
            <Router>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=|| view! { <p>"Hello, World!"</p> } />
                </Routes>
            </Router>
        }
    }

    fn shell(options: LeptosOptions) -> impl IntoView {
        view! {
            <!DOCTYPE html>
            <html lang="en">
                <head>
                    <meta charset="utf-8" />
                    <HydrationScripts options />
                </head>
                <body>
                    <Minimal />
                </body>
            </html>
        }
    }

    pub async fn serve() -> (u16, tokio::task::JoinHandle<std::io::Result<()>>) {
        let options = LeptosOptions::builder().output_name("minimal").build();
        let routes = generate_route_list(Minimal);
        let app = axum::Router::new()
            .leptos_routes(&options, routes, {
                let options = options.clone();
                move || shell(options.clone())
            })
            .with_state(options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        (
            port,
            tokio::spawn(async move { axum::serve(listener, app).await }),
        )
    }
}

/// Logs in as the demo administrator; returns the session cookie.
async fn login(port: u16) -> String {
    let body = "login=admin&password=admin";
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut client = Client::connect(port).await;
    let (status, head, _) = client.exchange(request.as_bytes()).await;
    assert_eq!(status, 200, "login: {head}");
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l["set-cookie:".len()..].trim().split(';').next())
        .find(|c| c.contains("session"))
        .map(str::to_owned)
        .expect("a session cookie")
}

struct Figures {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

async fn run(port: u16, path: &str, cookie: Option<&str>) -> Figures {
    let cookie = cookie.map_or_else(String::new, |c| format!("Cookie: {c}\r\n"));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}\r\n");
    let deadline = Instant::now() + run_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients() {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(port).await;
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let at = Instant::now();
                let (status, _, _) = client.exchange(request.as_bytes()).await;
                latencies.push(at.elapsed());
                if status != 200 {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await.expect("client");
        all.extend(latencies);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    Figures {
        per_sec: all.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
        errors,
    }
}

fn report(name: &str, f: &Figures, reference: Option<&Figures>) {
    let ratio = reference.map_or_else(
        || "-".to_owned(),
        |r| format!("{:.2}x", f.per_sec / r.per_sec),
    );
    println!(
        "{name:<40} {:>10.0} {:>9.2} {:>9.2} {:>8}{}",
        f.per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        ratio,
        if f.errors > 0 {
            format!("  ({} errors)", f.errors)
        } else {
            String::new()
        }
    );
}
