// Our block quantisers against ggml's own: the llama.cpp source node-llama-cpp ships (its git
// bundle) is unpacked, ggml-quants.c compiled with gcc and run on the same f32 inputs; every
// byte of every block must match its quantize_row_*_ref. Also: which type each tensor of a
// Q4_0 / Q4_K_M file gets, as llama-quantize picks them.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { QUANTIZE, QUANT_BLOCK, type QuantType } from '../../src/trainer/export/ggml-quants.ts'
import { ggufTensorTypes, type TensorShape } from '../../src/trainer/export/gguf-tensor-types.ts'
import { Random } from '../../src/trainer/model/random.ts'

const BUNDLE = join(import.meta.dirname, '../../node_modules/node-llama-cpp/llama/gitRelease.bundle')

const DRIVER = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "ggml-quants.h"
size_t ggml_row_size(enum ggml_type type, int64_t ne) { abort(); }
size_t ggml_type_size(enum ggml_type type) { abort(); }
const char * ggml_type_name(enum ggml_type type) { abort(); }
void ggml_abort(const char * file, int line, const char * fmt, ...) { abort(); }
int main(int argc, char ** argv) {
  const char * type = argv[1]; long n = atol(argv[2]);
  float * x = malloc(n * 4); if (fread(x, 4, n, stdin) != (size_t) n) return 3;
  void * y = malloc(n * 2); size_t bytes;
  if (!strcmp(type, "Q8_0")) { quantize_row_q8_0_ref(x, y, n); bytes = n / 32 * 34; }
  else if (!strcmp(type, "Q4_0")) { quantize_row_q4_0_ref(x, y, n); bytes = n / 32 * 18; }
  else if (!strcmp(type, "Q5_0")) { quantize_row_q5_0_ref(x, y, n); bytes = n / 32 * 22; }
  else if (!strcmp(type, "Q4_K")) { quantize_row_q4_K_ref(x, y, n); bytes = n / 256 * 144; }
  else if (!strcmp(type, "Q6_K")) { quantize_row_q6_K_ref(x, y, n); bytes = n / 256 * 210; }
  else return 2;
  fwrite(y, 1, bytes, stdout); return 0;
}
`

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

t.test('every block is byte-identical to ggml-quants.c (compiled from the bundled llama.cpp)', { skip: hasGcc() ? false : 'gcc is not installed' }, async (t) => {
  const dir = t.testdir()
  execFileSync('git', ['init', '-q', '--bare', join(dir, 'git')])
  execFileSync('git', ['--git-dir', join(dir, 'git'), 'fetch', '-q', BUNDLE, 'HEAD'], { stdio: ['ignore', 'ignore', 'inherit'] })
  const files = ['ggml/include', 'ggml/src/ggml-quants.c', 'ggml/src/ggml-quants.h', 'ggml/src/ggml-common.h', 'ggml/src/ggml-impl.h', 'ggml/src/ggml-cpu/ggml-cpu-impl.h']
  const archive = execFileSync('git', ['--git-dir', join(dir, 'git'), 'archive', 'FETCH_HEAD', ...files], { maxBuffer: 1 << 28 })
  execFileSync('tar', ['-x', '-C', dir], { input: archive })
  writeFileSync(join(dir, 'driver.c'), DRIVER)
  const driver = join(dir, 'driver')
  execFileSync('gcc', ['-O2', '-std=gnu11', `-I${dir}/ggml/include`, `-I${dir}/ggml/src`, join(dir, 'driver.c'), join(dir, 'ggml/src/ggml-quants.c'), '-o', driver, '-lm'], { stdio: ['ignore', 'ignore', 'inherit'] })

  const rng = Random.fromSeed(3)
  const gauss = () => Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next())
  const n = 256 * 64
  const inputs: Record<string, () => number> = {
    'weights (N(0, 0.02))': () => gauss() * 0.02,
    'uniform [-1, 1)': () => rng.next() * 2 - 1,
    'all positive': () => rng.next() * 3,
    'mostly zero': () => (rng.next() < 0.9 ? 0 : gauss()),
    'rare outliers': () => gauss() * (rng.next() < 0.01 ? 50 : 0.1),
    'all zero': () => 0,
    'tiny (1e-6)': () => gauss() * 1e-6,
  }
  for (const [label, draw] of Object.entries(inputs)) {
    const values = Float32Array.from({ length: n }, draw)
    for (const type of Object.keys(QUANTIZE) as QuantType[]) {
      const theirs = execFileSync(driver, [type, String(n)], { input: Buffer.from(values.buffer), maxBuffer: 1 << 26 })
      const ours = QUANTIZE[type](values)
      t.equal(ours.length, (n / QUANT_BLOCK[type].values) * QUANT_BLOCK[type].bytes, `${type}: block size`)
      const differing = ours.reduce((count, byte, i) => count + (byte === theirs[i] ? 0 : 1), 0)
      t.equal(differing + Math.abs(theirs.length - ours.length), 0, `${type} on ${label}: all ${ours.length} bytes as ggml's`)
    }
  }
})

t.test('Q4_0 / Q4_K_M tensor types follow llama-quantize', async (t) => {
  const layers = 8
  const llama = (hidden: number, ffn: number, tied: boolean): TensorShape[] => [
    { name: 'token_embd.weight', shape: [512, hidden] },
    ...(tied ? [] : [{ name: 'output.weight', shape: [512, hidden] }]),
    { name: 'output_norm.weight', shape: [hidden] },
    ...Array.from({ length: layers }, (_, i) => [
      { name: `blk.${i}.attn_norm.weight`, shape: [hidden] },
      { name: `blk.${i}.attn_q.weight`, shape: [hidden, hidden] },
      { name: `blk.${i}.attn_k.weight`, shape: [hidden / 2, hidden] },
      { name: `blk.${i}.attn_v.weight`, shape: [hidden / 2, hidden] },
      { name: `blk.${i}.attn_output.weight`, shape: [hidden, hidden] },
      { name: `blk.${i}.ffn_gate.weight`, shape: [ffn, hidden] },
      { name: `blk.${i}.ffn_up.weight`, shape: [ffn, hidden] },
      { name: `blk.${i}.ffn_down.weight`, shape: [hidden, ffn] },
    ]).flat(),
  ]
  const km = ggufTensorTypes(llama(256, 512, false), 'Q4_K_M', layers)
  t.equal(km.get('output.weight'), 'Q6_K', 'output: Q6_K')
  t.equal(km.get('token_embd.weight'), 'Q4_K', 'untied token_embd: the base type')
  t.equal(km.get('output_norm.weight'), 'F32', 'norms are not quantised')
  // use_more_bits(i, 8): i < 1, i >= 7, or (i - 1) % 3 == 2 → layers 0, 3, 6, 7.
  const more = [0, 3, 6, 7]
  for (let i = 0; i < layers; i++) {
    const want = more.includes(i) ? 'Q6_K' : 'Q4_K'
    t.equal(km.get(`blk.${i}.attn_v.weight`), want, `layer ${i} attn_v ${want}`)
    t.equal(km.get(`blk.${i}.ffn_down.weight`), want, `layer ${i} ffn_down ${want}`)
    t.equal(km.get(`blk.${i}.attn_q.weight`), 'Q4_K')
    t.equal(km.get(`blk.${i}.ffn_up.weight`), 'Q4_K')
  }
  const tied = ggufTensorTypes(llama(256, 512, true), 'Q4_K_M', layers)
  t.equal(tied.get('token_embd.weight'), 'Q6_K', 'tied token_embd is the output: Q6_K')
  const narrow = ggufTensorTypes(llama(64, 128, false), 'Q4_K_M', layers)
  t.equal(narrow.get('blk.1.attn_q.weight'), 'Q5_0', 'rows of 64 are no 256-value super-block: Q4_K falls back to Q5_0')
  t.equal(narrow.get('blk.0.attn_v.weight'), 'Q8_0', 'and Q6_K to Q8_0')
  t.equal(narrow.get('output.weight'), 'Q8_0')
  const q40 = ggufTensorTypes(llama(64, 128, false), 'Q4_0', layers)
  t.equal(q40.get('blk.0.attn_v.weight'), 'Q4_0', 'Q4_0 has no per-layer mix')
  t.equal(q40.get('blk.0.ffn_down.weight'), 'Q4_0')
  t.equal(q40.get('output.weight'), 'Q8_0', 'output of a Q4_0 file: Q6_K, here falling back to Q8_0')
  t.equal(ggufTensorTypes(llama(256, 512, false), 'Q4_0', layers).get('output.weight'), 'Q6_K')
  const odd = ggufTensorTypes([{ name: 'blk.0.attn_q.weight', shape: [48, 48] }], 'Q4_0', 1)
  t.equal(odd.get('blk.0.attn_q.weight'), 'F16', 'rows that are no whole 32-value block: F16')
  t.equal(ggufTensorTypes([{ name: 'position_embd.weight', shape: [256, 64] }], 'Q4_K_M', 1).get('position_embd.weight'), 'F16', 'position embeddings are never quantised')
})
