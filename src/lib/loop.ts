// The one background loop: runs a pass, sleeps `everyMs`, runs again — until stopped. Passes never
// overlap; wake() runs one at once (or, during a pass, once more right after it); stop() ends the sleep
// and waits for the pass in flight. A pass that throws is reported to onError and the loop goes on.
// The scheduler, the webhook dispatcher, maintenance and the reconciler's resync all run on it.

export interface LoopOptions {
  /** Pause between the end of one pass and the start of the next. */
  everyMs: number
  /** One pass; `signal` aborts when the loop stops (long passes may check it). */
  pass: (signal: AbortSignal) => Promise<void>
  onError: (err: unknown) => void
  /** Run the first pass at start (default) or only after the first pause. */
  immediate?: boolean
}

export interface Loop {
  /** Runs a pass now, or once more after the one in flight. No-op once stopped. */
  wake(): void
  /** Stops: no further pass starts; resolves once the pass in flight (if any) is done. */
  stop(): Promise<void>
}

export function startLoop(o: LoopOptions): Loop {
  const stopping = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let inPass: Promise<void> | null = null
  let again = false

  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(run, o.everyMs)
    timer.unref()
  }
  const run = () => {
    if (stopping.signal.aborted) return
    clearTimeout(timer)
    if (inPass) {
      again = true
      return
    }
    inPass = (async () => o.pass(stopping.signal))()
      .catch(o.onError)
      .finally(() => {
        inPass = null
        if (stopping.signal.aborted) return
        if (again) {
          again = false
          run()
        } else schedule()
      })
  }
  if (o.immediate === false) schedule()
  else run()

  return {
    wake: run,
    async stop() {
      stopping.abort()
      clearTimeout(timer)
      await inPass
    },
  }
}

/** Waits `ms`, or less when `signal` aborts; true when the full time passed. Never keeps the process alive. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false)
    const done = (full: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(full)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
