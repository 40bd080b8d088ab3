// Was a trainer killed by a signal most likely killed by the kernel's out-of-memory killer? The OOM
// killer sends SIGKILL and leaves no note; the sign is that the process' peak resident memory was
// near the limit it lived under (its cgroup's memory.max, else the machine's memory). Pure.

/** Peak memory at or above this share of the limit counts as "near the limit". */
export const NEAR_LIMIT = 0.8

export function likelyOutOfMemory(o: { signal: string | null; peakRssBytes: number | null; limitBytes: number }): boolean {
  return o.signal === 'SIGKILL' && o.peakRssBytes !== null && o.limitBytes > 0 && o.peakRssBytes >= NEAR_LIMIT * o.limitBytes
}

/** "7.6 GiB". */
export function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`
}
