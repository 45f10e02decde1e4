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

/** One task event for one subscription: everything the webhook body says. */
export interface TaskEventPayloadInput {
  type: TaskEventType;
  /** When the relay observed the change; becomes the top-level `timestamp`. */
  observedAt: Date;
  subscriptionId: string;
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
  /** As registered with the subscription; absent means `{}`. */
  metadata?: JsonObject | null;
  /** Sent only when `includePhotoParameters` is true. */
  photoParameters?: JsonValue | null;
  includePhotoParameters?: boolean;
}

/** The body's `data`: the input less what goes elsewhere, with metadata always an object. */
export type TaskEventData = Omit<
  TaskEventPayloadInput,
  'type' | 'observedAt' | 'metadata' | 'includePhotoParameters'
> & { metadata: JsonObject };

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
 * The webhook body of a task event. Every field is present, with `null` when
 * unknown, so receivers can rely on the shape; the key order is fixed, so the
 * same input always serialises to the same bytes.
 */
export function buildWebhookPayload(input: TaskEventPayloadInput): TaskEventPayload {
  const data: TaskEventData = {
    subscriptionId: input.subscriptionId,
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
    metadata: input.metadata ?? {},
  };
  if (input.includePhotoParameters) data.photoParameters = input.photoParameters ?? null;
  return { type: input.type, timestamp: input.observedAt.toISOString(), data };
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

/** Alerts sent to a tenant's `alertUrl` about its own webhook targets. */
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
