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
      "`active` re-enables a `disabled` subscription (its endpoint answered 410, failed without a success for WEBHOOK_DISABLE_AFTER, or it was disabled by PATCH): its held deliveries are sent in order, then the task's current state. `disabled` disables it by hand: nothing more is sent, its undelivered deliveries are held, never dropped, until `active` (which then sends the task's current state) or a recovery. DELETE cancels.",
    enum: ['active', 'disabled'],
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsString({ message: 'state must be "active" or "disabled"; DELETE cancels' })
  @IsIn(['active', 'disabled'], {
    message: 'state must be "active" or "disabled"; DELETE cancels',
  })
  state?: 'active' | 'disabled';
}
