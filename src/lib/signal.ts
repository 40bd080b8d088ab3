// A wake-up call from one part of the process to whoever listens (e.g. "there is job work" from the
// API to an in-process scheduler), so neither side holds or patches the other. No payload, no queue:
// a listener learns only that something changed and looks for itself.
export class Signal {
  private readonly listeners = new Set<() => void>()

  notify(): void {
    for (const listener of this.listeners) listener()
  }

  /** Calls `listener` on every notify until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}
