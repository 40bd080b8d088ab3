// Standard Webhooks signatures: the shared test vector, and the openai SDK's own verifier.
import OpenAI from 'openai'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { activeSecrets, newSigningSecret, signingSecretHint, signWebhook } from '../../src/webhooks/signing.ts'

// From ../shared/README.md, verified there against the openai SDKs' verifiers.
const VECTOR = {
  secret: 'whsec_ZmluZS10dW5pbmctd2ViaG9vay10ZXN0LWtleS0zMmI=',
  id: 'wh_test_0001',
  timestamp: 1767225600,
  body: '{"id":"evt_test_0001","object":"event","type":"fine_tuning.job.succeeded","created_at":1767225600,"data":{"id":"ftjob-test0001"}}',
  signature: 'v1,NW5jDY7vP6Wikjx0lwPHuJUM0qkQFeLuoh/d8y9PAD0=',
}

const sdk = new OpenAI({ apiKey: 'sk-unused', baseURL: 'http://127.0.0.1:9/v1' })

t.test('the shared test vector signs to the published signature', async (t) => {
  const headers = signWebhook({ id: VECTOR.id, timestampSeconds: VECTOR.timestamp, body: VECTOR.body, secrets: [VECTOR.secret] })
  t.same(headers, { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature })
})

t.test('the SDK unwraps what we sign (tolerance disabled for the fixed 2026 timestamp)', async (t) => {
  const headers = signWebhook({ id: VECTOR.id, timestampSeconds: VECTOR.timestamp, body: VECTOR.body, secrets: [VECTOR.secret] })
  const event = await sdk.webhooks.unwrap(VECTOR.body, headers, VECTOR.secret, Number.POSITIVE_INFINITY)
  t.match(event, { id: 'evt_test_0001', type: 'fine_tuning.job.succeeded', data: { id: 'ftjob-test0001' } })
  await t.rejects(sdk.webhooks.unwrap(VECTOR.body.replace('succeeded', 'failed'), headers, VECTOR.secret, Number.POSITIVE_INFINITY), 'a changed body fails')
  await t.rejects(sdk.webhooks.unwrap(VECTOR.body, { ...headers, 'webhook-id': 'wh_other' }, VECTOR.secret, Number.POSITIVE_INFINITY), 'a changed id fails')
  await t.rejects(sdk.webhooks.unwrap(VECTOR.body, headers, newSigningSecret(), Number.POSITIVE_INFINITY), 'another secret fails')
})

t.test('a fresh signature verifies with the SDK at its default 5-minute tolerance', async (t) => {
  const secret = newSigningSecret()
  const now = Math.floor(Date.now() / 1000)
  const headers = signWebhook({ id: 'wh_1', timestampSeconds: now, body: '{"a":1}', secrets: [secret] })
  t.same(await sdk.webhooks.unwrap('{"a":1}', headers, secret), { a: 1 })
  const stale = signWebhook({ id: 'wh_1', timestampSeconds: now - 600, body: '{"a":1}', secrets: [secret] })
  await t.rejects(sdk.webhooks.unwrap('{"a":1}', stale, secret), /too old/, 'a 10-minute-old timestamp is refused')
})

t.test('during a rotation the header carries one signature per secret, and each verifies', async (t) => {
  const [fresh, old] = [newSigningSecret(), newSigningSecret()]
  const now = Math.floor(Date.now() / 1000)
  const body = '{"id":"evt_x"}'
  const headers = signWebhook({ id: 'wh_rot', timestampSeconds: now, body, secrets: [fresh, old] })
  const parts = headers['webhook-signature'].split(' ')
  t.equal(parts.length, 2)
  t.ok(parts.every((p) => /^v1,[A-Za-z0-9+/]{43}=$/.test(p)), 'each is v1,<padded base64 of 32 bytes>')
  await sdk.webhooks.unwrap(body, headers, fresh)
  await sdk.webhooks.unwrap(body, headers, old)
  t.doesNotThrow(() => new Webhook(fresh).verify(body, { ...headers }), 'standardwebhooks accepts the new secret')
  t.doesNotThrow(() => new Webhook(old).verify(body, { ...headers }), 'and the old one')
  await t.rejects(sdk.webhooks.unwrap(body, headers, newSigningSecret()), 'a third secret does not verify')
})

t.test('secrets: whsec_ + base64 of 32 random bytes; the hint does not give them away', async (t) => {
  const a = newSigningSecret()
  t.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.equal(Buffer.from(a.slice('whsec_'.length), 'base64').length, 32)
  t.not(a, newSigningSecret())
  const hint = signingSecretHint(a)
  t.ok(hint.endsWith(a.slice(-4)) && hint.length < 16, `hint ${hint}`)
})

t.test('the previous secret signs only until its grace period ends', async (t) => {
  const endpoint = { secret: 'whsec_new', previousSecret: 'whsec_old', previousSecretExpiresAt: 1000 }
  t.same(activeSecrets(endpoint, 999), ['whsec_new', 'whsec_old'])
  t.same(activeSecrets(endpoint, 1000), ['whsec_new'])
  t.same(activeSecrets({ secret: 'whsec_new', previousSecret: null, previousSecretExpiresAt: null }, 0), ['whsec_new'])
})
