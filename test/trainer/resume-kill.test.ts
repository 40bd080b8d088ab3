// Kill -9 a training process right after it writes a checkpoint, start it again, and check
// that it resumes from that checkpoint and ends with weights bit-identical to a run that was
// never interrupted (same backend, same seed).
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CHILD = join(import.meta.dirname, 'resume-child.ts')

function runChild(args: string[], killAfterCheckpoint: boolean): Promise<{ code: number | null; signal: string | null; lines: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: Record<string, unknown>[] = []
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>
        buffer = buffer.slice(nl + 1)
        lines.push(line)
        // The second checkpoint (step 4): the kill lands mid-run, after real progress.
        if (killAfterCheckpoint && line.type === 'checkpoint' && line.step === 4) child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, lines }))
  })
}

for (const method of ['lora', 'full']) {
  t.test(`${method}: kill -9 after a checkpoint, resume, and finish bit-identical`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'skillet-resume-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))

    const straight = await runChild([method, join(dir, 'ckpt-straight'), join(dir, 'straight.safetensors')], false)
    t.equal(straight.code, 0, 'uninterrupted run finishes')
    const totalSteps = straight.lines.filter((l) => l.type === 'step').length
    t.equal(totalSteps, 15, '5 epochs × 3 steps')

    const killed = await runChild([method, join(dir, 'ckpt'), join(dir, 'resumed.safetensors')], true)
    t.equal(killed.signal, 'SIGKILL', 'first attempt was killed')
    const stepsBeforeKill = killed.lines.filter((l) => l.type === 'step').length
    t.ok(stepsBeforeKill >= 4 && stepsBeforeKill < totalSteps, `killed after ${stepsBeforeKill} steps`)
    t.notOk((await readdir(dir)).includes('resumed.safetensors'), 'the killed run wrote no result')

    const resumed = await runChild([method, join(dir, 'ckpt'), join(dir, 'resumed.safetensors')], false)
    t.equal(resumed.code, 0, 'resumed run finishes')
    const event = resumed.lines.find((l) => l.type === 'event' && String(l.message).startsWith('resumed from checkpoint'))
    t.ok(event, `resumed: ${String(event?.message)}`)
    const firstStep = resumed.lines.find((l) => l.type === 'step')
    t.ok(Number(firstStep?.step) > 4, `continued at step ${String(firstStep?.step)}, not from scratch`)

    const a = await readFile(join(dir, 'straight.safetensors'))
    const b = await readFile(join(dir, 'resumed.safetensors'))
    t.ok(a.length > 1000, 'weights were written')
    t.ok(a.equals(b), 'final weights are bit-identical')
  })
}
