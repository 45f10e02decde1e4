import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { readMigrations } from '../database/migrator';

type Readiness = { ok: true; migrations: number } | { ok: false; reason: string };

@Injectable()
export class HealthService {
  private readonly expected = readMigrations().migrationDirectories.map((dir) => dir.path);

  constructor(private readonly prisma: PrismaService) {}

  async readiness(): Promise<Readiness> {
    let applied: { migration_name: string }[];
    try {
      applied = await this.prisma.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    } catch {
      return { ok: false, reason: 'database unreachable or not migrated' };
    }
    const done = new Set(applied.map((row) => row.migration_name));
    const pending = this.expected.filter((name) => !done.has(name));
    if (pending.length > 0)
      return { ok: false, reason: `pending migrations: ${pending.join(', ')}` };
    return { ok: true, migrations: done.size };
  }
}
