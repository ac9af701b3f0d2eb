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
    erased: z
      .array(z.number().int())
      .openapi({ description: 'Input indexes of leads refused because the person was erased (DELETE /v1/leads/{id}?erase=true).' }),
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

const ErasureResult = z
  .object({
    leadId: z.string(),
    status: z.literal('erased'),
    cancelledSends: z.number().int().openapi({ description: 'Pending sends cancelled (a send already handed out is not called back).' }),
    claimReleased: z.boolean().optional().openapi({ description: "A claim not sent yet gave its quota back." }),
    alreadyErased: z.boolean(),
  })
  .openapi('LeadErasure');

const eraseLead = createRoute({
  method: 'delete',
  path: '/v1/leads/{id}',
  tags: ['leads'],
  summary: "Erase the person (GDPR Art. 17): their data everywhere; only a hashed suppression stays",
  description:
    'Removes the lead\'s personal data, its drafts, the bodies and address of its sends, the text of events and ' +
    'inbound messages about it and the payloads of webhook deliveries about it. The lead stays as an id with status ' +
    '`erased`. Hashes of the address and the Apollo id are kept as suppressions, so the person is never emailed, ' +
    'imported or paid for (Apollo reveal) again. Erasing twice is harmless.',
  request: {
    params: z.object({ id: bigintIdSchema('lead') }),
    query: z.object({
      erase: z.literal('true').openapi({ description: 'Must be "true": deleting a lead always erases the person.' }),
    }),
  },
  responses: {
    200: { description: 'The person is erased', content: { 'application/json': { schema: ErasureResult } } },
    ...problemResponses,
    404: problemContent('No such lead'),
  },
});

export function leadsRoutes({ db }: AppDeps) {
  return createRouter()
    .openapi(importLeads, async (c) => {
      const { leads } = c.req.valid('json');
      const { valid, validIndexes, invalid } = validateLeads(leads);
      let imported = 0;
      let leadIds: string[] = [];
      let erased: number[] = [];
      if (valid.length > 0) {
        // a repeat is safe: a lead already there (by email) is a duplicate
        const r = await db.call<{ imported: number; leadIds: string[]; erased: number[] }>('import_leads', { p_leads: valid.map(withImportedZone) }, { repeatable: true });
        imported = r.imported;
        leadIds = r.leadIds;
        erased = r.erased.map((i) => validIndexes[i]!);
      }
      return c.json({ imported, duplicates: valid.length - imported - erased.length, invalid, erased, leadIds }, 200);
    })
    .openapi(getLead, async (c) => {
      const lead = await db.call<Lead>('get_lead', { p_id: c.req.valid('param').id });
      return c.json(leadRecord(lead), 200);
    })
    .openapi(eraseLead, async (c) => {
      const erased = await db.call<z.infer<typeof ErasureResult>>('erase_lead', { p_lead_id: c.req.valid('param').id }, { repeatable: true });
      return c.json(erased, 200);
    });
}
