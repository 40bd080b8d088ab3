// No secret reaches a log line on any error path: failed queries are logged without their
// parameters, requests without their query string, and a last net censors secret-shaped tokens.
import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { censorSecrets, createLogger } from '../../src/lib/logger.ts'
import { startTestApp } from '../helpers/test-app.ts'

t.test('error paths log no webhook secret, API key, trainer token nor query parameter', async (t) => {
  const ctx = await startTestApp(t, { env: { SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } })
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const app = await buildApp({ services: ctx.services, logger: createLogger('trace', sink) })
  t.teardown(() => app.close())
  const auth = { authorization: `Bearer ${ctx.key}` }

  // A query that fails in the database while it carries a freshly generated signing secret.
  await ctx.database.db.execute(sql.raw(`create or replace function skillet_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by test trigger'; end $$`))
  await ctx.database.db.execute(sql.raw(`create trigger skillet_test_refuse before insert on webhook_endpoints for each row execute function skillet_test_refuse()`))
  t.teardown(() => ctx.database.db.execute(sql.raw(`drop trigger if exists skillet_test_refuse on webhook_endpoints`)))
  const failed = await app.inject({
    method: 'POST',
    url: '/v1/webhook_endpoints',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: { name: 'hook', url: 'http://127.0.0.1:9/hook', event_types: ['fine_tuning.job.failed'] },
  })
  t.equal(failed.statusCode, 500, failed.body)
  await ctx.database.db.execute(sql.raw(`drop trigger skillet_test_refuse on webhook_endpoints`))

  // Query strings are never logged, whatever they carry (error messages may still quote a bad value back).
  await app.inject({ method: 'GET', url: '/v1/fine_tuning/jobs?limit=2&metadata%5Bkey%5D=query-marker-4711&x=sk-notakeybutlooksone', headers: auth })
  // A wrong API key, a wrong trainer token.
  await app.inject({ method: 'GET', url: '/v1/files', headers: { authorization: 'Bearer sk-wrongwrongwrongwrongwrong' } })
  await app.inject({ method: 'POST', url: '/internal/v1/jobs/ftjob-nope/heartbeat?token=sktr_inthequerystring', headers: { authorization: 'Bearer sktr_wrongtokenwrongtoken' } })

  const all = lines.join('')
  t.match(all, /refused by test trigger/, 'the failed query was logged (its cause)')
  t.match(all, /Failed query: insert into \\"webhook_endpoints\\"/, 'with its SQL')
  t.match(all, /parameters not logged/, 'and without its parameters')
  t.notMatch(all, /whsec_[A-Za-z0-9]/, 'no signing secret')
  t.notMatch(all, /sk-[A-Za-z0-9]/, 'no API key')
  t.notMatch(all, /sktr_[A-Za-z0-9]/, 'no trainer token')
  t.notMatch(all, /query-marker-4711/, 'no query parameter')
  t.notMatch(all, new RegExp(ctx.key.slice(3)), 'the real key nowhere')
})

t.test('censorSecrets catches each secret shape and leaves lookalikes', async (t) => {
  t.equal(censorSecrets('{"msg":"key sk-abcdefghijklmnop"}'), '{"msg":"key sk-[redacted]"}')
  t.equal(censorSecrets('whsec_AbC123+/=xyz and sktr_a-b_c1234'), 'whsec_[redacted] and sktr_[redacted]')
  t.equal(censorSecrets('task-abcdefghij sk-***wxyz'), 'task-abcdefghij sk-***wxyz', 'words ending in sk- and redacted hints stay')
})
