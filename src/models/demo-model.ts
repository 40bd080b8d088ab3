// A fresh embedded install lists one base model: a tiny Llama-architecture model generated on
// first start (seeded random weights, a real tokenizer), so the quickstart trains in seconds on a CPU.
import fs from 'node:fs/promises'
import path from 'node:path'
import { makeTinyModel } from '../trainer/tiny/make-tiny-model.ts'

/** Writes the demo model into `dir` unless it is already there. Returns true when it was generated. */
export async function ensureDemoModel(dir: string): Promise<boolean> {
  const done = await fs.stat(path.join(dir, 'config.json')).then(() => true, () => false)
  if (done) return false
  // Generate next to the target and rename, so a crash never leaves a half-written model behind.
  const tmp = `${dir}.tmp-${process.pid}`
  await fs.rm(tmp, { recursive: true, force: true })
  await fs.mkdir(tmp, { recursive: true })
  await makeTinyModel({ architecture: 'llama', dir: tmp, seed: 0 })
  await fs.rm(dir, { recursive: true, force: true })
  await fs.rename(tmp, dir)
  return true
}
