// A small, generated English-like corpus for training the tiny tokenizer: common words in
// seeded random sentences, plus the chat and tool-call vocabulary the tests use.
import { seededRandom } from './seeded-random.ts'

const WORDS = (
  'the of and to a in is it you that he was for on are with as I his they be at one have this from ' +
  'or had by hot word but what some we can out other were all there when up use your how said an ' +
  'each she which do their time if will way about many then them write would like so these her long ' +
  'make thing see him two has look more day could go come did number sound no most people my over ' +
  'know water than call first who may down side been now find any new work part take get place made ' +
  'live where after back little only round man year came show every good me give our under name very ' +
  'through just form sentence great think say help low line differ turn cause much mean before move ' +
  'right boy old too same tell does set three want air well also play small end put home read hand ' +
  'user assistant system tool function weather city answer question hello world model train token'
).split(' ')

const PUNCTUATION = ['.', '.', '.', ',', '?', '!', ':', ';']

export function tinyCorpus(seed: number, sentences = 1500): string {
  const random = seededRandom(seed)
  const lines: string[] = []
  for (let s = 0; s < sentences; s++) {
    const length = 4 + random.int(10)
    const words: string[] = []
    for (let w = 0; w < length; w++) words.push(WORDS[random.int(WORDS.length)])
    if (random.next() < 0.2) words.push(String(random.int(2000)))
    words[0] = words[0][0].toUpperCase() + words[0].slice(1)
    lines.push(words.join(' ') + PUNCTUATION[random.int(PUNCTUATION.length)])
  }
  lines.push('{"name": "get_weather", "arguments": {"city": "Paris"}}', '<tool_call>', '</tool_call>', '# Tools')
  return lines.join(random.next() < 0.5 ? '\n' : ' ')
}
