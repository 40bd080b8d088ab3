// A test API configured as a Kubernetes deployment would be: SKILLET_EXECUTOR=kubernetes, the
// executor JSON in SKILLET_KUBERNETES_EXECUTOR, a kubeconfig file (KUBECONFIG) for the loopback fake
// API server, and SKILLET_INTERNAL_URL where the "pods" call the API back — a loopback port forwarded
// to the test API, as a Service forwards to the API's pods. The background work (scheduler,
// reconciler, webhook dispatcher) runs as the embedded server runs it.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { V1Job } from '@kubernetes/client-node'
import pino from 'pino'
import type { Test } from 'tap'
import { startBackground, type Background } from '../../src/background.ts'
import type { KubernetesExecutorConfig } from '../../src/config/kubernetes-executor-config.ts'
import { defaultCallbackUrl } from '../../src/running/start-scheduler.ts'
import { FakeKube } from './fake-kube/fake-kube.ts'
import { freePort } from './server-process.ts'
import { startTestApp, tmpDir, type TestApp } from './test-app.ts'

export const KUBE_NS = 'skillet-training'
export const ROOT = path.resolve(import.meta.dirname, '../..')

export interface KubeTestApp extends TestApp {
  fake: FakeKube
  background: Background
  internalUrl: string
  /** Starts the background work again (after background.stop(): a restarted worker). */
  restartBackground(): Promise<Background>
  /** The Kubernetes Job of a Skillet job's attempt, once the scheduler created it. */
  jobOnCluster(jobId: string, attempt?: number): Promise<V1Job>
  /** Whether the named Job was deleted with propagationPolicy Background. */
  deletedWithBackground(name: string): boolean
}

import { until } from './until.ts'

export { until }

export async function startKubeApp(
  t: Test,
  opts: {
    executor: Omit<KubernetesExecutorConfig, 'namespace' | 'image'>
    env?: Record<string, string>
    /** The "image's" environment in every container, given the app's configuration (e.g. where its blobs are). */
    containerEnv?: (app: TestApp) => Record<string, string>
  },
): Promise<KubeTestApp> {
  const workDir = await tmpDir(t, 'skillet-kube-')
  const kubeconfigPath = path.join(workDir, 'kubeconfig')
  const internalPort = await freePort()
  const internalUrl = `http://127.0.0.1:${internalPort}/internal/v1`
  const ctx = await startTestApp(t, {
    env: {
      SKILLET_EXECUTOR: 'kubernetes',
      KUBECONFIG: kubeconfigPath,
      SKILLET_KUBERNETES_EXECUTOR: JSON.stringify({ namespace: KUBE_NS, image: 'ghcr.io/skillet-dev/skillet-trainer:test', gpuCount: 0, ...opts.executor }),
      SKILLET_INTERNAL_URL: internalUrl,
      SKILLET_KUBERNETES_RESYNC_SECONDS: '1',
      SKILLET_SCHEDULER_INTERVAL_MS: '100',
      SKILLET_WEBHOOK_POLL_MS: '50',
      SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      SKILLET_RATE_LIMIT_PER_MINUTE: '1000000',
      ...opts.env,
    },
  })
  const fake = await FakeKube.start({ script: () => 'run-command', cwd: ROOT, baseEnv: { PATH: process.env.PATH ?? '', ...opts.containerEnv?.(ctx) } })
  t.teardown(() => fake.close())
  // Written now that the fake has its address; the configuration only holds the file's path.
  fs.writeFileSync(kubeconfigPath, fake.kubeConfig().exportConfig())

  const apiPort = Number(new URL(ctx.baseURL).port)
  const forwarder = net.createServer((socket) => {
    const upstream = net.connect(apiPort, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => forwarder.listen(internalPort, '127.0.0.1', resolve))
  t.teardown(() => {
    forwarder.close()
  })

  const log = pino({ level: process.env.SKILLET_TEST_LOG ?? 'silent' })
  // What server.ts does in embedded mode: the callback URL is SKILLET_INTERNAL_URL from the config.
  const start = async () => {
    const background = await startBackground(ctx.services, { log, callbackUrl: defaultCallbackUrl(ctx.config, apiPort) })
    t.teardown(() => background.stop())
    return background
  }
  return {
    ...ctx,
    fake,
    background: await start(),
    internalUrl,
    restartBackground: start,
    jobOnCluster: (jobId, attempt = 1) =>
      until(`the Job of ${jobId}`, () => fake.list<V1Job>('jobs', KUBE_NS, `skillet.dev/job-id=${jobId},skillet.dev/attempt=${attempt}`)[0], 60_000),
    deletedWithBackground: (name) =>
      fake.requests.some(
        (r) =>
          r.method === 'DELETE' &&
          r.path.endsWith(`/jobs/${name}`) &&
          r.status === 200 &&
          (r.query.propagationPolicy ?? (r.body as { propagationPolicy?: string } | undefined)?.propagationPolicy) === 'Background',
      ),
  }
}
