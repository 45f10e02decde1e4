import { Injectable } from '@nestjs/common';
import { credentialRates, OpsReadings, outcomeCounts } from './ops-readings';
import { OpsSamplerService } from './ops-sampler.service';
import { OpsSummaryDto } from './ops-summary.dto';

/**
 * The numbers of the console's health page: the delivery queue counted in
 * the database, the poll lag and UXC outcomes from this process's Prometheus
 * registry (see OpsReadings).
 */
@Injectable()
export class OpsSummaryService {
  constructor(
    private readonly readings: OpsReadings,
    private readonly sampler: OpsSamplerService,
  ) {}

  async summary(tenantId: string | undefined): Promise<OpsSummaryDto> {
    const queues = await this.readings.queues(tenantId);
    const reading = await this.readings.metricReading();
    const at = reading.at;
    const oldest = queues
      .map((q) => q.oldestPendingAt)
      .filter((d): d is Date => d !== null)
      .reduce<Date | null>((a, b) => (a === null || b < a ? b : a), null);
    // a tenant sees the UXC calls of its own credential only: another tenant's ak and error rate are not its business
    const credential = tenantId ? await this.readings.credentialOf(tenantId) : undefined;
    const rates = credentialRates(reading.uxcByCredential, credential);
    const byOutcome = outcomeCounts(reading, credential);
    const calls = rates.reduce((total, c) => total + c.requests, 0);
    const errors = rates.reduce((total, c) => total + c.errors, 0);
    return {
      at,
      scope: tenantId ? 'tenant' : 'relay',
      pendingDeliveries: queues.reduce((total, q) => total + q.pending, 0),
      oldestPendingAgeSeconds: oldest
        ? Math.max(0, (at.getTime() - oldest.getTime()) / 1000)
        : null,
      heldDeliveries: queues.reduce((total, q) => total + q.held, 0),
      failedDeliveries: queues.reduce((total, q) => total + q.failed, 0),
      pollLagSeconds: this.sampler.recentPollLag(reading),
      uxcRequests: [...byOutcome].map(([outcome, count]) => ({ outcome, count })),
      uxcErrorRate: calls > 0 ? errors / calls : null,
      uxcCredentials: rates,
    };
  }
}
