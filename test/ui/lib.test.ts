// The dashboard's pure pieces, without a browser.
import t from 'tap'
import { absoluteTime, bytes, duration, relativeTime } from '../../src/ui/app/lib/format.ts'
import { allowedActions } from '../../src/ui/app/lib/job-actions.ts'
import { EMPTY_FORM, formProblems, jobRequest } from '../../src/ui/app/lib/job-request.ts'
import { seriesFromEvents } from '../../src/ui/app/lib/metrics.ts'
import { isMissingEndpoint } from '../../src/ui/app/lib/playground.ts'
import { firstLines, previewExample } from '../../src/ui/app/lib/preview.ts'
import { parseStatusDetails } from '../../src/ui/app/lib/status-details.ts'
import { parseRoute } from '../../src/ui/app/lib/route.ts'
import { JOB_STATUSES, transition } from '../../src/jobs/state-machine.ts'

t.test('times and sizes', async (t) => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0)
  t.equal(relativeTime(now / 1000, now), 'now')
  t.equal(relativeTime(now / 1000 - 180, now), '3 minutes ago')
  t.equal(relativeTime(now / 1000 + 7200, now), 'in 2 hours')
  t.equal(relativeTime(now / 1000 - 86400, now), 'yesterday')
  t.match(absoluteTime(now / 1000), /^2026-01-01 \d\d:00:00$/)
  t.equal(duration(45), '45 s')
  t.equal(duration(192), '3 min 12 s')
  t.equal(duration(7500), '2 h 05 min')
  t.equal(bytes(999), '999 B')
  t.equal(bytes(44_000), '44 kB')
  t.equal(bytes(9_500_000), '9.5 MB')
})

t.test('status_details → one row per error, with its line', async (t) => {
  t.same(parseStatusDetails("line 3: unknown role 'wizard' in messages[1]; line 7: blank line (and 12 more errors)"), {
    errors: [
      { line: 3, message: "unknown role 'wizard' in messages[1]" },
      { line: 7, message: 'blank line' },
    ],
    more: 'and 12 more',
  })
  t.same(parseStatusDetails('line 2: a; b is wrong'), { errors: [{ line: 2, message: 'a; b is wrong' }], more: null }, "a '; ' inside a message stays in it")
  t.same(parseStatusDetails('The file starts with a byte-order mark'), { errors: [{ line: null, message: 'The file starts with a byte-order mark' }], more: null })
})

t.test('metrics events → chart series in step order, retried steps once', async (t) => {
  const s = seriesFromEvents([
    { type: 'message', data: {} },
    { type: 'metrics', data: { step: 2, train_loss: 1.5, train_mean_token_accuracy: 0.4 } },
    { type: 'metrics', data: { step: 1, train_loss: 2 } },
    { type: 'metrics', data: { step: 2, train_loss: 1.5, valid_loss: 1.7, train_mean_token_accuracy: 0.4 } },
    { type: 'metrics', data: { step: 3, train_loss: null } },
  ])
  t.same(s, { step: [1, 2, 3], trainLoss: [2, 1.5, null], validLoss: [null, 1.7, null], tokenAccuracy: [null, 0.4, null] })
})

t.test('buttons follow the state machine, status by status', async (t) => {
  for (const status of JOB_STATUSES) {
    t.same(allowedActions(status), { pause: transition(status, 'pause').ok, resume: transition(status, 'resume').ok, cancel: transition(status, 'cancel').ok }, status)
  }
  t.same(allowedActions('running'), { pause: true, resume: false, cancel: true })
  t.same(allowedActions('paused'), { pause: false, resume: true, cancel: true })
  t.same(allowedActions('succeeded'), { pause: false, resume: false, cancel: false })
})

t.test('the job request the form sends', async (t) => {
  const form = { ...EMPTY_FORM, model: 'm', trainingFile: 'file-1', nEpochs: '3', suffix: ' x ', seed: '7' }
  t.same(formProblems(form), {})
  t.same(jobRequest(form, true), {
    model: 'm',
    training_file: 'file-1',
    suffix: 'x',
    seed: 7,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 'auto' } } },
    dry_run: true,
  })
  t.same(jobRequest({ ...form, method: 'dpo', beta: '0.2', seed: '' }, false).method, { type: 'dpo', dpo: { hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 'auto', beta: 0.2 } } })
  t.same(Object.keys(formProblems({ ...EMPTY_FORM, nEpochs: '-1', seed: '1.5' })).sort(), ['model', 'nEpochs', 'seed', 'trainingFile'])
})

t.test('previews of examples', async (t) => {
  t.same(previewExample('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"}]}]}'), {
    turns: [
      { role: 'user', text: 'hi' },
      { role: 'assistant', text: 'yo' },
    ],
  })
  t.same(previewExample('{"prompt":"a","completion":"b"}')!.turns.map((x) => x.text), ['a', 'b'])
  const dpo = previewExample('{"input":{"messages":[{"role":"user","content":"q"}]},"preferred_output":[{"role":"assistant","content":"good"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}')
  t.match(dpo, { preferred: 'good', nonPreferred: 'bad' })
  t.equal(previewExample('not json'), null)
  const body = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}`).join('\n')
  t.same(await firstLines(new Response(body), 2), ['{"n":0}', '{"n":1}'])
})

t.test('routes and the missing-endpoint rule', async (t) => {
  t.same(parseRoute(''), { page: 'jobs', id: null })
  t.same(parseRoute('#/jobs/ftjob-abc'), { page: 'jobs', id: 'ftjob-abc' })
  t.same(parseRoute('#/models/ft%3Aa%3Ab'), { page: 'models', id: 'ft:a:b' })
  t.equal(isMissingEndpoint(404, 'Invalid URL (POST /v1/chat/completions)'), true)
  t.equal(isMissingEndpoint(404, "The model 'x' does not exist"), false)
  t.equal(isMissingEndpoint(400, 'Invalid URL'), false)
})
