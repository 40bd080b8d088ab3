// One in-flight task per key that several callers join (two jobs on the same base model share one
// download). Each caller may leave with its own AbortSignal; the task itself is aborted only when
// every caller that joined it has left. Progress the task reports reaches every caller still there.

interface Entry<T, P> {
  promise: Promise<T>
  controller: AbortController
  joined: number
  listeners: Set<(progress: P) => void>
  last?: P
}

export interface JoinOptions<P> {
  signal?: AbortSignal
  onProgress?: (progress: P) => void
}

export class SharedTasks<T, P> {
  private readonly running = new Map<string, Entry<T, P>>()

  /** Joins the task running under `key`, or starts it with `start`. */
  run(key: string, start: (signal: AbortSignal, progress: (p: P) => void) => Promise<T>, opts: JoinOptions<P> = {}): Promise<T> {
    const entry = this.running.get(key) ?? this.begin(key, start)
    const { signal, onProgress } = opts
    entry.joined++
    if (onProgress) {
      entry.listeners.add(onProgress)
      if (entry.last !== undefined) onProgress(entry.last)
    }
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        signal?.removeEventListener('abort', onAbort)
        if (onProgress) entry.listeners.delete(onProgress)
      }
      const onAbort = () => {
        leave()
        entry.joined--
        if (entry.joined === 0) {
          if (this.running.get(key) === entry) this.running.delete(key)
          entry.controller.abort(signal?.reason)
        }
        reject(signal?.reason)
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      entry.promise.then(
        (value) => (leave(), resolve(value)),
        (err) => (leave(), reject(err)),
      )
    })
  }

  /** Keys of the tasks running now. */
  get keys(): string[] {
    return [...this.running.keys()]
  }

  private begin(key: string, start: (signal: AbortSignal, progress: (p: P) => void) => Promise<T>): Entry<T, P> {
    const controller = new AbortController()
    const entry: Entry<T, P> = { controller, joined: 0, listeners: new Set(), promise: Promise.resolve() as Promise<T> }
    const report = (p: P) => {
      entry.last = p
      for (const listener of entry.listeners) listener(p)
    }
    entry.promise = Promise.resolve()
      .then(() => start(controller.signal, report))
      .finally(() => {
        if (this.running.get(key) === entry) this.running.delete(key)
      })
    // Every joiner handles the outcome; this keeps an abandoned task's rejection from going unhandled.
    entry.promise.catch(() => {})
    this.running.set(key, entry)
    return entry
  }
}
