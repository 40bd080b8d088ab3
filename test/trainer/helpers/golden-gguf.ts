// Shared body of the GGUF golden tests: export a tiny model at F32 / F16 / Q8_0, run all three
// through llama.cpp in one child process, compare each with the reference forward pass.
import { join } from 'node:path'
import type { Test } from 'tap'
import type { LoadedModel } from '../../../src/trainer/io/load-model.ts'
import { exportGguf } from '../../../src/trainer/export/gguf.ts'
import { llamaCppLogitsMany } from '../../../src/trainer/export/llama-cpp-logits.ts'
import { compareLogits, decisiveArgmaxMismatches, sampleTokens } from './compare-logits.ts'

export const GOLDEN_POSITIONS = 20

export interface GoldenCase {
  label: string
  model: LoadedModel
  reference: (tokens: number[]) => Float64Array[]
  /** F32 tolerance; 1e-4 unless an op in llama.cpp is itself lower precision. */
  f32Tolerance?: number
  /** Positions to compare (GOLDEN_POSITIONS unless a case needs a longer sequence). */
  positions?: number
}

export async function checkGoldenCases(t: Test, dir: string, cases: GoldenCase[]): Promise<void> {
  const dtypes = ['F32', 'F16', 'Q8_0'] as const
  const jobs: { modelPath: string; tokens: number[] }[] = []
  for (const [i, c] of cases.entries()) {
    for (const dtype of dtypes) {
      const path = join(dir, `case${i}-${dtype}.gguf`)
      await exportGguf(c.model, path, { dtype })
      jobs.push({ modelPath: path, tokens: sampleTokens(c.positions ?? GOLDEN_POSITIONS, c.model.config.vocabSize) })
    }
  }
  const logits = await llamaCppLogitsMany(jobs)
  cases.forEach((c, i) => {
    const expected = c.reference(jobs[i * 3].tokens)
    const positions = expected.length
    const [f32, f16, q8] = dtypes.map((_, d) => logits[i * 3 + d])
    const f32Result = compareLogits(f32, expected)
    const f32Tolerance = c.f32Tolerance ?? 1e-4
    t.ok(f32Result.maxAbsDiff < f32Tolerance, `${c.label}: F32 max abs diff ${f32Result.maxAbsDiff} < ${f32Tolerance}`)
    t.equal(f32Result.argmaxAgreement, positions, `${c.label}: F32 argmax identical at all ${positions} positions`)
    const f16Result = compareLogits(f16, expected)
    t.ok(f16Result.maxAbsDiff < 1e-2, `${c.label}: F16 max abs diff ${f16Result.maxAbsDiff} < 1e-2`)
    t.same(decisiveArgmaxMismatches(f16, expected, 2e-2), [], `${c.label}: F16 argmax identical wherever the top-two gap exceeds 2e-2 (${f16Result.argmaxAgreement}/${positions} overall)`)
    const q8Result = compareLogits(q8, expected)
    t.ok(q8Result.maxAbsDiff < 0.5, `${c.label}: Q8_0 max abs diff ${q8Result.maxAbsDiff} < 0.5`)
    t.ok(q8Result.argmaxAgreement >= positions * 0.75, `${c.label}: Q8_0 argmax agrees at ${q8Result.argmaxAgreement}/${positions}`)
  })
}
