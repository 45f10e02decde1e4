import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { TASK_STATES } from '../../uxc/task-state';
import { TaskState, TaskTracking } from '../../common/states';
import { TASK_TRACKINGS } from '../task-tracking';

/** Large fields a list leaves out unless asked for with `?include=`. */
export const TASK_LIST_INCLUDES = ['photoParameters'] as const;

export class ListTasksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description:
      "comma-separated large fields to add to each item: `photoParameters` (the task's ComfyUI workflow, about 7 KB)",
    example: 'photoParameters',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value,
  )
  @IsIn(TASK_LIST_INCLUDES, {
    each: true,
    message: `include must list only ${TASK_LIST_INCLUDES.join(', ')}`,
  })
  include?: string[];

  @ApiPropertyOptional({ enum: TASK_STATES })
  @IsOptional()
  @IsIn(TASK_STATES, { message: `state must be one of ${TASK_STATES.join(', ')}` })
  state?: TaskState;

  @ApiPropertyOptional({ enum: TASK_TRACKINGS })
  @IsOptional()
  @IsIn(TASK_TRACKINGS, { message: `tracking must be one of ${TASK_TRACKINGS.join(', ')}` })
  tracking?: TaskTracking;
}
