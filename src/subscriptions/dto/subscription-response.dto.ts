import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_CALLBACK_URL, EXAMPLE_SID } from '../../common/api-docs';
import { TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';
import { SUBSCRIPTION_STATES } from './list-subscriptions.query';

export class SubscriptionResponseDto {
  @ApiProperty({ example: 'sub_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ example: EXAMPLE_SID })
  sid!: string;

  @ApiProperty({ example: EXAMPLE_CALLBACK_URL })
  callbackUrl!: string;

  @ApiProperty({
    type: [String],
    enum: TASK_EVENT_TYPES,
    nullable: true,
    description: 'the event types wanted; null means all',
  })
  events!: string[] | null;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { orderId: 'ord_1234' } })
  metadata!: Record<string, unknown>;

  @ApiProperty()
  includePhotoParameters!: boolean;

  @ApiProperty({
    enum: SUBSCRIPTION_STATES,
    description:
      '`active`; `canceled` (deleted); `disabled` (the endpoint answered 410); `done` (task finished and all deliveries ended)',
  })
  state!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;
}

export class SubscriptionPageDto {
  @ApiProperty({ type: [SubscriptionResponseDto] })
  items!: SubscriptionResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
