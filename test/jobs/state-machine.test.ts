import t from 'tap'
import { JOB_ACTIONS, JOB_STATUSES, isTerminal, transition } from '../../src/jobs/state-machine.ts'

// The life cycle as the issue describes it, written out independently of the implementation's table.
const ALLOWED = new Map<string, string>([
  ['validating_files validated', 'queued'],
  ['validating_files validated_dry_run', 'succeeded'],
  ['validating_files fail', 'failed'],
  ['validating_files cancel', 'cancelled'],
  ['queued start', 'running'],
  ['queued pause', 'paused'],
  ['queued fail', 'failed'],
  ['queued cancel', 'cancelled'],
  ['running pause', 'pausing'],
  ['running retry', 'queued'],
  ['running succeed', 'succeeded'],
  ['running fail', 'failed'],
  ['running cancel', 'cancelled'],
  ['pausing paused', 'paused'],
  ['pausing retry', 'paused'],
  ['pausing succeed', 'succeeded'],
  ['pausing fail', 'failed'],
  ['pausing cancel', 'cancelled'],
  ['paused resume', 'queued'],
  ['paused cancel', 'cancelled'],
])

t.test('every status × action', async (t) => {
  let checked = 0
  for (const status of JOB_STATUSES) {
    for (const action of JOB_ACTIONS) {
      const result = transition(status, action)
      const wanted = ALLOWED.get(`${status} ${action}`)
      if (wanted) t.same(result, { ok: true, status: wanted }, `${status} --${action}--> ${wanted}`)
      else {
        t.equal(result.ok, false, `${status} refuses ${action}`)
        if (!result.ok) t.match(result.message, /^The job cannot .+: (its status is|it has already)/)
      }
      checked++
    }
  }
  t.equal(checked, JOB_STATUSES.length * JOB_ACTIONS.length)
})

t.test('terminal statuses take no action at all', async (t) => {
  for (const status of JOB_STATUSES.filter(isTerminal)) {
    for (const action of JOB_ACTIONS) t.notOk(transition(status, action).ok, `${status} ${action}`)
  }
  t.same(JOB_STATUSES.filter(isTerminal), ['succeeded', 'failed', 'cancelled'])
})

t.test('messages say why', async (t) => {
  const r = transition('succeeded', 'cancel')
  t.same(r, { ok: false, message: 'The job cannot be cancelled: it has already succeeded.' })
  const p = transition('paused', 'pause')
  t.same(p, { ok: false, message: 'The job cannot be paused: its status is paused.' })
})
