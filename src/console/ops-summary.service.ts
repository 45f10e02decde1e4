import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { MetricsService } from '../metrics/metrics.service';
import { OpsSummaryDto } from './ops-summary.dto';

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * The numbers of the console's health page: the delivery queue counted in
 * the database (so a tenant sees only its own, and every replica answers the
 * same), the poll lag and UXC outcomes from this process's Prometheus registry.
 */
@Injectable()
export class OpsSummaryService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  async summary(tenantId: string | undefined): Promise<OpsSummaryDto> {
    const tenantFilter = tenantId ? Prisma.sql`AND s.tenant_id = ${tenantId}` : Prisma.empty;
    const [row] = await this.prisma.$queryRaw<
      { pending: bigint; held: bigint; failed: bigint; oldest: Date | null }[]
    >`
      SELECT count(*) FILTER (WHERE d.state = 'pending') AS pending,
             count(*) FILTER (WHERE d.state = 'held') AS held,
             count(*) FILTER (WHERE d.state = 'failed') AS failed,
             min(d.created_at) FILTER (WHERE d.state = 'pending') AS oldest
        FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
       WHERE d.state IN ('pending', 'held', 'failed') ${tenantFilter}`;
    const at = new Date();
    const lag = await this.values('uxc_relay_poller_poll_lag_seconds');
    const lagSum = lag.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const lagCount = lag.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    // a tenant sees the UXC calls of its own credential only: another tenant's ak and error rate are not its business
    const credential = tenantId
      ? (await this.prisma.tenant.findUnique({ where: { id: tenantId }, select: { uxcAk: true } }))
          ?.uxcAk
      : undefined;
    const byOutcome = new Map<string, number>();
    const byCredential = new Map<string, { requests: number; errors: number }>();
    for (const v of await this.values('uxc_relay_uxc_requests_total')) {
      const ak = String(v.labels.credential ?? '');
      if (tenantId && ak !== credential) continue;
      const outcome = String(v.labels.outcome);
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + v.value);
      const counts = byCredential.get(ak) ?? { requests: 0, errors: 0 };
      counts.requests += v.value;
      if (outcome !== 'ok') counts.errors += v.value;
      byCredential.set(ak, counts);
    }
    const calls = [...byOutcome.values()].reduce((a, b) => a + b, 0);
    const errors = calls - (byOutcome.get('ok') ?? 0);
    return {
      at,
      scope: tenantId ? 'tenant' : 'relay',
      pendingDeliveries: Number(row.pending),
      oldestPendingAgeSeconds: row.oldest
        ? Math.max(0, (at.getTime() - row.oldest.getTime()) / 1000)
        : null,
      heldDeliveries: Number(row.held),
      failedDeliveries: Number(row.failed),
      pollLagSeconds: lagCount > 0 ? lagSum / lagCount : null,
      uxcRequests: [...byOutcome].map(([outcome, count]) => ({ outcome, count })),
      uxcErrorRate: calls > 0 ? errors / calls : null,
      uxcCredentials: [...byCredential]
        .filter(([, c]) => c.requests > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ak, c]) => ({
          credential: ak,
          requests: c.requests,
          errors: c.errors,
          errorRate: c.errors / c.requests,
        })),
    };
  }

  private async values(name: string): Promise<MetricValue[]> {
    const metric = this.metrics.registry.getSingleMetric(name);
    if (!metric) return [];
    return (await metric.get()).values as MetricValue[];
  }
}
