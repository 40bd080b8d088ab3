import { createHash } from 'node:crypto'
import t from 'tap'
import { toFile } from 'openai'
import { startTestApp } from '../helpers/test-app.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'

const line = (i: number) => JSON.stringify({ prompt: `p${i}`, completion: `c${i}` }) + '\n'

for (const blobStore of ['fs', 's3'] as const) {
  t.test(`uploads API with the ${blobStore} blob store`, async (t) => {
    const ctx = await startTestApp(t, { blobStore })
    const { client } = ctx

    t.test('parts added out of order, completed in the given order, become a validated File', async (t) => {
      const text = Array.from({ length: 30 }, (_, i) => line(i)).join('')
      const bytes = Buffer.from(text)
      const chunks = [bytes.subarray(0, 100), bytes.subarray(100, 400), bytes.subarray(400)]
      const upload = await client.uploads.create({ bytes: bytes.length, filename: 'train.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' })
      assertSpec(t, 'Upload', upload)
      t.equal(upload.status, 'pending')
      t.equal(upload.expires_at - upload.created_at, 3600, 'expires after an hour')

      // Send the last chunk first: order is decided at completion.
      const p3 = await client.uploads.parts.create(upload.id, { data: await toFile(chunks[2], 'c') })
      const p1 = await client.uploads.parts.create(upload.id, { data: await toFile(chunks[0], 'a') })
      const p2 = await client.uploads.parts.create(upload.id, { data: await toFile(chunks[1], 'b') })
      assertSpec(t, 'UploadPart', p1)
      t.equal(p1.upload_id, upload.id)

      await assertApiError(t, client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id] }), { status: 400, param: 'part_ids' })
      await assertApiError(t, client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id, p3.id], md5: '0'.repeat(32) }), { status: 400, param: 'md5' })

      const md5 = createHash('md5').update(bytes).digest('hex')
      const done = await client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id, p3.id], md5 })
      assertSpec(t, 'Upload', done)
      t.equal(done.status, 'completed')
      t.ok(done.file)
      const file = await client.files.waitForProcessing(done.file!.id, { pollInterval: 50 })
      t.equal(file.status, 'processed')
      t.equal(await (await client.files.content(file.id)).text(), text, 'bytes assembled in order')
      t.same(await ctx.blobs.list(`uploads/${upload.id}/`), [], 'part blobs are gone')

      await assertApiError(t, client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id, p3.id] }), { status: 400 })
      await assertApiError(t, client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') }), { status: 400 })
    })

    t.test('cancel removes the parts; a cancelled upload takes nothing more', async (t) => {
      const upload = await client.uploads.create({ bytes: 10, filename: 'x.txt', mime_type: 'text/plain', purpose: 'user_data' as 'batch' })
      await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('01234'), 'a') })
      const cancelled = await client.uploads.cancel(upload.id)
      assertSpec(t, 'Upload', cancelled)
      t.equal(cancelled.status, 'cancelled')
      t.same(await ctx.blobs.list(`uploads/${upload.id}/`), [])
      await assertApiError(t, client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('56789'), 'b') }), { status: 400 })
      await assertApiError(t, client.uploads.cancel(upload.id), { status: 400 })
    })
  })
}

t.test('upload limits and errors', async (t) => {
  const ctx = await startTestApp(t, { env: { SKILLET_MAX_UPLOAD_PART_BYTES: '1000', SKILLET_MAX_UPLOAD_BYTES: '1MB' } })
  const { client } = ctx
  await assertApiError(t, client.uploads.create({ bytes: 2_000_000, filename: 'a', mime_type: 'text/jsonl', purpose: 'fine-tune' }), { status: 400, param: 'bytes' })
  await assertApiError(t, client.uploads.create({ bytes: 10, filename: 'a', mime_type: 'image/png', purpose: 'fine-tune' }), { status: 400, param: 'mime_type' })
  await assertApiError(t, client.uploads.create({ bytes: 10, filename: 'a', mime_type: 'text/jsonl', purpose: 'nope' as 'batch' }), { status: 400, param: 'purpose' })
  const upload = await client.uploads.create({ bytes: 5000, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' })
  await assertApiError(t, client.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(1500), 'a') }), { status: 413 })
  t.same(await ctx.blobs.list(`uploads/${upload.id}/`), [], 'an oversized part leaves nothing')
  await assertApiError(t, client.uploads.complete('upload_nope', { part_ids: ['part_x'] }), { status: 404 })
  const other = await ctx.clientFor('beta')
  await assertApiError(t, other.uploads.cancel(upload.id), { status: 404 })
})

t.test('expired uploads are swept with their parts', async (t) => {
  const ctx = await startTestApp(t, { env: { SKILLET_UPLOAD_TTL_SECONDS: '60' } })
  const upload = await ctx.client.uploads.create({ bytes: 5, filename: 'a.txt', mime_type: 'text/plain', purpose: 'batch' })
  await ctx.client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('hello'), 'a') })
  const { uploads } = await import('../../src/db/schema/index.ts')
  const { eq } = await import('drizzle-orm')
  await ctx.database.db.update(uploads).set({ expiresAt: 1 }).where(eq(uploads.id, upload.id))
  await assertApiError(t, ctx.client.uploads.complete(upload.id, { part_ids: ['x'] }), { status: 400 })
  const { expireUploads } = await import('../../src/services/uploads.ts')
  t.equal(await expireUploads(ctx.services.files), 1)
  t.same(await ctx.blobs.list(`uploads/${upload.id}/`), [])
})

t.test('a part that would take the Upload past its declared bytes is refused, and nothing is kept', async (t) => {
  const ctx = await startTestApp(t)
  const { client } = ctx
  const upload = await client.uploads.create({ bytes: 10, filename: 'a.txt', mime_type: 'text/plain', purpose: 'batch' })
  await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('0123456'), 'a') })
  await assertApiError(t, client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('789ab'), 'b') }), { status: 400, param: 'data', code: 'upload_bytes_exceeded' })
  t.equal((await ctx.blobs.list(`uploads/${upload.id}/`)).length, 1, 'the refused part left no blob')
  const last = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('789'), 'c') })
  await assertApiError(t, client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'd') }), { status: 400, code: 'upload_bytes_exceeded' })
  const parts = (await ctx.blobs.list(`uploads/${upload.id}/`)).length
  t.equal(parts, 2, 'a full Upload takes no more parts')
  t.ok(last.id)
})

t.test('complete with 70,000 part ids: checked against the real part count, queried in one parameter', async (t) => {
  const ctx = await startTestApp(t)
  const { client } = ctx
  const small = await client.uploads.create({ bytes: 5, filename: 'a.txt', mime_type: 'text/plain', purpose: 'batch' })
  await client.uploads.parts.create(small.id, { data: await toFile(Buffer.from('hello'), 'a') })
  const many = Array.from({ length: 70_000 }, (_, i) => `part_${i}`)
  await assertApiError(t, client.uploads.complete(small.id, { part_ids: many }), { status: 400, param: 'part_ids', message: /70000 part ids given, but Upload \S+ has 1 part\b/ })
  // An Upload that really has 70,000 parts (rows written directly: 1 byte each).
  const big = await client.uploads.create({ bytes: 5, filename: 'b.txt', mime_type: 'text/plain', purpose: 'batch' })
  const { sql } = await import('drizzle-orm')
  await ctx.database.db.execute(sql`insert into upload_parts (id, upload_id, bytes, blob_key, created_at)
    select 'part_' || g, ${big.id}, 1, 'uploads/' || ${big.id} || '/part_' || g, 0 from generate_series(0, 69999) g`)
  await assertApiError(t, client.uploads.complete(big.id, { part_ids: many }), { status: 400, param: 'part_ids', message: /add up to 70000 bytes/ })
})
