-- DropIndex
DROP INDEX "subscriptions_tenant_id_sid_callback_url_key";

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "metadata" JSONB,
ADD COLUMN     "tracked_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "subscriptions" ADD COLUMN     "endpoint_id" TEXT,
ADD COLUMN     "endpoint_key" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "recovery_id" TEXT;

-- CreateTable
CREATE TABLE "endpoints" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "description" TEXT,
    "state" TEXT NOT NULL DEFAULT 'active',
    "webhook_secret_enc" TEXT NOT NULL,
    "previous_secret_enc" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recoveries" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "subscription_id" TEXT,
    "endpoint_id" TEXT,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "total" INTEGER NOT NULL DEFAULT 0,
    "locked_by" TEXT,
    "locked_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),

    CONSTRAINT "recoveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "endpoints_tenant_id_id_idx" ON "endpoints"("tenant_id", "id");

-- CreateIndex
CREATE INDEX "recoveries_state_locked_until_idx" ON "recoveries"("state", "locked_until");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_tenant_id_sid_callback_url_endpoint_key_key" ON "subscriptions"("tenant_id", "sid", "callback_url", "endpoint_key");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_endpoint_id_task_id_key" ON "subscriptions"("endpoint_id", "task_id");

-- CreateIndex
CREATE INDEX "deliveries_recovery_id_idx" ON "deliveries"("recovery_id");

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "endpoints" ADD CONSTRAINT "endpoints_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recoveries" ADD CONSTRAINT "recoveries_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recoveries" ADD CONSTRAINT "recoveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recoveries" ADD CONSTRAINT "recoveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
