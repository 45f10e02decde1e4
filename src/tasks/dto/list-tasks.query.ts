import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { TASK_STATES } from '../../uxc/task-state';
import { TASK_TRACKINGS } from '../task-tracking';

export class ListTasksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: TASK_STATES })
  @IsOptional()
  @IsIn(TASK_STATES, { message: `state must be one of ${TASK_STATES.join(', ')}` })
  state?: string;

  @ApiPropertyOptional({ enum: TASK_TRACKINGS })
  @IsOptional()
  @IsIn(TASK_TRACKINGS, { message: `tracking must be one of ${TASK_TRACKINGS.join(', ')}` })
  tracking?: string;
}
