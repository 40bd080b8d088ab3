// The dashboard in real Chromium against a real API whose scheduler runs the real trainer on the demo
// model: what a person does and sees, from sign-in to a downloaded artifact. Assertions are on what
// is on screen (text, the chart's data points, which buttons are enabled); each page gets a
// screenshot (test-artifacts/ui/) and an axe-core check.
import fs from 'node:fs/promises'
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { findPrincipal } from '../../src/services/projects.ts'
import { ensureUiBundle } from '../../src/ui/build/ui-bundle.ts'
import { assertAccessible, browserMissing, openBrowser, screenshot } from '../helpers/browser.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { startReceiver } from '../webhooks/receiver.ts'

const missing = browserMissing()
if (missing) {
  t.plan(0, `browser tests skipped: ${missing}`)
} else {
  await run()
}

async function run() {
  const ui = await ensureUiBundle()
  await ui.ready
  const api = await startRealTrainerApp(t, { SKILLET_TRAINER_HEARTBEAT_SECONDS: '1' }, { SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }, { ui })
  const origin = api.baseURL.replace(/\/v1$/, '')
  const { page } = await openBrowser(t)
  const consoleErrors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('dialog', (d) => void d.accept())
  const principal = (await findPrincipal(api.database.db, api.key))!
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })

  const examples = (n: number, pad = '') =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ messages: [{ role: 'system', content: 'Answer in one word.' }, { role: 'user', content: `Repeat item${i}${pad}` }, { role: 'assistant', content: `item${i}` }] })).join('\n') + '\n'

  t.test('sign in: a wrong key shows the API\'s message, the right one opens the jobs page', async (t) => {
    await page.goto(`${origin}/`)
    await page.getByLabel('API key').fill('sk-wrongwrongwrongwrongwrong1234')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').waitFor()
    t.equal(await page.getByRole('alert').textContent(), 'Incorrect API key provided: sk-***1234.')
    t.notOk(page.url().includes('sk-'), 'the key is not in the URL')
    await assertAccessible(t, page, 'sign-in page')
    await screenshot(page, '01-sign-in-error')

    // Keyboard only: the key, then Enter.
    await page.getByLabel('API key').fill(api.key)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Fine-tuning jobs' }).waitFor()
    // Tab from the top: first the skip link, then the navigation, in order.
    await page.locator('body').focus()
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Jobs')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'New job')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'New fine-tuning job' }).waitFor()
    await page.goBack()
    await page.getByRole('heading', { name: 'Fine-tuning jobs' }).waitFor()
    await page.getByText('No fine-tuning jobs yet').waitFor()
    t.match(await page.locator('.empty').innerText(), /Upload a dataset on Datasets, then create a job on New job/, 'an empty state that says what to do')
    t.equal(await page.evaluate(() => sessionStorage.getItem('skillet.apiKey')), api.key, 'kept in session storage')
    t.equal(await page.evaluate(() => document.cookie), '', 'no cookie')
    t.notOk(page.url().includes(api.key))
    await assertAccessible(t, page, 'jobs page (empty)')
  })

  t.test('datasets: a bad file shows its line errors; a good one its examples as chat turns', async (t) => {
    await nav('Datasets').click()
    await page.getByText('No datasets yet').waitFor()
    await assertAccessible(t, page, 'datasets page (empty)')
    // Dropped onto the drop zone, as a person drags a file from their desktop.
    const bad = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n${JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }, { role: 'assistant', content: 'y' }] })}\nnot json\n`
    await page.evaluate((text) => {
      const dt = new DataTransfer()
      dt.items.add(new File([text], 'bad.jsonl', { type: 'application/jsonl' }))
      document.querySelector('.dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
    }, bad)
    const errors = page.getByRole('table', { name: 'Validation errors' })
    await errors.waitFor({ timeout: 30_000 })
    const rows = await errors.locator('tbody tr').allInnerTexts()
    t.equal(rows.length, 2, 'one row per error')
    t.match(rows[0], /^2\s+unknown role 'wizard'/)
    t.match(rows[1], /^3\s+.*JSON/i)
    t.ok(await page.getByRole('table', { name: 'Datasets' }).getByText('error').isVisible(), 'status error in the list')
    await screenshot(page, '02-dataset-errors')

    await page.getByTestId('file-input').setInputFiles({ name: 'train.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(examples(100)) })
    const detail = page.getByRole('region', { name: 'Dataset train.jsonl' })
    await detail.getByText('100 examples').waitFor({ timeout: 30_000 })
    t.ok(await detail.getByText('processed').isVisible())
    const first = detail.getByRole('figure', { name: 'Example 1' })
    t.same(await first.locator('.role').allTextContents(), ['system', 'user', 'assistant'], 'the first example as chat turns')
    t.match(await first.innerText(), /Repeat item0[\s\S]*item0/)
    t.equal(await page.locator('progress').first().getAttribute('value'), await page.locator('progress').first().getAttribute('max'), 'the progress bar is full')
    await assertAccessible(t, page, 'datasets page')
    await screenshot(page, '03-dataset-preview')
  })

  t.test('a large dataset goes up in parts, and resumes after a failed part', async (t) => {
    const big = examples(9000, ' '.repeat(900)) // ~9.5 MB: three parts of 4 MiB
    let parts = 0
    await page.route('**/v1/uploads/*/parts', async (route) => {
      parts++
      if (parts === 2) return route.abort('connectionreset')
      return route.continue()
    })
    await page.getByTestId('file-input').setInputFiles({ name: 'big.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(big) })
    const resume = page.getByRole('button', { name: 'Resume (1 of 3 parts kept)' })
    await resume.waitFor({ timeout: 60_000 })
    t.ok(await page.getByText('The connection failed before the server answered.').isVisible(), 'says what went wrong')
    await page.unroute('**/v1/uploads/*/parts')
    await resume.click()
    const detail = page.getByRole('region', { name: 'Dataset big.jsonl' })
    await detail.getByText('9,000 examples').waitFor({ timeout: 120_000 })
    t.equal(parts, 2, 'the first part was not sent again')
    const files = await api.client.files.list()
    t.equal(files.data.find((f) => f.filename === 'big.jsonl')?.bytes, Buffer.byteLength(big), 'every byte arrived once')
  })

  let jobId = ''
  t.test('new job: a dry run shows tokens, steps and time, then the job starts', async (t) => {
    await nav('New job').click()
    await page.getByLabel('Training file').selectOption({ label: 'train.jsonl (100 examples)' })
    t.equal(await page.getByLabel('Base model').inputValue(), DEMO_MODEL_ID)
    // 100 examples: auto is 3 epochs (the server's rule), said beside the field.
    await page.getByText('For this dataset, auto is 3.').waitFor()
    t.pass('auto explained with its value for this dataset')
    await page.getByLabel('Epochs').fill('2')
    await page.getByLabel('Batch size').fill('1')
    await page.getByLabel('Seed (optional)').fill('7')
    await page.getByLabel('Suffix (optional)').fill('ui')
    const start = page.getByRole('button', { name: 'Start training' })
    t.ok(await start.isDisabled(), 'start waits for a dry run')
    await assertAccessible(t, page, 'new job page')
    await page.getByRole('button', { name: 'Dry run' }).click()
    const estimate = page.getByRole('region', { name: 'Dry run estimate' })
    await estimate.waitFor({ timeout: 30_000 })
    t.equal(await page.getByTestId('estimate-steps').textContent(), '200', '100 examples × 2 epochs at batch size 1')
    t.match(await page.getByTestId('estimate-tokens').textContent(), /^[\d,]+$/)
    t.match(await page.getByTestId('estimate-time').textContent(), /\d+ (s|min)/)
    await screenshot(page, '04-new-job-dry-run')
    t.ok(await start.isEnabled())
    await start.click()
    await page.waitForURL(/#\/jobs\/ftjob-/)
    jobId = decodeURIComponent(page.url().split('#/jobs/')[1])
    t.match(jobId, /^ftjob-/)
  })

  t.test('job detail: the chart gains points while it runs; pause, resume, success', async (t) => {
    const status = page.getByTestId('job-status')
    const chart = page.getByTestId('loss-chart')
    const points = async () => Number(await chart.getAttribute('data-points'))
    await status.getByText('running').waitFor({ timeout: 60_000 })
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 60_000 })
    const before = await points()
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > n, before, { timeout: 60_000 })
    t.ok((await points()) > before, `the chart gained points without a reload (${before} → ${await points()})`)
    t.equal(await chart.locator('canvas').count(), 1, 'drawn by uPlot on a canvas')

    const button = (name: string) => page.getByRole('button', { name, exact: true })
    t.same([await button('Pause').isEnabled(), await button('Resume').isEnabled(), await button('Cancel').isEnabled()], [true, false, true], 'running: pause and cancel')
    await assertAccessible(t, page, 'job page (running)')
    await screenshot(page, '05-job-running', { fullPage: false }) // the README's picture (docs/dashboard-job.png)
    await button('Pause').click()
    await status.getByText('paused', { exact: true }).waitFor({ timeout: 60_000 })
    t.same([await button('Pause').isEnabled(), await button('Resume').isEnabled(), await button('Cancel').isEnabled()], [false, true, true], 'paused: resume and cancel')
    const pausedAt = await points()
    await page.getByText(/Fine-tuning job paused at step \d+/).waitFor()
    await button('Resume').click()
    await status.getByText('succeeded').waitFor({ timeout: 180_000 })
    await page.getByRole('list', { name: 'Event log' }).getByText('The job has successfully completed').waitFor()
    t.ok((await points()) > pausedAt, 'training went on after the resume')
    t.equal(await chart.getAttribute('data-last-step'), '200', 'the curve reaches the last step')
    t.same([await button('Pause').isEnabled(), await button('Resume').isEnabled(), await button('Cancel').isEnabled()], [false, false, false], 'succeeded: nothing to do')
    t.match(await page.getByTestId('fine-tuned-model').textContent(), /^ft:skillet-tiny-llama:.*:ui:/)
    const checkpoints = await page.getByRole('table', { name: 'Checkpoints' }).locator('tbody tr').count()
    t.ok(checkpoints >= 1, `checkpoints listed (${checkpoints})`)
    t.equal(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e)).length, 0, 'no CSP violation reported by the browser')
    await assertAccessible(t, page, 'job page (succeeded)')
    await screenshot(page, '05-job-succeeded')
  })

  t.test('artifacts download with the key, never in a URL', async (t) => {
    const job = await api.client.fineTuning.jobs.retrieve(jobId)
    const artifacts = page.getByRole('list', { name: `Artifacts of ${job.fine_tuned_model}` })
    await artifacts.waitFor()
    const names = await artifacts.locator('.mono').allTextContents()
    t.ok(names.some((n) => n.endsWith('.gguf')), `a GGUF among ${names.join(', ')}`)
    const gguf = names.find((n) => n.endsWith('.gguf'))!
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${gguf}` }).click()])
    const saved = await download.path()
    const bytes = (await fs.readFile(saved)).subarray(0, 4).toString('latin1')
    t.equal(bytes, 'GGUF', 'the downloaded file is the GGUF')
    t.notOk(download.url().includes(api.key), 'the download URL carries no key')
  })

  t.test('jobs list: status filter, model, created, duration', async (t) => {
    await nav('Jobs').click()
    const table = page.getByRole('table', { name: 'Jobs' })
    await table.waitFor()
    t.equal(await table.locator('tbody tr').count(), 2, 'the job and its dry run')
    t.ok(await table.getByText('dry run').isVisible())
    await page.getByLabel('Status').selectOption('failed')
    await page.getByText('No failed jobs').waitFor()
    await page.getByLabel('Status').selectOption('succeeded')
    t.equal(await table.locator('tbody tr').count(), 2)
    t.match(await table.locator('tbody tr').first().innerText(), /ago|now/, 'times are relative…')
    t.match(await table.locator('tbody tr').first().innerText(), /\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)/, '…and absolute')
    await assertAccessible(t, page, 'jobs page')
    await screenshot(page, '06-jobs')
  })

  t.test('cancel: a job stops, and no button is left', async (t) => {
    const file = (await api.client.files.list()).data.find((f) => f.filename === 'train.jsonl')!
    const job = await api.client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 1 } } } })
    await page.goto(`${origin}/#/jobs/${job.id}`)
    const cancel = page.getByRole('button', { name: 'Cancel', exact: true })
    await page.getByTestId('job-status').getByText(/queued|running/).waitFor({ timeout: 60_000 })
    t.ok(await cancel.isEnabled(), 'a queued or running job can be cancelled')
    await cancel.click()
    await page.getByTestId('job-status').getByText('cancelled').waitFor({ timeout: 60_000 })
    t.same(
      await Promise.all(['Pause', 'Resume', 'Cancel'].map((name) => page.getByRole('button', { name, exact: true }).isEnabled())),
      [false, false, false],
      'cancelled: nothing to do',
    )
    t.equal((await api.client.fineTuning.jobs.retrieve(job.id)).status, 'cancelled')
  })

  t.test('models: the fine-tuned model, the playground, delete', async (t) => {
    const job = await api.client.fineTuning.jobs.retrieve(jobId)
    await nav('Models').click()
    const tuned = page.getByRole('table', { name: 'Fine-tuned models' })
    await tuned.waitFor()
    t.ok(await tuned.getByRole('button', { name: job.fine_tuned_model!, exact: true }).isVisible())
    await page.getByLabel('Model A').selectOption(DEMO_MODEL_ID)
    await page.getByLabel('Model B').selectOption(job.fine_tuned_model!)
    await page.getByLabel('Prompt').fill('Repeat item3')
    await page.getByRole('button', { name: 'Send to both' }).click()
    const hasChat = api.app.hasRoute({ method: 'POST', url: '/v1/chat/completions' })
    if (hasChat) {
      await page.waitForFunction(() => [...document.querySelectorAll('.answer')].every((a) => !a.textContent?.endsWith('…')), null, { timeout: 120_000 })
      t.equal(await page.locator('.answer').count(), 2, 'two answers side by side')
    } else {
      await page.getByText('This server has no /v1/chat/completions endpoint (it answered 404)').waitFor()
      t.pass('the playground says the endpoint is missing rather than faking an answer')
    }
    await assertAccessible(t, page, 'models page')
    await screenshot(page, '07-models')
    await tuned.getByRole('button', { name: `Delete ${job.fine_tuned_model}` }).click()
    await tuned.getByRole('button', { name: job.fine_tuned_model!, exact: true }).waitFor({ state: 'detached' })
    const models = await api.client.models.list()
    t.notOk(models.data.some((m) => m.id === job.fine_tuned_model), 'deleted on the server')
  })

  t.test('settings: create a key (shown once) and revoke it; a webhook endpoint with a test event', async (t) => {
    const receiver = await startReceiver(t)
    await nav('Settings').click()
    await page.getByRole('list', { name: 'Projects' }).getByRole('button', { name: principal.projectName }).click()
    await page.getByLabel('New key name').fill('notebook')
    await page.getByRole('button', { name: 'Create key' }).click()
    const shown = await page.getByLabel('The new API key').inputValue()
    t.match(shown, /^sk-\w{48}$/, 'the new key, once')
    t.equal((await api.app.inject({ method: 'GET', url: '/v1/files', headers: { authorization: `Bearer ${shown}` } })).statusCode, 200, 'and it works')
    await page.getByRole('button', { name: 'Done' }).click()
    t.equal(await page.getByLabel('The new API key').count(), 0, 'gone once dismissed')
    await page.getByRole('button', { name: 'Revoke notebook' }).click()
    await page.getByRole('table', { name: `API keys of ${principal.projectName}` }).getByText('revoked').waitFor()

    await page.getByLabel('Name', { exact: true }).fill('ci hooks')
    await page.getByLabel('URL').fill(receiver.url)
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    t.match(await page.getByLabel('Signing secret').inputValue(), /^whsec_/, 'the signing secret, once')
    await page.getByRole('button', { name: 'Send test event' }).click()
    await page.getByText('The receiver answered 200.').waitFor()
    await receiver.waitFor(1)
    const deliveries = page.getByRole('table', { name: 'Recent deliveries to ci hooks' })
    await deliveries.waitFor()
    t.match(await deliveries.locator('tbody tr').first().innerText(), /fine_tuning\.job\.succeeded\s+delivered\s+1\s+200/)
    await assertAccessible(t, page, 'settings page')
    await screenshot(page, '08-settings')
  })

  t.test('datasets: delete', async (t) => {
    await nav('Datasets').click()
    await page.getByRole('button', { name: 'bad.jsonl' }).click()
    await page.getByRole('region', { name: 'Dataset bad.jsonl' }).getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('button', { name: 'bad.jsonl' }).waitFor({ state: 'detached' })
    t.notOk((await api.client.files.list()).data.some((f) => f.filename === 'bad.jsonl'), 'deleted on the server')
  })

  t.test('dark mode follows the system', async (t) => {
    await page.emulateMedia({ colorScheme: 'dark' })
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
    t.equal(bg, 'rgb(17, 18, 20)')
    await page.goto(`${origin}/#/jobs/${jobId}`)
    await page.getByTestId('job-status').getByText('succeeded').waitFor()
    // A fresh page reads the whole event history (200+ events: several pages of 100) into the chart.
    await page.waitForFunction(() => document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points') === '200', null, { timeout: 30_000 })
    t.equal(await page.getByTestId('loss-chart').getAttribute('data-last-step'), '200')
    await assertAccessible(t, page, 'job page, dark')
    await screenshot(page, '09-job-dark')
    // A 4K screen: the text scales up (22 px root size) instead of staying laptop-sized.
    await page.setViewportSize({ width: 3840, height: 2160 })
    t.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '22px')
    await screenshot(page, '10-job-4k', { fullPage: false })
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.emulateMedia({ colorScheme: 'light' })
  })
}
