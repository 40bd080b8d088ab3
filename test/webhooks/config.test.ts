// The webhook settings read from the environment.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/index.ts'

t.test('defaults: no host is allowed past the SSRF guard', async (t) => {
  t.same(loadConfig({}).webhooks, { allowHosts: [], timeoutMs: 15_000, pollMs: 1000 })
})

t.test('SKILLET_WEBHOOK_ALLOW_HOSTS: names and IPs, trimmed, lower case, IPv6 without brackets', async (t) => {
  const config = loadConfig({ SKILLET_WEBHOOK_ALLOW_HOSTS: ' 127.0.0.1, [::1] ,Hooks.Internal,,', SKILLET_WEBHOOK_TIMEOUT_MS: '5000' })
  t.same(config.webhooks.allowHosts, ['127.0.0.1', '::1', 'hooks.internal'])
  t.equal(config.webhooks.timeoutMs, 5000)
})

t.test('bad values are reported with the variable name', async (t) => {
  t.throws(() => loadConfig({ SKILLET_WEBHOOK_ALLOW_HOSTS: 'http://evil/' }), ConfigError)
  t.throws(() => loadConfig({ SKILLET_WEBHOOK_ALLOW_HOSTS: 'a b' }), /SKILLET_WEBHOOK_ALLOW_HOSTS/)
  t.throws(() => loadConfig({ SKILLET_WEBHOOK_TIMEOUT_MS: '10' }), /SKILLET_WEBHOOK_TIMEOUT_MS must be at least 100/)
})
