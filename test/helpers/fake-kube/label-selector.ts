// Equality-based label selectors as the API server reads them: "a=b,c!=d,e" (e: the label exists).
export function matchesSelector(labels: Record<string, string> | undefined, selector: string | null | undefined): boolean {
  if (!selector) return true
  const have = labels ?? {}
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      const neq = /^([^!=]+)!=(.*)$/.exec(term)
      if (neq) return have[neq[1]] !== neq[2]
      const eq = /^([^!=]+)==?(.*)$/.exec(term)
      if (eq) return have[eq[1]] === eq[2]
      if (term.startsWith('!')) return !(term.slice(1) in have)
      return term in have
    })
}
