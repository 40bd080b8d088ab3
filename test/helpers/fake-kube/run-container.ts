// Runs a pod's container as a local child process, the way a kubelet would run it in the image:
// command + args, the container's env (secretKeyRef and envFrom resolved from the Secrets the fake
// API server stores), output captured for the termination message.
import { spawn, type ChildProcess } from 'node:child_process'
import type { V1Container, V1Secret } from '@kubernetes/client-node'

export type SecretLookup = (name: string) => V1Secret | undefined

/** The container's environment, or the kubelet's CreateContainerConfigError message. */
export function resolveContainerEnv(container: V1Container, secrets: SecretLookup): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {}
  const decode = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8')
  for (const from of container.envFrom ?? []) {
    if (!from.secretRef) return { error: 'only secretRef is supported in envFrom by the fake kubelet' }
    const secret = secrets(from.secretRef.name ?? '')
    if (!secret) {
      if (from.secretRef.optional) continue
      return { error: `secret "${from.secretRef.name}" not found` }
    }
    for (const key of Object.keys(secret.data ?? {})) env[(from.prefix ?? '') + key] = decode(secret, key)
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef
    if (!ref) {
      env[e.name] = e.value ?? ''
      continue
    }
    const secret = secrets(ref.name ?? '')
    if (!secret) {
      if (ref.optional) continue
      return { error: `secret "${ref.name}" not found` }
    }
    if (!(ref.key in (secret.data ?? {}))) {
      if (ref.optional) continue
      return { error: `couldn't find key ${ref.key} in Secret ${secret.metadata?.namespace}/${ref.name}` }
    }
    env[e.name] = decode(secret, ref.key)
  }
  return { env }
}

export interface RunningContainer {
  child: ChildProcess
  /** Resolves with the exit code (128 + signal number when killed) and the combined output. */
  exited: Promise<{ exitCode: number; output: string }>
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }

export function runContainer(container: V1Container, env: Record<string, string>, options: { cwd: string; baseEnv: Record<string, string> }): RunningContainer {
  const argv = [...(container.command ?? []), ...(container.args ?? [])]
  if (argv.length === 0) throw new Error('the fake kubelet needs an explicit command (it has no image ENTRYPOINT)')
  const child = spawn(argv[0], argv.slice(1), {
    cwd: container.workingDir ?? options.cwd,
    env: { ...options.baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<{ exitCode: number; output: string }>((resolve) => {
    child.on('error', (err) => resolve({ exitCode: 128, output: output + String(err) }))
    child.on('close', (code, signal) => resolve({ exitCode: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), output }))
  })
  return { child, exited }
}

/** What the kubelet keeps of a failed container's log under FallbackToLogsOnError: the last 80 lines, at most 2048 bytes. */
export function logTail(output: string): string {
  const tail = output.split('\n').slice(-81).join('\n').trimEnd()
  return Buffer.from(tail).length > 2048 ? Buffer.from(tail).subarray(-2048).toString('utf8') : tail
}
