// SKILLET_EXECUTOR, SKILLET_KUBERNETES_EXECUTOR, SKILLET_INTERNAL_URL and the metrics settings.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/index.ts'

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

const kube = (executor: unknown, extra: Record<string, string> = {}) => ({
  SKILLET_EXECUTOR: 'kubernetes',
  SKILLET_KUBERNETES_EXECUTOR: typeof executor === 'string' ? executor : JSON.stringify(executor),
  SKILLET_INTERNAL_URL: 'http://skillet.skillet.svc/internal/v1',
  ...extra,
})

t.test('defaults: local trainers, metrics on port 9464, no metrics on the API port', async (t) => {
  const c = loadConfig({})
  t.same(c.executor, { kind: 'local' })
  t.same(c.metrics, { port: 9464, token: undefined })
  t.equal(c.jobs.callbackUrl, undefined)
})

t.test('a Kubernetes executor from the JSON the Helm chart writes', async (t) => {
  const executor = {
    namespace: 'skillet-training',
    image: 'ghcr.io/skillet-dev/skillet-trainer:0.1.0',
    imagePullPolicy: 'IfNotPresent',
    gpuCount: 1,
    gpuResourceName: 'nvidia.com/gpu',
    requests: { cpu: '4', memory: '24Gi' },
    limits: { memory: '32Gi' },
    nodeSelector: {},
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    backoffLimit: 0,
    ttlSecondsAfterFinished: 3600,
    shmSize: '8Gi',
    scratchSize: '50Gi',
    unschedulableTimeoutSeconds: 1800,
    s3SecretName: 'skillet-s3',
    kueueQueueName: 'gpu-queue',
  }
  const c = loadConfig(kube(executor, { KUBECONFIG: '/etc/kube/config', SKILLET_KUBERNETES_RESYNC_SECONDS: '10' }))
  t.same(c.executor, { kind: 'kubernetes', executor, kubeconfigPath: '/etc/kube/config', resyncIntervalMs: 10_000 })
  t.equal(c.jobs.callbackUrl, 'http://skillet.skillet.svc/internal/v1', 'SKILLET_INTERNAL_URL is where trainers call back')
})

t.test('each bad field of SKILLET_KUBERNETES_EXECUTOR is named', async (t) => {
  const problems = problemsOf(
    kube({
      namespace: 'Training_NS',
      image: 'trainer:1',
      gpus: 2,
      gpuCount: -1,
      limits: { memory: '32 GB' },
      tolerations: [{ key: 'gpu', operator: 'Sometimes' }],
      extraEnv: { HF_TOKEN: 12345 },
    }),
  ).join('\n')
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/gpus is not a known field/)
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/gpuCount must be >= 0/)
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/namespace must match pattern/)
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/limits\/memory must match pattern/)
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/tolerations\/0\/operator/)
  t.match(problems, /SKILLET_KUBERNETES_EXECUTOR: \/extraEnv\/HF_TOKEN must be string/)
  t.notMatch(problems, /12345/, 'values are not echoed')
})

t.test('missing or malformed Kubernetes settings', async (t) => {
  t.match(problemsOf(kube({ image: 'trainer:1' })).join('\n'), /must have required property 'namespace'|namespace/)
  t.match(problemsOf(kube('{"namespace": ')).join('\n'), /SKILLET_KUBERNETES_EXECUTOR is not valid JSON/)
  t.match(problemsOf({ SKILLET_EXECUTOR: 'kubernetes', SKILLET_INTERNAL_URL: 'http://api/internal/v1' }).join('\n'), /SKILLET_KUBERNETES_EXECUTOR is required with SKILLET_EXECUTOR=kubernetes/)
  t.match(
    problemsOf({ SKILLET_EXECUTOR: 'kubernetes', SKILLET_KUBERNETES_EXECUTOR: JSON.stringify({ namespace: 'ns', image: 'i' }) }).join('\n'),
    /SKILLET_INTERNAL_URL is required with SKILLET_EXECUTOR=kubernetes/,
  )
  t.match(problemsOf({ SKILLET_EXECUTOR: 'slurm' }).join('\n'), /SKILLET_EXECUTOR must be one of local, kubernetes/)
  t.match(problemsOf({ SKILLET_KUBERNETES_EXECUTOR: '{}' }).join('\n'), /SKILLET_KUBERNETES_EXECUTOR is set but SKILLET_EXECUTOR is not kubernetes/)
})

t.test('internal URL: SKILLET_INTERNAL_URL, or the older SKILLET_CALLBACK_URL', async (t) => {
  t.equal(loadConfig({ SKILLET_CALLBACK_URL: 'http://old/internal/v1' }).jobs.callbackUrl, 'http://old/internal/v1')
  t.equal(loadConfig({ SKILLET_CALLBACK_URL: 'http://old/internal/v1', SKILLET_INTERNAL_URL: 'http://new/internal/v1' }).jobs.callbackUrl, 'http://new/internal/v1')
  t.match(problemsOf({ SKILLET_INTERNAL_URL: 'ftp://x' }).join('\n'), /SKILLET_INTERNAL_URL must start with http:\/\/ or https:\/\//)
})

t.test('metrics settings', async (t) => {
  t.same(loadConfig({ SKILLET_METRICS_PORT: '0', SKILLET_METRICS_TOKEN: 'a-long-enough-token' }).metrics, { port: 0, token: 'a-long-enough-token' })
  const problems = problemsOf({ SKILLET_METRICS_TOKEN: 'short', PORT: '9000', SKILLET_METRICS_PORT: '9000' }).join('\n')
  t.match(problems, /SKILLET_METRICS_TOKEN must be at least 16 characters long/)
  t.notMatch(problems, /short/, 'the token is not echoed')
  t.match(problems, /SKILLET_METRICS_PORT must differ from PORT/)
})
