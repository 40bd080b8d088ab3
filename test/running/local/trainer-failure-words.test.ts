// How a local trainer's death is put into words: its own last line (not GPU-stack noise), and
// whether the OOM killer is the likely cause of a SIGKILL.
import t from 'tap'
import { likelyOutOfMemory } from '../../../src/running/local/out-of-memory.ts'
import { lastMeaningfulLine } from '../../../src/running/local/trainer-output.ts'
import { lostTrainerFor } from '../../../src/running/scheduler/execution-failure.ts'

t.test('lastMeaningfulLine skips Dawn/Vulkan/Mesa warnings and stack frames', async (t) => {
  const output = [
    'trainer backend: webgpu',
    'trainer: Error: out of device memory',
    '    at Trainer.step (file:///app/src/trainer/train/trainer.ts:236:12)',
    'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER',
    'WARNING: lavapipe is not a conformant vulkan implementation, testing use only.',
    'MESA: error: ZINK: failed to choose pdev',
    '[Dawn] Adapter lost',
    '',
  ].join('\n')
  t.equal(lastMeaningfulLine(output), 'trainer: Error: out of device memory')
  t.equal(lastMeaningfulLine('Warning: only noise from Vulkan\n'), '', 'nothing meaningful: nothing said')
  t.equal(lastMeaningfulLine(''), '')
})

t.test('likelyOutOfMemory: SIGKILL with memory near the limit', async (t) => {
  const limit = 8 * 2 ** 30
  t.equal(likelyOutOfMemory({ signal: 'SIGKILL', peakRssBytes: 0.9 * limit, limitBytes: limit }), true)
  t.equal(likelyOutOfMemory({ signal: 'SIGKILL', peakRssBytes: 0.2 * limit, limitBytes: limit }), false, 'plenty of room: someone else killed it')
  t.equal(likelyOutOfMemory({ signal: 'SIGTERM', peakRssBytes: 0.9 * limit, limitBytes: limit }), false, 'the OOM killer sends SIGKILL only')
  t.equal(likelyOutOfMemory({ signal: 'SIGKILL', peakRssBytes: null, limitBytes: limit }), false, 'unknown memory: not claimed')
})

t.test('lostTrainerFor: a signal death is a lost trainer; out_of_memory once attempts run out when OOM is likely', async (t) => {
  t.same(lostTrainerFor({ phase: 'failed', reason: 'killed_by_signal', outOfMemoryLikely: true, message: 'The trainer was killed by SIGKILL, most likely by …' }), {
    why: 'The trainer was killed by SIGKILL, most likely by …',
    exhaustedCode: 'out_of_memory',
  })
  t.match(lostTrainerFor({ phase: 'failed', reason: 'killed_by_signal', message: 'The trainer was killed by SIGTERM' }), { exhaustedCode: 'trainer_lost' })
  t.equal(lostTrainerFor({ phase: 'failed', reason: 'exit_code', message: 'The trainer exited with code 1' }), null, 'a trainer that exited on its own failed')
  t.equal(lostTrainerFor({ phase: 'failed', reason: 'oom_killed' }), null, 'Kubernetes OOMKilled keeps its own rule')
})
