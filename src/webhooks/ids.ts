// Ids of webhook objects, shaped like OpenAI's: `whe_…` endpoints, `evt_…` events, `wh_…` deliveries.
import { randomBase62 } from '../lib/ids.ts'

export const newWebhookId = {
  endpoint: () => `whe_${randomBase62(24)}`,
  event: () => `evt_${randomBase62(24)}`,
  /** The `webhook-id` header: one per endpoint per event, stable across retries. */
  delivery: () => `wh_${randomBase62(24)}`,
}
