import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { BENCH_API_KEY } from '../../bench/support/relay';
import { Known, OpenApiDocument, requestsFor, routesOf } from './support/openapi-requests';
import { send } from './support/raw-http';
import { onStage } from './support/stage';
import { changedTables, tableDigests } from './support/table-digest';

export const name = '6-hostile-input';
export const summary =
  'requests generated from /docs-json (wrong types, huge values, odd Unicode, injection, bad auth) on every route: no 5xx, no stored change unless accepted';
export const short = true;

const ADMIN_TOKEN = `admin_${randomBytes(12).toString('hex')}`;
const METRICS_TOKEN = `metrics_${randomBytes(12).toString('hex')}`;

interface Finding {
  route: string;
  method: string;
  path: string;
  status: number;
  detail: string;
}

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const total = context.size(2000, 600);
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
  return onStage(
    context,
    {
      database: 'embedded',
      // nothing changes rows behind the requests' backs, so a change is the request's doing
      env: {
        POLLER_ENABLED: 'false',
        DISPATCHER_ENABLED: 'false',
        ADMIN_TOKEN,
        METRICS_TOKEN,
        WEBHOOK_TIMEOUT_MS: '1000',
      },
    },
    async (stage) => {
      const relay = await stage.startRelay();
      const tasks = await stage.scriptTasks('fuzz', 2);
      await stage.subscribe(tasks, ['/fuzz']);
      const ids = [
        ...tasks.map((task) => task.sid),
        ...(
          await stage.database.query<{ id: string }>(
            `SELECT id FROM subscriptions UNION ALL SELECT id FROM tenants`,
          )
        ).map((row) => row.id),
      ];
      const known: Known = {
        tokens: { tenant: BENCH_API_KEY, admin: ADMIN_TOKEN, metrics: METRICS_TOKEN },
        ids,
        callbackUrl: stage.receiver.url('/fuzz'),
      };
      const document = (await (await fetch(`${relay.url}/docs-json`)).json()) as OpenApiDocument;
      const routes = routesOf(document);
      const perRoute = Math.ceil(total / routes.length);
      context.log(
        `${routes.length} operations in /docs-json, ${perRoute} requests each, fast-check seed ${seed}`,
      );

      const serverErrors: Finding[] = [];
      const changedOnRefusal: Finding[] = [];
      const unanswered: Finding[] = [];
      const statuses: Record<string, number> = {};
      let sent = 0;
      let requestMs = 0;
      let digestMs = 0;
      let digest = await tableDigests(stage.database);
      for (const [r, route] of routes.entries()) {
        const label = `${route.method} ${route.path}`;
        const requests = fc.sample(requestsFor(route, document, known), {
          numRuns: perRoute,
          seed: seed + r,
        });
        for (const request of requests) {
          if (++sent % 250 === 0)
            context.log(
              `${sent} requests sent, ${serverErrors.length} answered 5xx (${Math.round(requestMs / sent)} ms a request, ${Math.round(digestMs / sent)} ms a digest)`,
            );
          const where = { route: label, method: request.method, path: request.path.slice(0, 200) };
          let status: number;
          try {
            const t = performance.now();
            // a long poll (?wait=) holds its answer back on purpose: 2 s tells enough
            const answer = await send(relay.url, request, 2000);
            requestMs += performance.now() - t;
            status = answer.status;
            if (status >= 500)
              serverErrors.push({ ...where, status, detail: answer.body.slice(0, 200) });
          } catch (error) {
            // a long poll (?wait=) holds the answer back on purpose
            unanswered.push({ ...where, status: 0, detail: (error as Error).message });
            status = 0;
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
          const t = performance.now();
          const after = await tableDigests(stage.database);
          digestMs += performance.now() - t;
          const changed = changedTables(digest, after);
          if (changed.length > 0 && !(status >= 200 && status < 300))
            changedOnRefusal.push({ ...where, status, detail: `changed ${changed.join(', ')}` });
          digest = after;
        }
      }
      const alive = relay.child.exitCode === null && (await stage.ready(relay)) === 200;
      const show = (findings: Finding[]): string =>
        findings
          .slice(0, 5)
          .map((f) => `${f.method} ${f.path} -> ${f.status} ${f.detail}`)
          .join(' | ');
      context.log(`answers by status: ${JSON.stringify(statuses)}`);
      verdict.check(
        `at least ${total} requests across every route`,
        sent >= total && routes.length > 0,
        `${sent} requests over ${routes.length} operations`,
      );
      verdict.check(
        'no 5xx',
        serverErrors.length === 0,
        `${serverErrors.length} answered 5xx ${show(serverErrors)}`,
      );
      verdict.check(
        'no stored row changes unless the request was accepted',
        changedOnRefusal.length === 0,
        `${changedOnRefusal.length} refused requests changed rows ${show(changedOnRefusal)}`,
      );
      verdict.check('the relay is still up and ready', alive, `process ${relay.pid}`);
      return {
        figures: {
          requests: sent,
          operations: routes.length,
          seed,
          statuses,
          unanswered: unanswered.length,
          serverErrors: serverErrors.slice(0, 20),
          changedOnRefusal: changedOnRefusal.slice(0, 20),
        },
        checks: verdict.checks,
      };
    },
  );
}
