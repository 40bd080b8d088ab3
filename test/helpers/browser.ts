// Debian's Chromium, driven by playwright-core (which downloads no browser of its own): one browser
// per test file, a fresh profile, no network beyond this machine. Screenshots go to test-artifacts/ui/
// (gitignored); axe-core runs in the same page.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { Test } from 'tap'

export const CHROMIUM = process.env.SKILLET_CHROMIUM ?? '/usr/bin/chromium'
export const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url))
const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url))

/** Why browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function openBrowser(t: Test, opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page; downloads: string }> {
  const profile = await fsp.mkdtemp(path.join(os.tmpdir(), 'skillet-chromium-'))
  const downloads = await fsp.mkdtemp(path.join(os.tmpdir(), 'skillet-downloads-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
    colorScheme: opts.colorScheme ?? 'light',
    acceptDownloads: true,
    downloadsPath: downloads,
  })
  t.teardown(async () => {
    await context.close()
    await fsp.rm(profile, { recursive: true, force: true })
    await fsp.rm(downloads, { recursive: true, force: true })
  })
  const page = context.pages()[0] ?? (await context.newPage())
  return { context, page, downloads }
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  await fsp.mkdir(SCREENSHOTS, { recursive: true })
  const file = path.join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true })
  return file
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Added through the DevTools protocol, so the page's Content-Security-Policy does not apply to it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await fsp.readFile(AXE, 'utf8'))
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe
    return (await axe.run(document, { resultTypes: ['violations'] })).violations
  })) as AxeViolation[]
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** A tap assertion: no serious or critical accessibility violation, with the details when there is one. */
export async function assertAccessible(t: Test, page: Page, what: string): Promise<void> {
  const found = await seriousViolations(page)
  t.same(
    found.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
    [],
    `${what}: no serious or critical axe violation`,
  )
}
