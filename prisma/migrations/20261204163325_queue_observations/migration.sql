-- CreateTable
CREATE TABLE "queue_observations" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "queue_num" INTEGER,
    "run_seconds" DOUBLE PRECISION,
    "observed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "queue_observations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "queue_observations_tenant_id_observed_at_idx" ON "queue_observations"("tenant_id", "observed_at" DESC);
