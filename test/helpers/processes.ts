// Other processes as Linux's /proc shows them: whether one runs, its environment, its children.
import fs from 'node:fs'

/** The state letter of /proc/PID/stat (R, S, Z, …), or null when there is no such process. */
function stateOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return null
  }
}

/** Whether the process runs (a zombie not yet reaped, once its parent is gone, does not). */
export const alive = (pid: number): boolean => ![null, 'Z'].includes(stateOf(pid))

/** A process's environment, as the kernel has it. */
export function environOf(pid: number): Record<string, string> {
  const vars = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(vars.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

/** Pids of the processes whose parent is `parent`. */
export function childrenOf(parent: number): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent
    } catch {
      return false
    }
  })
}
