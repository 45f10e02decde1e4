import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;
const MAX_CURSOR_LENGTH = 200;

/** `?limit=&cursor=`, shared by every list. */
export class PageQueryDto {
  @ApiPropertyOptional({
    description: 'how many items to answer with',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  @Max(MAX_PAGE_LIMIT, { message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  limit?: number;

  @ApiPropertyOptional({
    description: '`nextCursor` of the previous page; absent for the first page',
    maxLength: MAX_CURSOR_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * What a cursor may hold: lists page by time-sortable ids (`sub_…`), the
 * event history by sequence number. Anything else was not handed out by us.
 */
export type CursorKind = { idPrefix: string } | 'sequence';

/** A cursor is opaque to clients: base64url of the last item's id. */
export function encodeCursor(position: string | number): string {
  return Buffer.from(String(position), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, kind: { idPrefix: string }): string;
export function decodeCursor(cursor: string, kind: 'sequence'): number;
export function decodeCursor(cursor: string, kind: CursorKind): string | number {
  const invalid = (): BadRequestException =>
    new BadRequestException(['cursor is not a cursor this list handed out']);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (kind === 'sequence') {
    if (!/^(0|[1-9]\d{0,9})$/.test(text)) throw invalid();
    return Number(text);
  }
  if (!new RegExp(`^${kind.idPrefix}_[0-9a-z]{26}$`).test(text)) throw invalid();
  return text;
}

export function pageLimit(query: PageQueryDto): number {
  return query.limit ?? DEFAULT_PAGE_LIMIT;
}

/**
 * Turns `limit + 1` rows into a page: the extra row only tells that there is
 * more, and the cursor points after the last row answered.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  position: (row: Row) => string | number,
  map: (row: Row) => Item,
): Page<Item> {
  const items = rows.slice(0, limit);
  const more = rows.length > limit;
  return {
    items: items.map(map),
    nextCursor: more && items.length > 0 ? encodeCursor(position(items[items.length - 1])) : null,
  };
}
