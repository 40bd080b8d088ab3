// The general held-out text set of the forgetting check (src/trainer/train/forgetting-check.ts):
// short plain sentences on everyday topics, written for Skillet and shipped with it — no job's data is
// like them on purpose. Encoded with the model's tokenizer as plain text (no chat template), every
// token after the first a target.
import { makeBatches, type Batch } from '../data/batching.ts'
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'

/** The forgetting result's `source` when it used these texts. */
export const GENERAL_TEXTS_SOURCE = 'skillet-general-texts'

export const GENERAL_TEXTS: readonly string[] = [
  'The river runs through the middle of the old town and under seven stone bridges.',
  'Water boils at one hundred degrees Celsius at sea level, and at a lower temperature on a mountain.',
  'Most plants need sunlight, water and air to grow, and many of them also need good soil.',
  'The library opens at nine in the morning and closes at six in the evening, except on Sundays.',
  'A week has seven days, and a year usually has three hundred and sixty five of them.',
  'She walked to the market to buy bread, cheese and a few apples for the trip.',
  'The train to the coast leaves every hour from the main station.',
  'Children learn to read by listening to stories and by trying to sound out new words.',
  'In winter the lake freezes over, and people skate on it when the ice is thick enough.',
  'The museum has a large collection of paintings, old maps and tools from many centuries.',
  'He wrote a letter to his friend and asked about her new job in the city.',
  'Bees carry pollen from flower to flower, which helps fruit and seeds to form.',
  'The recipe calls for two cups of flour, one egg and a little milk.',
  'When the sun goes down, the air in the desert cools quickly.',
  'A good night of sleep helps people think clearly and remember what they learned.',
  'The first computers filled whole rooms, while today a phone fits in a pocket.',
  'Rain fell all afternoon, so the football match was moved to the next day.',
  'The moon takes about a month to travel once around the earth.',
  'Many birds fly south in the autumn and return in the spring.',
  'The shop on the corner sells newspapers, coffee and small gifts.',
  'Music can make people feel happy, calm or full of energy.',
  'The doctor told him to drink more water and to walk every day.',
  'Mountains are often covered in snow, even in the middle of summer.',
  'They planted a tree in the garden on the day their daughter was born.',
]

/** The texts as batches of token rows, every token after the first a target; cut at `maxLength`. */
export function encodeGeneralTexts(tokenizer: TextTokenizer, maxLength: number, texts: readonly string[] = GENERAL_TEXTS, batchSize = 8): Batch[] {
  const sequences = texts.map((text) => {
    const ids = tokenizer.encode(text).slice(0, maxLength)
    return { ids, lossMask: ids.map((_, i) => (i === 0 ? 0 : 1)), truncated: false }
  })
  return makeBatches(sequences, { batchSize, seed: 0, padId: tokenizer.padTokenId })
}
