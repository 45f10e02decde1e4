import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_WAIT_S } from '../../streams/prefer-wait';

const WAIT_MESSAGE = `wait must be a whole number of seconds from 0 to ${MAX_WAIT_S}`;
const AFTER_MESSAGE = 'after must be a whole number from 0';

/** `GET /v1/tasks/:sid` as a long poll. */
export class GetTaskQueryDto {
  @ApiPropertyOptional({
    description: `long poll: hold the answer up to this many seconds (at most ${MAX_WAIT_S}) until the task's \`sequence\` passes \`after\` or the task is finished; \`Prefer: wait=N\` does the same`,
    minimum: 0,
    maximum: MAX_WAIT_S,
    example: 30,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: WAIT_MESSAGE })
  @Min(0, { message: WAIT_MESSAGE })
  @Max(MAX_WAIT_S, { message: WAIT_MESSAGE })
  wait?: number;

  @ApiPropertyOptional({
    description:
      'with a wait: answer once the task has an event with a higher `sequence`; default: its sequence when the request arrives',
    minimum: 0,
    example: 3,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: AFTER_MESSAGE })
  @Min(0, { message: AFTER_MESSAGE })
  @Max(2_147_483_647, { message: AFTER_MESSAGE })
  after?: number;
}
