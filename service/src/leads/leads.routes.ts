import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { bigintIdSchema } from '../app/ids';
import { problemContent, problemResponses } from '../app/problems';
import { leadRecord, LeadRecordSchema, validateLeads, type Lead } from './lead-input';
import { withImportedZone } from '../timezone/imported-zone';

const ImportBody = z
  .object({
    leads: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(5000)
      .openapi({ description: 'Up to 5000 LeadInput objects; each is validated on its own.' }),
  })
  .openapi('LeadImport');

const ImportResult = z
  .object({
    imported: z.number().int(),
    duplicates: z.number().int(),
    invalid: z.array(z.object({ index: z.number().int(), reason: z.string() })),
    leadIds: z.array(z.string()).openapi({ description: 'Ids of the imported leads, in input order.' }),
  })
  .openapi('LeadImportResult');

const importLeads = createRoute({
  method: 'post',
  path: '/v1/leads/import',
  tags: ['leads'],
  summary: 'Import leads; duplicates are skipped, invalid ones reported',
  request: { body: { required: true, content: { 'application/json': { schema: ImportBody } } } },
  responses: {
    200: { description: 'What happened to each lead', content: { 'application/json': { schema: ImportResult } } },
    ...problemResponses,
    413: problemContent('Body too large'),
  },
});

const getLead = createRoute({
  method: 'get',
  path: '/v1/leads/{id}',
  tags: ['leads'],
  summary: 'One lead',
  request: { params: z.object({ id: bigintIdSchema('lead') }) },
  responses: {
    200: { description: 'The lead, every field (null when unknown)', content: { 'application/json': { schema: LeadRecordSchema } } },
    ...problemResponses,
    404: problemContent('No such lead'),
  },
});

export function leadsRoutes({ db }: AppDeps) {
  return createRouter()
    .openapi(importLeads, async (c) => {
      const { leads } = c.req.valid('json');
      const { valid, invalid } = validateLeads(leads);
      let imported = 0;
      let leadIds: string[] = [];
      if (valid.length > 0) {
        const r = await db.call<{ imported: number; leadIds: string[] }>('import_leads', { p_leads: valid.map(withImportedZone) }, { repeatable: true }) // a lead already there (by email) is a duplicate;
        imported = r.imported;
        leadIds = r.leadIds;
      }
      return c.json({ imported, duplicates: valid.length - imported, invalid, leadIds }, 200);
    })
    .openapi(getLead, async (c) => {
      const lead = await db.call<Lead>('get_lead', { p_id: c.req.valid('param').id });
      return c.json(leadRecord(lead), 200);
    });
}
