// Admin routes for projects and API keys (/v1/organization/projects…): an admin key manages keys on a
// live server; a member key gets 403 in OpenAI's envelope. Through app.inject and through the
// official openai SDK's generic HTTP methods, over real HTTP.
import OpenAI from 'openai'
import t from 'tap'
import { createApiKey } from '../../src/services/projects.ts'
import { assertApiError } from '../helpers/openai-spec.ts'
import { startTestApp } from '../helpers/test-app.ts'

const api = await startTestApp(t)
const admin = api.client
const sdkFor = (apiKey: string) => new OpenAI({ apiKey, baseURL: api.baseURL, maxRetries: 0 })

interface Project { id: string; name: string; object: string }
interface Key { id: string; name: string; redacted_value: string; is_admin: boolean; revoked_at: number | null; value?: string }
interface List<T> { object: 'list'; data: T[] }

t.test('a member key gets 403 in the envelope on every admin route, before validation', async (t) => {
  const member = await createApiKey(api.database.db, { project: `member-${Date.now()}` })
  const routes: [string, string, unknown?][] = [
    ['GET', '/v1/organization/projects'],
    ['POST', '/v1/organization/projects', { name: 'x' }],
    ['POST', '/v1/organization/projects', { bogus: true }],
    ['GET', `/v1/organization/projects/${member.projectId}/api_keys`],
    ['POST', `/v1/organization/projects/${member.projectId}/api_keys`, {}],
    ['DELETE', `/v1/organization/projects/${member.projectId}/api_keys/${member.id}`],
  ]
  for (const [method, url, payload] of routes) {
    const res = await api.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${member.key}` }, ...(payload ? { payload: payload as object } : {}) })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.same(res.json(), {
      error: { message: 'This request needs an admin API key: projects and API keys are managed by admins only.', type: 'invalid_request_error', param: null, code: 'insufficient_permissions' },
    })
  }
  const noKey = await api.app.inject({ method: 'GET', url: '/v1/organization/projects' })
  t.equal(noKey.statusCode, 401, 'no key at all is still a 401')
  // The SDK maps it to its PermissionDeniedError.
  await assertApiError(t, sdkFor(member.key).get('/organization/projects'), { status: 403, code: 'insufficient_permissions' })
  t.equal((await sdkFor(member.key).fineTuning.jobs.list()).data.length, 0, 'the member key still works on the public API')
})

t.test('an admin creates a project and a key, the key works at once, revoke stops it', async (t) => {
  const name = `research-${Date.now()}`
  const project = await admin.post<Project>('/organization/projects', { body: { name } })
  t.match(project, { id: /^proj_/, object: 'organization.project', name, status: 'active' })
  await assertApiError(t, admin.post('/organization/projects', { body: { name } }), { status: 400, param: 'name', code: 'project_exists' })
  await assertApiError(t, admin.post('/organization/projects', { body: { name: 'no spaces' } }), { status: 400 })

  const listed = await admin.get<List<Project>>('/organization/projects')
  t.ok(listed.data.some((p) => p.id === project.id), 'listed')
  t.match(await admin.get(`/organization/projects/${project.id}`), { id: project.id, name })

  const created = await admin.post<Key>(`/organization/projects/${project.id}/api_keys`, { body: { name: 'ci' } })
  t.match(created, { id: /^key_/, object: 'organization.project.api_key', name: 'ci', is_admin: false, revoked_at: null, value: /^sk-[A-Za-z0-9]{48}$/ })
  t.equal(created.redacted_value, `sk-…${created.value!.slice(-4)}`)

  const keys = await admin.get<List<Key>>(`/organization/projects/${project.id}/api_keys`)
  t.equal(keys.data.length, 1)
  t.notOk('value' in keys.data[0], 'the secret is shown only at creation')
  t.notOk(JSON.stringify(keys).includes(created.value!), 'nowhere in the listing')

  const newClient = sdkFor(created.value!)
  const file = await newClient.files.create({ file: new File(['{"prompt":"a","completion":"b"}\n'], 'a.jsonl'), purpose: 'fine-tune' })
  t.match(file, { id: /^file-/ }, 'the new key works in its project without a restart')
  await assertApiError(t, admin.files.retrieve(file.id), { status: 404 }, )

  const revoked = await admin.delete<unknown>(`/organization/projects/${project.id}/api_keys/${created.id}`)
  t.same(revoked, { id: created.id, object: 'organization.project.api_key.deleted', deleted: true })
  const after = await admin.get<Key>(`/organization/projects/${project.id}/api_keys/${created.id}`)
  t.ok(after.revoked_at, 'the revoked key stays listed, with when')
  await assertApiError(t, admin.delete(`/organization/projects/${project.id}/api_keys/${created.id}`), { status: 404, param: 'key_id' })
  // The auth cache keeps a key for up to 5 s; a fresh app (no cache) refuses it at once.
  const fresh = await startTestApp(t)
  const res = await fresh.app.inject({ method: 'GET', url: '/v1/files', headers: { authorization: `Bearer ${created.value}` } })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { error: { code: 'invalid_api_key' } })
  t.notOk(res.body.includes(created.value!), 'the message does not echo the key')
})

t.test('admin keys, unknown ids, no body', async (t) => {
  const project = await admin.post<Project>('/organization/projects', { body: { name: `ops-${Date.now()}` } })
  const key = await admin.post<Key>(`/organization/projects/${project.id}/api_keys`)
  t.match(key, { name: 'default', is_admin: false }, 'no body: defaults')
  const adminKey = await admin.post<Key>(`/organization/projects/${project.id}/api_keys`, { body: { name: 'ops admin', is_admin: true } })
  t.equal(adminKey.is_admin, true)
  t.match(await sdkFor(adminKey.value!).get<List<Project>>('/organization/projects'), { object: 'list' }, 'a new admin key may call admin routes')
  await assertApiError(t, admin.get('/organization/projects/proj_nope/api_keys'), { status: 404, param: 'project_id' })
  await assertApiError(t, admin.delete(`/organization/projects/${project.id}/api_keys/key_nope`), { status: 404, param: 'key_id' })
  await assertApiError(t, admin.post(`/organization/projects/${project.id}/api_keys`, { body: { is_admin: 'yes' } }), { status: 400 })
})
