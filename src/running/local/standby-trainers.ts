// The local executor's warm start: trainer processes started ahead of their jobs
// (src/protocol/trainer-standby.ts), so that a job skips the trainer's start-up (Node, its ~770
// modules, the TensorFlow.js backend: ≈ 2 s of the 3 s from POST to the first step).
//
// It keeps `count` standbys. Each gets the environment a trainer gets minus the job (the caller
// builds it with trainerChildEnv: the same allow-list) and runs the trainer command with an IPC
// channel. A job takes a ready standby whose environment is exactly the one a cold trainer would
// start with (same backend, threads, blob store: the settings are fixed when the backend
// initialises); otherwise the job starts cold and the standbys are restarted with the new
// environment. Taking one starts its replacement; one that dies is replaced (after a growing
// pause when it died before it was ready: a broken command must not spin). Standbys are not jobs:
// they count for no capacity. close() kills them.
import { spawn, type ChildProcess } from 'node:child_process'
import type { Logger } from 'pino'
import { isReadyMessage, STANDBY_ENV, type StandbyJobMessage } from '../../protocol/trainer-standby.ts'

export interface StandbyTrainersOptions {
  count: number
  /** argv of the trainer. */
  command: string[]
  cwd?: string
  log: Logger
  /** How long close() waits after SIGTERM before SIGKILL. */
  killGraceMs: number
}

interface Standby {
  child: ChildProcess
  /** The environment it was started with, less STANDBY_ENV. */
  env: Record<string, string>
  ready: boolean
  exited: Promise<void>
}

/**
 * How long after a job took a standby its replacement starts: its ≈ 2 s of start-up on one core
 * would otherwise compete with the job's first steps (the wasm backend's threads slow down several
 * times when a core is taken from them).
 */
const REPLACE_AFTER_MS = 3000

/** Pause before replacing a standby that died before it was ready: 1 s, doubling to at most a minute. */
const retryDelayMs = (failures: number) => Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1))

/** Whether two environments hold the same variables with the same values. */
export function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k])
}

export class StandbyTrainers {
  private readonly standbys = new Set<Standby>()
  private env: Record<string, string> | null = null
  private failures = 0
  /** A pending (re)start of standbys: after a take, or after one died before it was ready. */
  private retry: NodeJS.Timeout | null = null
  private closed = false
  private readonly options: StandbyTrainersOptions

  constructor(options: StandbyTrainersOptions) {
    this.options = options
  }

  /** The standbys' processes, for tests and metrics. */
  get processes(): { pid: number | undefined; ready: boolean }[] {
    return [...this.standbys].map((s) => ({ pid: s.child.pid, ready: s.ready }))
  }

  /** Starts standbys with this environment until there are `count`. */
  fill(env: Record<string, string>): void {
    if (this.closed) return
    this.env = env
    if (this.retry) return
    while (this.standbys.size < this.options.count) this.start(env)
  }

  /**
   * A ready standby started with exactly `env`, handed `job` (removed from the pool; its
   * stdout/stderr not yet read), or null: start the job cold. Starts replacements either way.
   */
  take(env: Record<string, string>, job: StandbyJobMessage['env']): ChildProcess | null {
    if (this.closed) return null
    for (const standby of this.standbys) {
      if (!sameEnv(standby.env, env)) {
        this.options.log.info({ pid: standby.child.pid }, 'standby trainer started with another environment: replaced')
        this.drop(standby)
      }
    }
    const standby = [...this.standbys].find((s) => s.ready && s.child.connected && s.child.exitCode === null && s.child.signalCode === null)
    if (standby) {
      this.standbys.delete(standby)
      standby.child.removeAllListeners('message')
      standby.child.send({ type: 'job', env: job } satisfies StandbyJobMessage, (err) => {
        // The channel closed under us: the process is going; the executor observes its exit.
        if (err) standby.child.kill('SIGKILL')
      })
    }
    if (standby) this.fillLater(env, REPLACE_AFTER_MS)
    else this.fill(env)
    return standby?.child ?? null
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retry) clearTimeout(this.retry)
    const exits = [...this.standbys].map((s) => s.exited)
    for (const standby of this.standbys) this.drop(standby)
    await Promise.all(exits)
  }

  private start(env: Record<string, string>): void {
    const [file, ...args] = this.options.command
    const child = spawn(file, args, { cwd: this.options.cwd, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...env, [STANDBY_ENV]: '1' } })
    const standby: Standby = { child, env, ready: false, exited: Promise.resolve() }
    standby.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.options.log.warn({ err }, 'standby trainer did not start')
        resolve()
      })
      child.once('exit', () => resolve())
    })
    child.on('message', (message) => {
      if (!isReadyMessage(message)) return
      standby.ready = true
      this.failures = 0
      this.options.log.info({ pid: child.pid }, 'standby trainer ready')
    })
    void standby.exited.then(() => this.onExit(standby))
    this.standbys.add(standby)
  }

  /** Stops a standby no job will use (SIGTERM, then SIGKILL); its exit does not start a replacement. */
  private drop(standby: Standby): void {
    this.standbys.delete(standby)
    standby.child.stdout?.resume()
    standby.child.stderr?.resume()
    standby.child.kill('SIGTERM')
    const timer = setTimeout(() => standby.child.kill('SIGKILL'), this.options.killGraceMs)
    void standby.exited.then(() => clearTimeout(timer))
  }

  private onExit(standby: Standby): void {
    if (!this.standbys.delete(standby) || this.closed || !this.env) return
    const { pid, exitCode: code, signalCode: signal } = standby.child
    this.options.log.warn({ pid, code, signal, ready: standby.ready }, 'standby trainer exited before its job: replacing it')
    if (standby.ready) return this.fill(this.env)
    this.failures += 1
    this.fillLater(this.env, retryDelayMs(this.failures))
  }

  private fillLater(env: Record<string, string>, ms: number): void {
    this.env = env
    if (this.retry || this.closed) return
    this.retry = setTimeout(() => {
      this.retry = null
      if (this.env) this.fill(this.env)
    }, ms)
    this.retry.unref()
  }
}
