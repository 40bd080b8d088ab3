// A file's `status_details` ("line 3: unknown role 'wizard' in messages[1]; line 7: blank line (and
// 12 more errors)") as a list the page can show one error per row, with its line number.
export interface LineError {
  line: number | null
  message: string
}

export function parseStatusDetails(details: string): { errors: LineError[]; more: string | null } {
  const moreMatch = /\s\(and (\d+) more errors?\)$/.exec(details)
  const body = moreMatch ? details.slice(0, moreMatch.index) : details
  const errors = body.split(/; (?=line \d+: )/).map((part) => {
    const m = /^line (\d+): ([\s\S]*)$/.exec(part)
    return m ? { line: Number(m[1]), message: m[2] } : { line: null, message: part }
  })
  return { errors, more: moreMatch ? `and ${moreMatch[1]} more` : null }
}
