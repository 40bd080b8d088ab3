// One in-flight task per key that several callers join (two jobs on the same base model share one
// download). Each caller may leave with its own AbortSignal; the task itself is aborted only when
// every caller that joined it has left. Progress the task reports reaches every caller still there.
// A task started under a key whose previous task was aborted waits until that one has wound down
// (a download keeps the bytes it got on abort, for the next one to resume after).

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
  /** Aborted tasks still winding down, by key. */
  private readonly stopping = new Map<string, Promise<unknown>>()

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
        if (entry.joined === 0 && this.running.get(key) === entry) {
          this.running.delete(key)
          const settled = entry.promise.catch(() => {}).finally(() => {
            if (this.stopping.get(key) === settled) this.stopping.delete(key)
          })
          this.stopping.set(key, settled)
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

  private begin(key: string, start: (signal: AbortSignal, progress: (p: P) => void) => Promise<T>): Entry<T, P> {
    const controller = new AbortController()
    const entry: Entry<T, P> = { controller, joined: 0, listeners: new Set(), promise: Promise.resolve() as Promise<T> }
    const report = (p: P) => {
      entry.last = p
      for (const listener of entry.listeners) listener(p)
    }
    entry.promise = Promise.resolve(this.stopping.get(key))
      .then(() => {
        if (controller.signal.aborted) throw controller.signal.reason
        return start(controller.signal, report)
      })
      .finally(() => {
        if (this.running.get(key) === entry) this.running.delete(key)
      })
    // Every joiner handles the outcome; this keeps an abandoned task's rejection from going unhandled.
    entry.promise.catch(() => {})
    this.running.set(key, entry)
    return entry
  }
}
