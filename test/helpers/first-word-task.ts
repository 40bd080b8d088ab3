// A task a tiny model cannot do before training and learns with LoRA: user "Repeat the first of:
// W1 W2 W3" → assistant "Word: W1.", with held-out prompts (word combinations never trained on).
// Shared by the trainer's learning test and the learning test through the API.
import { Random } from '../../src/trainer/model/random.ts'

/** Words the tiny tokenizer keeps whole (" water" is one token), so every prompt has one length. */
export const WORDS = ['the', 'and', 'you', 'that', 'for', 'are', 'had', 'hot', 'but', 'out',
  'other', 'all', 'each', 'she', 'which', 'their', 'about', 'many', 'write', 'like']
export const ask = (words: string[]) => `Repeat the first of: ${words.join(' ')}`
export const reply = (words: string[]) => `Word: ${words[0]}.`

const rng = Random.fromSeed(9)
const pick = () => [0, 0, 0].map(() => WORDS[Math.floor(rng.next() * WORDS.length)])
export const train = Array.from({ length: 300 }, pick)
export const heldOut = Array.from({ length: 70 }, pick).filter((e) => !train.some((x) => x.join() === e.join()))
