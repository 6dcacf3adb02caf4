//! What the HTTP benchmarks share: a minimal HTTP/1.1 keep-alive client that sends
//! JSON-RPC calls (or whole requests, sized or chunked answers) one at a time on one
//! connection, without a client library's overhead.

// Each benchmark compiles this module on its own and uses part of it.
#![allow(dead_code)]

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

/// iapd serving `database_url` on a free loopback port: the release binary in a process of
/// its own, as an operator runs it, so the load generator neither shares its runtime nor
/// counts in its memory.
pub struct Served {
    pub port: u16,
    child: tokio::process::Child,
}

impl Served {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// The same with more command-line flags (`--demo`).
    pub async fn start_with(database_url: &str, flags: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--database-url", database_url, "--site-root", site_root])
            .args(["--site-addr", &format!("127.0.0.1:{port}")])
            .args(flags)
            .env("LEPTOS_ENV", "PROD")
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .expect("start the server binary");
        let started = std::time::Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the server never listened"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Served { port, child }
    }

    /// The server's resident and peak resident memory, in MB, read from `/proc`.
    pub fn memory(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        Some((kb("VmRSS:")? / 1024, kb("VmHWM:")? / 1024))
    }

    /// Stops the server as an operator does (SIGTERM) and waits until it has drained.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
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
