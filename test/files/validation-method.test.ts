// status_details rendering and the method/format decisions made from a report.

import t from 'tap'
import {
  datasetProblemForMethod,
  formatSuitsMethod,
  formatsForMethod,
  statusDetails,
  validateFineTuneJsonl,
  type DatasetReport,
} from '../../src/files/validation/index.ts'

const chatLine = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}'
const preferenceLine =
  '{"input":{"messages":[{"role":"user","content":"Hi"}]},"preferred_output":[{"role":"assistant","content":"Hello"}],"non_preferred_output":[{"role":"assistant","content":"Go."}]}'
const file = (line: string, count: number) => validateFineTuneJsonl([Buffer.from(`${line}\n`.repeat(count))])

t.test('status_details lists errors with line numbers and counts the rest', async (t) => {
  const lines = [chatLine, chatLine, '{"messages":[{"role":"wizard","content":"x"},{"role":"assistant","content":"y"}]}']
  for (let i = 0; i < 14; i++) lines.push('')
  const report = await validateFineTuneJsonl([Buffer.from(lines.join('\n') + '\n')], { maxErrors: 2 })
  t.equal(
    statusDetails(report),
    "line 3: unknown role 'wizard' in messages[0]; line 4: blank line; every line must be one JSON object (and 13 more errors)",
  )
  const one = await validateFineTuneJsonl([Buffer.from(`${chatLine}\n\n`)])
  t.equal(statusDetails(one), 'line 2: blank line; every line must be one JSON object', 'no "more" suffix when all are listed')
  t.equal(statusDetails(await file(chatLine, 1)), null, 'a valid file has no details')
})

t.test('which formats suit which method', async (t) => {
  t.same(formatsForMethod('supervised'), ['chat', 'prompt_completion'])
  t.equal(formatSuitsMethod('chat', 'supervised'), true)
  t.equal(formatSuitsMethod('prompt_completion', 'supervised'), true)
  t.equal(formatSuitsMethod('preference', 'supervised'), false)
  t.equal(formatSuitsMethod('preference', 'dpo'), true)
  t.equal(formatSuitsMethod('chat', 'dpo'), false)
  t.equal(formatSuitsMethod('chat', 'reinforcement'), false)
  t.equal(formatSuitsMethod(null, 'supervised'), false)
})

t.test('whether a validated file can train a job', async (t) => {
  const chat10 = await file(chatLine, 10)
  const preference10 = await file(preferenceLine, 10)
  t.equal(datasetProblemForMethod(chat10, 'supervised'), null)
  t.equal(datasetProblemForMethod(preference10, 'dpo'), null)
  t.equal(
    datasetProblemForMethod(preference10, 'supervised'),
    "method 'supervised' needs chat or prompt_completion examples, but the file is in preference format",
  )
  t.equal(datasetProblemForMethod(chat10, 'dpo'), "method 'dpo' needs preference examples, but the file is in chat format")
  t.equal(datasetProblemForMethod(chat10, 'reinforcement'), "method 'reinforcement' is not supported")
  const chat3 = await file(chatLine, 3)
  t.equal(datasetProblemForMethod(chat3, 'supervised'), 'the file has 3 examples, but at least 10 are required')
  t.equal(datasetProblemForMethod(chat3, 'supervised', 1), null, 'validation files may be small')
  const broken: DatasetReport = await validateFineTuneJsonl([Buffer.from('nope\n')])
  t.equal(datasetProblemForMethod(broken, 'supervised'), 'the file failed validation')
})
