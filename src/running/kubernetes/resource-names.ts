// Names and labels of the Kubernetes objects Skillet creates for a job attempt. Everything here is
// derived from (jobId, attempt) alone, so a restarted worker finds the objects it created before and
// a repeated launch hits AlreadyExists instead of creating a second Job.
import { createHash } from 'node:crypto'

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'skillet'
export const LABEL_JOB_ID = 'skillet.dev/job-id'
export const LABEL_PROJECT_ID = 'skillet.dev/project-id'
export const LABEL_ATTEMPT = 'skillet.dev/attempt'

/** Selects every object Skillet manages in the namespace. */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`

/** Selects the objects of one job (all attempts), or of one attempt. */
export function jobSelector(jobId: string, attempt?: number): string {
  const parts = [MANAGED_SELECTOR, `${LABEL_JOB_ID}=${jobId}`]
  if (attempt !== undefined) parts.push(`${LABEL_ATTEMPT}=${attempt}`)
  return parts.join(',')
}

// A label value: at most 63 characters, alphanumerics with - _ . inside.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value)
}

/**
 * The Job's (and its Secret's) name: "skillet-<id>-<hash>-a<attempt>", a DNS-1123 label.
 * Job ids are mixed-case base62, and DNS names are lower-case, so the readable part alone could make
 * two ids collide; the hash of the exact id keeps names distinct. Kept to 63 characters because the
 * Job controller copies the name into a pod label.
 */
export function jobResourceName(jobId: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new Error(`attempt must be a positive integer, got ${attempt}`)
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 8)
  const suffix = `-${hash}-a${attempt}`
  const readable = jobId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - 'skillet-'.length - suffix.length)
    .replace(/-+$/, '')
  return readable ? `skillet-${readable}${suffix}` : `skillet${suffix}`
}

/** The labels on the Job, its pods and its Secret. */
export function jobLabels(jobId: string, projectId: string, attempt: number): Record<string, string> {
  for (const [what, value] of [['job id', jobId], ['project id', projectId]]) {
    if (!isLabelValue(value)) throw new Error(`${what} "${value}" cannot be a Kubernetes label value`)
  }
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_JOB_ID]: jobId,
    [LABEL_PROJECT_ID]: projectId,
    [LABEL_ATTEMPT]: String(attempt),
  }
}
