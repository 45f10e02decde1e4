import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class StreamQueryDto {
  @ApiPropertyOptional({
    description:
      'a token from `POST /v1/stream-tokens`, for clients that cannot send `Authorization` (browsers’ `EventSource`); accepted on the stream routes only',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  token?: string;

  @ApiPropertyOptional({
    description:
      'resume after this event id, as the `Last-Event-ID` header does (the header wins when both are sent)',
    example: '3',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,18}$/, { message: 'lastEventId must be a whole number of at most 18 digits' })
  lastEventId?: string;
}
