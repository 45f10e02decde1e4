-- States become enums, so the database refuses a state that is none of them.
-- Each column is converted in place, its default dropped first (a text
-- default does not cast itself) and set again. The type change rebuilds the
-- indexes on these columns.
CREATE TYPE "task_state" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'canceled', 'unknown');
CREATE TYPE "task_tracking" AS ENUM ('active', 'completed', 'expired', 'error', 'idle');
CREATE TYPE "subscription_state" AS ENUM ('active', 'canceled', 'disabled', 'done');
CREATE TYPE "delivery_state" AS ENUM ('pending', 'succeeded', 'failed', 'superseded', 'canceled', 'held');
CREATE TYPE "endpoint_state" AS ENUM ('active', 'disabled');
CREATE TYPE "recovery_state" AS ENUM ('queued', 'sent');
CREATE TYPE "alert_state" AS ENUM ('pending', 'succeeded', 'failed');

ALTER TABLE "tasks"
  ALTER COLUMN "state" TYPE "task_state" USING "state"::"task_state",
  ALTER COLUMN "tracking" DROP DEFAULT,
  ALTER COLUMN "tracking" TYPE "task_tracking" USING "tracking"::"task_tracking",
  ALTER COLUMN "tracking" SET DEFAULT 'active';

ALTER TABLE "task_events"
  ALTER COLUMN "state" TYPE "task_state" USING "state"::"task_state",
  ALTER COLUMN "previous_state" TYPE "task_state" USING "previous_state"::"task_state";

ALTER TABLE "subscriptions"
  ALTER COLUMN "state" DROP DEFAULT,
  ALTER COLUMN "state" TYPE "subscription_state" USING "state"::"subscription_state",
  ALTER COLUMN "state" SET DEFAULT 'active';

ALTER TABLE "deliveries"
  ALTER COLUMN "state" DROP DEFAULT,
  ALTER COLUMN "state" TYPE "delivery_state" USING "state"::"delivery_state",
  ALTER COLUMN "state" SET DEFAULT 'pending';

ALTER TABLE "endpoints"
  ALTER COLUMN "state" DROP DEFAULT,
  ALTER COLUMN "state" TYPE "endpoint_state" USING "state"::"endpoint_state",
  ALTER COLUMN "state" SET DEFAULT 'active';

ALTER TABLE "recoveries"
  ALTER COLUMN "state" DROP DEFAULT,
  ALTER COLUMN "state" TYPE "recovery_state" USING "state"::"recovery_state",
  ALTER COLUMN "state" SET DEFAULT 'queued';

ALTER TABLE "tenant_alerts"
  ALTER COLUMN "state" DROP DEFAULT,
  ALTER COLUMN "state" TYPE "alert_state" USING "state"::"alert_state",
  ALTER COLUMN "state" SET DEFAULT 'pending';
