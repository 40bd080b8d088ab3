// Whether a failed chat completion means the endpoint itself is missing (the server answers
// "Invalid URL (POST /v1/chat/completions)"), rather than a problem with the model or the prompt.
export function isMissingEndpoint(status: number | undefined, message: string): boolean {
  return status === 404 && message.startsWith('Invalid URL')
}
