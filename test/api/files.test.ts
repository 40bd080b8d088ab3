import fs from 'node:fs'
import t from 'tap'
import { toFile } from 'openai'
import { startTestApp, tmpDir } from '../helpers/test-app.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'

const chatLine = (i: number) =>
  JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `answer ${i}` }] }) + '\n'

for (const blobStore of ['fs', 's3'] as const) {
  t.test(`files API with the ${blobStore} blob store`, async (t) => {
    const ctx = await startTestApp(t, { blobStore })
    const { client } = ctx

    t.test('create from a stream, wait for processing, retrieve, content, delete', async (t) => {
      const dir = await tmpDir(t)
      const p = `${dir}/train.jsonl`
      fs.writeFileSync(p, Array.from({ length: 12 }, (_, i) => chatLine(i)).join(''))
      const created = await client.files.create({ file: fs.createReadStream(p), purpose: 'fine-tune' })
      assertSpec(t, 'OpenAIFile', created)
      t.equal(created.filename, 'train.jsonl')
      t.equal(created.bytes, fs.statSync(p).size)
      t.notOk('expires_at' in created, 'no expires_at without expiry')

      const processed = await client.files.waitForProcessing(created.id, { pollInterval: 50 })
      t.equal(processed.status, 'processed')
      assertSpec(t, 'OpenAIFile', processed)

      const content = await client.files.content(created.id)
      t.equal(await content.text(), fs.readFileSync(p, 'utf8'))

      const deleted = await client.files.delete(created.id)
      assertSpec(t, 'DeleteFileResponse', deleted)
      t.same(deleted, { id: created.id, object: 'file', deleted: true })
      await assertApiError(t, client.files.retrieve(created.id), { status: 404 })
      t.same(await ctx.blobs.list(`files/`), [], 'no blob left behind')
    })

    t.test('invalid fine-tune file ends in error with line numbers', async (t) => {
      const body = chatLine(1) + JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }, { role: 'assistant', content: 'y' }] }) + '\n'
      const created = await client.files.create({ file: await toFile(Buffer.from(body), 'bad.jsonl'), purpose: 'fine-tune' })
      const done = await client.files.waitForProcessing(created.id, { pollInterval: 50 })
      t.equal(done.status, 'error')
      t.match(done.status_details, /line 2: .*unknown role 'wizard'/)
      assertSpec(t, 'OpenAIFile', done)
    })

    t.test('list with auto-pagination, purpose filter and order', async (t) => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const f = await client.files.create({ file: await toFile(Buffer.from(`doc ${i}`), `doc${i}.txt`), purpose: 'user_data' })
        ids.push(f.id)
      }
      const page = await client.files.list({ purpose: 'user_data', limit: 2 })
      const raw = await (await fetch(`${ctx.baseURL}/files?purpose=user_data&limit=2`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()
      assertSpec(t, 'ListFilesResponse', raw)
      t.equal(page.data.length, 2)
      t.equal(page.has_more, true)
      const seen: string[] = []
      for await (const f of client.files.list({ purpose: 'user_data', limit: 2 })) seen.push(f.id)
      t.same(seen, [...ids].reverse(), 'newest first, every file once')
      const asc: string[] = []
      for await (const f of client.files.list({ purpose: 'user_data', limit: 3, order: 'asc' })) asc.push(f.id)
      t.same(asc, ids)
    })

    t.test('empty list has null cursors', async (t) => {
      const res = await fetch(`${ctx.baseURL}/files?purpose=vision`, { headers: { authorization: `Bearer ${ctx.key}` } })
      const body = await res.json()
      t.same(body, { object: 'list', data: [], first_id: null, last_id: null, has_more: false })
      assertSpec(t, 'ListFilesResponse', body)
    })

    t.test('expires_after sets expires_at', async (t) => {
      const f = await client.files.create({
        file: await toFile(Buffer.from('x'), 'x.txt'),
        purpose: 'user_data',
        expires_after: { anchor: 'created_at', seconds: 3600 },
      })
      t.equal(f.expires_at, f.created_at + 3600)
      assertSpec(t, 'OpenAIFile', f)
      await assertApiError(t, 
        client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 10 } }),
        { status: 400, param: 'expires_after.seconds' },
      )
    })
  })
}

t.test('errors come in the OpenAI envelope', async (t) => {
  const ctx = await startTestApp(t, { env: { SKILLET_MAX_FILE_BYTES: '1000' } })
  const { client, baseURL, key } = ctx
  const auth = { authorization: `Bearer ${key}` }

  const noKey = await fetch(`${baseURL}/files`)
  t.equal(noKey.status, 401)
  const noKeyBody = await noKey.json()
  assertSpec(t, 'ErrorResponse', noKeyBody)
  t.equal(noKeyBody.error.code, 'invalid_api_key')
  t.ok(noKey.headers.get('x-request-id'), 'x-request-id on every response')

  const badKey = await fetch(`${baseURL}/files`, { headers: { authorization: 'Bearer sk-nope' } })
  t.equal(badKey.status, 401)

  const missing = await fetch(`${baseURL}/files/file-doesnotexist`, { headers: auth })
  t.equal(missing.status, 404)
  const missingBody = await missing.json()
  assertSpec(t, 'ErrorResponse', missingBody)
  t.equal(missingBody.error.message, 'No such File object: file-doesnotexist')

  await assertApiError(t, client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'nonsense' as 'batch' }), { status: 400, param: 'purpose' })

  const tooBig = await client.files
    .create({ file: await toFile(Buffer.alloc(5000, 97), 'big.txt'), purpose: 'user_data' })
    .then(() => null, (e) => e)
  t.equal(tooBig?.status, 413, 'over the limit: 413')
  t.same(await ctx.blobs.list('files/'), [], 'nothing stored after a 413')

  const json = await fetch(`${baseURL}/files`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })
  t.equal(json.status, 415)
  assertSpec(t, 'ErrorResponse', await json.json())

  const unknownRoute = await fetch(`${baseURL}/nope`, { headers: auth })
  t.equal(unknownRoute.status, 404)
  assertSpec(t, 'ErrorResponse', await unknownRoute.json())
})

t.test('tenancy: another project sees nothing', async (t) => {
  const ctx = await startTestApp(t)
  const mine = await ctx.client.files.create({ file: await toFile(Buffer.from('secret'), 's.txt'), purpose: 'user_data' })
  const other = await ctx.clientFor('beta')
  await assertApiError(t, other.files.retrieve(mine.id), { status: 404 })
  await assertApiError(t, other.files.content(mine.id), { status: 404 })
  await assertApiError(t, other.files.delete(mine.id), { status: 404 })
  const list = await other.files.list()
  t.same(list.data, [])
  t.equal((await ctx.client.files.retrieve(mine.id)).id, mine.id, 'owner still sees it')
})

t.test('a client that disconnects mid-upload leaves no file and no blob', async (t) => {
  const ctx = await startTestApp(t)
  const url = new URL(`${ctx.baseURL}/files`)
  const http = await import('node:http')
  const boundary = 'skilletboundary'
  await new Promise<void>((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: {
      authorization: `Bearer ${ctx.key}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    } })
    req.on('error', () => resolve())
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n`)
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n`)
    req.write(Buffer.alloc(256 * 1024, 98))
    setTimeout(() => {
      req.destroy()
      resolve()
    }, 200)
  })
  // Give the server a moment to see the disconnect and clean up.
  for (let i = 0; i < 50 && (await ctx.blobs.list('')).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.same(await ctx.blobs.list(''), [], 'no blob')
  t.same((await ctx.client.files.list()).data, [], 'no file')
})

