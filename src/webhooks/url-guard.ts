// Keeps webhooks from being used to reach the service's own network (SSRF): an endpoint URL may only
// lead to public unicast addresses. Checked twice — when the URL is saved, and again on every delivery
// through the socket's own DNS lookup, so a name that later resolves elsewhere (DNS rebinding) is refused
// and the connection goes to exactly the address that was checked. Hosts listed in
// SKILLET_WEBHOOK_ALLOW_HOSTS skip the check (a receiver inside the cluster, tests on loopback).
import dns from 'node:dns'
import net from 'node:net'
import ipaddr from 'ipaddr.js'

export interface ResolvedAddress {
  address: string
  family: number
}

/** Resolves a host name to all its addresses, as the operating system would for a connection. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true })

/** Why an address may not be called, or null for a public unicast address. */
export function refusedRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) into the IPv4 address it carries.
    parsed = ipaddr.process(address)
  } catch {
    return 'invalid'
  }
  const range = parsed.range()
  if (range !== 'unicast') return range
  // IPv4-compatible IPv6 (::a.b.c.d, deprecated) carries an IPv4 address too; ipaddr.js calls it unicast.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible'
  return null
}

/** The URL's host as compared with the allow list: lower case, without IPv6 brackets or a trailing dot. */
export function normalizeHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
}

export function isAllowedHost(hostname: string, allowHosts: readonly string[]): boolean {
  const host = normalizeHost(hostname)
  return allowHosts.some((allowed) => normalizeHost(allowed) === host)
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string }

/** Checks an endpoint URL when it is created or changed: its form, and every address its host resolves to. */
export async function checkEndpointUrl(raw: string, opts: { allowHosts: readonly string[]; resolve?: Resolver }): Promise<UrlCheck> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, reason: 'is not a valid URL' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'must use https:// (or http://)' }
  if (url.username || url.password) return { ok: false, reason: 'must not contain credentials' }
  if (isAllowedHost(url.hostname, opts.allowHosts)) return { ok: true, url }
  const host = normalizeHost(url.hostname)
  if (net.isIP(host)) {
    const range = refusedRange(host)
    return range ? { ok: false, reason: refusalMessage(host, host, range) } : { ok: true, url }
  }
  let addresses: ResolvedAddress[]
  try {
    addresses = await (opts.resolve ?? systemResolver)(host)
  } catch {
    return { ok: false, reason: `has a host that does not resolve: ${host}` }
  }
  if (addresses.length === 0) return { ok: false, reason: `has a host that does not resolve: ${host}` }
  for (const { address } of addresses) {
    const range = refusedRange(address)
    if (range) return { ok: false, reason: refusalMessage(host, address, range) }
  }
  return { ok: true, url }
}

/** Thrown (through the socket) when a delivery's host resolves to a refused address. */
export class RefusedAddressError extends Error {
  readonly code = 'EWEBHOOKREFUSED'
  constructor(message: string) {
    super(message)
    this.name = 'RefusedAddressError'
  }
}

/** Throws RefusedAddressError for an IP-literal host that may not be called (no DNS lookup happens for those). */
export function assertLiteralHostAllowed(hostname: string, allowHosts: readonly string[]): void {
  const host = normalizeHost(hostname)
  if (!net.isIP(host) || isAllowedHost(host, allowHosts)) return
  const range = refusedRange(host)
  if (range) throw new RefusedAddressError(refusalMessage(host, host, range))
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void

/**
 * A `lookup` for http(s).request: resolves the host, refuses it if any address is special-use (unless
 * the host is allowed), and hands the socket the addresses it checked, so nothing resolves twice.
 */
export function guardedLookup(allowHosts: readonly string[], resolve: Resolver = systemResolver) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '')
        if (!isAllowedHost(hostname, allowHosts)) {
          for (const { address } of wanted) {
            const range = refusedRange(address)
            if (range) return callback(new RefusedAddressError(refusalMessage(normalizeHost(hostname), address, range)), '')
          }
        }
        if (options.all) callback(null, wanted)
        else callback(null, wanted[0].address, wanted[0].family)
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    )
  }
}

function refusalMessage(host: string, address: string, range: string): string {
  const where = host === address ? address : `${host} (${address})`
  return `points to ${where}, a ${range} address; webhooks only go to public addresses unless SKILLET_WEBHOOK_ALLOW_HOSTS lists the host`
}
