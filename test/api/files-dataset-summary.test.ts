// The `dataset` extension on fine-tune file objects: what validation found (format, valid
// examples, a rough token count), absent until validation is done.
import t from 'tap'
import { toFile } from 'openai'
import { startTestApp } from '../helpers/test-app.ts'

const { client } = await startTestApp(t)

t.test('a validated file tells its examples and tokens', async (t) => {
  const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `question ${i}`, completion: `answer number ${i}` })).join('\n') + '\n'
  const created = await client.files.create({ file: await toFile(Buffer.from(lines), 'pc.jsonl'), purpose: 'fine-tune' })
  const done = (await client.files.waitForProcessing(created.id, { pollInterval: 20 })) as typeof created & { dataset?: { format: string; examples: number; estimated_tokens: number } }
  t.equal(done.status, 'processed')
  t.match(done.dataset, { format: 'prompt_completion', examples: 12 })
  t.ok(done.dataset!.estimated_tokens > 12, `a token estimate (${done.dataset!.estimated_tokens})`)
  const listed = (await client.files.list()).data.find((f) => f.id === created.id) as typeof done
  t.same(listed.dataset, done.dataset, 'in the list too')
})
