// The part of Kubernetes' Job controller the fake needs: what happens to a Job when one of its pods
// finishes, following the Job's own podFailurePolicy and backoffLimit the way the real controller
// does (rules in order, first match wins; Ignore does not count towards the backoff limit).
import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node'

export type PodOutcome =
  | { kind: 'succeeded' }
  | { kind: 'fail-job'; reason: string; message: string; counted: boolean }
  | { kind: 'retry'; counted: boolean }

export function judgeFinishedPod(job: V1Job, pod: V1Pod, failedSoFar: number): PodOutcome {
  if (pod.status?.phase === 'Succeeded') return { kind: 'succeeded' }
  const where = `${pod.metadata?.namespace}/${pod.metadata?.name}`
  const rules = job.spec?.podFailurePolicy?.rules ?? []
  for (const [index, rule] of rules.entries()) {
    const match = matchRule(rule, pod)
    if (!match) continue
    if (rule.action === 'FailJob') {
      return { kind: 'fail-job', reason: 'PodFailurePolicy', message: `${match.replace('%POD%', where)} matching FailJob rule at index ${index}`, counted: true }
    }
    if (rule.action === 'Ignore') return { kind: 'retry', counted: false }
    break // Count: the ordinary backoff rules apply
  }
  const backoffLimit = job.spec?.backoffLimit ?? 6
  if (failedSoFar + 1 > backoffLimit) {
    return { kind: 'fail-job', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', counted: true }
  }
  return { kind: 'retry', counted: true }
}

type Rule = NonNullable<NonNullable<V1Job['spec']>['podFailurePolicy']>['rules'][number]

/** The controller's description of why the rule matched, or undefined. */
function matchRule(rule: Rule, pod: V1Pod): string | undefined {
  if (rule.onExitCodes) {
    const { containerName, operator, values } = rule.onExitCodes
    for (const c of pod.status?.containerStatuses ?? []) {
      if (containerName && c.name !== containerName) continue
      const code = c.state?.terminated?.exitCode
      if (code === undefined || code === 0) continue
      if ((operator === 'In') === values.includes(code)) return `Container ${c.name} for pod %POD% failed with exit code ${code}`
    }
    return undefined
  }
  for (const pattern of rule.onPodConditions ?? []) {
    const hit = pod.status?.conditions?.find((c) => c.type === pattern.type && c.status === (pattern.status ?? 'True'))
    if (hit) return `Pod %POD% has condition ${pattern.type}`
  }
  return undefined
}

export function jobCondition(type: string, reason: string, message: string, now: Date): V1JobCondition {
  const at = now.toISOString()
  return { type, status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at } as unknown as V1JobCondition
}
