import { ApiProperty } from '@nestjs/swagger';

import { DELIVERY_STATES } from '../../common/states';

export { DELIVERY_STATES };

export class DeliveryAttemptDto {
  @ApiProperty({ description: 'when the attempt started' })
  at!: Date;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: "the endpoint's status code; null when no answer came",
    example: 503,
  })
  statusCode!: number | null;

  @ApiProperty({ example: 118 })
  durationMs!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why no answer came, or what was wrong with it',
    example: 'timeout after 15000ms',
  })
  error!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description: "the endpoint's response headers, names lower-case; null when no answer came",
    example: { 'content-type': 'application/json', 'retry-after': '30' },
  })
  responseHeaders!: Record<string, string> | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "the first 1 KB of the endpoint's response body; null when no answer came",
    example: '{"error":"temporarily unavailable"}',
  })
  responseBody!: string | null;
}

export class DeliveryResponseDto {
  @ApiProperty({
    description: 'the `webhook-id`, the same on every attempt',
    example: 'msg_01jf8x0q7m3v2c9e4r5t6y7u8i',
  })
  id!: string;

  @ApiProperty({ example: 'sub_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  subscriptionId!: string;

  @ApiProperty({ example: 'task.succeeded' })
  eventType!: string;

  @ApiProperty({ description: "the event's sequence in its task's history", example: 4 })
  sequence!: number;

  @ApiProperty({ enum: DELIVERY_STATES })
  state!: string;

  @ApiProperty({ description: 'how many attempts were made', example: 2 })
  attemptCount!: number;

  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'when a pending delivery is tried next; null once it ended',
  })
  nextAttemptAt!: Date | null;

  @ApiProperty({ type: DeliveryAttemptDto, nullable: true })
  lastAttempt!: DeliveryAttemptDto | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'when it succeeded, failed for good, was superseded or canceled',
  })
  completedAt!: Date | null;
}

/** One delivery in full: `attemptCount` as in lists, and `attempts`, the attempt log itself. */
export class DeliveryDetailDto extends DeliveryResponseDto {
  @ApiProperty({ type: [DeliveryAttemptDto], description: 'every attempt, oldest first' })
  attempts!: DeliveryAttemptDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the webhook body, exactly as sent on every attempt (parsed)',
  })
  payload!: unknown;
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryResponseDto] })
  items!: DeliveryResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
