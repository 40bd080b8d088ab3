// Which GGUF to serve when a model has several: the first of F16, Q8_0, F32, then any other.
const PREFERENCE = ['f16', 'q8_0', 'f32']

export function chooseGguf(names: string[]): string | null {
  const ggufs = names.filter((n) => n.toLowerCase().endsWith('.gguf')).sort()
  if (ggufs.length === 0) return null
  const rank = (n: string) => {
    const i = PREFERENCE.findIndex((p) => n.toLowerCase().includes(p))
    return i === -1 ? PREFERENCE.length : i
  }
  return [...ggufs].sort((a, b) => rank(a) - rank(b))[0]
}
