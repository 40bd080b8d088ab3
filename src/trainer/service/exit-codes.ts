// How the trainer process ends (src/cli/trainer.ts); executors and Kubernetes act on these.
export const TRAINER_EXIT = {
  /** Succeeded, paused after a checkpoint, or no longer needed (cancelled, a newer attempt). */
  ok: 0,
  /** The attempt failed; a retry might succeed. */
  failed: 1,
  /** Input no retry can fix (bad spec or setting, unloadable base model, unusable data); the
   * Kubernetes podFailurePolicy fails the Job at once on it (DEFAULT_BAD_INPUT_EXIT_CODE). */
  badInput: 2,
  /** The server that launched this trainer (SKILLET_PARENT_PID) is gone. */
  orphaned: 70,
  /** SIGTERM with no pause or cancel from the API (a node drain): checkpointed, then stopped. */
  terminated: 143,
} as const
