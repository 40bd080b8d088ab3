// The fenced code blocks of README.md, each with the section it sits in, so tests run the README's
// own examples rather than copies of them.
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'

export const README_PATH = fileURLToPath(new URL('../../README.md', import.meta.url))

export interface ReadmeBlock {
  /** The nearest heading above the block, without its #s. */
  section: string
  /** The fence's info string: sh, ts, … ('' when none). */
  lang: string
  code: string
}

export function readmeBlocks(text = fs.readFileSync(README_PATH, 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = []
  let section = ''
  let open: { lang: string; lines: string[] } | null = null
  for (const line of text.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push({ section, lang: open.lang, code: open.lines.join('\n') + '\n' })
        open = null
      } else open.lines.push(line)
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), lines: [] }
    else if (/^#{1,6} /.test(line)) section = line.replace(/^#+ /, '').trim()
  }
  return blocks
}

/** The one block of `lang` in `section` that contains `marker`; throws unless there is exactly one. */
export function readmeBlock(section: string, lang: string, marker = ''): ReadmeBlock {
  const found = readmeBlocks().filter((b) => b.section === section && b.lang === lang && b.code.includes(marker))
  if (found.length !== 1) throw new Error(`README.md: ${found.length} ${lang} blocks in "${section}" containing ${JSON.stringify(marker)} (want 1)`)
  return found[0]
}

/**
 * Splits a shell block into its commands: lines joined across trailing backslashes, blank lines and
 * comment-only lines dropped, trailing `# comments` kept (the shell ignores them).
 */
export function shellCommands(code: string): string[] {
  const commands: string[] = []
  let current = ''
  for (const line of code.split('\n')) {
    if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue
    if (line.endsWith('\\')) current += line.slice(0, -1) + ' '
    else {
      commands.push(current + line)
      current = ''
    }
  }
  return commands
}
