import type { ReceivedRequest } from '../../support/receiver';
import { WebhookReceiver } from '../../support/receiver';
import type { ChaosDatabase } from './chaos-database';

/** One webhook as the receiver took it (answered 2xx), read off its verified body. */
export interface Receipt {
  at: number;
  subscriptionId: string;
  sequence: number;
  type: string;
  webhookId: string;
  data: Record<string, unknown>;
}

/** What was owed against what arrived: the scenarios' "nothing lost, nothing repeated" figures. */
export interface Ledger {
  /** (subscription, sequence) pairs the relay owed: every event of every subscribed task */
  owed: number;
  delivered: number;
  /** progress overtaken by a newer event before it was sent (allowed) */
  superseded: number;
  /** owed, neither received nor superseded; a few examples */
  lost: number;
  lostExamples: string[];
  /** receipts beyond the first of a pair */
  repeats: number;
  /** repeats whose webhook-id differs from the first receipt's */
  repeatsWithNewId: number;
  /** requests whose signature the standardwebhooks package refused */
  unverified: number;
  /** state events that arrived after a higher sequence of the same subscription */
  outOfOrder: number;
  /** 2xx receipts, in arrival order */
  receipts: Receipt[];
}

interface OwedRow {
  subscription_id: string;
  sequence: number;
  type: string;
  delivery_id: string | null;
  state: string | null;
}

/** Waits until no task is tracked and no delivery is pending; false on timeout. */
export async function drained(database: ChaosDatabase, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await database
      .query<{ active: string; pending: string }>(
        `SELECT (SELECT count(*) FROM tasks WHERE tracking = 'active') AS active,
                (SELECT count(*) FROM deliveries WHERE state = 'pending') AS pending`,
      )
      .catch(() => [{ active: '1', pending: '1' }]);
    if (Number(row.active) === 0 && Number(row.pending) === 0) return true;
    await new Promise((done) => setTimeout(done, 500));
  }
  return false;
}

/**
 * Each request's signature is checked once per secret: a scenario that waits
 * on receiptsOf re-reads every request on each arrival, and checking them all
 * again each time (a JS HMAC, ~0.1 ms each) made the receiver, which shares
 * the scenario's event loop, answer in seconds at a few thousand requests.
 */
const verified = new WeakMap<ReceivedRequest, Map<string, boolean>>();

function verifiedOnce(request: ReceivedRequest, secret: string): boolean {
  let bySecret = verified.get(request);
  if (bySecret === undefined) {
    bySecret = new Map();
    verified.set(request, bySecret);
  }
  let ok = bySecret.get(secret);
  if (ok === undefined) {
    ok = WebhookReceiver.verifies(request, secret);
    bySecret.set(secret, ok);
  }
  return ok;
}

export function receiptsOf(
  requests: ReceivedRequest[],
  secret: string,
): {
  receipts: Receipt[];
  unverified: number;
} {
  const receipts: Receipt[] = [];
  let unverified = 0;
  for (const request of requests) {
    if (!verifiedOnce(request, secret)) {
      unverified++;
      continue;
    }
    if (request.status < 200 || request.status >= 300) continue;
    const body = request.json as { type: string; data: Record<string, unknown> };
    receipts.push({
      at: request.at,
      subscriptionId: String(body.data.subscriptionId),
      sequence: Number(body.data.sequence),
      type: body.type,
      webhookId: request.webhookId,
      data: body.data,
    });
  }
  return { receipts, unverified };
}

/** Compares every event the database says was owed with what the receiver took. */
export async function reckon(
  database: ChaosDatabase,
  requests: ReceivedRequest[],
  secret: string,
): Promise<Ledger> {
  const owed = await database.query<OwedRow>(
    `SELECT s.id AS subscription_id, e.sequence, e.type, d.id AS delivery_id, d.state
       FROM subscriptions s
       JOIN task_events e ON e.task_id = s.task_id
       LEFT JOIN deliveries d ON d.subscription_id = s.id AND d.event_id = e.id
      WHERE e.type <> 'uxc.error' AND (cardinality(s.events) = 0 OR e.type = ANY (s.events))`,
  );
  const { receipts, unverified } = receiptsOf(requests, secret);
  const byPair = new Map<string, Receipt[]>();
  for (const receipt of receipts) {
    const key = `${receipt.subscriptionId}#${receipt.sequence}`;
    byPair.set(key, [...(byPair.get(key) ?? []), receipt]);
  }
  let delivered = 0;
  let superseded = 0;
  const lost: string[] = [];
  for (const row of owed) {
    const key = `${row.subscription_id}#${row.sequence}`;
    if (byPair.has(key)) delivered++;
    else if (row.state === 'superseded' && row.type === 'task.progress') superseded++;
    else
      lost.push(
        `${key} ${row.type} (delivery ${row.delivery_id ?? 'never created'}, ${row.state ?? '-'})`,
      );
  }
  let repeats = 0;
  let repeatsWithNewId = 0;
  for (const list of byPair.values()) {
    repeats += list.length - 1;
    repeatsWithNewId += list.filter((receipt) => receipt.webhookId !== list[0].webhookId).length;
  }
  let outOfOrder = 0;
  const highest = new Map<string, number>();
  const seen = new Set<string>();
  for (const receipt of receipts) {
    const key = `${receipt.subscriptionId}#${receipt.sequence}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const top = highest.get(receipt.subscriptionId) ?? 0;
    if (receipt.type !== 'task.progress' && receipt.sequence < top) outOfOrder++;
    highest.set(receipt.subscriptionId, Math.max(top, receipt.sequence));
  }
  return {
    owed: owed.length,
    delivered,
    superseded,
    lost: lost.length,
    lostExamples: lost.slice(0, 5),
    repeats,
    repeatsWithNewId,
    unverified,
    outOfOrder,
    receipts,
  };
}

/** The ledger's figures for a report (the receipts left out). */
export function ledgerFigures(ledger: Ledger): Record<string, unknown> {
  const { receipts, ...figures } = ledger;
  return { ...figures, received: receipts.length };
}
