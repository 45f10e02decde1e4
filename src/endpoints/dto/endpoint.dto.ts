import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength, ValidateIf } from 'class-validator';
import { EXAMPLE_CALLBACK_URL } from '../../common/api-docs';
import { IsEventFilter } from '../../subscriptions/dto/event-filter.validator';
import { MAX_CALLBACK_URL_LENGTH } from '../../webhooks/callback-url-policy';
import { ALERT_EVENT_TYPES, TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';

export const DESCRIPTION_MAX_LENGTH = 500;
export const ENDPOINT_STATES = ['active', 'disabled'] as const;
/** What an endpoint may ask for: task events, and the tenant's alerts about its other targets. */
export const ENDPOINT_EVENT_TYPES = [...TASK_EVENT_TYPES, ...ALERT_EVENT_TYPES] as const;

const Optional = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

const URL_DOC =
  'where webhooks go: http or https, no user-info; loopback and private addresses only with CALLBACK_ALLOW_PRIVATE_NETWORKS, link-local and cloud-metadata addresses never';

const EVENTS_DOC: ApiPropertyOptions = {
  type: [String],
  nullable: true,
  enum: [...ENDPOINT_EVENT_TYPES],
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
    description:
      "the event types wanted; absent or null means all. `endpoint.disabled` and `subscription.disabled` are the alerts the tenant's `alertUrl` receives (about its other endpoints and subscriptions), signed with this endpoint's secret",
  })
  @IsEventFilter(ENDPOINT_EVENT_TYPES)
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
    description:
      'the event types wanted from now on (task events, `endpoint.disabled`, `subscription.disabled`); null means all',
  })
  @IsEventFilter(ENDPOINT_EVENT_TYPES)
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
    enum: ENDPOINT_STATES,
    description:
      '`active` re-enables a `disabled` endpoint: its held deliveries go out, in order. `disabled` disables it by hand: nothing is sent to it, its undelivered deliveries (and those of later events) are held, never dropped, until `active` or a recovery',
  })
  @Optional()
  @IsString({ message: 'state must be "active" or "disabled"' })
  @IsIn(ENDPOINT_STATES, { message: 'state must be "active" or "disabled"' })
  state?: 'active' | 'disabled';
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
      '`active`; `disabled` (it answered 410, failed without a success for WEBHOOK_DISABLE_AFTER, or was disabled by PATCH: its deliveries are held until PATCH `{state: "active"}` or a recovery)',
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
