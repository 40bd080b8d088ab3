// How many cores this process may use: the scheduler's answer (os.availableParallelism, which
// honours CPU affinity, e.g. taskset or a cpuset) and any CPU quota of the process's cgroups —
// what a container's CPU limit becomes (Kubernetes `resources.limits.cpu`, `docker --cpus`).
// A quota of q cores allows floor(q) threads (at least 1): a thread more would only be throttled.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Cores allowed by a cgroup v2 `cpu.max` line ("max 100000" or "150000 100000"); null: no limit. */
export function coresFromCpuMax(line: string): number | null {
  const [quota, period] = line.trim().split(/\s+/)
  if (quota === 'max' || quota === undefined) return null
  const q = Number(quota)
  const p = Number(period ?? 100000)
  return q > 0 && p > 0 ? q / p : null
}

/** Cores allowed by cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (-1: no limit). */
export function coresFromCfs(quotaUs: string, periodUs: string): number | null {
  const q = Number(quotaUs.trim())
  const p = Number(periodUs.trim())
  return q > 0 && p > 0 ? q / p : null
}

/** The cgroup paths in /proc/self/cgroup: v2's ("0::/a/b") and v1's cpu controller's. */
export function cgroupPaths(procSelfCgroup: string): { v2: string | null; v1Cpu: string | null } {
  let v2: string | null = null
  let v1Cpu: string | null = null
  for (const line of procSelfCgroup.split('\n')) {
    const [id, controllers, ...rest] = line.split(':')
    const p = rest.join(':')
    if (id === '0' && controllers === '') v2 = p
    else if (controllers !== undefined && controllers.split(',').includes('cpu')) v1Cpu = p
  }
  return { v2, v1Cpu }
}

/** A path and each of its parents up to '/' ("/a/b" → "/a/b", "/a", "/"): a limit anywhere above applies. */
function selfAndParents(p: string): string[] {
  const out: string[] = []
  let cur = p.replace(/\/+$/, '') || '/'
  for (;;) {
    out.push(cur)
    if (cur === '/') return out
    cur = cur.slice(0, cur.lastIndexOf('/')) || '/'
  }
}

/** Threads to use: the scheduler's count, lowered to the tightest quota (floored, at least 1). */
export function usableCores(parallelism: number, quotas: (number | null)[]): number {
  let cores = Math.max(1, Math.floor(parallelism))
  for (const q of quotas) if (q !== null) cores = Math.min(cores, Math.max(1, Math.floor(q)))
  return cores
}

const readOr = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Every CPU quota on this process's cgroups (v2 cpu.max, v1 CFS), read from /sys/fs/cgroup. */
export function readCgroupCpuQuotas(root = '/sys/fs/cgroup', procSelfCgroup = readOr('/proc/self/cgroup') ?? ''): number[] {
  const { v2, v1Cpu } = cgroupPaths(procSelfCgroup)
  const quotas: (number | null)[] = []
  // Inside a container the cgroup namespace makes its own cgroup "/": both the mounted root and
  // the named path are looked at.
  if (v2 !== null) {
    for (const p of selfAndParents(v2)) {
      const line = readOr(`${root}${p === '/' ? '' : p}/cpu.max`)
      if (line !== null) quotas.push(coresFromCpuMax(line))
    }
  }
  if (v1Cpu !== null) {
    for (const base of [`${root}/cpu`, `${root}/cpu,cpuacct`]) {
      for (const p of selfAndParents(v1Cpu)) {
        const dir = `${base}${p === '/' ? '' : p}`
        const quota = readOr(`${dir}/cpu.cfs_quota_us`)
        const period = readOr(`${dir}/cpu.cfs_period_us`)
        if (quota !== null && period !== null) quotas.push(coresFromCfs(quota, period))
      }
    }
  }
  return quotas.filter((q): q is number => q !== null)
}

/** The cores this process may use (see the header). */
export function cpuBudget(): number {
  return usableCores(availableParallelism(), readCgroupCpuQuotas())
}
