import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

export class RedeliverDto {
  @ApiPropertyOptional({
    description:
      'true: send the event again as a new message, a new delivery with a new id and so a new `webhook-id` (for a receiver that already dropped the old id as a duplicate); false or absent: one more attempt of this delivery, same `webhook-id`',
    default: false,
  })
  @IsOptional()
  @IsBoolean({ message: 'asNew must be a boolean' })
  asNew?: boolean;
}
