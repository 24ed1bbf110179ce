// MeetStream's own webhook signature, sent beside the Standard Webhooks one so that a client that
// verifies deliveries MeetStream's way takes Rollcall's: `X-MeetStream-Signature: sha256=<hex>`,
// the HMAC-SHA256 of the raw body keyed with the secret as the client holds it (the whole string
// GET /webhooks/secret returns, as UTF-8), and `X-MeetStream-Timestamp`, when it was sent (ISO
// 8601). MeetStream's SDKs verify exactly this (meetstream-ai/meetstream-node, src/webhooks.ts,
// verifyWebhookSignature and parseWebhook: a hex digest, with or without the sha256= prefix).
//
// It signs the body only: unlike the webhook-* headers it binds neither the message id nor the
// time, so it cannot tell a replayed delivery from a new one. Receivers that can should verify the
// Standard Webhooks signature; this one is for clients written against MeetStream.
import { createHmac } from 'node:crypto';

export function meetstreamSignature(secret: string, payload: string): string {
  return `sha256=${createHmac('sha256', secret).update(payload, 'utf8').digest('hex')}`;
}
