// Which loaded models to unload so that one more fits: least recently used first, only models
// with nothing running or waiting, until both the count limit and the memory budget hold.
export interface LoadedModelState {
  key: string
  bytes: number
  lastUsedMs: number
  busy: boolean
}

export interface EvictionPlan {
  unload: string[]
  /** False when even unloading every idle model leaves no room (the request must wait or fail). */
  fits: boolean
}

export function planEviction(loaded: LoadedModelState[], incomingBytes: number, limits: { maxModels: number; memoryBudgetBytes: number }): EvictionPlan {
  let count = loaded.length + 1
  let bytes = loaded.reduce((n, m) => n + m.bytes, 0) + incomingBytes
  const unload: string[] = []
  const idle = loaded.filter((m) => !m.busy).sort((a, b) => a.lastUsedMs - b.lastUsedMs)
  for (const m of idle) {
    if (count <= limits.maxModels && bytes <= limits.memoryBudgetBytes) break
    unload.push(m.key)
    count--
    bytes -= m.bytes
  }
  // A model bigger than the whole budget is still served alone rather than never.
  const fits = count <= limits.maxModels && (bytes <= limits.memoryBudgetBytes || count === 1)
  return { unload, fits }
}

/** Models idle for longer than the timeout. */
export function idleModels(loaded: LoadedModelState[], nowMs: number, idleMs: number): string[] {
  return loaded.filter((m) => !m.busy && nowMs - m.lastUsedMs >= idleMs).map((m) => m.key)
}
