// The shape SKILLET_KUBERNETES_EXECUTOR (JSON) must have: a KubernetesExecutorConfig
// (src/config/kubernetes-executor-config.ts), checked field by field at start so a typo in the Helm
// values or a hand-written ConfigMap stops the worker with the field's path, not a 422 from the API
// server on the first launch. Unknown fields are errors, as they are for the API server.
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { KubernetesExecutorConfig } from './kubernetes-executor-config.ts'

/** A Kubernetes resource quantity: 4, 500m, 24Gi, 1.5G, 1e3. */
const Quantity = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?([eE][0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' })
const DnsLabel = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })
const DnsSubdomain = Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' })
const Resources = Type.Object({ cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) }, { additionalProperties: false })
const Toleration = Type.Object(
  {
    key: Type.Optional(Type.String()),
    operator: Type.Optional(Type.Enum(['Exists', 'Equal'])),
    value: Type.Optional(Type.String()),
    effect: Type.Optional(Type.Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''])),
    tolerationSeconds: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
)
/** Passed through to the pod spec as written; the API server validates their insides. */
const KubeObject = Type.Record(Type.String(), Type.Unknown())

export const KubernetesExecutorConfigSchema = Type.Object(
  {
    namespace: DnsLabel,
    image: Type.String({ minLength: 1 }),
    imagePullPolicy: Type.Optional(Type.Enum(['Always', 'IfNotPresent', 'Never'])),
    imagePullSecrets: Type.Optional(Type.Array(DnsSubdomain)),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    args: Type.Optional(Type.Array(Type.String())),
    gpuCount: Type.Optional(Type.Integer({ minimum: 0 })),
    gpuResourceName: Type.Optional(Type.String({ minLength: 1 })),
    requests: Type.Optional(Resources),
    limits: Type.Optional(Resources),
    nodeSelector: Type.Optional(Type.Record(Type.String(), Type.String())),
    tolerations: Type.Optional(Type.Array(Toleration)),
    affinity: Type.Optional(KubeObject),
    priorityClassName: Type.Optional(Type.String()),
    kueueQueueName: Type.Optional(DnsSubdomain),
    kueuePriorityClass: Type.Optional(DnsSubdomain),
    backoffLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    activeDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ minimum: 0 })),
    shmSize: Type.Optional(Quantity),
    scratchSize: Type.Optional(Quantity),
    cudaCacheClaimName: Type.Optional(DnsSubdomain),
    s3SecretName: Type.Optional(DnsSubdomain),
    serviceAccountName: Type.Optional(DnsSubdomain),
    unschedulableTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    badInputExitCode: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    runAsUser: Type.Optional(Type.Integer({ minimum: 1 })),
    extraEnv: Type.Optional(Type.Record(Type.String(), Type.String())),
    extraVolumes: Type.Optional(Type.Array(KubeObject)),
    extraVolumeMounts: Type.Optional(Type.Array(KubeObject)),
  },
  { additionalProperties: false },
)

// Every key of the interface is in the schema and back (a new launcher option must be added here too).
type SchemaKeys = keyof Static<typeof KubernetesExecutorConfigSchema>
const sameKeys: [SchemaKeys, keyof KubernetesExecutorConfig] extends [keyof KubernetesExecutorConfig, SchemaKeys] ? true : never = true
void sameKeys

const check = Compile(KubernetesExecutorConfigSchema)

/**
 * Parses and checks the JSON; returns the config, or one problem per bad field (named by its path,
 * e.g. "/limits/memory must match pattern …"; a problem of the whole value has no path, e.g. "is not
 * valid JSON"). The values are never echoed: extraEnv may hold secrets.
 */
export function parseKubernetesExecutorConfig(json: string): { config: KubernetesExecutorConfig } | { problems: string[] } {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (err) {
    return { problems: [`is not valid JSON (${(err as Error).message})`] }
  }
  if (check.Check(value)) return { config: value as unknown as KubernetesExecutorConfig }
  const problems: string[] = []
  for (const e of check.Errors(value)) {
    // TypeBox reports an unknown field twice (as "schema is false" at the field, and at its parent); keep one.
    if (e.keyword === 'boolean') continue
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? []
      for (const name of extra) problems.push(`${e.instancePath}/${name} is not a known field`)
      continue
    }
    problems.push(e.instancePath ? `${e.instancePath} ${e.message}` : e.message)
  }
  return { problems: problems.length > 0 ? [...new Set(problems)] : ['does not have the expected shape'] }
}
