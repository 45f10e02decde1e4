-- AlterTable
ALTER TABLE "subscriptions" ADD COLUMN     "last_success_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "endpoints" ADD COLUMN     "last_success_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "tenant_alerts" ADD COLUMN     "endpoint_id" TEXT;

-- CreateIndex
CREATE INDEX "tenant_alerts_endpoint_id_idx" ON "tenant_alerts"("endpoint_id");

-- AddForeignKey
ALTER TABLE "tenant_alerts" ADD CONSTRAINT "tenant_alerts_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The last successes so far, from the deliveries still kept
UPDATE "subscriptions" s SET "last_success_at" = d.at
FROM (SELECT subscription_id, max(completed_at) AS at FROM "deliveries"
      WHERE state = 'succeeded' GROUP BY subscription_id) d
WHERE s.id = d.subscription_id;

UPDATE "endpoints" e SET "last_success_at" = s.at
FROM (SELECT endpoint_id, max(last_success_at) AS at FROM "subscriptions"
      WHERE endpoint_id IS NOT NULL GROUP BY endpoint_id) s
WHERE e.id = s.endpoint_id AND s.at IS NOT NULL;
