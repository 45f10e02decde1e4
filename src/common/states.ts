/**
 * Every state column's names, as the database's enums have them
 * (prisma/schema.prisma, migration 20261205073500_state_enums): the database
 * refuses any other value, and these lists are what the API validates against.
 */
export { TASK_STATES } from '../config/task-state';
export type { TaskState } from '../config/task-state';

/** `tasks.tracking`: whether the relay is still polling a task, and if not, why. */
export const TASK_TRACKINGS = ['active', 'completed', 'expired', 'error', 'idle'] as const;
export type TaskTracking = (typeof TASK_TRACKINGS)[number];

/** Trackings in which a task is no longer polled and will not be again unless tracked anew. */
export const FINISHED_TRACKINGS: readonly string[] = ['completed', 'expired', 'error'];

/** `subscriptions.state` */
export const SUBSCRIPTION_STATES = ['active', 'canceled', 'disabled', 'done'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** Subscription states a repeated registration brings back to life: the client clearly wants it again. */
export const REVIVABLE_STATES: readonly SubscriptionState[] = ['canceled', 'disabled'];

/** `deliveries.state` */
export const DELIVERY_STATES = [
  'pending',
  'succeeded',
  'failed',
  'superseded',
  'canceled',
  'held',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** `endpoints.state` */
export const ENDPOINT_STATES = ['active', 'disabled'] as const;
export type EndpointState = (typeof ENDPOINT_STATES)[number];

/** `recoveries.state` (the API's `completed` is a sent one with nothing left pending) */
export const RECOVERY_STATES = ['queued', 'sent'] as const;
export type RecoveryState = (typeof RECOVERY_STATES)[number];

/** `tenant_alerts.state` */
export const ALERT_STATES = ['pending', 'succeeded', 'failed'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
