// Removing everything Skillet created for a job, all attempts: used by cancel and by the orphan sweep.
import type { BatchV1Api, CoreV1Api } from '@kubernetes/client-node'
import { isNotFound } from './kube-errors.ts'
import { jobSelector } from './resource-names.ts'

/** Deletes a job's Jobs (pods follow, in the background) and Secrets. Already gone is fine. */
export async function deleteJobObjects(batch: BatchV1Api, core: CoreV1Api, namespace: string, jobId: string): Promise<void> {
  const labelSelector = jobSelector(jobId)
  const [jobs, secrets] = await Promise.all([
    batch.listNamespacedJob({ namespace, labelSelector }),
    core.listNamespacedSecret({ namespace, labelSelector }),
  ])
  const ignoreNotFound = (err: unknown) => {
    if (!isNotFound(err)) throw err
  }
  await Promise.all([
    // batch/v1 Jobs orphan their pods unless told otherwise; Background lets the API server return
    // at once and the garbage collector remove the pods (and the owned Secret).
    ...jobs.items.map((j) =>
      batch.deleteNamespacedJob({ name: j.metadata!.name!, namespace, propagationPolicy: 'Background' }).catch(ignoreNotFound),
    ),
    ...secrets.items.map((s) => core.deleteNamespacedSecret({ name: s.metadata!.name!, namespace }).catch(ignoreNotFound)),
  ])
}
