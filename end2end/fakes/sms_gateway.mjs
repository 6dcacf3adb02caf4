#!/usr/bin/env node
// A fake HTTP SMS gateway for the Playwright tests, without dependencies (node:http). It
// takes messages as iapd's HTTP provider sends them (JSON `{id, to, body, encoding, parts}`
// with an `Idempotency-Key`), answers each after DELAY_MS with `{"reference": …}`, and
// answers a repeated key with its first reference.
// server/tests/api/fake_sms_gateway.rs is its twin for the Rust HTTP tests.
//
// Environment:
//   PORT      port on 127.0.0.1; 0 (the default) picks a free one
//   DELAY_MS  how long each answer takes (default 0)
// Once listening it prints `fake sms gateway listening on http://127.0.0.1:<port>`.
//
// Routes:
//   POST /sms               a message
//   GET  /__fake/messages   every message received, as JSON (tests only)

import http from "node:http";

const PORT = Number(process.env.PORT ?? "0");
const DELAY_MS = Number(process.env.DELAY_MS ?? "0");
const references = new Map(); // Idempotency-Key → reference
const messages = []; // { key, body }

function json(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

const server = http.createServer((req, res) => {
  let raw = "";
  req.on("data", (chunk) => (raw += chunk));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/__fake/messages") return json(res, 200, messages);
    if (req.method !== "POST" || req.url !== "/sms") return json(res, 404, { error: "not found" });
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return json(res, 400, { error: "not JSON" });
    }
    const key = req.headers["idempotency-key"] || "";
    messages.push({ key, body });
    if (!references.has(key)) references.set(key, `FAKE-${references.size + 1}`);
    setTimeout(() => json(res, 200, { reference: references.get(key) }), DELAY_MS);
  });
});

server.listen(PORT, "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`fake sms gateway listening on http://127.0.0.1:${port}`);
});
