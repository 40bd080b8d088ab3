// One signed attempt: fresh `webhook-timestamp`, the delivery's stable `webhook-id`, one signature per
// active secret, then the POST. Shared by the dispatcher and by "send a test event".
import { sendWebhook, type SendResult } from './sender.ts'
import { activeSecrets, signWebhook } from './signing.ts'
import type { Resolver } from './url-guard.ts'

export interface DeliveryTransport {
  allowHosts: readonly string[]
  timeoutMs: number
  /** DNS for delivery-time checks; the system resolver when absent. */
  resolve?: Resolver
}

export interface DeliveryTarget {
  deliveryId: string
  body: string
  url: string
  secret: string
  previousSecret: string | null
  previousSecretExpiresAt: number | null
}

export async function attemptDelivery(transport: DeliveryTransport, target: DeliveryTarget, nowSeconds: number): Promise<SendResult> {
  const headers = signWebhook({ id: target.deliveryId, timestampSeconds: nowSeconds, body: target.body, secrets: activeSecrets(target, nowSeconds) })
  return sendWebhook({ url: target.url, headers, body: target.body, allowHosts: transport.allowHosts, timeoutMs: transport.timeoutMs, resolve: transport.resolve })
}
