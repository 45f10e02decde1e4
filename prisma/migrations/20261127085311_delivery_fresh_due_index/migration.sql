-- CreateIndex
CREATE INDEX "deliveries_state_attempts_next_attempt_at_idx" ON "deliveries"("state", "attempts", "next_attempt_at");
