// The example dataset shipped with the project (examples/train.jsonl): 40 chat examples with a fixed
// reply format ("Repeat apple" → "Word: apple."), which `npm run demo`, the README's examples and
// the tests that check the demo model learns all use.
import { fileURLToPath } from 'node:url'

export const EXAMPLE_DATASET_PATH = fileURLToPath(new URL('../../examples/train.jsonl', import.meta.url))
