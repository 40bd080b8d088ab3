// Keeps the job alive while the trainer works: a heartbeat every few seconds (the reaper retries a
// job that stays silent for SKILLET_HEARTBEAT_TIMEOUT_SECONDS), whose answer also says whether the
// user paused or cancelled it. Never two heartbeats in flight: the client's own retries of one
// (while the API restarts) are the right behaviour, not a pile of parallel ones.
import { TrainerProtocolError, type TrainerClient } from './trainer-client.ts'
import type { StopSignal } from './stop-signal.ts'

export function startHeartbeat(client: TrainerClient, stop: StopSignal, everySeconds: number, log: (line: string) => void): { stop(): void } {
  let inFlight = false
  const timer = setInterval(() => {
    if (inFlight) return
    inFlight = true
    client
      .heartbeat()
      .then((state) => stop.fromJobState(state.stop))
      .catch((err: Error) => {
        if (err instanceof TrainerProtocolError && err.shouldStop) stop.request('cancel')
        else log(`heartbeat failed: ${err.message}`)
      })
      .finally(() => (inFlight = false))
  }, everySeconds * 1000)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
