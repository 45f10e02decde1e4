import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { EXAMPLE_SID } from '../../common/api-docs';
import { SID_MAX_LENGTH } from '../../common/sid.pipe';
import { STREAM_TOKEN_DEFAULT_TTL_S, STREAM_TOKEN_MAX_TTL_S } from '../stream-token';

const MIN_TTL_S = 10;
const TTL_MESSAGE = `ttlSeconds must be a whole number from ${MIN_TTL_S} to ${STREAM_TOKEN_MAX_TTL_S}`;

export class CreateStreamTokenDto {
  @ApiPropertyOptional({
    description:
      "set: the token opens only this task's stream (`GET /v1/tasks/:sid/stream`); absent: every stream of the tenant",
    minLength: 1,
    maxLength: SID_MAX_LENGTH,
    example: EXAMPLE_SID,
  })
  @IsOptional()
  @IsString()
  @Length(1, SID_MAX_LENGTH)
  @Matches(/\S/, { message: 'sid must not be blank' })
  sid?: string;

  @ApiPropertyOptional({
    description: 'how long the token opens streams; a stream opened in time stays open after',
    minimum: MIN_TTL_S,
    maximum: STREAM_TOKEN_MAX_TTL_S,
    default: STREAM_TOKEN_DEFAULT_TTL_S,
  })
  @IsOptional()
  @IsInt({ message: TTL_MESSAGE })
  @Min(MIN_TTL_S, { message: TTL_MESSAGE })
  @Max(STREAM_TOKEN_MAX_TTL_S, { message: TTL_MESSAGE })
  ttlSeconds?: number;
}

export class StreamTokenResponseDto {
  @ApiProperty({
    description: 'pass it as `?token=` on `GET /v1/tasks/:sid/stream` or `GET /v1/events/stream`',
    example: 'st_eyJ0IjoidGVuXzAxIiwiZSI6MTc2NDg1MDMwMH0.3q2-7w',
  })
  token!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: Date;
}
