// Packs the GPU measurements of docs/gpu.md into one self-contained archive for a GPU machine
// that has no package registry: the trainer's GPU bench bundled into a single ES module
// (esbuild: tfjs-core, tfjs-backend-webgpu, the trainer), Dawn's prebuilt Node binding for
// linux-x64 beside it, the PyTorch yardstick, a run script and — unless --no-node — this Node
// binary. Nothing in it is downloaded at run time.
//
//   node test/bench/gpu/make-bundle.ts [--out skillet-gpu-bench.tar.xz] [--no-node]
//
// The archive unpacks into skillet-gpu-bench/; run skillet-gpu-bench/run.sh there (docs/gpu.md).
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { GRADIENT_KERNELS } from '../../../src/trainer/backend/register-gradients.ts'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'skillet-gpu-bench.tar.xz' }, 'no-node': { type: 'boolean', default: false } } })
const require = createRequire(import.meta.url)
const here = import.meta.dirname
const stage = mkdtempSync(path.join(tmpdir(), 'skillet-gpu-bundle-'))
const root = path.join(stage, 'skillet-gpu-bench')
mkdirSync(path.join(root, 'node_modules', 'webgpu', 'dist', 'linux-x64'), { recursive: true })

// 1. The bench as one file. `webgpu` stays a real package beside it: it loads dawn.node by a
//    path relative to itself.
//    The trainer loads tfjs's gradient files by computed paths (register-gradients.ts), which a
//    bundler cannot follow: the entry imports them statically and registers them first, so that
//    registerGradients() finds them present and loads nothing.
const gradients = GRADIENT_KERNELS.map((kernel, i) => `import * as g${i} from '@tensorflow/tfjs-core/dist/gradients/${kernel}_grad.js'`)
await build({
  stdin: {
    contents: [
      "import * as tf from '@tensorflow/tfjs-core'",
      ...gradients,
      `for (const m of [${GRADIENT_KERNELS.map((_, i) => `g${i}`).join(', ')}]) for (const v of Object.values(m)) if (v && typeof v.gradFunc === 'function') tf.registerGradient(v)`,
      "await import('./train-sizes.bench.ts')",
    ].join('\n'),
    resolveDir: here, sourcefile: 'gpu-bench-entry.ts', loader: 'ts',
  },
  outfile: path.join(root, 'train-sizes.mjs'),
  bundle: true, platform: 'node', format: 'esm', target: 'node22',
  external: ['webgpu'],
  // The bundled CommonJS packages (tfjs) call require(): give the ES module one.
  banner: { js: "import { createRequire as __skilletCreateRequire } from 'node:module'; const require = __skilletCreateRequire(import.meta.url);" },
  logLevel: 'warning',
})

// 2. Dawn: the package's loader and its linux-x64 binary only.
const webgpuDir = path.dirname(require.resolve('webgpu/package.json'))
for (const file of ['package.json', 'index.js', path.join('dist', 'linux-x64', 'dawn.node')]) copyFileSync(path.join(webgpuDir, file), path.join(root, 'node_modules', 'webgpu', file))

// 3. PyTorch's side and the script that runs both.
copyFileSync(path.join(here, 'torch_yardstick.py'), path.join(root, 'torch_yardstick.py'))
if (!values['no-node']) copyFileSync(process.execPath, path.join(root, 'node'))
writeFileSync(path.join(root, 'run.sh'), `#!/bin/sh
# Skillet's WebGPU trainer beside PyTorch on this GPU (docs/gpu.md). Prints one line per run.
cd "$(dirname "$0")"
NODE=./node; [ -x "$NODE" ] || NODE=node
export NVIDIA_DRIVER_CAPABILITIES="\${NVIDIA_DRIVER_CAPABILITIES:-compute,utility,graphics}"
for size in \${SIZES:-bench 135m 150m}; do
  for method in \${METHODS:-lora full}; do
    "$NODE" train-sizes.mjs --backend webgpu --size "$size" --method "$method" || echo "tfjs-webgpu $size $method: failed (exit $?)"
    for precision in fp32 bf16; do
      python3 torch_yardstick.py --size "$size" --method "$method" --precision "$precision" || echo "torch $size $method $precision: failed (exit $?)"
    done
  done
done
`)
chmodSync(path.join(root, 'run.sh'), 0o755)

const out = path.resolve(values.out!)
execFileSync('tar', ['-cJf', out, '-C', stage, 'skillet-gpu-bench'], { stdio: 'inherit' })
rmSync(stage, { recursive: true, force: true })
console.log(`${out}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB`)
