// The background loop, driven by wake() with a pause long enough never to elapse during a test.
import t from 'tap'
import { sleep, startLoop } from '../../src/lib/loop.ts'

const NEVER = 1e9

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
const settle = () => new Promise((r) => setImmediate(r))

t.test('passes never overlap; a wake during a pass runs exactly one more after it', async (t) => {
  let running = 0
  let maxRunning = 0
  const gates: ReturnType<typeof deferred>[] = []
  const loop = startLoop({
    everyMs: NEVER,
    onError: (err) => t.fail(String(err)),
    pass: async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const gate = deferred()
      gates.push(gate)
      await gate.promise
      running--
    },
  })
  await settle()
  t.equal(gates.length, 1, 'the first pass starts at once')
  loop.wake()
  loop.wake()
  loop.wake()
  await settle()
  t.equal(gates.length, 1, 'wakes during a pass do not start another')
  gates[0].resolve()
  await settle()
  t.equal(gates.length, 2, 'one more pass after it, for all three wakes')
  gates[1].resolve()
  await settle()
  t.equal(gates.length, 2, 'then it sleeps')
  loop.wake()
  await settle()
  t.equal(gates.length, 3, 'a wake while sleeping runs a pass now')
  const stopped = loop.stop()
  let done = false
  void stopped.then(() => (done = true))
  await settle()
  t.equal(done, false, 'stop waits for the pass in flight')
  gates[2].resolve()
  await stopped
  loop.wake()
  await settle()
  t.equal(gates.length, 3, 'no pass after stop')
  t.equal(maxRunning, 1)
})

t.test('a failed pass goes to onError and the loop goes on; immediate: false waits for a wake', async (t) => {
  const errors: unknown[] = []
  let passes = 0
  const loop = startLoop({
    everyMs: NEVER,
    immediate: false,
    onError: (err) => errors.push(err),
    pass: async () => {
      passes++
      if (passes === 1) throw new Error('boom')
    },
  })
  await settle()
  t.equal(passes, 0, 'no pass at start')
  loop.wake()
  await settle()
  t.equal(passes, 1)
  t.match(errors, [{ message: 'boom' }])
  loop.wake()
  await settle()
  t.equal(passes, 2, 'still running after the failure')
  await loop.stop()
})

t.test('the pass signal aborts on stop', async (t) => {
  const gate = deferred()
  let signal: AbortSignal | undefined
  const loop = startLoop({
    everyMs: NEVER,
    onError: () => {},
    pass: async (s) => {
      signal = s
      await gate.promise
    },
  })
  await settle()
  t.equal(signal?.aborted, false)
  const stopped = loop.stop()
  t.equal(signal?.aborted, true)
  gate.resolve()
  await stopped
})

t.test('sleep ends early, with false, when its signal aborts', async (t) => {
  const c = new AbortController()
  const slept = sleep(NEVER, c.signal)
  c.abort()
  t.equal(await slept, false)
  t.equal(await sleep(NEVER, c.signal), false, 'already aborted')
  const keepAlive = setTimeout(() => {}, 10_000) // sleep's own timer does not hold the process
  t.equal(await sleep(1), true, 'the full time')
  clearTimeout(keepAlive)
})
