// The trainer image and the launcher must agree on what runs in the container: the Job sets
// `command` (which replaces the image's ENTRYPOINT), so a drift would be invisible until a cluster run.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CUDA_CACHE_MOUNT } from '../../../src/running/kubernetes/job-manifest.ts'
import { DEFAULT_TRAINER_COMMAND, resolveKubernetesExecutorConfig } from '../../../src/config/kubernetes-executor-config.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const dockerfile = fs.readFileSync(path.join(ROOT, 'trainer-image/Dockerfile'), 'utf8')

function instruction(name: string): string[] {
  const lines = dockerfile.split('\n').filter((l) => l.startsWith(`${name} `))
  return lines.map((l) => l.slice(name.length + 1).trim())
}

t.test('the image ENTRYPOINT is the launcher default command', async (t) => {
  const [entrypoint] = instruction('ENTRYPOINT')
  t.same(JSON.parse(entrypoint), DEFAULT_TRAINER_COMMAND)
  t.equal(DEFAULT_TRAINER_COMMAND[1], 'src/cli/trainer.ts')
})

t.test('the image runs as the uid the Job asks for, and keeps the CUDA cache where the Job mounts it', async (t) => {
  const uid = resolveKubernetesExecutorConfig({ namespace: 'n', image: 'i' }).runAsUser
  t.same(instruction('USER'), [`${uid}:${uid}`])
  t.match(dockerfile, new RegExp(`CUDA_CACHE_PATH=${CUDA_CACHE_MOUNT}\\b`))
  t.match(dockerfile, new RegExp(`VOLUME \\["${CUDA_CACHE_MOUNT}"\\]`))
  t.match(dockerfile, /NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/)
  t.match(dockerfile, /TF_FORCE_GPU_ALLOW_GROWTH=true/)
})

t.test('the API image runs as a non-root user and starts the server', async (t) => {
  const api = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  t.match(api, /^USER 10001:10001$/m)
  t.match(api, /^CMD \["node", "--max-semi-space-size=1", "--v8-pool-size=1", "src\/server.ts"\]$/m)
  t.match(api, /npm ci --omit=dev/)
  // The malloc settings `npm start` gives the API are the image's ENV too.
  const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  const assignments = start.match(/\bMALLOC_\w+=\S+/g) ?? []
  t.ok(assignments.length > 0, `npm start sets malloc settings: ${start}`)
  for (const a of assignments) t.match(api, new RegExp(`^\\s+${a}( \\\\)?$`, 'm'), `the image sets ${a}`)
  const finalStage = api.slice(api.lastIndexOf('\nFROM '))
  t.notMatch(finalStage, /g\+\+|make|python3/, 'no build tools in the final stage')
})
