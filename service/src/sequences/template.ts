// Fixed follow-up templates: {{field}} slots filled from the lead and the sender.

export const TEMPLATE_FIELDS = ['firstName', 'lastName', 'title', 'companyName', 'senderName'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

const SLOT = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The field names a template uses. */
export function templateFieldsIn(template: string): string[] {
  return [...template.matchAll(SLOT)].map((m) => m[1]!);
}

/**
 * The template with its slots filled. A slot whose value is missing takes the
 * fallback ("there" for a first name: "Hi there,"), else it is left out.
 */
export function fillTemplate(template: string, values: Partial<Record<TemplateField, string | null | undefined>>): string {
  return template
    .replace(SLOT, (_, name: string) => {
      const v = values[name as TemplateField]?.trim();
      if (v) return v;
      return name === 'firstName' ? 'there' : '';
    })
    .replace(/[ \t]+([,.!?])/g, '$1')
    .replace(/[ \t]{2,}/g, ' ');
}
