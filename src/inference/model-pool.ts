// The embedded engine's loaded models: loaded on first use, at most `maxLoadedModels` and
// `memoryBudgetBytes` together (least recently used idle model unloads first), unloaded after
// `idleUnloadSeconds` unused. Each loaded model has one llama.cpp context with `parallel`
// sequences and a bounded queue of requests waiting for one.
import type { LlamaContext, LlamaModel } from 'node-llama-cpp'
import type { Logger } from 'pino'
import type { InferenceConfig } from '../config/index.ts'
import { ApiError } from '../lib/errors.ts'
import { idleModels, planEviction } from './eviction-plan.ts'
import { getLlamaRuntime } from './llama-runtime.ts'
import { QueueFullError, SlotQueue } from './slot-queue.ts'

export interface PooledModel {
  key: string
  model: LlamaModel
  context: LlamaContext
  queue: SlotQueue
  /** Tokens one request may use (prompt + answer). */
  contextSize: number
  bytes: number
  lastUsedMs: number
  /** Requests holding this model (loading, waiting or generating): never unloaded while > 0. */
  users: number
}

export class ModelPool {
  private readonly loaded = new Map<string, PooledModel>()
  private readonly loading = new Map<string, Promise<PooledModel>>()
  private readonly config: InferenceConfig
  private readonly log: Logger
  private readonly timer: NodeJS.Timeout

  constructor(config: InferenceConfig, log: Logger) {
    this.config = config
    this.log = log
    const idleMs = config.idleUnloadSeconds * 1000
    this.timer = setInterval(() => void this.unloadIdle(), Math.max(250, Math.min(idleMs / 4, 30_000)))
    this.timer.unref()
  }

  /** Per loaded model: requests generating and waiting (for /metrics and tests). */
  stats(): { key: string; active: number; queued: number; bytes: number }[] {
    return [...this.loaded.values()].map((m) => ({ key: m.key, active: m.queue.active, queued: m.queue.queued, bytes: m.bytes }))
  }

  /** Loaded model keys, most recently used last. */
  get keys(): string[] {
    return [...this.loaded.values()].sort((a, b) => a.lastUsedMs - b.lastUsedMs).map((m) => m.key)
  }

  /**
   * The model loaded from `path`, held for the caller until `release()`; `key` identifies it
   * (the GGUF's blob key).
   */
  async hold(key: string, path: () => Promise<string>): Promise<{ pooled: PooledModel; release: () => void }> {
    let pooled = this.loaded.get(key)
    if (!pooled) {
      let loading = this.loading.get(key)
      if (!loading) {
        loading = path()
          .then((file) => this.load(key, file))
          .finally(() => this.loading.delete(key))
        this.loading.set(key, loading)
      }
      pooled = await loading
    }
    pooled.users++
    pooled.lastUsedMs = Date.now()
    let released = false
    const held = pooled
    return {
      pooled,
      release: () => {
        if (released) return
        released = true
        held.users--
        held.lastUsedMs = Date.now()
      },
    }
  }

  /** A free slot (sequence) of the model; 429 when its queue is full. */
  async slot(pooled: PooledModel, signal: AbortSignal): Promise<() => void> {
    try {
      return await pooled.queue.acquire(signal)
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new ApiError(429, `This model is busy: ${this.config.parallel} requests are running and ${this.config.maxQueue} are waiting. Please retry shortly.`, {
          type: 'requests',
          code: 'rate_limit_exceeded',
          headers: { 'retry-after': '1' },
        })
      }
      throw err
    }
  }

  private state() {
    return [...this.loaded.values()].map((m) => ({ key: m.key, bytes: m.bytes, lastUsedMs: m.lastUsedMs, busy: m.users > 0 }))
  }

  private async load(key: string, path: string): Promise<PooledModel> {
    const llama = await getLlamaRuntime(this.log)
    const { stat } = await import('node:fs/promises')
    const fileBytes = (await stat(path)).size
    const plan = planEviction(this.state(), fileBytes, { maxModels: this.config.maxLoadedModels, memoryBudgetBytes: this.config.memoryBudgetBytes })
    for (const k of plan.unload) await this.unload(k, 'to make room')
    if (!plan.fits) {
      throw new ApiError(503, `Every loaded model is in use (at most ${this.config.maxLoadedModels} models, ${this.config.memoryBudgetBytes} bytes); please retry shortly.`, {
        type: 'server_error',
        code: 'engine_overloaded',
        headers: { 'retry-after': '2' },
      })
    }
    const started = performance.now()
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
    const contextSize = Math.min(model.trainContextSize || this.config.contextSize, this.config.contextSize)
    const context = await model.createContext({
      contextSize,
      sequences: this.config.parallel,
      batchSize: Math.min(contextSize, 512),
      ...(this.config.threads > 0 ? { threads: this.config.threads } : {}),
    })
    const pooled: PooledModel = {
      key,
      model,
      context,
      queue: new SlotQueue(this.config.parallel, this.config.maxQueue),
      contextSize,
      bytes: model.size + context.memoryUsage.ram,
      lastUsedMs: Date.now(),
      users: 0,
    }
    this.loaded.set(key, pooled)
    this.log.info({ key, ms: Math.round(performance.now() - started), bytes: pooled.bytes, contextSize }, 'inference model loaded')
    return pooled
  }

  private async unload(key: string, why: string): Promise<void> {
    const pooled = this.loaded.get(key)
    if (!pooled) return
    this.loaded.delete(key)
    await pooled.context.dispose()
    await pooled.model.dispose()
    this.log.info({ key, why }, 'inference model unloaded')
  }

  private async unloadIdle(): Promise<void> {
    for (const key of idleModels(this.state(), Date.now(), this.config.idleUnloadSeconds * 1000)) await this.unload(key, 'idle')
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    for (const key of [...this.loaded.keys()]) await this.unload(key, 'shutdown')
  }
}
