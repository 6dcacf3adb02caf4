//! What the HTTP benchmarks share: a minimal HTTP/1.1 keep-alive client that sends
//! JSON-RPC calls (or whole requests, sized or chunked answers) one at a time on one
//! connection, without a client library's overhead.

// Each benchmark compiles this module on its own and uses part of it.
#![allow(dead_code)]

use clap::Parser;
use server::config::Config;
use server::startup::Application;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Concurrent clients: `BENCH_CLIENTS`, else 64.
pub fn clients() -> usize {
    std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(64)
}

/// How long each scenario runs: `BENCH_SECONDS`, else 5 s.
pub fn run_time() -> std::time::Duration {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    std::time::Duration::from_secs(secs)
}

/// iapd serving `database_url` on a free loopback port, as `main` starts it.
pub struct Served {
    pub port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// The same with more command-line flags (`--demo`).
    pub async fn start_with(database_url: &str, flags: &[&str]) -> Self {
        let mut args = vec![
            "server",
            "--database-url",
            database_url,
            "--site-addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(flags);
        let config = Config::try_parse_from(args).expect("config");
        let app = Application::build(&config).await.expect("server");
        let port = app.port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Served { port, stop, server }
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// A minimal HTTP/1.1 keep-alive client: one request at a time on one connection.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub async fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    pub async fn call(&mut self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        let (head_end, length) = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .expect("content-length");
                break (end + 4, length);
            }
            self.fill().await;
        };
        while self.buf.len() < head_end + length {
            self.fill().await;
        }
        let value = serde_json::from_slice(&self.buf[head_end..head_end + length]).expect("JSON");
        self.buf.drain(..head_end + length);
        value
    }

    /// Sends `request` (a whole HTTP/1.1 request) and reads the answer, sized or chunked (a
    /// streamed page); returns its status, head (as sent) and body length.
    pub async fn exchange(&mut self, request: &[u8]) -> (u16, String, usize) {
        self.stream.write_all(request).await.expect("write");
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await;
        };
        let sent = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let head = sent.to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let body = match length {
            Some(length) => {
                while self.buf.len() < head_end + length {
                    self.fill().await;
                }
                self.buf.drain(..head_end + length);
                length
            }
            None => {
                self.buf.drain(..head_end);
                self.chunked().await
            }
        };
        (status, sent, body)
    }

    /// Reads a chunked body to its last chunk; returns its length.
    async fn chunked(&mut self) -> usize {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buf, b"\r\n") {
                    break end;
                }
                self.fill().await;
            };
            let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .expect("chunk size");
            // The chunk, then its CRLF (after the last, empty chunk: the final CRLF).
            while self.buf.len() < line_end + 2 + size + 2 {
                self.fill().await;
            }
            self.buf.drain(..line_end + 2 + size + 2);
            total += size;
            if size == 0 {
                return total;
            }
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
