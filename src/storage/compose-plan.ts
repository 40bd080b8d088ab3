// How S3 can concatenate objects without downloading them: one multipart upload whose parts are
// server-side copies (UploadPartCopy) of the sources. S3 only accepts that when every part but
// the last is at least 5 MiB and no part is over 5 GiB; sources over 5 GiB are split into
// equal ranges. When the rules cannot be met the caller streams the bytes through instead.

export const MIN_PART_BYTES = 5 * 1024 * 1024
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024
export const MAX_PARTS = 10_000

/** One part of the composed object: bytes [start, end] (inclusive) of source `sourceIndex`. */
export interface CopyPart {
  sourceIndex: number
  start: number
  end: number
}

/** The parts to copy for sources of the given sizes, in order, or null when S3 would refuse them. */
export function planServerSideCompose(sourceBytes: number[]): CopyPart[] | null {
  const parts: CopyPart[] = []
  for (const [sourceIndex, bytes] of sourceBytes.entries()) {
    if (bytes === 0) return null // an empty part is rejected; streaming handles it trivially
    const isLast = sourceIndex === sourceBytes.length - 1
    if (!isLast && bytes < MIN_PART_BYTES) return null
    // Equal ranges keep every piece of a split source far above the 5 MiB minimum.
    const pieces = Math.ceil(bytes / MAX_PART_BYTES)
    const pieceBytes = Math.ceil(bytes / pieces)
    for (let start = 0; start < bytes; start += pieceBytes) {
      parts.push({ sourceIndex, start, end: Math.min(start + pieceBytes, bytes) - 1 })
    }
  }
  if (parts.length === 0 || parts.length > MAX_PARTS) return null
  return parts
}
