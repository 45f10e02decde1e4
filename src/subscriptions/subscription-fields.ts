import type { Subscription } from '../generated/prisma/client';
import type { CreateSubscriptionDto } from './dto/create-subscription.dto';

/** JSON with object keys sorted, so equal values compare equal whatever their key order (jsonb's differs). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * The fields a registration states that differ from the existing
 * subscription. A field left out states nothing, so it never differs: a
 * client repeating `{sid, callbackUrl}` gets its subscription back as it is.
 */
export function differingFields(existing: Subscription, dto: CreateSubscriptionDto): string[] {
  const fields: string[] = [];
  if (dto.events !== undefined && !sameEvents(existing.events, dto.events ?? [])) {
    fields.push('events');
  }
  if (dto.metadata !== undefined && canonical(existing.metadata) !== canonical(dto.metadata)) {
    fields.push('metadata');
  }
  if (
    dto.includePhotoParameters !== undefined &&
    existing.includePhotoParameters !== dto.includePhotoParameters
  ) {
    fields.push('includePhotoParameters');
  }
  return fields;
}
