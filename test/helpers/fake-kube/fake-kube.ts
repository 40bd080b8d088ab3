// A loopback fake of the Kubernetes API server for the launcher's tests: the endpoints the launcher
// uses (Jobs, Secrets, Pods in a namespace; list, watch, create, get, patch, delete), strict schema
// validation of every request body against the official OpenAPI documents (unknown field → 422, as
// with fieldValidation=Strict), and a small Job controller + kubelet that plays a scripted pod
// lifecycle per Job, or runs the Job's container command as a local child process.
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { KubeConfig, type V1Job, type V1Pod, type V1Secret } from '@kubernetes/client-node'
import { kubeSchemaErrors, type KubeKind } from './kube-schemas.ts'
import { matchesSelector } from './label-selector.ts'
import { isTerminalStep, podStatusAfter, type PodStep } from './pod-states.ts'
import { jobCondition, judgeFinishedPod } from './job-controller.ts'
import { logTail, resolveContainerEnv, runContainer, type RunningContainer } from './run-container.ts'

/** Steps for each successive pod of a Job (a retry creates the next pod), or run the container for real. */
export type Script = PodStep[][] | 'run-command'

export const SCRIPTS = {
  success: [['creating', 'running', 'succeeded']],
  oom: [['creating', 'running', 'oom']],
  evictedThenSuccess: [
    ['creating', 'running', 'evicted'],
    ['creating', 'running', 'succeeded'],
  ],
  imagePullFailure: [['err-image-pull', 'image-pull-backoff']],
  runForever: [['creating', 'running']],
  unschedulable: [['unschedulable']],
  badInput: [['creating', 'running', { exit: 2, message: 'training file line 3: "messages" must be a non-empty array' }]],
} satisfies Record<string, Script>

type Resource = 'jobs' | 'secrets' | 'pods'
type KubeObject = { apiVersion?: string; kind?: string; metadata?: Record<string, any>; [k: string]: any }

const KIND_OF: Record<Resource, { kind: KubeKind; group: string; apiVersion: string }> = {
  jobs: { kind: 'Job', group: 'batch', apiVersion: 'batch/v1' },
  secrets: { kind: 'Secret', group: '', apiVersion: 'v1' },
  pods: { kind: 'Pod', group: '', apiVersion: 'v1' },
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  contentType: string | undefined
  body: unknown
  status: number
}

export interface FakeKubeOptions {
  /** The pod lifecycle of each new Job; SCRIPTS.success when absent. */
  script?: (job: V1Job) => Script
  /** For 'run-command': the working directory and base environment of the "container". */
  cwd?: string
  baseEnv?: Record<string, string>
}

interface JobRuntime {
  script: Script
  podIndex: number
  stepIndex: number
  failed: number
  podName?: string
  container?: RunningContainer
  exited?: Promise<void>
}

interface Watcher {
  resource: Resource
  namespace: string
  selector: string | null
  res: http.ServerResponse
}

const TOKEN = 'fake-kube-token'

export class FakeKube {
  readonly requests: RecordedRequest[] = []
  script: (job: V1Job) => Script
  private readonly server: http.Server
  private readonly objects = new Map<string, KubeObject>()
  private readonly runtimes = new Map<string, JobRuntime>()
  private readonly watchers = new Set<Watcher>()
  /** Every container process started, including those of deleted Jobs, so close() can wait for them. */
  private readonly processes = new Set<RunningContainer>()
  private readonly history: { resource: Resource; namespace: string; rv: number; type: string; object: KubeObject }[] = []
  private readonly options: FakeKubeOptions
  private resourceVersion = 1000
  private podCounter = 0

  private constructor(options: FakeKubeOptions) {
    this.options = options
    this.script = options.script ?? (() => SCRIPTS.success)
    this.server = http.createServer((req, res) => void this.handle(req, res))
  }

  static async start(options: FakeKubeOptions = {}): Promise<FakeKube> {
    const fake = new FakeKube(options)
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
    return fake
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** A KubeConfig pointing at this server, as a kubeconfig file with a bearer token would. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: TOKEN }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    })
    return kc
  }

  async close(): Promise<void> {
    for (const p of this.processes) p.child.kill('SIGKILL')
    await Promise.all([...this.processes].map((p) => p.exited))
    for (const w of this.watchers) w.res.end()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  // ---- what tests look at and drive -------------------------------------------------------------

  get<T extends KubeObject = KubeObject>(resource: Resource, namespace: string, name: string): T | undefined {
    return this.objects.get(key(resource, namespace, name)) as T | undefined
  }

  list<T extends KubeObject = KubeObject>(resource: Resource, namespace: string, selector?: string): T[] {
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${resource}/${namespace}/`) && matchesSelector(o.metadata?.labels, selector))
      .map(([, o]) => o as T)
  }

  /** Stores an object as if someone else had created it (e.g. a Job of another tool, an S3 Secret). */
  seed(resource: Resource, object: KubeObject): KubeObject {
    const ns = object.metadata?.namespace ?? 'default'
    return this.store(resource, ns, this.withServerFields(resource, ns, structuredClone(object)))
  }

  /** Plays the next step of the Job's current pod; false when its script has nothing left. */
  advance(namespace: string, jobName: string): boolean {
    const rt = this.runtimes.get(key('jobs', namespace, jobName))
    const job = this.get<V1Job>('jobs', namespace, jobName)
    if (!rt || !job || rt.script === 'run-command' || !rt.podName) return false
    const step = rt.script[rt.podIndex]?.[rt.stepIndex]
    const pod = this.get<V1Pod>('pods', namespace, rt.podName)
    if (step === undefined || !pod) return false
    rt.stepIndex++
    this.setPodStatus(job, pod, podStatusAfter(step, pod, new Date()))
    if (isTerminalStep(step)) this.podFinished(job, pod)
    return true
  }

  /** Plays every remaining step (of every pod the Job goes through). */
  advanceAll(namespace: string, jobName: string): void {
    while (this.advance(namespace, jobName));
  }

  /** What Kueue does when it admits a suspended Job: un-suspend it, so the Job controller starts a pod. */
  admit(namespace: string, jobName: string): void {
    const job = this.get<V1Job>('jobs', namespace, jobName)
    if (!job?.spec?.suspend) throw new Error(`job ${jobName} is not suspended`)
    job.spec.suspend = false
    job.status = { ...job.status, conditions: [{ ...jobCondition('Suspended', 'JobResumed', 'Job resumed', new Date()), status: 'False' }] }
    this.modified('jobs', job)
    this.startNextPod(job)
  }

  /**
   * For 'run-command' Jobs: what a node-pressure eviction does to the running pod. The kubelet marks it
   * Failed with a DisruptionTarget condition and kills the container; the Job controller, following
   * the Job's podFailurePolicy, then starts a replacement pod (whose container runs again).
   */
  async evict(namespace: string, jobName: string): Promise<void> {
    const rt = this.runtimes.get(key('jobs', namespace, jobName))
    const job = this.get<V1Job>('jobs', namespace, jobName)
    const pod = rt?.podName ? this.get<V1Pod>('pods', namespace, rt.podName) : undefined
    if (!rt || rt.script !== 'run-command' || !rt.container || !job || !pod) throw new Error(`job ${jobName} has no running container to evict`)
    this.setPodStatus(job, pod, podStatusAfter('evicted', pod, new Date()))
    rt.container.child.kill('SIGKILL')
    await rt.exited
    this.podFinished(job, pod)
  }

  /**
   * For 'run-command' Jobs: resolves when the container of the current pod has exited and the Job
   * reacted. Take it before deleting the Job to wait for the kill.
   */
  async containerExited(namespace: string, jobName: string): Promise<void> {
    await this.runtimes.get(key('jobs', namespace, jobName))?.exited
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const query = Object.fromEntries(url.searchParams)
    const raw = await readBody(req)
    const contentType = req.headers['content-type']
    let body: unknown
    const reply = (status: number, payload: unknown) => {
      this.requests.push({ method: req.method!, path: url.pathname, query, contentType, body, status })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    }
    try {
      body = raw ? JSON.parse(raw) : undefined
    } catch {
      return reply(400, status(400, 'BadRequest', 'the request body is not JSON'))
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized'))

    const m = /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(jobs|secrets|pods)(?:\/([^/]+))?$/.exec(url.pathname)
    const expectedPrefix = m?.[2] === 'jobs' ? '/apis/batch/v1/' : '/api/v1/'
    if (!m || !url.pathname.startsWith(expectedPrefix)) return reply(404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`))
    const [, namespace, resource, name] = m as unknown as [string, string, Resource, string | undefined]
    const kindInfo = KIND_OF[resource]
    const notFound = () => reply(404, status(404, 'NotFound', `${qualified(resource)} "${name}" not found`, { name, group: kindInfo.group, kind: resource }))

    if (req.method === 'GET' && !name) {
      if (query.watch === 'true') {
        this.requests.push({ method: 'GET', path: url.pathname, query, contentType, body, status: 200 })
        return this.startWatch(resource, namespace, query, res)
      }
      return reply(200, {
        apiVersion: kindInfo.apiVersion,
        kind: `${kindInfo.kind}List`,
        metadata: { resourceVersion: String(this.resourceVersion) },
        items: this.list(resource, namespace, query.labelSelector),
      })
    }
    if (req.method === 'GET') {
      const obj = this.get(resource, namespace, name!)
      return obj ? reply(200, obj) : notFound()
    }
    if (req.method === 'POST' && !name && resource !== 'pods') {
      const problems = this.validateNew(resource, namespace, body)
      if (problems.length) return reply(422, invalid(resource, (body as KubeObject)?.metadata?.name, problems))
      const obj = body as KubeObject
      if (this.get(resource, namespace, obj.metadata!.name)) {
        return reply(409, status(409, 'AlreadyExists', `${qualified(resource)} "${obj.metadata!.name}" already exists`, { name: obj.metadata!.name, group: kindInfo.group, kind: resource }))
      }
      const stored = this.store(resource, namespace, this.withServerFields(resource, namespace, obj))
      if (resource === 'jobs') this.jobCreated(stored as V1Job)
      return reply(201, stored)
    }
    if (req.method === 'PATCH' && name && resource !== 'pods') {
      const existing = this.get(resource, namespace, name)
      if (!existing) return notFound()
      if (contentType !== 'application/merge-patch+json') {
        return reply(415, status(415, 'UnsupportedMediaType', `the fake supports only application/merge-patch+json, got ${contentType}`))
      }
      const problems = kubeSchemaErrors(kindInfo.kind, body)
      const patched = mergePatch(existing, body) as KubeObject
      if (resource === 'secrets' && existing.immutable && JSON.stringify(patched.data) !== JSON.stringify(existing.data)) {
        problems.push('data: Forbidden: field is immutable when `immutable` is set')
      }
      if (problems.length) return reply(422, invalid(resource, name, problems))
      patched.metadata!.resourceVersion = String(++this.resourceVersion)
      return reply(200, this.modified(resource, patched))
    }
    if (req.method === 'DELETE' && name) {
      if (body !== undefined) {
        const problems = kubeSchemaErrors('DeleteOptions', body)
        if (problems.length) return reply(422, invalid(resource, name, problems))
      }
      const existing = this.get(resource, namespace, name)
      if (!existing) return notFound()
      const policy = query.propagationPolicy ?? (body as { propagationPolicy?: string } | undefined)?.propagationPolicy
      this.delete(resource, existing, policy)
      return reply(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: kindInfo.group, kind: resource, uid: existing.metadata!.uid } })
    }
    return reply(405, status(405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname} by the fake`))
  }

  /** Schema errors plus the few rules the API server enforces beyond the schema, for what the launcher sends. */
  private validateNew(resource: Resource, namespace: string, body: unknown): string[] {
    const { kind, apiVersion } = KIND_OF[resource]
    const problems = kubeSchemaErrors(kind, body)
    const obj = body as KubeObject
    if (obj?.kind !== kind || obj?.apiVersion !== apiVersion) problems.push(`kind/apiVersion: must be ${kind} ${apiVersion}`)
    const name = obj?.metadata?.name
    if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > (resource === 'jobs' ? 63 : 253)) {
      problems.push(`metadata.name: Invalid value: "${name}": must be a DNS-1123 label`)
    }
    if (obj?.metadata?.namespace && obj.metadata.namespace !== namespace) problems.push('metadata.namespace: does not match the namespace of the request')
    for (const [k, v] of Object.entries({ ...obj?.metadata?.labels, ...obj?.spec?.template?.metadata?.labels })) {
      if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) problems.push(`metadata.labels: Invalid value: "${v}" for ${k}`)
    }
    if (resource === 'jobs' && problems.length === 0) {
      const spec = (obj as V1Job).spec!
      const restart = spec.template.spec?.restartPolicy
      if (restart !== 'Never' && restart !== 'OnFailure') problems.push(`spec.template.spec.restartPolicy: Unsupported value: "${restart}"`)
      if (spec.podFailurePolicy && restart !== 'Never') {
        problems.push('spec.template.spec.restartPolicy: Invalid value: only "Never" is supported when podFailurePolicy is specified')
      }
      for (const [i, rule] of (spec.podFailurePolicy?.rules ?? []).entries()) {
        if (!['FailJob', 'FailIndex', 'Ignore', 'Count'].includes(rule.action)) problems.push(`spec.podFailurePolicy.rules[${i}].action: Unsupported value: "${rule.action}"`)
        if (Boolean(rule.onExitCodes) === Boolean(rule.onPodConditions)) problems.push(`spec.podFailurePolicy.rules[${i}]: specify one of onExitCodes and onPodConditions`)
        if (rule.onExitCodes && !['In', 'NotIn'].includes(rule.onExitCodes.operator)) problems.push(`spec.podFailurePolicy.rules[${i}].onExitCodes.operator: Unsupported value`)
      }
    }
    return problems
  }

  // ---- storage, events --------------------------------------------------------------------------

  private withServerFields(resource: Resource, namespace: string, obj: KubeObject): KubeObject {
    obj.metadata = {
      ...obj.metadata,
      namespace,
      uid: randomUUID(),
      resourceVersion: String(++this.resourceVersion),
      creationTimestamp: new Date().toISOString(),
      ...(resource === 'jobs' ? { generation: 1 } : {}),
    }
    if (resource === 'secrets') {
      // stringData is write-only: the API server folds it into data.
      const data: Record<string, string> = { ...obj.data }
      for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v).toString('base64')
      delete obj.stringData
      obj.data = data
    }
    return obj
  }

  private store(resource: Resource, namespace: string, obj: KubeObject): KubeObject {
    this.objects.set(key(resource, namespace, obj.metadata!.name), obj)
    this.emit(resource, 'ADDED', obj)
    return obj
  }

  private modified(resource: Resource, obj: KubeObject): KubeObject {
    obj.metadata!.resourceVersion = String(++this.resourceVersion)
    this.objects.set(key(resource, obj.metadata!.namespace, obj.metadata!.name), obj)
    this.emit(resource, 'MODIFIED', obj)
    return obj
  }

  private delete(resource: Resource, obj: KubeObject, propagationPolicy: string | undefined): void {
    const ns = obj.metadata!.namespace as string
    this.objects.delete(key(resource, ns, obj.metadata!.name))
    this.emit(resource, 'DELETED', obj)
    if (resource === 'jobs') {
      const rt = this.runtimes.get(key('jobs', ns, obj.metadata!.name))
      rt?.container?.child.kill('SIGTERM')
      this.runtimes.delete(key('jobs', ns, obj.metadata!.name))
    }
    // The garbage collector: with Background or Foreground the dependents go too. A Job deleted
    // without a policy orphans its pods (batch/v1's historical default), which is why callers must
    // ask for Background.
    if (propagationPolicy === 'Background' || propagationPolicy === 'Foreground') {
      for (const [k, dependent] of this.objects) {
        if (dependent.metadata?.ownerReferences?.some((r: { uid: string }) => r.uid === obj.metadata!.uid)) {
          this.delete(k.split('/')[0] as Resource, dependent, propagationPolicy)
        }
      }
    }
  }

  private emit(resource: Resource, type: string, object: KubeObject): void {
    const namespace = object.metadata!.namespace as string
    const copy = structuredClone(object)
    this.history.push({ resource, namespace, rv: this.resourceVersion, type, object: copy })
    for (const w of this.watchers) {
      if (w.resource === resource && w.namespace === namespace && matchesSelector(copy.metadata?.labels, w.selector)) {
        w.res.write(JSON.stringify({ type, object: copy }) + '\n')
      }
    }
  }

  private startWatch(resource: Resource, namespace: string, query: Record<string, string>, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' })
    const watcher: Watcher = { resource, namespace, selector: query.labelSelector ?? null, res }
    const since = Number(query.resourceVersion ?? 0)
    const initial =
      since > 0
        ? this.history.filter((e) => e.rv > since && e.resource === resource && e.namespace === namespace)
        : this.list(resource, namespace).map((object) => ({ type: 'ADDED', object }))
    for (const e of initial) {
      if (matchesSelector(e.object.metadata?.labels, watcher.selector)) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n')
    }
    this.watchers.add(watcher)
    res.on('close', () => this.watchers.delete(watcher))
  }

  // ---- Job controller and kubelet ---------------------------------------------------------------

  private jobCreated(job: V1Job): void {
    const rt: JobRuntime = { script: this.script(job), podIndex: -1, stepIndex: 0, failed: 0 }
    this.runtimes.set(key('jobs', job.metadata!.namespace!, job.metadata!.name!), rt)
    if (job.spec?.suspend) {
      job.status = { conditions: [jobCondition('Suspended', 'JobSuspended', 'Job suspended', new Date())] }
      this.modified('jobs', job)
      return
    }
    this.startNextPod(job)
  }

  private startNextPod(job: V1Job): void {
    const ns = job.metadata!.namespace!
    const rt = this.runtimes.get(key('jobs', ns, job.metadata!.name!))!
    rt.podIndex++
    rt.stepIndex = 0
    const jobName = job.metadata!.name!
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${jobName}-${(++this.podCounter).toString(36).padStart(5, 'x')}`,
        namespace: ns,
        labels: {
          ...job.spec!.template.metadata?.labels,
          'batch.kubernetes.io/controller-uid': job.metadata!.uid!,
          'batch.kubernetes.io/job-name': jobName,
          'controller-uid': job.metadata!.uid!,
          'job-name': jobName,
        },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(job.spec!.template.spec!),
      status: { phase: 'Pending', qosClass: 'Burstable' },
    }
    const stored = this.store('pods', ns, this.withServerFields('pods', ns, pod as KubeObject)) as V1Pod
    rt.podName = stored.metadata!.name
    job.status = {
      ...job.status,
      startTime: job.status?.startTime ?? (new Date().toISOString() as unknown as Date),
      active: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    }
    this.modified('jobs', job)
    if (rt.script === 'run-command') this.runPod(job, stored, rt)
  }

  private runPod(job: V1Job, pod: V1Pod, rt: JobRuntime): void {
    const ns = job.metadata!.namespace!
    const container = pod.spec!.containers[0]
    const resolved = resolveContainerEnv(container, (name) => this.get<V1Secret>('secrets', ns, name))
    if ('error' in resolved) {
      const status = podStatusAfter('creating', pod, new Date())
      status.containerStatuses![0].state = { waiting: { reason: 'CreateContainerConfigError', message: resolved.error } }
      this.setPodStatus(job, pod, status)
      return
    }
    this.setPodStatus(job, pod, podStatusAfter('running', pod, new Date()))
    const running = runContainer(container, resolved.env, { cwd: this.options.cwd ?? process.cwd(), baseEnv: this.options.baseEnv ?? { PATH: process.env.PATH ?? '' } })
    rt.container = running
    this.processes.add(running)
    void running.exited.then(() => this.processes.delete(running))
    rt.exited = running.exited.then(({ exitCode, output }) => {
      rt.container = undefined
      const current = this.get<V1Job>('jobs', ns, job.metadata!.name!)
      const currentPod = this.get<V1Pod>('pods', ns, pod.metadata!.name!)
      if (!current || !currentPod) return // deleted while running
      if (currentPod.status?.reason === 'Evicted') return // evict() reports the pod's end itself
      const fallbackToLogs = container.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0
      this.setPodStatus(current, currentPod, podStatusAfter({ exit: exitCode, ...(fallbackToLogs ? { message: logTail(output) } : {}) }, currentPod, new Date()))
      this.podFinished(current, currentPod)
    })
  }

  private setPodStatus(job: V1Job, pod: V1Pod, status: NonNullable<V1Pod['status']>): void {
    pod.status = status
    this.modified('pods', pod as KubeObject)
    const ready = status.phase === 'Running' ? 1 : 0
    if (job.status?.ready !== ready) {
      job.status = { ...job.status, ready }
      this.modified('jobs', job as KubeObject)
    }
  }

  private podFinished(job: V1Job, pod: V1Pod): void {
    const rt = this.runtimes.get(key('jobs', job.metadata!.namespace!, job.metadata!.name!))!
    const outcome = judgeFinishedPod(job, pod, rt.failed)
    const now = new Date()
    const base = { startTime: job.status?.startTime, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {} }
    if (outcome.kind === 'succeeded') {
      const message = 'Reached expected number of succeeded pods'
      job.status = {
        ...base,
        succeeded: 1,
        ...(rt.failed ? { failed: rt.failed } : {}),
        completionTime: now.toISOString() as unknown as Date,
        conditions: [jobCondition('SuccessCriteriaMet', 'CompletionsReached', message, now), jobCondition('Complete', 'CompletionsReached', message, now)],
      }
      this.modified('jobs', job as KubeObject)
      return
    }
    if (outcome.counted) rt.failed++
    if (outcome.kind === 'fail-job') {
      job.status = {
        ...base,
        failed: rt.failed,
        conditions: [jobCondition('FailureTarget', outcome.reason, outcome.message, now), jobCondition('Failed', outcome.reason, outcome.message, now)],
      }
      this.modified('jobs', job as KubeObject)
      return
    }
    job.status = { ...job.status, ...(rt.failed ? { failed: rt.failed } : {}) }
    this.startNextPod(job)
  }
}

function key(resource: Resource, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`
}

function qualified(resource: Resource): string {
  return resource === 'jobs' ? 'jobs.batch' : resource
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
}

function invalid(resource: Resource, name: string | undefined, problems: string[]) {
  const { kind, group } = KIND_OF[resource]
  return status(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name ?? ''}" is invalid: ${problems.join('; ')}`, {
    name,
    group,
    kind,
    causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p, field: p.split(':')[0] })),
  })
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch)
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
