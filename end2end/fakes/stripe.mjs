#!/usr/bin/env node
// A fake Stripe for the Playwright tests, without dependencies (node:http, node:crypto).
// It answers the Checkout Sessions API as Stripe does (form bodies, `Bearer sk_…` keys,
// idempotency keys, Stripe-shaped errors), serves a stand-in for the hosted payment page,
// and signs the webhooks it sends with the endpoint secret.
// server/tests/api/fake_stripe.rs is its twin for the Rust HTTP tests; keep them in step.
//
// Environment:
//   PORT                   port on 127.0.0.1; 0 (the default) picks a free one
//   WEBHOOK_URL            where events are POSTed; none are sent without it
//   STRIPE_WEBHOOK_SECRET  the endpoint secret (whsec_…) events are signed with
// Once listening it prints `fake stripe listening on http://127.0.0.1:<port>` on stdout.
//
// Routes, as Stripe:
//   POST /v1/checkout/sessions        create, in payment or setup mode (honours Idempotency-Key)
//   GET  /v1/checkout/sessions/{id}   retrieve (expand[]=setup_intent.payment_method)
//   POST /v1/customers                create (honours Idempotency-Key)
//   POST /v1/payment_intents          charge a saved card off session (card ending 0341 declines)
//   GET  /v1/payment_intents/{id}     retrieve
//   GET  /pay/{id}[?card=<number>]    the "hosted page": pays (or saves the card, 4242… by
//                                     default), posts the signed checkout.session.completed,
//                                     then 303 to success_url
//   GET  /pay/{id}/cancel             303 to cancel_url, nothing changes
// Routes for tests only:
//   GET  /__fake/requests             every request received, as JSON
//   POST /__fake/sessions/{id}/pay    pay without a browser (the webhook's status is returned)
//   POST /__fake/sessions/{id}/expire expire and post the signed checkout.session.expired
//   PUT  /__fake/webhook-url          body = the URL: sets WEBHOOK_URL after start, for when
//                                     iapd's port is only known once it runs

import http from "node:http";
import { createHmac } from "node:crypto";

const PORT = Number(process.env.PORT ?? "0");
let WEBHOOK_URL = process.env.WEBHOOK_URL || null;
const SECRET = process.env.STRIPE_WEBHOOK_SECRET || "";
if (WEBHOOK_URL && !SECRET) {
  console.error("fake stripe: WEBHOOK_URL is set but STRIPE_WEBHOOK_SECRET is empty");
  process.exit(2);
}

const sessions = new Map(); // id → session object, as Stripe would return it now
const customers = new Map(); // id → customer
const paymentMethods = new Map(); // id → payment method, attached to its customer
const intents = new Map(); // id → PaymentIntent
const setupCards = new Map(); // setup session id → { number, method }
const keys = new Map(); // Idempotency-Key → { form, answer }
const requests = []; // { method, path, headers, form }
let counter = 0;
let baseUrl = "";

const now = () => Math.floor(Date.now() / 1000);
const pad = (n, width) => String(n).padStart(width, "0");

/** Stripe's `Stripe-Signature`: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">. */
function signatureHeader(body, secret, t) {
  const v1 = createHmac("sha256", secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), body]))
    .digest("hex");
  return `t=${t},v1=${v1}`;
}

function send(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function stripeError(res, status, type, code, message) {
  const error = { type, message };
  if (code) error.code = code;
  send(res, status, { error });
}

function redirect(res, location) {
  res.writeHead(303, { location, "content-length": 0 });
  res.end();
}

function text(res, status, message) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(message);
}

/** Stripe refuses any API call without a secret key. */
function authorised(req, res) {
  const auth = req.headers.authorization ?? "";
  if (auth.startsWith("Bearer sk_")) return true;
  stripeError(res, 401, "invalid_request_error", null,
    "Invalid API Key provided. A secret key (sk_…) is required.");
  return false;
}

/** Moves an open session to complete-and-paid or to expired; the session, or undefined. */
function settle(id, to) {
  const session = sessions.get(id);
  if (!session) return undefined;
  if (session.status === "open") {
    counter += 1;
    session.status = to;
    session.url = null;
    if (to === "complete" && session.mode === "setup") {
      const number = setupCards.get(id)?.number ?? "4242424242424242";
      const method = `pm_test_${pad(counter, 24)}`;
      paymentMethods.set(method, {
        id: method, object: "payment_method", type: "card", customer: session.customer,
        card: { brand: "visa", last4: number.slice(-4), exp_month: 12, exp_year: 2034 },
      });
      setupCards.set(id, { number, method });
      session.setup_intent = `seti_test_${pad(counter, 24)}`;
    } else if (to === "complete") {
      session.payment_status = "paid";
      session.payment_intent = `pi_test_${pad(counter, 24)}`;
    }
  }
  return session;
}

/** POSTs a signed event about the session; the target's status, or null. */
async function sendEvent(type, session) {
  if (!WEBHOOK_URL) return null;
  counter += 1;
  const created = now();
  const event = {
    id: `evt_test_${pad(counter, 24)}`,
    object: "event",
    api_version: "2025-06-30.basil",
    created,
    data: { object: session },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  const body = Buffer.from(JSON.stringify(event));
  try {
    const answer = await fetch(WEBHOOK_URL, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "stripe-signature": signatureHeader(body, SECRET, created),
      },
      body,
    });
    if (!answer.ok) console.error(`fake stripe: ${type} webhook answered ${answer.status}`);
    return answer.status;
  } catch (error) {
    console.error(`fake stripe: ${type} webhook failed: ${error.message}`);
    return null;
  }
}

const REQUIRED = [
  "mode",
  "line_items[0][price_data][currency]",
  "line_items[0][price_data][unit_amount]",
  "line_items[0][price_data][product_data][name]",
  "line_items[0][quantity]",
  "success_url",
];

/** Replays an idempotent request's first answer; true when it did (or refused). */
function replayed(req, res, form) {
  const key = req.headers["idempotency-key"];
  if (!key || !keys.has(key)) return false;
  const first = keys.get(key);
  if (JSON.stringify(first.form) !== JSON.stringify(form)) {
    stripeError(res, 400, "idempotency_error", null,
      "Keys for idempotent requests can only be used with the same parameters they were " +
      `first used with. Try using a key other than '${key}' if you meant to execute a ` +
      "different request.");
    return true;
  }
  send(res, first.status ?? 200, first.answer, { "idempotent-replayed": "true" });
  return true;
}

function metadataOf(form) {
  const metadata = {};
  for (const [k, v] of form) {
    const m = /^metadata\[(.+)\]$/.exec(k);
    if (m) metadata[m[1]] = v;
  }
  return metadata;
}

function createSetupSession(req, res, form) {
  const field = (name) => form.find(([k]) => k === name)?.[1];
  const customer = field("customer");
  if (!customers.has(customer) || !field("success_url")) {
    return stripeError(res, 400, "invalid_request_error", "parameter_missing",
      "Setup mode needs an existing customer and a success_url.");
  }
  counter += 1;
  const id = `cs_test_c1${pad(counter, 58)}`;
  const session = {
    id, object: "checkout.session", cancel_url: field("cancel_url") ?? null, created: now(),
    currency: null, customer, livemode: false, metadata: metadataOf(form), mode: "setup",
    payment_intent: null, payment_status: "no_payment_required", setup_intent: null,
    status: "open", success_url: field("success_url"), url: `${baseUrl}/pay/${id}`,
  };
  sessions.set(id, session);
  send(res, 200, session);
}

function createCustomer(req, res, form) {
  if (!authorised(req, res) || replayed(req, res, form)) return;
  counter += 1;
  const id = `cus_test_${pad(counter, 14)}`;
  const customer = {
    id, object: "customer", name: form.find(([k]) => k === "name")?.[1] ?? null,
    metadata: metadataOf(form),
  };
  customers.set(id, customer);
  const key = req.headers["idempotency-key"];
  if (key) keys.set(key, { form, answer: customer });
  send(res, 200, customer);
}

function createIntent(req, res, form) {
  if (!authorised(req, res) || replayed(req, res, form)) return;
  const field = (name) => form.find(([k]) => k === name)?.[1];
  const amount = Number(field("amount"));
  if (!(Number.isInteger(amount) && amount > 0) || !field("currency") || !field("customer") ||
      !field("payment_method") || field("confirm") !== "true" || field("off_session") !== "true") {
    return stripeError(res, 400, "invalid_request_error", "parameter_missing",
      "amount, currency, customer, payment_method, confirm and off_session are required here.");
  }
  counter += 1;
  const card = paymentMethods.get(field("payment_method"));
  const declines = !card || card.customer !== field("customer") || card.card.last4 === "0341";
  const intent = {
    id: `pi_test_${pad(counter, 24)}`, object: "payment_intent", amount,
    currency: field("currency"), customer: field("customer"),
    payment_method: field("payment_method"), metadata: metadataOf(form),
    status: declines ? "requires_payment_method" : "succeeded",
    last_payment_error: declines ? { code: "card_declined", message: "Your card was declined." } : null,
  };
  intents.set(intent.id, intent);
  const [status, answer] = declines
    ? [402, { error: { type: "card_error", code: "card_declined", decline_code: "generic_decline",
        message: "Your card was declined.", payment_intent: intent } }]
    : [200, intent];
  const key = req.headers["idempotency-key"];
  if (key) keys.set(key, { form, status, answer });
  send(res, status, answer);
}

function createSession(req, res, form) {
  if (!authorised(req, res)) return;
  const field = (name) => form.find(([k]) => k === name)?.[1];
  const key = req.headers["idempotency-key"];
  if (replayed(req, res, form)) return;
  if (field("mode") === "setup") return createSetupSession(req, res, form);
  for (const name of REQUIRED) {
    if (!field(name)) {
      return stripeError(res, 400, "invalid_request_error", "parameter_missing",
        `Missing required param: ${name}.`);
    }
  }
  const amount = Number(field("line_items[0][price_data][unit_amount]"));
  const quantity = Number(field("line_items[0][quantity]"));
  if (field("mode") !== "payment" || !(Number.isInteger(amount) && amount > 0) ||
      !(Number.isInteger(quantity) && quantity > 0)) {
    return stripeError(res, 400, "invalid_request_error", "parameter_invalid_integer",
      "Invalid mode, unit_amount or quantity.");
  }
  const metadata = metadataOf(form);
  counter += 1;
  const id = `cs_test_a1${pad(counter, 58)}`;
  const created = now();
  const session = {
    id,
    object: "checkout.session",
    amount_subtotal: amount * quantity,
    amount_total: amount * quantity,
    cancel_url: field("cancel_url") ?? null,
    client_reference_id: field("client_reference_id") ?? null,
    created,
    currency: field("line_items[0][price_data][currency]"),
    customer: null,
    expires_at: created + 86_400,
    livemode: false,
    metadata,
    mode: "payment",
    payment_intent: null,
    payment_status: "unpaid",
    status: "open",
    success_url: field("success_url"),
    url: `${baseUrl}/pay/${id}`,
  };
  sessions.set(id, session);
  if (key) keys.set(key, { form, answer: structuredClone(session) });
  send(res, 200, session);
}

async function route(req, res, path, form, raw, query) {
  let m;
  if (req.method === "POST" && path === "/v1/checkout/sessions") {
    return createSession(req, res, form);
  }
  if (req.method === "POST" && path === "/v1/customers") return createCustomer(req, res, form);
  if (req.method === "POST" && path === "/v1/payment_intents") return createIntent(req, res, form);
  if (req.method === "GET" && (m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
    if (!authorised(req, res)) return;
    const intent = intents.get(m[1]);
    if (!intent) {
      return stripeError(res, 404, "invalid_request_error", "resource_missing",
        `No such payment_intent: '${m[1]}'`);
    }
    return send(res, 200, intent);
  }
  if (req.method === "GET" && (m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path))) {
    if (!authorised(req, res)) return;
    const session = sessions.get(m[1]);
    if (!session) {
      return stripeError(res, 404, "invalid_request_error", "resource_missing",
        `No such checkout.session: '${m[1]}'`);
    }
    const expand = query.getAll("expand[]").includes("setup_intent.payment_method");
    if (expand && typeof session.setup_intent === "string") {
      const method = paymentMethods.get(setupCards.get(session.id)?.method) ?? null;
      return send(res, 200, {
        ...session,
        setup_intent: { id: session.setup_intent, object: "setup_intent", status: "succeeded", payment_method: method },
      });
    }
    return send(res, 200, session);
  }
  if (req.method === "GET" && (m = /^\/pay\/([^/]+)$/.exec(path))) {
    // The webhook is delivered before the redirect so a test never races it; real Stripe
    // makes no such promise.
    const session = sessions.get(m[1]);
    if (!session) return text(res, 404, "No such Checkout Session");
    if (query.get("card") && session.status === "open") setupCards.set(session.id, { number: query.get("card") });
    if (session.status === "open") {
      settle(session.id, "complete");
      await sendEvent("checkout.session.completed", session);
    } else if (session.status !== "complete") {
      return text(res, 410, "This Checkout Session has expired");
    }
    return redirect(res, session.success_url.replaceAll("{CHECKOUT_SESSION_ID}", session.id));
  }
  if (req.method === "GET" && (m = /^\/pay\/([^/]+)\/cancel$/.exec(path))) {
    const session = sessions.get(m[1]);
    if (!session) return text(res, 404, "No such Checkout Session");
    return redirect(res, session.cancel_url ?? "/");
  }
  if (req.method === "PUT" && path === "/__fake/webhook-url") {
    if (!SECRET) return text(res, 400, "STRIPE_WEBHOOK_SECRET is empty");
    WEBHOOK_URL = raw.toString("utf8").trim() || null;
    return text(res, 200, WEBHOOK_URL ?? "");
  }
  if (req.method === "GET" && path === "/__fake/requests") {
    return send(res, 200, requests);
  }
  if (req.method === "POST" && (m = /^\/__fake\/sessions\/([^/]+)\/(pay|expire)$/.exec(path))) {
    const to = m[2] === "pay" ? "complete" : "expired";
    const session = settle(m[1], to);
    if (!session) return text(res, 404, "No such Checkout Session");
    const type = to === "complete" ? "checkout.session.completed" : "checkout.session.expired";
    const webhook = await sendEvent(type, session);
    return send(res, 200, { session, webhook_status: webhook });
  }
  return stripeError(res, 404, "invalid_request_error", null,
    `Unrecognized request URL (${req.method}: ${path}).`);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url, "http://fake");
    const form = req.method === "POST" ? [...new URLSearchParams(raw.toString("utf8"))] : [];
    if (!url.pathname.startsWith("/__fake/")) {
      requests.push({ method: req.method, path: req.url, headers: req.headers, form });
    }
    route(req, res, url.pathname, form, raw, url.searchParams).catch((error) => {
      console.error(`fake stripe: ${error.stack}`);
      if (!res.headersSent) stripeError(res, 500, "api_error", null, "fake stripe failed");
    });
  });
});

server.listen(PORT, "127.0.0.1", () => {
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  console.log(`fake stripe listening on ${baseUrl}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
