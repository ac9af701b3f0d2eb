import { createHmac, timingSafeEqual } from 'crypto';

/** How far a delivery's webhook-timestamp may be from now: older ones are replays. */
export const TOLERANCE_SECONDS = 300;

/**
 * Verifies a Standard Webhooks signature: webhook-signature holds one or more
 * "v1,<base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}`>",
 * keyed with the base64 part of the "whsec_" secret.
 */
export function verifySignature(
	secret: string,
	headers: { id?: string; timestamp?: string; signature?: string },
	body: string,
	nowSeconds: number,
): { valid: true } | { valid: false; reason: string } {
	const ts = Number(headers.timestamp);
	if (!headers.id || !headers.signature || !headers.timestamp || !Number.isInteger(ts)) {
		return { valid: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
	}
	if (Math.abs(nowSeconds - ts) > TOLERANCE_SECONDS) {
		return { valid: false, reason: 'webhook-timestamp is too far from now (a replay?)' };
	}
	const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
	const expected = createHmac('sha256', key).update(`${headers.id}.${ts}.${body}`).digest();
	const matches = headers.signature.split(' ').some((part) => {
		const [version, sig] = part.split(',', 2);
		if (version !== 'v1' || !sig) return false;
		const given = Buffer.from(sig, 'base64');
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	return matches ? { valid: true } : { valid: false, reason: 'the signature does not match' };
}
