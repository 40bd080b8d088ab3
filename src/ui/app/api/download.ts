// Downloads that need the Bearer key: fetched, then handed to the browser as a blob link, so the
// key is never put in a URL.
import { authedFetch } from './client.ts'

export async function downloadWithKey(apiKey: string, path: string, filename: string): Promise<void> {
  const res = await authedFetch(apiKey, path)
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
