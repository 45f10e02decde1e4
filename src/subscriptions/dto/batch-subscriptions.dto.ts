import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray } from 'class-validator';
import { ErrorResponseDto } from '../../common/api-docs';
import { CreateSubscriptionDto } from './create-subscription.dto';
import { SubscriptionResponseDto } from './subscription-response.dto';

export const BATCH_MAX_ITEMS = 500;

export class BatchSubscriptionsDto {
  @ApiProperty({
    type: [CreateSubscriptionDto],
    minItems: 1,
    maxItems: BATCH_MAX_ITEMS,
    description: `1 to ${BATCH_MAX_ITEMS} subscriptions, each as \`POST /v1/subscriptions\` takes it; each is checked on its own`,
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(BATCH_MAX_ITEMS)
  // kept raw: each item is validated on its own, so one bad item fails only itself
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.items, { toClassOnly: true })
  items!: unknown[];
}

export class BatchItemResultDto {
  @ApiProperty({
    description:
      'what `POST /v1/subscriptions` would have answered for this item: 201, 200, 400 or 409',
    example: 201,
  })
  status!: number;

  @ApiProperty({
    description: 'the subscription (201, 200), or the error (400, 409)',
    oneOf: [
      { $ref: '#/components/schemas/SubscriptionResponseDto' },
      { $ref: '#/components/schemas/ErrorResponseDto' },
    ],
  })
  body!: SubscriptionResponseDto | ErrorResponseDto;
}

export class BatchSubscriptionsResultDto {
  @ApiProperty({ type: [BatchItemResultDto], description: 'one result per item, in order' })
  items!: BatchItemResultDto[];
}
