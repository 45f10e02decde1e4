import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { EXAMPLE_SID } from '../../common/api-docs';
import { SID_MAX_LENGTH } from './create-subscription.dto';

import { SUBSCRIPTION_STATES, SubscriptionState } from '../../common/states';

export { SUBSCRIPTION_STATES };
export type { SubscriptionState };

export class ListSubscriptionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'only subscriptions of this task',
    maxLength: SID_MAX_LENGTH,
    example: EXAMPLE_SID,
  })
  @IsOptional()
  @IsString()
  @Length(1, SID_MAX_LENGTH)
  sid?: string;

  @ApiPropertyOptional({ enum: SUBSCRIPTION_STATES })
  @IsOptional()
  @IsIn(SUBSCRIPTION_STATES, { message: `state must be one of ${SUBSCRIPTION_STATES.join(', ')}` })
  state?: SubscriptionState;
}
