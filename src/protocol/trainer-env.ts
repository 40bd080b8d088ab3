// The environment contract between a launcher and the trainer process (src/cli/trainer.ts reads it).
export const TRAINER_ENV = {
  /** The TrainerJobSpec as JSON. */
  spec: 'SKILLET_JOB_SPEC',
  /** Bearer token for the API's internal trainer endpoints. */
  token: 'SKILLET_JOB_TOKEN',
  /** Base URL of the internal trainer endpoints (the spec's callbackUrl, repeated for convenience). */
  callbackUrl: 'SKILLET_CALLBACK_URL',
} as const
