// A fresh embedded install lists one base model: a tiny Llama-architecture model generated on
// first start (seeded random weights, a real tokenizer), so the quickstart trains in seconds on a CPU.
// Its weights are drawn with std 0.1 rather than HF's 0.02: LoRA leaves lm_head and the final norm
// frozen, and at 0.02 their logits are too flat for a LoRA run to move the argmax (a default
// 40-example job fell 5% in loss). At 0.1 the same job ends below 0.7 of its first loss and the
// model answers in the dataset's reply format (test/e2e/demo-model-learns.test.ts).
import fs from 'node:fs/promises'
import path from 'node:path'

/** Std of the demo model's random weights (see above). */
export const DEMO_MODEL_INIT_STD = 0.1

/** Whether `dir` holds the current demo model (a data dir from an older version may hold one drawn at 0.02). */
async function isCurrent(dir: string): Promise<boolean> {
  const config = await fs.readFile(path.join(dir, 'config.json'), 'utf8').then((text) => JSON.parse(text) as { initializer_range?: unknown }, () => null)
  return config?.initializer_range === DEMO_MODEL_INIT_STD
}

/** Writes the demo model into `dir` unless it is already there. Returns true when it was generated. */
export async function ensureDemoModel(dir: string): Promise<boolean> {
  if (await isCurrent(dir)) return false
  // Generate next to the target and rename, so a crash never leaves a half-written model behind.
  const tmp = `${dir}.tmp-${process.pid}`
  await fs.rm(tmp, { recursive: true, force: true })
  await fs.mkdir(tmp, { recursive: true })
  // Loaded only to generate (a first start): a restart finds the model and never loads the generator.
  const { makeTinyModel } = await import('../trainer/tiny/make-tiny-model.ts')
  await makeTinyModel({ architecture: 'llama', dir: tmp, seed: 0, initStd: DEMO_MODEL_INIT_STD })
  await fs.rm(dir, { recursive: true, force: true })
  await fs.rename(tmp, dir)
  return true
}
