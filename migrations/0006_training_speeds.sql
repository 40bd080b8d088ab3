CREATE TABLE "training_speeds" (
	"base_model" text NOT NULL,
	"backend" text NOT NULL,
	"tokens_per_second" double precision NOT NULL,
	"overhead_seconds" double precision NOT NULL,
	"jobs" integer NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "training_speeds_base_model_backend_pk" PRIMARY KEY("base_model","backend")
);
