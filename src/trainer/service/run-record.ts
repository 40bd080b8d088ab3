// Builds a succeeded job's run.json (src/protocol/run-record.ts) from what the attempt ran with:
// the software (package version, git commit of the checkout when there is one), the backend,
// the base model's weights and the data (SHA-256 of the bytes read), the resolved settings and seeds.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { RunRecord } from '../../protocol/run-record.ts'

const ROOT = resolve(import.meta.dirname, '../../..')

export const sha256Of = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')

/** SHA-256 of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** SHA-256 of each file, by its name. */
export async function weightsSha256(paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const p of paths) out[basename(p)] = await sha256OfFile(p)
  return out
}

/** Skillet's version (package.json) and the commit of the checkout it runs from, if it runs from one. */
export async function skilletBuild(): Promise<RunRecord['skillet']> {
  const { version } = JSON.parse(await readFile(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }
  const commit = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: ROOT, timeout: 10_000 }).then((r) => r.stdout.trim(), () => '')
  return { version, git_commit: /^[0-9a-f]{40}$/.test(commit) ? commit : null }
}
