CREATE TABLE "fine_tuned_models" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"job_id" text NOT NULL,
	"base_model" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fine_tuning_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"training_file" text NOT NULL,
	"validation_file" text,
	"suffix" text,
	"seed" integer NOT NULL,
	"metadata" jsonb,
	"method" jsonb NOT NULL,
	"resolved_hyperparameters" jsonb,
	"integrations" jsonb,
	"dry_run" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"error" jsonb,
	"fine_tuned_model" text,
	"trained_tokens" bigint,
	"estimate" jsonb,
	"estimated_finish" bigint,
	"result_files" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"finished_at" bigint,
	"run_after" bigint NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"heartbeat_at" bigint,
	"trainer_token_hash" text,
	"stop_requested" text
);
--> statement-breakpoint
CREATE TABLE "hub_model_cache" (
	"repo" text PRIMARY KEY NOT NULL,
	"revision" text NOT NULL,
	"blob_prefix" text NOT NULL,
	"fetched_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_checkpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"project_id" text NOT NULL,
	"step_number" integer NOT NULL,
	"model_id" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"blob_prefix" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"job_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"idempotency_key" text
);
--> statement-breakpoint
CREATE TABLE "model_artifacts" (
	"model_id" text NOT NULL,
	"name" text NOT NULL,
	"blob_key" text NOT NULL,
	"bytes" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "model_artifacts_model_id_name_pk" PRIMARY KEY("model_id","name")
);
--> statement-breakpoint
ALTER TABLE "fine_tuned_models" ADD CONSTRAINT "fine_tuned_models_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fine_tuning_jobs" ADD CONSTRAINT "fine_tuning_jobs_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_checkpoints" ADD CONSTRAINT "job_checkpoints_job_id_fine_tuning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."fine_tuning_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_fine_tuning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."fine_tuning_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_artifacts" ADD CONSTRAINT "model_artifacts_model_id_fine_tuned_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."fine_tuned_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fine_tuned_models_project_idx" ON "fine_tuned_models" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE INDEX "fine_tuning_jobs_project_seq_idx" ON "fine_tuning_jobs" USING btree ("project_id","seq");--> statement-breakpoint
CREATE INDEX "fine_tuning_jobs_runnable_idx" ON "fine_tuning_jobs" USING btree ("seq") WHERE status = 'queued';--> statement-breakpoint
CREATE INDEX "fine_tuning_jobs_active_idx" ON "fine_tuning_jobs" USING btree ("status","project_id") WHERE status in ('running', 'pausing');--> statement-breakpoint
CREATE UNIQUE INDEX "fine_tuning_jobs_fine_tuned_model_idx" ON "fine_tuning_jobs" USING btree ("fine_tuned_model");--> statement-breakpoint
CREATE UNIQUE INDEX "job_checkpoints_job_step_idx" ON "job_checkpoints" USING btree ("job_id","step_number");--> statement-breakpoint
CREATE UNIQUE INDEX "job_checkpoints_model_idx" ON "job_checkpoints" USING btree ("model_id");--> statement-breakpoint
CREATE INDEX "job_events_job_seq_idx" ON "job_events" USING btree ("job_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "job_events_idempotency_idx" ON "job_events" USING btree ("job_id","idempotency_key");