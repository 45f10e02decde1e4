-- DropIndex
DROP INDEX "deliveries_subscription_id_event_id_key";

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "alert_url" TEXT;

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "resend" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "tenant_alerts" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_by" TEXT,
    "locked_until" TIMESTAMPTZ(3),
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "tenant_alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status_code" INTEGER,
    "body" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope","key")
);

-- CreateIndex
CREATE INDEX "tenant_alerts_state_next_attempt_at_idx" ON "tenant_alerts"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "tenant_alerts_tenant_id_idx" ON "tenant_alerts"("tenant_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "deliveries_subscription_id_event_id_resend_key" ON "deliveries"("subscription_id", "event_id", "resend");

-- AddForeignKey
ALTER TABLE "tenant_alerts" ADD CONSTRAINT "tenant_alerts_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
