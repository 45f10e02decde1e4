-- CreateTable
CREATE TABLE "uxc_rate_buckets" (
    "ak" TEXT NOT NULL,
    "next_slot_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paused_until" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "uxc_rate_buckets_pkey" PRIMARY KEY ("ak")
);

-- CreateTable
CREATE TABLE "api_throttle_counters" (
    "key" TEXT NOT NULL,
    "hits" INTEGER NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "api_throttle_counters_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "poller_heartbeats" (
    "owner" TEXT NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "poller_heartbeats_pkey" PRIMARY KEY ("owner")
);

-- CreateIndex
CREATE INDEX "api_throttle_counters_expires_at_idx" ON "api_throttle_counters"("expires_at");

-- CreateIndex
CREATE INDEX "poller_heartbeats_seen_at_idx" ON "poller_heartbeats"("seen_at");
