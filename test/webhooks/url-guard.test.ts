// The SSRF guard: which addresses are refused, the allow list, and the delivery-time DNS check that
// the socket itself uses (so a name cannot resolve to one address when checked and another when used).
import t from 'tap'
import { sendWebhook } from '../../src/webhooks/sender.ts'
import { checkEndpointUrl, refusedRange, type Resolver } from '../../src/webhooks/url-guard.ts'
import { startReceiver } from './receiver.ts'

t.test('special-use addresses are refused, public unicast ones are not', async (t) => {
  const refused: Record<string, string> = {
    '127.0.0.1': 'loopback',
    '127.255.0.9': 'loopback',
    '10.1.2.3': 'private',
    '172.16.0.1': 'private',
    '192.168.1.1': 'private',
    '169.254.169.254': 'linkLocal',
    '100.64.0.1': 'carrierGradeNat',
    '0.0.0.0': 'unspecified',
    '224.0.0.1': 'multicast',
    '255.255.255.255': 'broadcast',
    '::1': 'loopback',
    '::': 'unspecified',
    '::ffff:127.0.0.1': 'loopback',
    '::ffff:10.0.0.1': 'private',
    '::127.0.0.1': 'loopback',
    '::7f00:1': 'ipv4Compatible',
    'fe80::1': 'linkLocal',
    'fd12:3456::1': 'uniqueLocal',
    'ff02::1': 'multicast',
    '64:ff9b::7f00:1': 'rfc6052',
    '2002:7f00:1::': '6to4',
  }
  for (const [address, range] of Object.entries(refused)) t.equal(refusedRange(address), range, address)
  for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) t.equal(refusedRange(address), null, `${address} is public`)
})

const fixed =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const found = table[host]
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }

t.test('checkEndpointUrl: literals, names, allow list, form', async (t) => {
  const resolve = fixed({ 'hooks.example.com': ['93.184.215.14'], 'inside.example.com': ['93.184.215.14', '10.0.0.7'], localhost: ['127.0.0.1', '::1'] })
  const check = (url: string, allowHosts: string[] = []) => checkEndpointUrl(url, { allowHosts, resolve })
  t.match(await check('https://hooks.example.com/x'), { ok: true })
  t.match(await check('https://93.184.215.14/x'), { ok: true })
  for (const url of [
    'http://127.0.0.1:8080/',
    'http://0x7f000001/', // the URL parser normalizes hex, decimal and short forms to 127.0.0.1
    'http://2130706433/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost/',
    'http://LOCALHOST./',
    'https://inside.example.com/', // one public and one private address: refused
  ]) {
    const result = await check(url)
    t.match(result, { ok: false, reason: /points to .*address/ }, url)
  }
  t.match(await check('https://nowhere.example.com/'), { ok: false, reason: /does not resolve/ })
  t.match(await check('ftp://hooks.example.com/'), { ok: false, reason: /https/ })
  t.match(await check('https://user:pw@hooks.example.com/'), { ok: false, reason: /credentials/ })
  t.match(await check('not a url'), { ok: false })
  t.match(await check('http://127.0.0.1:8080/', ['127.0.0.1']), { ok: true }, 'an allowed host passes')
  t.match(await check('http://[::1]:8080/', ['[::1]']), { ok: true }, 'IPv6 allowed with brackets')
  t.match(await check('http://localhost/', ['LocalHost']), { ok: true }, 'names compare without case')
  t.match(await check('http://127.0.0.2/', ['127.0.0.1']), { ok: false }, 'only the listed host')
})

t.test('at delivery, the socket connects through the checked lookup', async (t) => {
  const receiver = await startReceiver(t)
  const url = `http://hooks.example.test:${receiver.port}/hook`
  const send = (resolve: Resolver, allowHosts: string[] = []) => sendWebhook({ url, headers: { 'webhook-id': 'wh_1' }, body: '{}', timeoutMs: 2000, allowHosts, resolve })

  // A name that passed the check when saved but now resolves to loopback (DNS rebinding): refused, nothing sent.
  const rebound = await send(fixed({ 'hooks.example.test': ['127.0.0.1'] }))
  t.match(rebound, { error: /refused: .*hooks\.example\.test \(127\.0\.0\.1\), a loopback address/ })
  const mapped = await send(fixed({ 'hooks.example.test': ['::ffff:127.0.0.1'] }))
  t.match(mapped, { error: /refused/ }, 'an IPv4-mapped IPv6 answer is refused too')
  t.equal(receiver.received.length, 0, 'the receiver got nothing')

  // Allowed: the request arrives — through our resolver, since the system cannot resolve this name.
  const allowed = await send(fixed({ 'hooks.example.test': ['127.0.0.1'] }), ['hooks.example.test'])
  t.match(allowed, { statusCode: 200, responseExcerpt: 'answer 200' })
  t.equal(receiver.received.length, 1)
  t.equal(receiver.received[0].headers.host, `hooks.example.test:${receiver.port}`, 'the Host header keeps the name')
})

t.test('at delivery, IP-literal URLs are checked before connecting', async (t) => {
  const receiver = await startReceiver(t)
  for (const url of [`http://127.0.0.1:${receiver.port}/`, `http://[::ffff:127.0.0.1]:${receiver.port}/`]) {
    const result = await sendWebhook({ url, headers: {}, body: '{}', timeoutMs: 2000, allowHosts: [] })
    t.match(result, { error: /refused/ }, url)
  }
  t.equal(receiver.received.length, 0)
})

t.test('a receiver that does not answer in time is a failed attempt with an error', async (t) => {
  const receiver = await startReceiver(t, () => 'hang')
  const result = await sendWebhook({ url: receiver.url, headers: {}, body: '{}', timeoutMs: 200, allowHosts: ['127.0.0.1'] })
  t.match(result, { error: 'timed out after 200 ms' })
  t.ok(result.durationMs >= 190 && result.durationMs < 2000, `took ${result.durationMs} ms`)
})
