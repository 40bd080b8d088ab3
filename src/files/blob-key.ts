// Where a file's bytes live in the blob store (files.blob_key holds it; trainers read it from there).
export function fileBlobKey(projectId: string, fileId: string): string {
  return `files/${projectId}/${fileId}`
}
