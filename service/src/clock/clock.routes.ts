import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemResponses } from '../app/problems';

// Sandbox only (the route does not exist otherwise): moves the service's clock,
// so a test or a demo runs days of a sequence without touching the machine's.

const ClockSchema = z
  .object({
    now: z.string().openapi({ description: "The service's time", example: '2026-12-07T14:00:00.000Z' }),
    offsetMs: z.number().openapi({ description: "How far it is from the machine's clock" }),
  })
  .openapi('SandboxClock');

const ClockUpdate = z
  .object({
    now: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Set the clock to this instant' }),
    advanceSeconds: z.number().int().min(0).max(400 * 86400).optional().openapi({ description: 'Move the clock forward' }),
  })
  .strict()
  .refine((b) => (b.now === undefined) !== (b.advanceSeconds === undefined), { message: 'give either now or advanceSeconds' })
  .openapi('SandboxClockUpdate');

const getClock = createRoute({
  method: 'get',
  path: '/v1/sandbox/clock',
  tags: ['sandbox'],
  summary: "The service's clock (sandbox mode only)",
  responses: { 200: { description: 'The clock', content: { 'application/json': { schema: ClockSchema } } }, ...problemResponses },
});

const putClock = createRoute({
  method: 'put',
  path: '/v1/sandbox/clock',
  tags: ['sandbox'],
  summary: "Move the service's clock (sandbox mode only; the machine's clock is untouched)",
  request: { body: { required: true, content: { 'application/json': { schema: ClockUpdate } } } },
  responses: { 200: { description: 'The clock', content: { 'application/json': { schema: ClockSchema } } }, ...problemResponses },
});

export function clockRoutes({ config }: AppDeps) {
  const { clock } = config;
  const view = () => ({ now: clock.now().toISOString(), offsetMs: clock.offset });
  return createRouter()
    .openapi(getClock, (c) => c.json(view(), 200))
    .openapi(putClock, (c) => {
      const body = c.req.valid('json');
      clock.set(body.now !== undefined ? new Date(body.now) : new Date(clock.now().getTime() + body.advanceSeconds! * 1000));
      return c.json(view(), 200);
    });
}
