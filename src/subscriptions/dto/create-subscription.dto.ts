import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';

/** Optional, but `null` is a wrong value rather than an absent one. */
const Optional = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);
import { EXAMPLE_CALLBACK_URL, EXAMPLE_SID } from '../../common/api-docs';
import { SID_MAX_LENGTH } from '../../common/sid.pipe';
import { MAX_CALLBACK_URL_LENGTH } from '../../webhooks/callback-url-policy';
import { TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';
import { IsEventFilter } from './event-filter.validator';
import { IsSubscriptionMetadata, METADATA_MAX_BYTES } from '../metadata.validator';

export { SID_MAX_LENGTH };

export class CreateSubscriptionDto {
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

  @ApiProperty({
    description:
      'where webhooks go: http or https, no user-info; loopback and private addresses only with CALLBACK_ALLOW_PRIVATE_NETWORKS, link-local and cloud-metadata addresses never',
    maxLength: MAX_CALLBACK_URL_LENGTH,
    format: 'uri',
    example: EXAMPLE_CALLBACK_URL,
  })
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  callbackUrl!: string;

  @ApiPropertyOptional({
    description: 'the event types wanted; absent or null means all',
    type: [String],
    nullable: true,
    enum: TASK_EVENT_TYPES,
    uniqueItems: true,
    minItems: 1,
    example: ['task.succeeded', 'task.failed'],
  })
  @IsEventFilter()
  events?: string[] | null;

  @ApiPropertyOptional({
    description: `any JSON object of at most ${METADATA_MAX_BYTES} bytes, sent back in every webhook`,
    type: 'object',
    additionalProperties: true,
    example: { orderId: 'ord_1234', userId: 42 },
  })
  @Optional()
  // the raw value: class-transformer must not copy (and mangle) arbitrary JSON
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.metadata, { toClassOnly: true })
  @IsSubscriptionMetadata()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: "add the task's `photoParameters` (the ComfyUI workflow, large) to webhooks",
    default: false,
  })
  @Optional()
  @IsBoolean()
  includePhotoParameters?: boolean;
}
