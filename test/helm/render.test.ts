// Renders every template of the Helm chart with a real Go template engine — test/helm/render/main.go,
// Helm's engine rebuilt from Go's text/template, Debian's Sprig and Helm's own functions (no helm
// binary exists here) — for the default values and override sets that switch every optional feature
// on. Each output must parse as YAML, and each object must satisfy the official Kubernetes 1.35 schemas
// (../shared/reference/kubernetes) where they cover its kind; the values must satisfy values.schema.json.
// Needs `go` and Sprig (.ci/install-go-helm-render.sh); skips with the reason without them.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { Ajv } from 'ajv'
import YAML from 'yaml'
import { kubeSchemaErrors, type KubeKind } from '../helpers/fake-kube/kube-schemas.ts'
import { parseKubernetesExecutorConfig } from '../../src/config/kubernetes-executor-schema.ts'

const CHART = path.resolve(import.meta.dirname, '../../helm/skillet')
const RENDERER = path.resolve(import.meta.dirname, 'render')
const GOPATH = '/usr/share/gocode'
const SPRIG = path.join(GOPATH, 'src/github.com/Masterminds/sprig/functions.go')

const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' })
const skip =
  goVersion.status !== 0 ? 'no `go` on PATH (run .ci/install-go-helm-render.sh)' : !fs.existsSync(SPRIG) ? `no Sprig sources at ${SPRIG} (apt-get install golang-github-masterminds-sprig-dev)` : false

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: any }

const defaults = YAML.parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'))
const validateValues = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')))

/** Helm's values merge: maps merge key by key, anything else (lists too) is replaced, null deletes. */
function merge(base: any, over: any): any {
  const out = structuredClone(base)
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])) out[k] = merge(out[k], v)
    else out[k] = v
  }
  return out
}

const ALL_ON = {
  imagePullSecrets: [{ name: 'regcred' }, { name: 'mirror-cred' }],
  existingSecrets: { bootstrapApiKey: { name: 'skillet-admin-key' } },
  ingress: { enabled: true, className: 'nginx', annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, tls: { enabled: true, secretName: 'skillet-tls' } },
  api: { autoscaling: { enabled: true }, nodeSelector: { pool: 'cpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'api', effect: 'NoSchedule' }] },
  serviceMonitor: { enabled: true },
  inference: { enabled: true, gpuCount: 1, env: { VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True' } },
  trainer: {
    namespace: 'skillet-trainers',
    priorityClassName: 'gpu-batch',
    kueue: { queueName: 'gpu-queue', priorityClass: 'low' },
    activeDeadlineSeconds: 86400,
    cudaCacheClaimName: 'cuda-cache',
    serviceAccountName: 'trainer',
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'In', values: ['a100'] }] }] } } },
  },
}
const MINIMAL = {
  migrations: { enabled: false },
  serviceAccount: { create: false, name: 'existing-sa' },
  api: { podDisruptionBudget: { enabled: false } },
  inference: { enabled: true, gpuCount: 0, resources: { requests: { cpu: '2', memory: '4Gi' } } },
}

let renderer = ''
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-helm-render-'))
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }))

function build(): void {
  if (renderer) return
  renderer = path.join(work, 'render')
  // GOPATH mode against Debian's Go sources: nothing is downloaded.
  const env = { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOPROXY: 'off', GOCACHE: process.env.GOCACHE ?? path.join(os.tmpdir(), 'skillet-go-cache') }
  const r = spawnSync('go', ['build', '-o', renderer, '.'], { cwd: RENDERER, env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`go build failed:\n${r.stderr}`)
}

/** Renders the chart with `overrides`: each file's text by its Helm name (e.g. skillet/templates/service.yaml). */
function render(overrides: object): { files: Record<string, string> } | { error: string } {
  build()
  const file = path.join(work, `values-${Math.random().toString(36).slice(2)}.json`)
  fs.writeFileSync(file, JSON.stringify(overrides))
  const r = spawnSync(renderer, [CHART, file], { encoding: 'utf8' })
  return r.status === 0 ? { files: JSON.parse(r.stdout) } : { error: r.stderr }
}

function manifests(t: Test, files: Record<string, string>): Manifest[] {
  const out: Manifest[] = []
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith('NOTES.txt')) continue
    for (const doc of YAML.parseAllDocuments(text)) {
      t.same(doc.errors.map(String), [], `${name} parses as YAML`)
      const value = doc.toJS()
      if (value !== null) out.push(value)
    }
  }
  return out
}

// Group/versions of the kinds the chart renders that the reference documents do not hold.
const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
}
const FULL_SCHEMA: Record<string, [string, KubeKind]> = {
  ConfigMap: ['v1', 'ConfigMap'],
  Service: ['v1', 'Service'],
  ServiceAccount: ['v1', 'ServiceAccount'],
  Job: ['batch/v1', 'Job'],
}
const DEPLOYMENT_SPEC = ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds']

/** Every problem with one rendered object, as "Kind/name: problem". */
function problems(m: Manifest): string[] {
  const at = `${m.kind}/${m.metadata?.name}`
  const errs: string[] = []
  const check = (kind: KubeKind, value: unknown, where = '') => errs.push(...kubeSchemaErrors(kind, value).map((e) => `${at}${where} ${e}`))
  const full = FULL_SCHEMA[m.kind]
  if (full) {
    if (m.apiVersion !== full[0]) errs.push(`${at}: apiVersion ${m.apiVersion}, expected ${full[0]}`)
    check(full[1], m)
    return errs
  }
  if (!API_VERSIONS[m.kind]) return [`${at}: unexpected kind`]
  if (m.apiVersion !== API_VERSIONS[m.kind]) errs.push(`${at}: apiVersion ${m.apiVersion}, expected ${API_VERSIONS[m.kind]}`)
  check('ObjectMeta', m.metadata, ' metadata')
  if (m.kind === 'Deployment') {
    for (const key of Object.keys(m.spec ?? {})) if (!DEPLOYMENT_SPEC.includes(key)) errs.push(`${at}: unknown spec field ${key}`)
    check('LabelSelector', m.spec.selector, ' spec.selector')
    check('PodTemplateSpec', m.spec.template, ' spec.template')
    for (const [k, v] of Object.entries(m.spec.selector.matchLabels ?? {}))
      if (m.spec.template.metadata?.labels?.[k] !== v) errs.push(`${at}: selector ${k}=${v} does not match the pod template's labels`)
  }
  return errs
}

const byKind = (ms: Manifest[], kind: string, name?: string) => ms.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name))
const podSpecs = (ms: Manifest[]) => ms.filter((m) => m.kind === 'Deployment' || m.kind === 'Job').map((m) => [`${m.kind}/${m.metadata.name}`, m.spec.template.spec] as const)

t.test('the chart renders to valid Kubernetes objects', { skip }, async (t) => {
  const sets: [string, object][] = [
    ['default values', {}],
    ['every optional feature on', ALL_ON],
    ['migrations, service account and PDB off, CPU inference', MINIMAL],
  ]
  const rendered: Record<string, Manifest[]> = {}
  for (const [what, overrides] of sets) {
    await t.test(what, async (t) => {
      const values = merge(defaults, overrides)
      t.ok(validateValues(values), `values satisfy values.schema.json ${JSON.stringify(validateValues.errors ?? [])}`)
      const r = render(overrides)
      if ('error' in r) return t.fail(`render failed: ${r.error}`)
      t.ok(r.files['skillet/templates/NOTES.txt'], 'NOTES.txt renders')
      const ms = manifests(t, r.files)
      t.ok(ms.length >= 8, `${ms.length} objects`)
      t.same(ms.flatMap(problems), [], 'every object satisfies its schema')
      const names = ms.map((m) => `${m.kind}/${m.metadata.name}`)
      t.same(names.length, new Set(names).size, 'no two objects share a kind and name')
      // The worker reads the executor config at start and stops on any bad field.
      const [cm] = byKind(ms, 'ConfigMap')
      const parsed = parseKubernetesExecutorConfig(cm.data.SKILLET_KUBERNETES_EXECUTOR)
      t.same('problems' in parsed ? parsed.problems : [], [], 'SKILLET_KUBERNETES_EXECUTOR is a valid KubernetesExecutorConfig')
      rendered[what] = ms
    })
  }

  t.test('default values: the core objects, optional ones off', async (t) => {
    const ms = rendered['default values']!
    t.same(ms.map((m) => m.kind).sort(), ['ConfigMap', 'Deployment', 'Deployment', 'Job', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'Service', 'ServiceAccount'])
    t.equal(byKind(ms, 'Deployment', 'demo-skillet-api')[0]!.spec.replicas, 2)
    for (const [at, spec] of podSpecs(ms)) t.notOk(spec.imagePullSecrets, `${at}: no imagePullSecrets`)
  })

  t.test('every optional feature on', async (t) => {
    const ms = rendered['every optional feature on']!
    for (const kind of ['Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceMonitor']) t.equal(byKind(ms, kind).length, 1, kind)
    const [ingress] = byKind(ms, 'Ingress')
    t.same(ingress!.spec.tls, [{ hosts: ['skillet.example.com'], secretName: 'skillet-tls' }])
    t.equal(ingress!.spec.ingressClassName, 'nginx')
    t.same(ingress!.metadata.annotations, ALL_ON.ingress.annotations)
    const api = byKind(ms, 'Deployment', 'demo-skillet-api')[0]!
    t.notOk('replicas' in api.spec, 'the HPA owns the API replica count')
    t.same(api.spec.template.spec.nodeSelector, { pool: 'cpu' })
    const inference = byKind(ms, 'Deployment', 'demo-skillet-inference')[0]!
    t.equal(inference.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], 1)
    t.same(inference.spec.template.spec.containers[0].env, [{ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' }])
    t.equal(byKind(ms, 'Service', 'demo-skillet-inference').length, 1)
    const [cm] = byKind(ms, 'ConfigMap')
    t.equal(cm!.data.SKILLET_INFERENCE_URL, 'http://demo-skillet-inference.skillet.svc:8080/v1')
    const executor = JSON.parse(cm!.data.SKILLET_KUBERNETES_EXECUTOR)
    t.same(executor.imagePullSecrets, ['regcred', 'mirror-cred'], 'the executor gets the pull secret names')
    t.match(executor, { namespace: 'skillet-trainers', priorityClassName: 'gpu-batch', kueueQueueName: 'gpu-queue', kueuePriorityClass: 'low', activeDeadlineSeconds: 86400, cudaCacheClaimName: 'cuda-cache', serviceAccountName: 'trainer' })
    t.same(executor.affinity, ALL_ON.trainer.affinity)
    for (const [at, spec] of podSpecs(ms)) t.same(spec.imagePullSecrets, ALL_ON.imagePullSecrets, `${at}: imagePullSecrets`)
    for (const name of ['demo-skillet-api', 'demo-skillet-worker']) {
      const env = byKind(ms, 'Deployment', name)[0]!.spec.template.spec.containers[0].env
      t.same(env.find((e: { name: string }) => e.name === 'SKILLET_API_KEY')?.valueFrom, { secretKeyRef: { name: 'skillet-admin-key', key: 'SKILLET_API_KEY' } }, `${name}: bootstrap key from its Secret`)
    }
    for (const m of [...byKind(ms, 'Role'), ...byKind(ms, 'RoleBinding')]) t.equal(m.metadata.namespace, 'skillet-trainers', `${m.kind} in the trainer namespace`)
  })

  t.test('optional pieces off', async (t) => {
    const ms = rendered['migrations, service account and PDB off, CPU inference']!
    for (const kind of ['Job', 'ServiceAccount', 'PodDisruptionBudget', 'Ingress', 'HorizontalPodAutoscaler', 'ServiceMonitor']) t.equal(byKind(ms, kind).length, 0, `no ${kind}`)
    const inference = byKind(ms, 'Deployment', 'demo-skillet-inference')[0]!
    t.notOk(inference.spec.template.spec.containers[0].resources.limits?.['nvidia.com/gpu'], 'no GPU asked for')
    for (const name of ['demo-skillet-api', 'demo-skillet-worker']) t.equal(byKind(ms, 'Deployment', name)[0]!.spec.template.spec.serviceAccountName, 'existing-sa')
    t.equal(byKind(ms, 'RoleBinding')[0]!.subjects[0].name, 'existing-sa')
  })
})

t.test('a template error fails the render with its message', { skip }, async (t) => {
  // Reading a field of a string is an execution error in Go's text/template (the real engine, not a regex).
  const r = render({ ingress: { enabled: true, tls: 'yes' } })
  t.match('error' in r ? r.error : 'rendered', /render error in "skillet\/templates\/[\w.-]+".*<\.Values\.ingress\.tls\.enabled>: can't evaluate field enabled/s, 'the error names the template and the field')
})
