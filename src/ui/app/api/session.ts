// The API key lives in sessionStorage only (gone when the tab closes), is sent as a Bearer token and
// never appears in a URL. No cookies: nothing for a cross-site request to ride on.
const KEY = 'skillet.apiKey'

export function loadKey(): string | null {
  return sessionStorage.getItem(KEY)
}

export function saveKey(key: string): void {
  sessionStorage.setItem(KEY, key)
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY)
}
