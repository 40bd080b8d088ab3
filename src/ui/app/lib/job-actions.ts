// Which of cancel / pause / resume a job offers: exactly what the server's state machine allows
// (the same table, imported), so a button is never enabled for a request that would be refused.
import { transition, type JobStatus } from '../../../jobs/state-machine.ts'

export const USER_ACTIONS = ['pause', 'resume', 'cancel'] as const
export type UserAction = (typeof USER_ACTIONS)[number]

export function allowedActions(status: string): Record<UserAction, boolean> {
  const s = status as JobStatus
  return { pause: transition(s, 'pause').ok, resume: transition(s, 'resume').ok, cancel: transition(s, 'cancel').ok }
}
