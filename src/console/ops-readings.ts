import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { MetricsService } from '../metrics/metrics.service';

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One tenant's delivery queue, counted in the database. */
export interface QueueRow {
  tenantId: string;
  pending: number;
  held: number;
  failed: number;
  /** when the oldest pending delivery was created */
  oldestPendingAt: Date | null;
}

export interface CallCounts {
  requests: number;
  errors: number;
}

/** This process's counters, as `/metrics` exports them, at one moment. */
export interface MetricReading {
  at: Date;
  /** sum and count of `uxc_relay_poller_poll_lag_seconds` */
  lagSum: number;
  lagCount: number;
  /** `uxc_relay_poller_polls_total`, every outcome */
  polls: number;
  /** `uxc_relay_uxc_requests_total` by credential label, then outcome */
  uxcOutcomes: Map<string, Map<string, number>>;
  /** `uxc_relay_uxc_requests_total` by its credential label; an error is any outcome but ok */
  uxcByCredential: Map<string, CallCounts>;
}

/**
 * The numbers behind the console's health page, read once for the summary
 * and the sampler alike: the delivery queue in the database (so a tenant sees
 * only its own, and every replica answers the same), the poll lag and UXC
 * outcomes from this process's Prometheus registry.
 */
@Injectable()
export class OpsReadings {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  /** The queue per tenant (a tenant with nothing pending, held or failed has no row). */
  async queues(tenantId?: string): Promise<QueueRow[]> {
    const tenantFilter = tenantId ? Prisma.sql`AND s.tenant_id = ${tenantId}` : Prisma.empty;
    const rows = await this.prisma.$queryRaw<
      { tenant_id: string; pending: bigint; held: bigint; failed: bigint; oldest: Date | null }[]
    >`
      SELECT s.tenant_id,
             count(*) FILTER (WHERE d.state = 'pending') AS pending,
             count(*) FILTER (WHERE d.state = 'held') AS held,
             count(*) FILTER (WHERE d.state = 'failed') AS failed,
             min(d.created_at) FILTER (WHERE d.state = 'pending') AS oldest
        FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
       WHERE d.state IN ('pending', 'held', 'failed') ${tenantFilter}
       GROUP BY s.tenant_id`;
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      pending: Number(r.pending),
      held: Number(r.held),
      failed: Number(r.failed),
      oldestPendingAt: r.oldest,
    }));
  }

  /** The UXC access key a tenant calls with: a tenant sees its own credential's calls only. */
  async credentialOf(tenantId: string): Promise<string | null> {
    const tenant = await this.prisma.tenant.findUnique({
      where: { id: tenantId },
      select: { uxcAk: true },
    });
    return tenant?.uxcAk ?? null;
  }

  async metricReading(): Promise<MetricReading> {
    const at = new Date();
    const lag = await this.values('uxc_relay_poller_poll_lag_seconds');
    const polls = await this.values('uxc_relay_poller_polls_total');
    const uxcOutcomes = new Map<string, Map<string, number>>();
    const uxcByCredential = new Map<string, CallCounts>();
    for (const v of await this.values('uxc_relay_uxc_requests_total')) {
      const ak = String(v.labels.credential ?? '');
      const outcome = String(v.labels.outcome);
      const outcomes = uxcOutcomes.get(ak) ?? new Map<string, number>();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + v.value);
      uxcOutcomes.set(ak, outcomes);
      const counts = uxcByCredential.get(ak) ?? { requests: 0, errors: 0 };
      counts.requests += v.value;
      if (outcome !== 'ok') counts.errors += v.value;
      uxcByCredential.set(ak, counts);
    }
    return {
      at,
      lagSum: lag.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
      lagCount: lag.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
      polls: polls.reduce((total, v) => total + v.value, 0),
      uxcOutcomes,
      uxcByCredential,
    };
  }

  private async values(name: string): Promise<MetricValue[]> {
    const metric = this.metrics.registry.getSingleMetric(name);
    if (!metric) return [];
    return (await metric.get()).values as MetricValue[];
  }
}

/** Mean poll lag of the polls between two readings; null when there were none. */
export function pollLagBetween(from: MetricReading | undefined, to: MetricReading): number | null {
  const count = to.lagCount - (from?.lagCount ?? 0);
  return count > 0 ? Math.max(0, to.lagSum - (from?.lagSum ?? 0)) / count : null;
}

/** UXC calls per credential between two readings (a counter never goes down within a process). */
export function callsBetween(
  from: MetricReading | undefined,
  to: MetricReading,
): Map<string, CallCounts> {
  const out = new Map<string, CallCounts>();
  for (const [ak, now] of to.uxcByCredential) {
    const before = from?.uxcByCredential.get(ak) ?? { requests: 0, errors: 0 };
    const requests = Math.max(0, now.requests - before.requests);
    if (requests > 0) {
      out.set(ak, {
        requests,
        errors: Math.min(requests, Math.max(0, now.errors - before.errors)),
      });
    }
  }
  return out;
}

/**
 * The per-credential rows of the summary and the history, sorted by access
 * key: every credential's (`undefined`, the admin), or one tenant's (`null`
 * when it has none).
 */
export function credentialRates(
  calls: Map<string, CallCounts>,
  credential: string | null | undefined,
): { credential: string; requests: number; errors: number; errorRate: number }[] {
  return [...calls]
    .filter(([ak, c]) => c.requests > 0 && (credential === undefined || ak === credential))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ak, c]) => ({
      credential: ak,
      requests: c.requests,
      errors: c.errors,
      errorRate: c.errors / c.requests,
    }));
}

/** UXC calls by outcome, of every credential (`undefined`) or of one. */
export function outcomeCounts(
  reading: MetricReading,
  credential: string | null | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [ak, outcomes] of reading.uxcOutcomes) {
    if (credential !== undefined && ak !== credential) continue;
    for (const [outcome, count] of outcomes) out.set(outcome, (out.get(outcome) ?? 0) + count);
  }
  return out;
}
