import type { TestApp } from './app';
import { bearer, TenantFixture } from './factories';

// an API answer walked by field: any is what it is
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** One call of the relay's API as the tenant, over real HTTP: its status and parsed body. */
export async function api(
  relay: TestApp,
  fixture: TenantFixture,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const answer = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      ...bearer(fixture),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  return { status: answer.status, json: text ? JSON.parse(text) : null };
}

/** `POST /v1/endpoints` (201) and the new endpoint's signing secret. */
export async function createEndpoint(
  relay: TestApp,
  fixture: TenantFixture,
  input: { url: string; events?: string[]; description?: string },
): Promise<{ id: string; secret: string }> {
  const created = await api(relay, fixture, 'POST', '/v1/endpoints', input);
  expect(created.status).toBe(201);
  const secret = await api(relay, fixture, 'GET', `/v1/endpoints/${created.json.id}/secret`);
  expect(secret.json.secret).toMatch(/^whsec_/);
  return { id: created.json.id, secret: secret.json.secret };
}
