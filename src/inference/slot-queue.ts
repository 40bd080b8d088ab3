// A bounded admission queue: `slots` requests run at once, up to `maxWaiting` more wait in
// order, and the one after that is refused at once (the caller answers 429). A waiter whose
// request is aborted leaves the queue.
export class QueueFullError extends Error {
  constructor() {
    super('queue full')
    this.name = 'QueueFullError'
  }
}

export class SlotQueue {
  private readonly slots: number
  private readonly maxWaiting: number
  private running = 0
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal; onAbort: () => void }[] = []

  constructor(slots: number, maxWaiting: number) {
    this.slots = slots
    this.maxWaiting = maxWaiting
  }

  get active(): number {
    return this.running
  }

  get queued(): number {
    return this.waiting.length
  }

  /** Resolves with a release function once a slot is free; rejects QueueFullError or the abort reason. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted()
    if (this.running < this.slots) {
      this.running++
      return this.releaser()
    }
    if (this.waiting.length >= this.maxWaiting) throw new QueueFullError()
    await new Promise<void>((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiting.indexOf(entry)
          if (i !== -1) this.waiting.splice(i, 1)
          reject(signal.reason)
        },
      }
      signal.addEventListener('abort', entry.onAbort, { once: true })
      this.waiting.push(entry)
    })
    return this.releaser()
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) {
        next.signal.removeEventListener('abort', next.onAbort)
        next.resolve() // the slot passes straight to the next waiter
      } else {
        this.running--
      }
    }
  }
}
