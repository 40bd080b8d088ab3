CREATE TABLE "checkpoint_artifacts" (
	"checkpoint_id" text NOT NULL,
	"name" text NOT NULL,
	"blob_key" text NOT NULL,
	"bytes" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "checkpoint_artifacts_checkpoint_id_name_pk" PRIMARY KEY("checkpoint_id","name")
);
--> statement-breakpoint
ALTER TABLE "checkpoint_artifacts" ADD CONSTRAINT "checkpoint_artifacts_checkpoint_id_job_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."job_checkpoints"("id") ON DELETE cascade ON UPDATE no action;