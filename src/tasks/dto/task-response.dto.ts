import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_OUTPUT_RESULT, EXAMPLE_SID } from '../../common/api-docs';
import { TASK_STATES } from '../../uxc/task-state';
import { TASK_TRACKINGS } from '../task-tracking';

/** The latest error UXC answered for a task. */
export class TaskErrorDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "UXC's errNo; null when no answer came (timeout, connection error)",
    example: 3002,
  })
  errNo!: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'invalid ak or sk' })
  errMsg!: string | null;

  @ApiProperty({
    description:
      'when it was last seen: the latest failed poll while errors go on, else when the last run of errors began',
  })
  at!: Date;
}

/** What a queued task's estimates rest on: how many tasks, how recent, how fast. */
export class EstimateBasisDto {
  @ApiProperty({
    description:
      "the tenant's recent tasks whose fall through the queue was measured; the estimate needs at least 3",
    example: 14,
  })
  tasks!: number;

  @ApiProperty({
    description: 'seconds from the oldest observation used to now (at most ESTIMATE_WINDOW)',
    example: 540,
  })
  windowSeconds!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: "queue places per minute: the median of those tasks' rates; null when too few",
    example: 6,
  })
  drainPerMinute!: number | null;

  @ApiProperty({
    description: 'recently succeeded tasks whose run time was measured (costTime, else observed)',
    example: 9,
  })
  finishedTasks!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'their median run time in seconds; null when fewer than 3',
    example: 31.4,
  })
  runSeconds!: number | null;
}

export class TaskResponseDto {
  @ApiProperty({ example: EXAMPLE_SID })
  sid!: string;

  @ApiProperty({
    enum: TASK_STATES,
    nullable: true,
    description: 'lifecycle state; null until UXC was first asked',
    example: 'succeeded',
  })
  state!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'the UXC status code', example: 1 })
  status!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: '0..1', example: 1 })
  progress!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 0 })
  queueNum!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 0 })
  queueTotal!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'seconds', example: 66.59 })
  costTime!: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'ok' })
  message!: string | null;

  @ApiProperty({ nullable: true, type: [String], example: EXAMPLE_OUTPUT_RESULT })
  outputResult!: unknown;

  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description:
      'the ComfyUI workflow UXC reports: `{info, parameters}`; lists leave it out unless `?include=photoParameters`',
    example: {
      info: 'ok',
      parameters: {
        '2': {
          class_type: 'CheckpointLoaderSimple',
          inputs: { ckpt_name: 'POLY_AI_V2.safetensors' },
        },
      },
    },
  })
  photoParameters?: unknown;

  @ApiProperty({
    enum: TASK_TRACKINGS,
    description:
      '`active` (polled), `completed` (terminal; polling stopped), `expired` (no terminal state within TASK_TTL), `error` (UXC kept failing beyond UXC_ERROR_GIVE_UP), `idle` (no active subscription left)',
  })
  tracking!: string;

  @ApiProperty({ description: 'the sequence of the latest event', example: 4 })
  sequence!: number;

  @ApiProperty()
  firstSeenAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  @ApiProperty({ type: Date, nullable: true })
  lastPolledAt!: Date | null;

  @ApiProperty({ type: Date, nullable: true })
  nextPollAt!: Date | null;

  @ApiProperty({
    type: TaskErrorDto,
    nullable: true,
    description:
      'the latest upstream error (bad credentials, UXC failing, timeouts), also once UXC answers again; null when UXC never failed for this task',
  })
  lastError!: TaskErrorDto | null;

  @ApiProperty({
    type: Date,
    nullable: true,
    description:
      "while queued: when the task should start, from how fast this credential's queue has been draining (`queueNum` ÷ drain, counted from when the task reached its place); null when not queued or history is too thin",
  })
  estimatedStartAt!: Date | null;

  @ApiProperty({
    type: Date,
    nullable: true,
    description:
      "while queued: `estimatedStartAt` plus the median run time of the credential's recent tasks; null when either is unknown",
  })
  estimatedFinishAt!: Date | null;

  @ApiProperty({
    type: EstimateBasisDto,
    nullable: true,
    description: 'while queued: what the estimates rest on; null when the task is not queued',
  })
  estimateBasis!: EstimateBasisDto | null;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskResponseDto] })
  items!: TaskResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class TaskEventResponseDto {
  @ApiProperty({ example: 4 })
  sequence!: number;

  @ApiProperty({
    description:
      'a contract event type, or `uxc.error` for an upstream error (history only, never sent)',
    example: 'task.succeeded',
  })
  type!: string;

  @ApiProperty({ enum: TASK_STATES, nullable: true, example: 'succeeded' })
  state!: string | null;

  @ApiProperty({ enum: TASK_STATES, nullable: true, example: 'running' })
  previousState!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 1 })
  status!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 1 })
  progress!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 0 })
  queueNum!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 0 })
  queueTotal!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 66.59 })
  costTime!: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'ok' })
  message!: string | null;

  @ApiProperty({ nullable: true, type: [String], example: EXAMPLE_OUTPUT_RESULT })
  outputResult!: unknown;

  @ApiProperty({ type: Number, nullable: true, description: "UXC's errNo, on `uxc.error` events" })
  errNo!: number | null;

  @ApiProperty({ type: String, nullable: true })
  errMsg!: string | null;

  @ApiProperty()
  observedAt!: Date;
}

export class TaskEventPageDto {
  @ApiProperty({ type: [TaskEventResponseDto] })
  items!: TaskEventResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
