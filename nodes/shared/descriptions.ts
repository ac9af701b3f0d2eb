import type { INodeProperties } from 'n8n-workflow';

export const senderField: INodeProperties = {
	displayName: 'Sender',
	name: 'sender',
	type: 'string',
	default: 'default',
	description:
		'The sender (mailbox) whose quota, sending window and time zone apply. The service creates "default" on its first start.',
};

export const leadIdField: INodeProperties = {
	displayName: 'Lead ID',
	name: 'leadId',
	type: 'string',
	default: '={{ $json.leadId }}',
	required: true,
	description:
		'The Corofy lead ID of each incoming item: every lead item of Corofy (Apollo Search, Claim Daily Batch, Compose Email) carries it as "leadId"',
};

/** The service answers at most 500 sends per call. */
export const sendLimitField: INodeProperties = {
	displayName: 'Limit',
	name: 'limit',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 500 },
	default: 50,
	description: 'Max number of results to return',
};

/**
 * How long a node keeps repeating a request the service could not serve for a
 * passing reason (its database restarting): only requests that are safe to send
 * twice are repeated, so a daily run survives a database blip by itself.
 */
export const retryUnavailableForField: INodeProperties = {
	displayName: 'Retry Unavailable Service For (Seconds)',
	name: 'retryUnavailableFor',
	type: 'number',
	typeOptions: { minValue: 0 },
	default: 60,
	description:
		'While the Corofy service answers "unavailable" (its database restarting), repeat requests that are safe to send twice, with growing pauses, for at most this long; then fail with the service\'s message. 0 never repeats.',
};
