// The trainer's own learning task on token ids (no tokenizer): after "<bos> a b c d <sep>" answer
// f(a) then <eos>, where f is a fixed permutation of 20 symbols; held-out prompts are combinations
// never trained on. Shared by the LoRA learning test and the QLoRA one.
import { Random } from '../../../src/trainer/model/random.ts'
import { batchOf } from '../model-fixture.ts'

export const BOS = 3, SEP = 2, EOS = 1
const f = (x: number) => 30 + (((x - 10) * 7) % 20) // symbols 10..29 → answers 30..49
const rng = Random.fromSeed(7)
const example = () => {
  const symbols = [0, 0, 0, 0].map(() => 10 + Math.floor(rng.next() * 20))
  return { prompt: [BOS, ...symbols, SEP], answer: [f(symbols[0]), EOS] }
}
export const train = Array.from({ length: 240 }, example)
export const heldOut = Array.from({ length: 60 }, example).filter((e) => !train.some((x) => x.prompt.join() === e.prompt.join()))

/** The epoch's batches of `batchSize`, shuffled by epoch; the loss is on the answer only. */
export function mappingBatches(batchSize: number) {
  return (epoch: number) => {
    const order = Random.fromSeed(100 + epoch).permutation(train.length)
    const out = []
    for (let i = 0; i < order.length; i += batchSize) {
      const rows = order.slice(i, i + batchSize).map((j) => train[j])
      out.push(batchOf(rows.map((e) => [...e.prompt, ...e.answer]), { lossFrom: rows.map((e) => e.prompt.length) }))
    }
    return out
  }
}
