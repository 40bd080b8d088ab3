// The embedded executor: each trainer is a child process of this server (default command
// `node src/cli/trainer.ts`). It gets the job spec and token through the environment
// (src/protocol/trainer-env.ts) plus SKILLET_PARENT_PID, so a trainer whose server died stops too;
// of the server's own environment only an allow-list passes (trainer-child-env.ts): no API key,
// database URL or HF token reaches a trainer.
// Cancel sends SIGTERM, then SIGKILL after a grace period. A trainer that exits non-zero is
// observed as failed, with the tail of its output as the message.
// With warmTrainers > 0 a job starts on a standby trainer when one is ready (standby-trainers.ts):
// the same process and environment, started ahead of time, handed the spec and token over IPC.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import type { Logger } from 'pino'
import { TRAINER_ENV } from '../../protocol/trainer-env.ts'
import type { ExecutionObservation, Executor, LaunchRequest } from '../executor/executor.ts'
import { gib, likelyOutOfMemory } from './out-of-memory.ts'
import { lastMeaningfulLine } from './trainer-output.ts'
import { trainerChildEnv } from './trainer-child-env.ts'
import { sharedTrainerThreads } from './trainer-threads.ts'
import { cpuBudget } from '../../trainer/backend/cpu-budget.ts'
import { StandbyTrainers } from './standby-trainers.ts'

export interface LocalExecutorOptions {
  /** argv of the trainer; the spec and token come through the environment. */
  command: string[]
  maxConcurrent: number
  log: Logger
  /** How long cancel waits after SIGTERM before SIGKILL. */
  killGraceMs?: number
  cwd?: string
  /** Extra environment for every trainer (e.g. the blob store settings: blobStoreEnv in src/config/blob-store-env.ts). */
  env?: Record<string, string>
  /** Which blob store the trainers use: with S3 the AWS SDK's settings pass to them (default fs). */
  blobStore?: 'fs' | 's3'
  /** Standby trainers kept started ahead of their jobs (SKILLET_WARM_TRAINERS; default 0: every job starts its trainer). */
  warmTrainers?: number
}

/** Bytes of a trainer's output kept for the error message. */
const TAIL_BYTES = 2000

interface Trainer {
  child: ChildProcess
  tail: string
  exit: { code: number | null; signal: NodeJS.Signals | null } | null
  exited: Promise<void>
  /** The child's peak resident memory (Linux /proc VmHWM), sampled while it runs; null where unknown. */
  peakRssBytes: number | null
}

/** Peak resident memory of a process (bytes), or null off Linux or once it is gone. */
async function peakRss(pid: number | undefined): Promise<number | null> {
  if (!pid) return null
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null)
  const kb = status ? /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] : undefined
  return kb ? Number(kb) * 1024 : null
}

/** The memory a child of this process lives under: its cgroup's memory.max (cgroup v2), else the machine's. */
async function memoryLimitBytes(): Promise<number> {
  const max = await readFile('/sys/fs/cgroup/memory.max', 'utf8').catch(() => 'max')
  const n = Number(max.trim())
  return Number.isFinite(n) && n > 0 ? Math.min(n, os.totalmem()) : os.totalmem()
}

export class LocalExecutor implements Executor {
  readonly kind = 'local' as const
  private readonly trainers = new Map<string, Trainer>()
  private readonly options: Required<Omit<LocalExecutorOptions, 'cwd' | 'env' | 'blobStore'>> & Pick<LocalExecutorOptions, 'cwd' | 'env' | 'blobStore'>
  private readonly standbys: StandbyTrainers | null

  constructor(options: LocalExecutorOptions) {
    this.options = { killGraceMs: 5000, warmTrainers: 0, ...options }
    this.standbys = this.options.warmTrainers > 0
      ? new StandbyTrainers({ count: this.options.warmTrainers, command: this.options.command, cwd: this.options.cwd, log: this.options.log, killGraceMs: this.options.killGraceMs })
      : null
    this.standbys?.fill(this.trainerEnv())
  }

  /**
   * A trainer's environment without its job: the allow-list of this server's, its share of the
   * cores when several trainers may run (trainer-threads.ts), the executor's settings, this server's pid.
   */
  private trainerEnv(): Record<string, string> {
    const threads = sharedTrainerThreads(process.env.SKILLET_TRAINER_THREADS, this.options.maxConcurrent, cpuBudget())
    const share: Record<string, string> = threads === null ? {} : { SKILLET_TRAINER_THREADS: threads }
    return trainerChildEnv(process.env, { blobStore: this.options.blobStore ?? 'fs', set: { ...share, ...this.options.env, SKILLET_PARENT_PID: String(process.pid) } })
  }

  /** The standby trainers' processes (empty without warm trainers). */
  get standbyProcesses(): { pid: number | undefined; ready: boolean }[] {
    return this.standbys?.processes ?? []
  }

  get capacity(): number {
    return this.options.maxConcurrent
  }

  /** Trainers still running. */
  get running(): number {
    return [...this.trainers.values()].filter((t) => t.exit === null).length
  }

  async launch({ spec, token }: LaunchRequest): Promise<void> {
    const existing = this.trainers.get(spec.jobId)
    if (existing && existing.exit === null) return
    if (this.running >= this.options.maxConcurrent) throw new Error(`local executor is full: ${this.options.maxConcurrent} trainer(s) already running`)
    const env = this.trainerEnv()
    const job = { [TRAINER_ENV.spec]: JSON.stringify(spec), [TRAINER_ENV.token]: token, [TRAINER_ENV.callbackUrl]: spec.callbackUrl }
    const standby = this.standbys?.take(env, job) ?? null
    const [file, ...args] = this.options.command
    const child = standby ?? spawn(file, args, { cwd: this.options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...job } })
    const trainer: Trainer = { child, tail: '', exit: null, exited: Promise.resolve(), peakRssBytes: null }
    const keep = (chunk: Buffer) => {
      trainer.tail = (trainer.tail + chunk.toString('utf8')).slice(-TAIL_BYTES)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    trainer.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        keep(Buffer.from(`\n${err.message}\n`))
        trainer.exit ??= { code: 127, signal: null }
        resolve()
      })
      child.once('close', (code, signal) => {
        trainer.exit ??= { code, signal }
        this.options.log.info({ jobId: spec.jobId, projectId: spec.projectId, code, signal }, 'trainer exited')
        resolve()
      })
    })
    this.trainers.set(spec.jobId, trainer)
    this.options.log.info({ jobId: spec.jobId, projectId: spec.projectId, attempt: spec.attempt, pid: child.pid, warm: standby !== null }, standby ? 'trainer started (standby)' : 'trainer started')
  }

  async cancel(jobId: string): Promise<void> {
    const trainer = this.trainers.get(jobId)
    if (!trainer) return
    if (trainer.exit === null) {
      trainer.child.kill('SIGTERM')
      const timer = setTimeout(() => trainer.child.kill('SIGKILL'), this.options.killGraceMs)
      await trainer.exited
      clearTimeout(timer)
    }
    this.trainers.delete(jobId)
  }

  async observe(jobId: string): Promise<ExecutionObservation> {
    const trainer = this.trainers.get(jobId)
    if (!trainer) return { phase: 'gone' }
    if (trainer.exit === null) {
      trainer.peakRssBytes = (await peakRss(trainer.child.pid)) ?? trainer.peakRssBytes
      return { phase: 'running' }
    }
    if (trainer.exit.code === 0) return { phase: 'succeeded' }
    const last = lastMeaningfulLine(trainer.tail)
    const said = last ? `; its last words: ${last}` : ''
    const { signal } = trainer.exit
    if (!signal) return { phase: 'failed', reason: 'exit_code', message: `The trainer exited with code ${trainer.exit.code}${last ? `: ${last}` : ''}` }
    // Killed by a signal (SIGKILL from the OOM killer, an operator, a crash): the trainer is lost, not wrong.
    const limit = await memoryLimitBytes()
    const oom = likelyOutOfMemory({ signal, peakRssBytes: trainer.peakRssBytes, limitBytes: limit })
    const cause = oom ? `, most likely by the kernel's out-of-memory killer (its memory peaked at ${gib(trainer.peakRssBytes!)} of ${gib(limit)})` : ''
    return { phase: 'failed', reason: 'killed_by_signal', outOfMemoryLikely: oom, message: `The trainer was killed by ${signal}${cause}${said}` }
  }

  /** Forgets a finished trainer once the scheduler has acted on its outcome. */
  forget(jobId: string): void {
    if (this.trainers.get(jobId)?.exit !== null) this.trainers.delete(jobId)
  }

  async close(): Promise<void> {
    await Promise.all([...this.trainers.keys()].map((id) => this.cancel(id)).concat(this.standbys?.close() ?? []))
  }
}
