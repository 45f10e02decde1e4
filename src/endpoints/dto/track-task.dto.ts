import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsString,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';
import { ErrorResponseDto, EXAMPLE_SID } from '../../common/api-docs';
import { SID_MAX_LENGTH } from '../../common/sid.pipe';
import { IsSubscriptionMetadata, METADATA_MAX_BYTES } from '../../subscriptions/metadata.validator';

export const TRACK_BATCH_MAX_ITEMS = 500;

export class TrackTaskDto {
  @ApiProperty({
    description: 'the UXC task id, 1–256 characters of any kind',
    minLength: 1,
    maxLength: SID_MAX_LENGTH,
    example: EXAMPLE_SID,
  })
  @IsString()
  @Length(1, SID_MAX_LENGTH)
  @Matches(/\S/, { message: 'sid must not be blank' })
  sid!: string;

  @ApiPropertyOptional({
    description: `any JSON object of at most ${METADATA_MAX_BYTES} bytes, sent back in every webhook to the endpoints; given again, it replaces the one before`,
    type: 'object',
    additionalProperties: true,
    example: { orderId: 'ord_1234' },
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.metadata, { toClassOnly: true })
  @IsSubscriptionMetadata()
  metadata?: Record<string, unknown>;
}

export class TrackedTaskResponseDto {
  @ApiProperty({ example: EXAMPLE_SID })
  sid!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { orderId: 'ord_1234' } })
  metadata!: Record<string, unknown>;

  @ApiProperty({ description: 'when it was first tracked for the endpoints' })
  trackedAt!: Date;
}

export class BatchTrackTasksDto {
  @ApiProperty({
    type: [TrackTaskDto],
    minItems: 1,
    maxItems: TRACK_BATCH_MAX_ITEMS,
    description: `1 to ${TRACK_BATCH_MAX_ITEMS} tasks, each as \`POST /v1/tasks\` takes it; each is checked on its own`,
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(TRACK_BATCH_MAX_ITEMS)
  // kept raw: each item is validated on its own, so one bad item fails only itself
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.items, { toClassOnly: true })
  items!: unknown[];
}

export class TrackBatchItemResultDto {
  @ApiProperty({
    description: 'what `POST /v1/tasks` would have answered: 201, 200 or 400',
    example: 201,
  })
  status!: number;

  @ApiProperty({
    oneOf: [
      { $ref: '#/components/schemas/TrackedTaskResponseDto' },
      { $ref: '#/components/schemas/ErrorResponseDto' },
    ],
  })
  body!: TrackedTaskResponseDto | ErrorResponseDto;
}

export class BatchTrackTasksResultDto {
  @ApiProperty({ type: [TrackBatchItemResultDto], description: 'one result per item, in order' })
  items!: TrackBatchItemResultDto[];
}
