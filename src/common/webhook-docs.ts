import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { EstimateBasisDto } from '../tasks/dto/task-response.dto';
import { TASK_STATES } from '../uxc/task-state';
import { TASK_EVENT_TYPES, WEBHOOK_TEST_EVENT_TYPE } from '../webhooks/webhook-payload';
import type { EndpointDisabledData, SubscriptionDisabledData } from '../webhooks/webhook-payload';
import { EXAMPLE_OUTPUT_RESULT, EXAMPLE_SID } from './api-docs';

/**
 * The webhook bodies, for the OpenAPI document's `webhooks` section: what a
 * receiver generates its types from. They restate `webhooks/webhook-payload.ts`
 * for the document; the API docs test checks both name the same fields.
 */
export class TaskEventWebhookDataDto {
  @ApiPropertyOptional({
    example: 'sub_01jf8x0q7m3v2c9e4r5t6y7u8i',
    description: 'the subscription the message is for; absent in a message to an endpoint',
  })
  subscriptionId?: string;

  @ApiPropertyOptional({
    example: 'ep_01jf8x0q7m3v2c9e4r5t6y7u8i',
    description:
      'the endpoint the message is for (a task tracked with `POST /v1/tasks`), in place of `subscriptionId`',
  })
  endpointId?: string;

  @ApiProperty({ example: EXAMPLE_SID })
  sid!: string;

  @ApiProperty({
    description:
      "the event's place in its task's history: strictly increasing, may skip numbers; drop a message whose sequence is not above the highest you processed",
    example: 4,
  })
  sequence!: number;

  @ApiProperty({ enum: TASK_STATES, example: 'succeeded' })
  state!: string;

  @ApiProperty({
    enum: TASK_STATES,
    nullable: true,
    description: 'null on the first observation of the task',
    example: 'running',
  })
  previousState!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'the UXC status code', example: 1 })
  status!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 200 })
  previousStatus!: number | null;

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

  @ApiProperty({ type: [String], nullable: true, example: EXAMPLE_OUTPUT_RESULT })
  outputResult!: string[] | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      "while queued: when the task should start, from how fast this credential's queue has been draining, as of `timestamp`; null when not queued or history is too thin",
    example: '2026-11-27T05:01:40.000Z',
  })
  estimatedStartAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      "while queued: `estimatedStartAt` plus the median run time of the credential's recent tasks; null when either is unknown",
    example: '2026-11-27T05:02:47.000Z',
  })
  estimatedFinishAt!: string | null;

  @ApiProperty({
    type: EstimateBasisDto,
    nullable: true,
    description: 'while queued: what the estimates rest on; null when the task is not queued',
  })
  estimateBasis!: EstimateBasisDto | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'as registered with the subscription (or given to `POST /v1/tasks`, for an endpoint); `{}` when none',
    example: { orderId: 'ord_1234' },
  })
  metadata!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'only for subscriptions created with `includePhotoParameters: true`',
  })
  photoParameters?: Record<string, unknown> | null;
}

export class TaskEventWebhookDto {
  @ApiProperty({ enum: TASK_EVENT_TYPES, example: 'task.succeeded' })
  type!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'when the relay observed the change (ISO 8601, UTC)',
    example: '2026-11-27T05:00:00.000Z',
  })
  timestamp!: string;

  @ApiProperty({ type: TaskEventWebhookDataDto })
  data!: TaskEventWebhookDataDto;
}

export class WebhookTestDataDto {
  @ApiProperty({ example: 'Test webhook from uxc-relay: verify its signature, then answer 2xx.' })
  message!: string;

  @ApiProperty({ example: 'https://hooks.example.com/uxc' })
  callbackUrl!: string;
}

export class WebhookTestWebhookDto {
  @ApiProperty({ enum: [WEBHOOK_TEST_EVENT_TYPE] })
  type!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-27T05:00:00.000Z' })
  timestamp!: string;

  @ApiProperty({ type: WebhookTestDataDto })
  data!: WebhookTestDataDto;
}

/** The body of `subscription.disabled`, sent to the tenant's `alertUrl`. */
export class SubscriptionDisabledDataDto implements SubscriptionDisabledData {
  @ApiProperty({ example: 'sub_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  subscriptionId!: string;

  @ApiProperty({ example: EXAMPLE_SID })
  sid!: string;

  @ApiProperty({ example: 'https://hooks.example.com/uxc' })
  callbackUrl!: string;

  @ApiProperty({
    description: 'why it was disabled, in words',
    example:
      'no webhook to callbackUrl succeeded since 2026-11-22T05:00:00.000Z (WEBHOOK_DISABLE_AFTER 5d)',
  })
  reason!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'the first failure of the run of failures without a success',
    example: '2026-11-22T05:00:00.000Z',
  })
  failingSince!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-27T05:00:00.000Z' })
  disabledAt!: string;

  @ApiProperty({
    description:
      'deliveries kept as `held`, never dropped: `PATCH /v1/subscriptions/{subscriptionId}` with `{"state": "active"}` sends them in order',
    example: 3,
  })
  heldDeliveries!: number;
}

export class SubscriptionDisabledWebhookDto {
  @ApiProperty({ enum: ['subscription.disabled'] })
  type!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'when it was disabled',
    example: '2026-11-27T05:00:00.000Z',
  })
  timestamp!: string;

  @ApiProperty({ type: SubscriptionDisabledDataDto })
  data!: SubscriptionDisabledDataDto;
}

/** The body of `endpoint.disabled`, sent to the tenant's `alertUrl` and to endpoints that ask for it. */
export class EndpointDisabledDataDto implements EndpointDisabledData {
  @ApiProperty({ example: 'ep_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  endpointId!: string;

  @ApiProperty({ example: 'https://hooks.example.com/uxc' })
  url!: string;

  @ApiProperty({
    description: 'why it was disabled, in words',
    example:
      'no webhook to url succeeded since 2026-11-22T05:00:00.000Z (WEBHOOK_DISABLE_AFTER 5d)',
  })
  reason!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'the first failure of the run of failures without a success, on any of its tasks',
    example: '2026-11-22T05:00:00.000Z',
  })
  failingSince!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-27T05:00:00.000Z' })
  disabledAt!: string;

  @ApiProperty({
    description:
      'deliveries kept as `held` across all its tasks, never dropped: `PATCH /v1/endpoints/{endpointId}` with `{"state": "active"}` sends them, each task\'s in order',
    example: 12,
  })
  heldDeliveries!: number;
}

export class EndpointDisabledWebhookDto {
  @ApiProperty({ enum: ['endpoint.disabled'] })
  type!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'when it was disabled',
    example: '2026-11-27T05:00:00.000Z',
  })
  timestamp!: string;

  @ApiProperty({ type: EndpointDisabledDataDto })
  data!: EndpointDisabledDataDto;
}

export const WEBHOOK_DOC_MODELS = [
  EstimateBasisDto,
  TaskEventWebhookDataDto,
  TaskEventWebhookDto,
  WebhookTestDataDto,
  WebhookTestWebhookDto,
  SubscriptionDisabledDataDto,
  SubscriptionDisabledWebhookDto,
  EndpointDisabledDataDto,
  EndpointDisabledWebhookDto,
];

const WHEN: Record<string, string> = {
  'task.queued': 'the task is queued at UXC (the first observation of a task counts as a change)',
  'task.running': 'the task started running',
  'task.succeeded': 'the task succeeded; `outputResult` holds its outputs',
  'task.failed': 'the task failed',
  'task.canceled': 'the task was canceled',
  'task.unknown': 'UXC reported a status code outside UXC_STATUS_MAP',
  'task.progress':
    'same state, but `progress`, `queueNum`, `queueTotal` or `message` changed; a pending one is superseded by a newer event',
  'task.expired': 'no terminal state within TASK_TTL: polling stopped',
  'task.error': 'UXC kept answering errors for this sid beyond UXC_ERROR_GIVE_UP: polling stopped',
  [WEBHOOK_TEST_EVENT_TYPE]: 'sent by `POST /v1/webhook-test`, no task involved',
  'subscription.disabled':
    "a subscription failed without a single success for WEBHOOK_DISABLE_AFTER and was disabled, its undelivered deliveries held; sent to the tenant's `alertUrl` (`PATCH /v1/tenant`), signed with the tenant's webhook secret, and to every active endpoint of the tenant whose `events` lists it (or has no filter), signed with that endpoint's secret",
  'endpoint.disabled':
    "an endpoint failed without a single success on any of its tasks for WEBHOOK_DISABLE_AFTER and was disabled as a whole, the undelivered deliveries of all its tasks held; sent to the tenant's `alertUrl` (`PATCH /v1/tenant`), signed with the tenant's webhook secret, and to every other active endpoint of the tenant whose `events` lists it (or has no filter), signed with that endpoint's secret",
};

const SIGNATURE_HEADERS = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: 'the delivery id (`msg_…`), the same on every attempt: deduplicate on it',
    schema: { type: 'string' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'Unix seconds of this attempt',
    schema: { type: 'string' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      '`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the base64-decoded secret after `whsec_`; two, space-separated, during a rotation',
    schema: { type: 'string' },
  },
];

/** The OpenAPI 3.1 `webhooks` section: one POST per event type, with its body. */
export function webhooksSection(): Record<string, unknown> {
  const entry = (type: string, model: string) => ({
    post: {
      summary: type,
      description: `Sent when ${WHEN[type]}. Standard Webhooks signed (with the endpoint's own secret for a message to an endpoint); answer any 2xx within WEBHOOK_TIMEOUT_MS, 410 to disable the subscription or endpoint.`,
      operationId: `webhook_${type.replace('.', '_')}`,
      tags: ['webhooks'],
      parameters: SIGNATURE_HEADERS,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: getSchemaPath(model) },
                { type: 'object', properties: { type: { type: 'string', const: type } } },
              ],
            },
          },
        },
      },
      responses: {
        '2XX': { description: 'received; never sent again' },
        '410': {
          description:
            'gone: the subscription or endpoint is disabled; what it has not received is held for a re-enable or a recovery',
        },
        default: { description: 'anything else is retried on WEBHOOK_RETRY_SCHEDULE' },
      },
    },
  });
  return Object.fromEntries([
    ...TASK_EVENT_TYPES.map((type) => [type, entry(type, TaskEventWebhookDto.name)]),
    [WEBHOOK_TEST_EVENT_TYPE, entry(WEBHOOK_TEST_EVENT_TYPE, WebhookTestWebhookDto.name)],
    ['subscription.disabled', entry('subscription.disabled', SubscriptionDisabledWebhookDto.name)],
    ['endpoint.disabled', entry('endpoint.disabled', EndpointDisabledWebhookDto.name)],
  ]);
}
