// The per-attempt Secret holding what the trainer must not see in the Job manifest: its bearer token
// (and the job spec, which can be large and which nobody needs to read in `kubectl get job -o yaml`).
// It is created before the Job; the launcher then makes the Job its owner so deleting the Job
// deletes it.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node'
import type { LaunchRequest } from '../executor/executor.ts'
import { jobLabels, jobResourceName } from './resource-names.ts'

export const SECRET_KEYS = { token: 'token', spec: 'spec.json' } as const

export function buildJobSecret(req: LaunchRequest, namespace: string): V1Secret {
  const { spec, token } = req
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: jobResourceName(spec.jobId, spec.attempt),
      namespace,
      labels: jobLabels(spec.jobId, spec.projectId, spec.attempt),
    },
    type: 'Opaque',
    immutable: true,
    stringData: {
      [SECRET_KEYS.token]: token,
      [SECRET_KEYS.spec]: JSON.stringify(spec),
    },
  }
}

/** The ownerReference that hands the Secret's lifetime to its Job. */
export function jobOwnerReference(jobName: string, jobUid: string): V1OwnerReference {
  // blockOwnerDeletion stays off: setting it needs update rights on jobs/finalizers, and nothing
  // is gained by holding the Job's deletion until the Secret is gone.
  return { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid, controller: false, blockOwnerDeletion: false }
}
