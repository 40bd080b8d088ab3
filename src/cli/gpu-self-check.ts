// Start-up self-check of a GPU trainer: which backend and adapter the trainer would use, and
// whether it really is a GPU that computes correctly. Prints one JSON line; exits 0 when it is,
// 1 when it is not (a software Vulkan adapter such as lavapipe, a tfjs-node-gpu that fell back
// to the CPU, no GPU backend at all), so a GPU job fails in seconds instead of training 100×
// slower than paid for.
//
//   node src/cli/gpu-self-check.ts [--backend auto|tensorflow|webgpu] [--allow-software]
//
// The backend also comes from SKILLET_TRAINER_BACKEND, as for the trainer. In the trainer image:
//   docker run --gpus all --entrypoint node skillet-trainer src/cli/gpu-self-check.ts
import * as tf from '@tensorflow/tfjs-core'
import { parseArgs } from 'node:util'
import { backendSettingsFromEnv, describeBackend, parseBackendName, selectBackend, type SelectedBackend } from '../trainer/backend/select-backend.ts'
import { gpuFailure } from '../trainer/backend/webgpu.ts'

export interface SelfCheckResult {
  ok: boolean
  backend: string | null
  gpu: boolean
  adapter: SelectedBackend['adapter']
  /** Largest |difference| between the device's matmul and the same product on the host. */
  matmulMaxError: number | null
  message: string
}

/** A 64×64 product on the device against the host: a device that exists but computes garbage fails too. */
async function matmulError(): Promise<number> {
  const n = 64
  const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 37) % 17) / 17 - 0.5)
  const b = Float32Array.from({ length: n * n }, (_, i) => ((i * 53) % 19) / 19 - 0.5)
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])))
  const got = (await product.data()) as Float32Array
  product.dispose()
  let worst = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]
      worst = Math.max(worst, Math.abs(s - got[i * n + j]))
    }
  }
  return worst
}

export async function gpuSelfCheck(requested: ReturnType<typeof parseBackendName>, allowSoftware: boolean): Promise<SelfCheckResult> {
  let selected: SelectedBackend
  try {
    selected = await selectBackend(requested, () => {}, { requireGpu: !allowSoftware })
  } catch (err) {
    return { ok: false, backend: null, gpu: false, adapter: null, matmulMaxError: null, message: (err as Error).message }
  }
  const error = await matmulError()
  const failure = gpuFailure()
  const ok = error < 1e-3 && failure === null
  const message = failure ? `${describeBackend(selected)}; ${failure.message}`
    : ok ? describeBackend(selected) : `${describeBackend(selected)}; a 64×64 matmul is off by ${error}`
  return { ok, backend: selected.name, gpu: selected.gpu, adapter: selected.adapter, matmulMaxError: error, message }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { backend: { type: 'string' }, 'allow-software': { type: 'boolean', default: false } } })
  const requested = values.backend ? parseBackendName(values.backend) : backendSettingsFromEnv(process.env).requested
  const result = await gpuSelfCheck(requested, values['allow-software'] ?? false)
  process.stdout.write(JSON.stringify(result) + '\n')
  process.stderr.write(`gpu self-check: ${result.ok ? 'ok' : 'FAILED'}: ${result.message}\n`)
  process.exitCode = result.ok ? 0 : 1
}
