#!/usr/bin/env node
/*
 * uxc-relay example receiver: the smallest correct client of the relay's webhooks.
 *
 *   npm run example:receiver -- --port 4200 --secret whsec_...
 *   WEBHOOK_SECRET=whsec_... npm run example:receiver -- --port 4200
 *
 * Options:
 *   --port <n>       port to listen on (default 4200; 0 picks a free one)
 *   --host <addr>    address to listen on (default 127.0.0.1; 0.0.0.0 for all)
 *   --secret <s>     the tenant's signing secret from GET /v1/webhook-secret
 *                    (or WEBHOOK_SECRET); during a rotation either one works
 *
 * Then subscribe it to a task (any path is accepted):
 *
 *   curl -X POST localhost:3000/v1/subscriptions \
 *     -H "authorization: Bearer $RELAY_API_KEY" -H 'content-type: application/json' \
 *     -d '{"sid":"BT|demo-1","callbackUrl":"http://127.0.0.1:4200/uxc"}'
 *
 * A relay delivers to loopback addresses only with CALLBACK_ALLOW_PRIVATE_NETWORKS=true.
 *
 * What a receiver must do, and this one does:
 *   1. Verify the signature over the raw body before trusting anything (401 if
 *      it fails): the standardwebhooks package checks the id, the timestamp
 *      (refusing replays older than 5 minutes) and every `v1,` signature.
 *   2. Deduplicate on `webhook-id`: delivery is at least once, so a repeat of
 *      an id already handled is answered 200 and not processed again.
 *   3. Drop stale events: per subscription, events carry an increasing
 *      `sequence`; one at or below the highest already seen is acknowledged
 *      (200, so the relay stops retrying) and ignored.
 *   4. Answer 2xx quickly; do slow work after answering.
 *
 * Each event is printed as one line on stdout; notes (rejected, duplicate,
 * stale) go to stderr.
 */
'use strict';

const http = require('node:http');
const { parseArgs } = require('node:util');
const { Webhook } = require('standardwebhooks');

const MAX_BODY_BYTES = 1024 * 1024;
/** Enough to catch the relay's retries; old ids are forgotten first. */
const MAX_REMEMBERED_IDS = 10000;

function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4200' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string' },
    },
  });
  const secret = values.secret || process.env.WEBHOOK_SECRET;
  if (!secret) {
    fail('a signing secret is needed: --secret whsec_... or WEBHOOK_SECRET');
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`--port must be a port number, not ${values.port}`);
  }
  // Never echo the secret itself: terminals and logs are not for secrets.
  if (!/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(secret)) {
    fail(
      'the signing secret must be whsec_ followed by base64, as GET /v1/webhook-secret shows it',
    );
  }
  const webhook = new Webhook(secret);

  const receiver = createReceiver(webhook);
  const server = http.createServer(receiver);
  server.listen(port, values.host, () => {
    const { address, port: actual } = server.address();
    const host = address.includes(':') ? `[${address}]` : address;
    console.log(`listening on http://${host}:${actual}/ (any path)`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The request handler: verify, deduplicate, drop stale, print. */
function createReceiver(webhook) {
  const seenIds = new Set();
  const highestSequence = new Map();

  function remember(id) {
    seenIds.add(id);
    if (seenIds.size > MAX_REMEMBERED_IDS) seenIds.delete(seenIds.values().next().value);
  }

  function handle(req, res, rawBody) {
    let event;
    try {
      // Verify the exact bytes received: re-serialised JSON would not match.
      event = webhook.verify(rawBody, req.headers);
    } catch {
      note(`rejected ${req.headers['webhook-id'] || 'a request'}: bad or missing signature`);
      return answer(res, 401, { error: 'invalid signature' });
    }
    const id = req.headers['webhook-id'];
    if (seenIds.has(id)) {
      note(`duplicate ${id}: already handled`);
      return answer(res, 200, { ok: true, duplicate: true });
    }
    remember(id);

    const data = (event && event.data) || {};
    if (typeof data.subscriptionId === 'string' && Number.isInteger(data.sequence)) {
      const highest = highestSequence.get(data.subscriptionId);
      if (highest !== undefined && data.sequence <= highest) {
        note(`stale ${id}: sequence ${data.sequence} <= ${highest} of ${data.subscriptionId}`);
        return answer(res, 200, { ok: true, stale: true });
      }
      highestSequence.set(data.subscriptionId, data.sequence);
    }
    console.log(describe(event));
    return answer(res, 200, { ok: true });
  }

  return (req, res) => {
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' });
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        answer(res, 413, { error: 'body too large' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!res.headersSent) handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  };
}

/** One readable line, e.g. `2026-11-27T05:00:01Z task.running   BT|7aa9…  seq=2 running progress=0.40 queue=0/0`. */
function describe(event) {
  const time = String(event.timestamp || new Date().toISOString()).replace(/\.\d+Z$/, 'Z');
  const type = String(event.type).padEnd(14);
  const data = event.data || {};
  if (event.type === 'webhook.test') return `${time} ${type} ${data.message || ''}`.trimEnd();

  const parts = [`seq=${data.sequence}`, data.state];
  if (typeof data.progress === 'number') parts.push(`progress=${data.progress.toFixed(2)}`);
  if (data.queueNum != null || data.queueTotal != null) {
    parts.push(`queue=${data.queueNum ?? '?'}/${data.queueTotal ?? '?'}`);
  }
  if (typeof data.costTime === 'number') parts.push(`cost=${data.costTime}s`);
  if (Array.isArray(data.outputResult) && data.outputResult.length > 0) {
    const more = data.outputResult.length > 1 ? ` (+${data.outputResult.length - 1})` : '';
    parts.push(`output=${data.outputResult[0]}${more}`);
  }
  if (data.message) parts.push(`message=${JSON.stringify(data.message)}`);
  return `${time} ${type} ${shorten(String(data.sid), 8)}  ${parts.join(' ')}`;
}

function shorten(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function answer(res, status, body) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function note(text) {
  console.error(text);
}

function fail(message) {
  console.error(`example receiver: ${message}`);
  process.exit(1);
}

if (require.main === module) main();

module.exports = { createReceiver, describe };
