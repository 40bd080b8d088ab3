// Sorting listed Jobs and Pods by the Skillet job they belong to. A job can have several attempts
// (one Job each); what counts is the newest.
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { LABEL_ATTEMPT, LABEL_JOB_ID } from './resource-names.ts'

type Labelled = { metadata?: { labels?: Record<string, string> } }

export function jobIdOf(obj: Labelled): string | undefined {
  return obj.metadata?.labels?.[LABEL_JOB_ID]
}

export function attemptOf(obj: Labelled): number {
  return Number(obj.metadata?.labels?.[LABEL_ATTEMPT] ?? 0)
}

/** The Job of the highest attempt, and only that attempt's pods. */
export function latestAttempt(jobs: readonly V1Job[], pods: readonly V1Pod[]): { job: V1Job | undefined; pods: V1Pod[] } {
  const job = [...jobs].sort((a, b) => attemptOf(a) - attemptOf(b)).at(-1)
  if (!job) return { job: undefined, pods: [] }
  return { job, pods: pods.filter((p) => jobIdOf(p) === jobIdOf(job) && attemptOf(p) === attemptOf(job)) }
}

/** Groups a namespace-wide listing by job id (objects without the label are skipped). */
export function groupByJobId<T extends Labelled>(objects: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const o of objects) {
    const id = jobIdOf(o)
    if (id === undefined) continue
    groups.set(id, [...(groups.get(id) ?? []), o])
  }
  return groups
}
