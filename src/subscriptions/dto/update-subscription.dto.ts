import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsString, ValidateIf } from 'class-validator';
import { TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';
import { IsEventFilter } from './event-filter.validator';
import { IsSubscriptionMetadata, METADATA_MAX_BYTES } from '../metadata.validator';

export class UpdateSubscriptionDto {
  @ApiPropertyOptional({
    description: 'the event types wanted from now on; null means all',
    type: [String],
    nullable: true,
    enum: TASK_EVENT_TYPES,
    uniqueItems: true,
    minItems: 1,
    example: ['task.succeeded', 'task.failed'],
  })
  @IsEventFilter()
  events?: string[] | null;

  @ApiPropertyOptional({
    description: `replaces the metadata: any JSON object of at most ${METADATA_MAX_BYTES} bytes, sent in every later webhook`,
    type: 'object',
    additionalProperties: true,
    example: { orderId: 'ord_1234' },
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.metadata, { toClassOnly: true })
  @IsSubscriptionMetadata()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      "`active` re-enables a `disabled` subscription (its endpoint answered 410, or failed without a success for WEBHOOK_DISABLE_AFTER): its held deliveries are sent in order, then the task's current state. No other value is accepted; DELETE cancels.",
    enum: ['active'],
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsString({ message: 'state must be "active" (to re-enable a disabled subscription)' })
  @IsIn(['active'], {
    message:
      'state can only be set to "active" (to re-enable a disabled subscription); DELETE cancels',
  })
  state?: 'active';
}
