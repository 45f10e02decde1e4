-- DropIndex
DROP INDEX "deliveries_state_next_attempt_at_idx";

-- DropIndex
DROP INDEX "deliveries_state_attempts_next_attempt_at_idx";

-- AlterTable
ALTER TABLE "deliveries" DROP COLUMN "locked_by",
DROP COLUMN "locked_until",
ADD COLUMN     "detached" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "first_failed_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "delivery_attempts" ADD COLUMN     "response_headers" JSONB;

-- CreateTable
CREATE TABLE "delivery_lanes" (
    "id" TEXT NOT NULL,
    "subscription_id" TEXT NOT NULL,
    "delivery_id" TEXT,
    "host" TEXT NOT NULL,
    "due_at" TIMESTAMPTZ(3),
    "hold_until" TIMESTAMPTZ(3),
    "locked_by" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "retrying" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "delivery_lanes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "delivery_lanes_delivery_id_key" ON "delivery_lanes"("delivery_id");

-- CreateIndex
CREATE INDEX "delivery_lanes_host_retrying_due_at_idx" ON "delivery_lanes"("host", "retrying", "due_at");

-- CreateIndex
CREATE INDEX "delivery_lanes_subscription_id_idx" ON "delivery_lanes"("subscription_id");

-- AddForeignKey
ALTER TABLE "delivery_lanes" ADD CONSTRAINT "delivery_lanes_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_lanes" ADD CONSTRAINT "delivery_lanes_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Room on each page for the new version of a row, so the updates of an attempt
-- (none of which touches an indexed column) stay heap-only.
ALTER TABLE "deliveries" SET (fillfactor = 70);
ALTER TABLE "delivery_lanes" SET (fillfactor = 50);

-- Deliveries pending before this migration get their subscription's lane, due now.
INSERT INTO "delivery_lanes" ("id", "subscription_id", "host", "due_at")
SELECT DISTINCT s."id", s."id",
       lower(substring(split_part(split_part(split_part(split_part(s."callback_url", '://', 2), '/', 1), '?', 1), '#', 1)
         from position('@' in split_part(split_part(split_part(split_part(s."callback_url", '://', 2), '/', 1), '?', 1), '#', 1)) + 1)),
       now()
FROM "deliveries" d JOIN "subscriptions" s ON s."id" = d."subscription_id"
WHERE d."state" = 'pending';
