import { TaskState } from '../uxc/task-state';

export const TASK_EVENT_TYPES = [
  'task.queued',
  'task.running',
  'task.succeeded',
  'task.failed',
  'task.canceled',
  'task.unknown',
  'task.progress',
  'task.expired',
  'task.error',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** What the estimates of a queued task rest on (see `estimateBasis` in the body). */
export interface EstimateBasis {
  tasks: number;
  windowSeconds: number;
  drainPerMinute: number | null;
  finishedTasks: number;
  runSeconds: number | null;
}

/** When a queued task should start and finish; all null unless it is queued. */
export interface TaskEstimateInput {
  estimatedStartAt: Date | null;
  estimatedFinishAt: Date | null;
  estimateBasis: EstimateBasis | null;
}

/** One task event, whoever hears of it: the task's part of the webhook body's `data`. */
export interface TaskEventDataInput {
  type: TaskEventType;
  /** When the relay observed the change; becomes the top-level `timestamp`. */
  observedAt: Date;
  sid: string;
  sequence: number;
  state: TaskState;
  /** `null` on the first observation of a task. */
  previousState: TaskState | null;
  status: number | null;
  previousStatus: number | null;
  progress: number | null;
  queueNum: number | null;
  queueTotal: number | null;
  costTime: number | null;
  message: string | null;
  outputResult: JsonValue | null;
  /** The ETA of a queued task as of `observedAt`; absent means all null. */
  estimate?: TaskEstimateInput | null;
}

/** One task event for one subscription: everything the webhook body says. */
export interface TaskEventPayloadInput extends TaskEventDataInput {
  /** the subscription the message is for; absent in a message to an endpoint */
  subscriptionId?: string;
  /** the endpoint the message is for (a task tracked with POST /v1/tasks), in place of subscriptionId */
  endpointId?: string;
  /** As registered with the subscription; absent means `{}`. */
  metadata?: JsonObject | null;
  /** Sent only when `includePhotoParameters` is true. */
  photoParameters?: JsonValue | null;
  includePhotoParameters?: boolean;
}

/** The task's fields of `data`, as server-sent event streams send them (no subscription there). */
export type TaskEventFields = Omit<TaskEventDataInput, 'type' | 'observedAt' | 'estimate'> & {
  /** ISO 8601 */
  estimatedStartAt: string | null;
  estimatedFinishAt: string | null;
  estimateBasis: EstimateBasis | null;
};

/** The body's `data`: the task's fields, whom it is for, and metadata always an object. */
export type TaskEventData = TaskEventFields &
  Pick<TaskEventPayloadInput, 'subscriptionId' | 'endpointId' | 'photoParameters'> & {
    metadata: JsonObject;
  };

export interface WebhookTestData {
  message: string;
  callbackUrl: string;
}

export interface WebhookPayload<TType extends string, TData> {
  type: TType;
  /** ISO 8601, UTC, milliseconds. */
  timestamp: string;
  data: TData;
}

export type TaskEventPayload = WebhookPayload<TaskEventType, TaskEventData>;
export type WebhookTestPayload = WebhookPayload<typeof WEBHOOK_TEST_EVENT_TYPE, WebhookTestData>;

/**
 * The task's fields of a task event's `data`, in their fixed order and with
 * `null` for what is unknown: what webhooks and event streams both carry, so a
 * field added here reaches both.
 */
export function buildTaskEventFields(input: TaskEventDataInput): TaskEventFields {
  return {
    sid: input.sid,
    sequence: input.sequence,
    state: input.state,
    previousState: input.previousState ?? null,
    status: input.status ?? null,
    previousStatus: input.previousStatus ?? null,
    progress: input.progress ?? null,
    queueNum: input.queueNum ?? null,
    queueTotal: input.queueTotal ?? null,
    costTime: input.costTime ?? null,
    message: input.message ?? null,
    outputResult: input.outputResult ?? null,
    estimatedStartAt: input.estimate?.estimatedStartAt?.toISOString() ?? null,
    estimatedFinishAt: input.estimate?.estimatedFinishAt?.toISOString() ?? null,
    estimateBasis: input.estimate?.estimateBasis ?? null,
  };
}

/**
 * The webhook body of a task event. Every field is present, with `null` when
 * unknown, so receivers can rely on the shape; the key order is fixed, so the
 * same input always serialises to the same bytes.
 */
export function buildWebhookPayload(input: TaskEventPayloadInput): TaskEventPayload {
  const data: TaskEventData = {
    // one or the other, first: whom the message is for
    ...(input.endpointId !== undefined
      ? { endpointId: input.endpointId }
      : { subscriptionId: input.subscriptionId }),
    ...buildTaskEventFields(input),
    metadata: input.metadata ?? {},
  };
  if (input.includePhotoParameters) data.photoParameters = input.photoParameters ?? null;
  return { type: input.type, timestamp: input.observedAt.toISOString(), data };
}

/** Whom one body of a task event is for, and what of theirs it carries. */
export type TaskEventRecipient = Pick<
  TaskEventPayloadInput,
  'subscriptionId' | 'endpointId' | 'metadata' | 'includePhotoParameters' | 'photoParameters'
>;

/**
 * The serialised webhook bodies of one task event, one per recipient: the
 * event's own part is serialised once, and each body adds only whom it is
 * for, its metadata and its photo parameters. A task's event goes to every
 * subscriber of the task, so under fan-out most of a body is shared. Byte for
 * byte what `serializeWebhookPayload(buildWebhookPayload(…))` writes for the
 * same input.
 */
export function taskEventBodies(
  input: TaskEventDataInput,
): (recipient: TaskEventRecipient) => string {
  const head = `{"type":${JSON.stringify(input.type)},"timestamp":${JSON.stringify(input.observedAt.toISOString())},"data":{`;
  const fields = JSON.stringify(buildTaskEventFields(input)).slice(1, -1);
  return (recipient) => {
    // as buildWebhookPayload: the endpoint when there is one, else the subscription (an undefined one is left out)
    const whom =
      recipient.endpointId !== undefined
        ? `"endpointId":${JSON.stringify(recipient.endpointId)},`
        : recipient.subscriptionId !== undefined
          ? `"subscriptionId":${JSON.stringify(recipient.subscriptionId)},`
          : '';
    const photo = recipient.includePhotoParameters
      ? `,"photoParameters":${JSON.stringify(recipient.photoParameters ?? null)}`
      : '';
    return `${head}${whom}${fields},"metadata":${JSON.stringify(recipient.metadata ?? {})}${photo}}}`;
  };
}

/** The `webhook.test` body sent by `POST /v1/webhook-test`. */
export function buildWebhookTestPayload(input: {
  callbackUrl: string;
  now?: Date;
}): WebhookTestPayload {
  return {
    type: WEBHOOK_TEST_EVENT_TYPE,
    timestamp: (input.now ?? new Date()).toISOString(),
    data: {
      message:
        'Test webhook from uxc-relay: verify its signature, then answer 2xx. No task is involved.',
      callbackUrl: input.callbackUrl,
    },
  };
}

/** The exact bytes that are signed and sent. */
export function serializeWebhookPayload(payload: WebhookPayload<string, unknown>): string {
  return JSON.stringify(payload);
}

/** Alerts about a tenant's own webhook targets, sent to its `alertUrl` and to endpoints that ask for them. */
export const ALERT_EVENT_TYPES = ['subscription.disabled', 'endpoint.disabled'] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

export interface SubscriptionDisabledData {
  subscriptionId: string;
  sid: string;
  callbackUrl: string;
  /** why, in words */
  reason: string;
  /** the first failure of the run of failures without a success, ISO 8601 */
  failingSince: string;
  disabledAt: string;
  /** deliveries kept as `held`: sent in order once the subscription is re-enabled */
  heldDeliveries: number;
}

export type SubscriptionDisabledPayload = WebhookPayload<
  'subscription.disabled',
  SubscriptionDisabledData
>;

/** The `subscription.disabled` alert: a subscription failed without a success for WEBHOOK_DISABLE_AFTER. */
export function buildSubscriptionDisabledPayload(
  data: SubscriptionDisabledData,
): SubscriptionDisabledPayload {
  return { type: 'subscription.disabled', timestamp: data.disabledAt, data };
}

export interface EndpointDisabledData {
  endpointId: string;
  url: string;
  /** why, in words */
  reason: string;
  /** the first failure of the run of failures without a success, ISO 8601 */
  failingSince: string;
  disabledAt: string;
  /** deliveries kept as `held`, across all its tasks: sent in order once the endpoint is re-enabled */
  heldDeliveries: number;
}

export type EndpointDisabledPayload = WebhookPayload<'endpoint.disabled', EndpointDisabledData>;

/** The `endpoint.disabled` alert: an endpoint failed without a success for WEBHOOK_DISABLE_AFTER. */
export function buildEndpointDisabledPayload(data: EndpointDisabledData): EndpointDisabledPayload {
  return { type: 'endpoint.disabled', timestamp: data.disabledAt, data };
}
