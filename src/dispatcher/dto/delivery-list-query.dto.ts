import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { DeliveryState } from '../../common/states';
import { DELIVERY_STATES } from './delivery-response.dto';

export const LISTED_DELIVERY_STATES = DELIVERY_STATES;

/** `GET /v1/deliveries?state=&eventType=`: the tenant's recent deliveries. */
export class DeliveryListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: LISTED_DELIVERY_STATES,
    description: 'only deliveries in this state',
  })
  @IsOptional()
  @IsIn(LISTED_DELIVERY_STATES, {
    message: `state must be one of ${LISTED_DELIVERY_STATES.join(', ')}`,
  })
  state?: DeliveryState;

  @ApiPropertyOptional({
    description: 'only deliveries of this event type',
    example: 'task.failed',
  })
  @IsOptional()
  @Matches(/^[a-z]+(\.[a-z]+)+$/, {
    message: 'eventType must be an event type such as task.failed',
  })
  eventType?: string;
}
