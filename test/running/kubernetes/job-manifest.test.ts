import t from 'tap'
import { buildTrainerJob, CUDA_CACHE_MOUNT, KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, TRAINER_CONTAINER } from '../../../src/running/kubernetes/job-manifest.ts'
import { buildJobSecret, SECRET_KEYS } from '../../../src/running/kubernetes/secret-manifest.ts'
import { DEFAULT_TRAINER_COMMAND, resolveKubernetesExecutorConfig, type KubernetesExecutorConfig } from '../../../src/config/kubernetes-executor-config.ts'
import { jobResourceName } from '../../../src/running/kubernetes/resource-names.ts'
import { TRAINER_ENV } from '../../../src/protocol/trainer-env.ts'
import { kubeSchemaErrors } from '../../helpers/fake-kube/kube-schemas.ts'
import { launchRequest, trainerSpec } from './fixtures.ts'

const fullConfig: KubernetesExecutorConfig = {
  namespace: 'skillet-training',
  image: 'ghcr.io/example/skillet-trainer:0.1.0',
  imagePullPolicy: 'Always',
  imagePullSecrets: ['regcred'],
  gpuCount: 2,
  gpuResourceName: 'amd.com/gpu',
  requests: { cpu: '4', memory: '24Gi' },
  limits: { cpu: '8', memory: '32Gi' },
  nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' },
  tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
      },
    },
  },
  priorityClassName: 'training-low',
  backoffLimit: 1,
  activeDeadlineSeconds: 86_400,
  ttlSecondsAfterFinished: 600,
  shmSize: '16Gi',
  s3SecretName: 'skillet-s3',
  serviceAccountName: 'skillet-trainer',
  extraEnv: { HF_HUB_OFFLINE: '1' },
}

t.test('the built Job and Secret pass the official Kubernetes 1.35 schemas with unknown fields forbidden', async (t) => {
  const config = resolveKubernetesExecutorConfig(fullConfig)
  t.same(kubeSchemaErrors('Job', buildTrainerJob(trainerSpec(), config)), [])
  t.same(kubeSchemaErrors('Job', buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ ...fullConfig, kueueQueueName: 'gpu', kueuePriorityClass: 'low' }))), [])
  t.same(kubeSchemaErrors('Job', buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))), [])
  t.same(kubeSchemaErrors('Secret', buildJobSecret(launchRequest(), 'skillet-training')), [])

  // The check has teeth: a misspelt field or a malformed quantity fails it.
  const typo = buildTrainerJob(trainerSpec(), config) as unknown as { spec: Record<string, unknown> }
  typo.spec.backofLimit = 3
  t.match(kubeSchemaErrors('Job', typo).join('\n'), /additional properties "backofLimit"/)
  const badQuantity = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ ...fullConfig, limits: { memory: '32 GB' } }))
  t.match(kubeSchemaErrors('Job', badQuantity).join('\n'), /limits\/memory/)
})

t.test('the Job runs the trainer image with its command, resources and placement', async (t) => {
  const job = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig(fullConfig))
  const pod = job.spec!.template.spec!
  const c = pod.containers[0]
  t.equal(c.name, TRAINER_CONTAINER)
  t.equal(c.image, fullConfig.image)
  t.equal(c.imagePullPolicy, 'Always')
  t.same(c.command, DEFAULT_TRAINER_COMMAND)
  t.same(c.resources, { requests: { cpu: '4', memory: '24Gi' }, limits: { cpu: '8', memory: '32Gi', 'amd.com/gpu': '2' } })
  t.same(pod.nodeSelector, fullConfig.nodeSelector)
  t.same(pod.tolerations, fullConfig.tolerations)
  t.same(pod.affinity, fullConfig.affinity)
  t.equal(pod.priorityClassName, 'training-low')
  t.equal(pod.serviceAccountName, 'skillet-trainer')
  t.equal(pod.automountServiceAccountToken, false)
  t.same(pod.imagePullSecrets, [{ name: 'regcred' }])
  t.equal(job.spec!.backoffLimit, 1)
  t.equal(job.spec!.activeDeadlineSeconds, 86_400)
  t.equal(job.spec!.ttlSecondsAfterFinished, 600)

  const cpuOnly = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i', gpuCount: 0 }))
  t.same(cpuOnly.spec!.template.spec!.containers[0].resources!.limits, {}, 'no GPU asked for when gpuCount is 0')
  const defaults = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))
  t.same(defaults.spec!.template.spec!.containers[0].resources!.limits, { 'nvidia.com/gpu': '1' }, 'one nvidia.com/gpu by default')
  t.equal(defaults.spec!.backoffLimit, 0, 'Skillet retries attempts itself by default')
  t.notOk('activeDeadlineSeconds' in defaults.spec!, 'no deadline unless configured')
})

t.test('the trainer gets its spec and token from the per-job Secret, S3 settings from the existing Secret', async (t) => {
  const spec = trainerSpec()
  const job = buildTrainerJob(spec, resolveKubernetesExecutorConfig(fullConfig))
  const secret = buildJobSecret(launchRequest(), fullConfig.namespace)
  const c = job.spec!.template.spec!.containers[0]
  const env = Object.fromEntries(c.env!.map((e) => [e.name, e]))
  t.equal(secret.metadata!.name, job.metadata!.name, 'the Secret is named after the Job')
  t.same(env[TRAINER_ENV.spec].valueFrom, { secretKeyRef: { name: secret.metadata!.name, key: SECRET_KEYS.spec, optional: false } })
  t.same(env[TRAINER_ENV.token].valueFrom, { secretKeyRef: { name: secret.metadata!.name, key: SECRET_KEYS.token, optional: false } })
  t.equal(env[TRAINER_ENV.callbackUrl].value, spec.callbackUrl)
  t.equal(env.HF_HUB_OFFLINE.value, '1')
  t.notMatch(JSON.stringify(job), /sktrain_/, 'the token never appears in the Job manifest')
  t.same(c.envFrom, [{ secretRef: { name: 'skillet-s3', optional: false } }])

  t.equal(secret.stringData![SECRET_KEYS.token], launchRequest().token)
  t.same(JSON.parse(secret.stringData![SECRET_KEYS.spec]), spec)
  t.same(secret.metadata!.labels, job.spec!.template.metadata!.labels)

  const noS3 = buildTrainerJob(spec, resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))
  t.notOk(noS3.spec!.template.spec!.containers[0].envFrom, 'no envFrom without an S3 Secret')
})

t.test('failure policy: bad input fails the Job at once, disruptions are retried; restartPolicy Never', async (t) => {
  const job = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))
  t.same(job.spec!.podFailurePolicy, {
    rules: [
      { action: 'FailJob', onExitCodes: { containerName: TRAINER_CONTAINER, operator: 'In', values: [2] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ],
  })
  t.equal(job.spec!.template.spec!.restartPolicy, 'Never')
  const custom = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i', badInputExitCode: 65 }))
  t.same(custom.spec!.podFailurePolicy!.rules[0].onExitCodes!.values, [65])
})

t.test('volumes: in-memory /dev/shm with a size limit, scratch /tmp, CUDA cache', async (t) => {
  const job = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ ...fullConfig, cudaCacheClaimName: 'cuda-cache' }))
  const pod = job.spec!.template.spec!
  const volumes = Object.fromEntries(pod.volumes!.map((v) => [v.name, v]))
  const mounts = Object.fromEntries(pod.containers[0].volumeMounts!.map((m) => [m.mountPath, m.name]))
  t.same(volumes.dshm.emptyDir, { medium: 'Memory', sizeLimit: '16Gi' })
  t.equal(mounts['/dev/shm'], 'dshm')
  t.equal(mounts['/tmp'], 'scratch')
  t.equal(mounts[CUDA_CACHE_MOUNT], 'cuda-cache')
  t.same(volumes['cuda-cache'].persistentVolumeClaim, { claimName: 'cuda-cache' })
})

t.test('non-root, locked-down security context', async (t) => {
  const pod = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' })).spec!.template.spec!
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } })
  t.match(pod.containers[0].securityContext, {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  })
})

t.test('labels, and a deterministic DNS-1123 name per job attempt', async (t) => {
  const spec = trainerSpec({ attempt: 3 })
  const job = buildTrainerJob(spec, resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))
  const labels = {
    'app.kubernetes.io/managed-by': 'skillet',
    'skillet.dev/job-id': spec.jobId,
    'skillet.dev/project-id': spec.projectId,
    'skillet.dev/attempt': '3',
  }
  t.same(job.metadata!.labels, labels)
  t.same(job.spec!.template.metadata!.labels, labels, 'pods carry the same labels, so they can be selected by job')
  t.equal(job.metadata!.name, buildTrainerJob(spec, resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' })).metadata!.name, 'same input, same name')

  const names = [
    jobResourceName('ftjob-AbC', 1),
    jobResourceName('ftjob-aBc', 1), // differs only in case
    jobResourceName('ftjob-AbC', 2),
    jobResourceName('x'.repeat(200), 1),
    jobResourceName('___', 12),
  ]
  t.equal(new Set(names).size, names.length, 'distinct ids and attempts give distinct names')
  for (const name of names) {
    t.ok(name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name), `${name} is a DNS-1123 label`)
  }
  t.throws(() => buildTrainerJob(trainerSpec({ jobId: 'not a label value' }), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' })), /label value/)
})

t.test('Kueue: queue label with suspend only together; priority class label', async (t) => {
  const plain = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }))
  t.notOk('suspend' in plain.spec!, 'not suspended without Kueue (nobody would resume it)')
  t.notOk(plain.metadata!.labels![KUEUE_QUEUE_LABEL])

  const onlyPriority = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i', kueuePriorityClass: 'high' }))
  t.notOk('suspend' in onlyPriority.spec!, 'a priority class alone does not suspend')
  t.equal(onlyPriority.metadata!.labels![KUEUE_PRIORITY_LABEL], 'high')

  const queued = buildTrainerJob(trainerSpec(), resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i', kueueQueueName: 'gpu-queue', kueuePriorityClass: 'high' }))
  t.equal(queued.spec!.suspend, true)
  t.equal(queued.metadata!.labels![KUEUE_QUEUE_LABEL], 'gpu-queue')
  t.equal(queued.metadata!.labels![KUEUE_PRIORITY_LABEL], 'high')
  t.notOk(queued.spec!.template.metadata!.labels![KUEUE_QUEUE_LABEL], 'the queue label is on the Job, not copied to pods')
})

t.test('config needs a namespace and an image', async (t) => {
  t.throws(() => resolveKubernetesExecutorConfig({ namespace: '', image: 'i' }), /namespace/)
  t.throws(() => resolveKubernetesExecutorConfig({ namespace: 'n', image: '' }), /image/)
  t.equal(resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i', gpuCount: undefined }).gpuCount, 1, 'undefined keeps the default')
})
