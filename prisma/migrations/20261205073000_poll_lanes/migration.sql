-- DropIndex
DROP INDEX "tasks_tracking_next_poll_at_idx";

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "poll_lane" SMALLINT NOT NULL DEFAULT 0;

-- Tasks queued behind the head (past NEAR_HEAD_QUEUE_NUM = 2) go to lane 1, as
-- pollLane() in src/poller/cadence.ts puts them. Every other task stays in lane 0.
UPDATE "tasks" SET "poll_lane" = 1 WHERE "state" = 'queued' AND "queue_num" > 2;

-- CreateIndex
CREATE INDEX "tasks_tracking_poll_lane_next_poll_at_idx" ON "tasks"("tracking", "poll_lane", "next_poll_at");
