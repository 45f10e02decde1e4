import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, ValidateIf } from 'class-validator';

export class RecoverDto {
  @ApiProperty({
    description: 'start of the window (ISO 8601): deliveries created at or after it',
    example: '2026-11-27T00:00:00Z',
  })
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date' })
  since!: string;

  @ApiPropertyOptional({
    description: 'end of the window (ISO 8601), after `since`; absent means now',
    example: '2026-11-28T00:00:00Z',
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date' })
  until?: string;
}

export class RecoveryAcceptedDto {
  @ApiProperty({
    example: 'rcv_01jf8x0q7m3v2c9e4r5t6y7u8i',
    description: 'follow it with GET /v1/recoveries/:id',
  })
  id!: string;
}

export class RecoveryResponseDto {
  @ApiProperty({ example: 'rcv_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({
    enum: ['queued', 'sending', 'completed'],
    description:
      '`queued` (not started), `sending` (its deliveries are back in the outbox and not all have ended), `completed` (every one of them ended again)',
  })
  state!: string;

  @ApiProperty({ type: String, nullable: true, description: 'the subscription recovered, or null' })
  subscriptionId!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'the endpoint recovered, or null' })
  endpointId!: string | null;

  @ApiProperty()
  since!: Date;

  @ApiProperty()
  until!: Date;

  @ApiProperty({ description: 'deliveries sent again so far' })
  total!: number;

  @ApiProperty({ description: 'of these, still pending' })
  pending!: number;

  @ApiProperty({ description: 'of these, delivered' })
  succeeded!: number;

  @ApiProperty({ description: 'of these, failed again (or held again by a 410, or superseded)' })
  failed!: number;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ type: Date, nullable: true })
  startedAt!: Date | null;
}
