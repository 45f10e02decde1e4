import { ApiClient, load } from './http';

export interface SubscriptionItem {
  sid: string;
  callbackUrl: string;
  events?: string[];
}

export interface Registered {
  count: number;
  seconds: number;
  via: 'batch' | 'single';
}

/** Whether the relay has POST /v1/subscriptions/batch (404 on a relay without it). */
export async function hasBatchRoute(api: ApiClient): Promise<boolean> {
  const answer = await api.call('POST', '/v1/subscriptions/batch', { items: [] });
  return answer.status !== 404;
}

/**
 * Registers subscriptions as a client would: in batches of 500 when the relay
 * has the batch route, else with 32 parallel single POSTs.
 */
export async function subscribeAll(api: ApiClient, items: SubscriptionItem[]): Promise<Registered> {
  const started = performance.now();
  const failures: string[] = [];
  let via: Registered['via'];
  if (await hasBatchRoute(api)) {
    via = 'batch';
    const chunks: SubscriptionItem[][] = [];
    for (let i = 0; i < items.length; i += 500) chunks.push(items.slice(i, i + 500));
    await load(4, chunks.length, Infinity, async (i) => {
      const answer = await api.call<{ items: { status: number; body: unknown }[] }>(
        'POST',
        '/v1/subscriptions/batch',
        { items: chunks[i] },
      );
      if (answer.status >= 300) failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      else
        for (const item of answer.body.items)
          if (item.status >= 300) failures.push(`${item.status} ${JSON.stringify(item.body)}`);
      return answer.status;
    });
  } else {
    via = 'single';
    await load(32, items.length, Infinity, async (i) => {
      const answer = await api.call('POST', '/v1/subscriptions', items[i]);
      if (answer.status >= 300) failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.status;
    });
  }
  if (failures.length > 0)
    throw new Error(`${failures.length} subscriptions refused, e.g. ${failures[0]}`);
  return { count: items.length, seconds: (performance.now() - started) / 1000, via };
}
