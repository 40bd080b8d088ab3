// Reads a .tar (as a download gives it) into {entry name: bytes}, with tar-stream's extractor.
import tar from 'tar-stream'

export async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  const extract = tar.extract()
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = []
      for await (const chunk of entry) chunks.push(chunk as Buffer)
      files.set(entry.header.name, Buffer.concat(chunks))
    }
  })()
  extract.end(bytes)
  await done
  return files
}
