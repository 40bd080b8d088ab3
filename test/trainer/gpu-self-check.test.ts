// The start-up GPU self-check as a command: one JSON line, exit 1 unless a working GPU is there.
// Here there is none: the CPU backends and Mesa's software Vulkan adapter must all be refused.
import t from 'tap'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { webGpuSkipReason } from './helpers/webgpu-adapter.ts'

const CLI = path.resolve(import.meta.dirname, '../../src/cli/gpu-self-check.ts')

function selfCheck(args: string[]): Promise<{ code: number; result: { ok: boolean; backend: string | null; gpu: boolean; matmulMaxError: number | null; message: string } }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, SKILLET_TRAINER_BACKEND: '' } }, (err, stdout) => {
      const code = err ? (err as { code?: number }).code ?? 1 : 0
      try {
        resolve({ code: typeof code === 'number' ? code : 1, result: JSON.parse(stdout.trim().split('\n').at(-1)!) })
      } catch {
        reject(new Error(`no JSON from the self-check: ${stdout}`))
      }
    })
  })
}

t.test('a CPU backend fails the check', async (t) => {
  const { code, result } = await selfCheck(['--backend', 'wasm'])
  t.equal(code, 1)
  t.equal(result.ok, false)
  t.match(result.message, /a GPU is required but wasm computes on the CPU/)
})

const skip = await webGpuSkipReason()

t.test('the software Vulkan adapter fails the check, and passes only when allowed', { skip }, async (t) => {
  const refused = await selfCheck(['--backend', 'webgpu'])
  t.equal(refused.code, 1)
  t.match(refused.result.message, /the WebGPU adapter is a software one \(.*llvmpipe/)
  const allowed = await selfCheck(['--backend', 'webgpu', '--allow-software'])
  t.equal(allowed.code, 0, 'exit 0 with --allow-software')
  t.same([allowed.result.ok, allowed.result.backend, allowed.result.gpu], [true, 'webgpu', false])
  t.ok(allowed.result.matmulMaxError! < 1e-3, `a 64×64 matmul on the device matches the host (max error ${allowed.result.matmulMaxError})`)
})
