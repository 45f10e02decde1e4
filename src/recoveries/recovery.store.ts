import { Injectable } from '@nestjs/common';
import type { Recovery } from '../generated/prisma/client';
import type { SqlRunner } from '../outbox/sql';

const COLUMNS = (t: string): string => `
  ${t}.id, ${t}.tenant_id AS "tenantId", ${t}.subscription_id AS "subscriptionId",
  ${t}.endpoint_id AS "endpointId", ${t}.since, ${t}.until, ${t}.state, ${t}.total,
  ${t}.locked_by AS "lockedBy", ${t}.locked_until AS "lockedUntil",
  ${t}.created_at AS "createdAt", ${t}.started_at AS "startedAt"`;

const INSERT = `
  INSERT INTO recoveries (id, tenant_id, subscription_id, endpoint_id, since, until)
  VALUES ($1, $2, $3, $4, $5, $6)
  RETURNING ${COLUMNS('recoveries')}`;

// One job at a time: a queued one, or one whose process died holding it
const CLAIM = `
  WITH next AS (
    SELECT id FROM recoveries
    WHERE (state = 'queued' AND (locked_until IS NULL OR locked_until < now()))
    ORDER BY created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE recoveries r SET locked_by = $1, locked_until = now() + $2 * interval '1 millisecond',
    started_at = coalesce(r.started_at, now())
  FROM next WHERE r.id = next.id
  RETURNING ${COLUMNS('r')}`;

// A batch sent again: counted, and the lease extended, only while it is ours
const PROGRESS = `
  UPDATE recoveries SET total = total + $3, locked_until = now() + $4 * interval '1 millisecond'
  WHERE id = $1 AND locked_by = $2
  RETURNING id`;

const FINISH = `
  UPDATE recoveries SET state = 'sent', locked_by = NULL, locked_until = NULL
  WHERE id = $1 AND locked_by = $2
  RETURNING id`;

const RELEASE = `
  UPDATE recoveries SET locked_by = NULL, locked_until = NULL
  WHERE id = $1 AND locked_by = $2`;

/**
 * The recoveries table: a job per `POST …/recover`, `queued` until a process
 * has put every delivery of its window back in the outbox (`sent`). A
 * process that dies holding one leaves a lease that runs out; the next claim
 * takes the job up again, and the deliveries it already sent are not sent twice.
 */
@Injectable()
export class RecoveryStore {
  async insert(
    sql: SqlRunner,
    job: {
      id: string;
      tenantId: string;
      subscriptionId: string | null;
      endpointId: string | null;
      since: Date;
      until: Date;
    },
  ): Promise<Recovery> {
    const [row] = await sql.rows<Recovery>({
      name: 'recoveries.insert',
      text: INSERT,
      values: [job.id, job.tenantId, job.subscriptionId, job.endpointId, job.since, job.until],
    });
    return row;
  }

  async claim(sql: SqlRunner, owner: string, leaseMs: number): Promise<Recovery | null> {
    const [row] = await sql.rows<Recovery>({
      name: 'recoveries.claim',
      text: CLAIM,
      values: [owner, leaseMs],
    });
    return row ?? null;
  }

  /** Counts a batch; false when the job is no longer ours. */
  async progress(
    sql: SqlRunner,
    id: string,
    owner: string,
    sent: number,
    leaseMs: number,
  ): Promise<boolean> {
    const rows = await sql.rows({
      name: 'recoveries.progress',
      text: PROGRESS,
      values: [id, owner, sent, leaseMs],
    });
    return rows.length === 1;
  }

  async finish(sql: SqlRunner, id: string, owner: string): Promise<void> {
    await sql.rows({ name: 'recoveries.finish', text: FINISH, values: [id, owner] });
  }

  async release(sql: SqlRunner, id: string, owner: string): Promise<void> {
    await sql.rows({ name: 'recoveries.release', text: RELEASE, values: [id, owner] });
  }
}
