import { z } from '@hono/zod-openapi';

// Schemas several capabilities share, defined once (a capability's own shapes
// stay beside its routes).

/** A sender's id, as the senders table checks it. */
export const SenderIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be 1-63 lower-case letters, digits, ".", "_" or "-"');
