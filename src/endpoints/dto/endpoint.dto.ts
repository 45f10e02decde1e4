import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength, ValidateIf } from 'class-validator';
import { EXAMPLE_CALLBACK_URL } from '../../common/api-docs';
import { IsEventFilter } from '../../subscriptions/dto/event-filter.validator';
import { MAX_CALLBACK_URL_LENGTH } from '../../webhooks/callback-url-policy';
import { TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';

export const DESCRIPTION_MAX_LENGTH = 500;
export const ENDPOINT_STATES = ['active', 'disabled'] as const;

const Optional = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

const URL_DOC =
  'where webhooks go: http or https, no user-info; loopback and private addresses only with CALLBACK_ALLOW_PRIVATE_NETWORKS, link-local and cloud-metadata addresses never';

const EVENTS_DOC: ApiPropertyOptions = {
  type: [String],
  nullable: true,
  enum: [...TASK_EVENT_TYPES],
  uniqueItems: true,
  minItems: 1,
  example: ['task.succeeded', 'task.failed'],
};

export class CreateEndpointDto {
  @ApiProperty({
    description: URL_DOC,
    maxLength: MAX_CALLBACK_URL_LENGTH,
    format: 'uri',
    example: EXAMPLE_CALLBACK_URL,
  })
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  url!: string;

  @ApiPropertyOptional({
    ...EVENTS_DOC,
    description: 'the event types wanted; absent or null means all',
  })
  @IsEventFilter()
  events?: string[] | null;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX_LENGTH, example: 'order service, production' })
  @Optional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  description?: string;
}

export class UpdateEndpointDto {
  @ApiPropertyOptional({ description: URL_DOC, maxLength: MAX_CALLBACK_URL_LENGTH, format: 'uri' })
  @Optional()
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional({
    ...EVENTS_DOC,
    description: 'the event types wanted from now on; null means all',
  })
  @IsEventFilter()
  events?: string[] | null;

  @ApiPropertyOptional({
    maxLength: DESCRIPTION_MAX_LENGTH,
    nullable: true,
    description: 'null clears it',
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null)
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  description?: string | null;

  @ApiPropertyOptional({
    enum: ['active'],
    description: '`active` re-enables a `disabled` endpoint: its held deliveries go out, in order',
  })
  @Optional()
  @IsString({ message: 'state must be "active" (to re-enable a disabled endpoint)' })
  @IsIn(['active'], {
    message: 'state can only be set to "active" (to re-enable a disabled endpoint)',
  })
  state?: 'active';
}

export class EndpointResponseDto {
  @ApiProperty({ example: 'ep_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ example: EXAMPLE_CALLBACK_URL })
  url!: string;

  @ApiProperty({ ...EVENTS_DOC, description: 'the event types wanted; null means all' })
  events!: string[] | null;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({
    enum: ENDPOINT_STATES,
    description:
      '`active`; `disabled` (it answered 410: its deliveries are held until PATCH `{state: "active"}` or a recovery)',
  })
  state!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;
}

export class EndpointPageDto {
  @ApiProperty({ type: [EndpointResponseDto] })
  items!: EndpointResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class EndpointSecretDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: "the endpoint's signing secret",
  })
  secret!: string;
}
