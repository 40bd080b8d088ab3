// tfjs keeps one process-wide registry of variable names and refuses duplicates, so two models
// in one process (tests, a policy next to an evaluation copy) would collide. Variables get a
// stable key (used in checkpoints) plus a per-instance suffix (used only by tfjs).

let instances = 0

/** A fresh suffix for one model instance's variables. */
export function nextInstanceSuffix(): string {
  instances += 1
  return `#${instances}`
}

/** The stable key of a variable name made as key + suffix. */
export function variableKey(name: string): string {
  const hash = name.lastIndexOf('#')
  return hash < 0 ? name : name.slice(0, hash)
}
