// How many threads each local trainer computes on. A trainer's default (SKILLET_TRAINER_THREADS
// unset: 'auto') is every core the process may use, right for one trainer. Several trainers at once
// would each run a pool that size: their parallel loops wait on threads the other pools hold, and
// products run several times slower than on a fair share (measured with two pools of 2 threads on
// 2 cores). So with more than one trainer allowed, each gets an equal share of the cores, at least 1.
// An operator's own SKILLET_TRAINER_THREADS is passed through as it is.

/** The SKILLET_TRAINER_THREADS a trainer child gets, or null to leave the setting alone. */
export function sharedTrainerThreads(operatorSetting: string | undefined, maxConcurrent: number, cores: number): string | null {
  if (operatorSetting !== undefined && operatorSetting.trim() !== '') return null
  if (maxConcurrent <= 1) return null
  return String(Math.max(1, Math.floor(cores / maxConcurrent)))
}
