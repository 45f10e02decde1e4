-- CreateIndex
CREATE INDEX "tasks_tenant_id_id_idx" ON "tasks"("tenant_id", "id");
