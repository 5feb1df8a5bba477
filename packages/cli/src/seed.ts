import type { FastifyInstance } from 'fastify';

/**
 * The demo project `npm start` creates on first run, written through the admin API like any client
 * would: environments production and test, and one flag of each kind people start with.
 */
export const DEMO_PROJECT = 'demo';

const bool = [
  { value: true, name: 'on' },
  { value: false, name: 'off' },
];

const FLAGS = [
  {
    key: 'checkout-enabled',
    name: 'Checkout enabled',
    description: 'Kill switch: turn off to take checkout down without a deploy.',
    tags: ['kill-switch'],
    variations: bool,
    defaults: { onVariation: 0, offVariation: 1 },
    clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: true },
    instructions: [{ kind: 'turnFlagOn' }],
  },
  {
    key: 'new-search',
    name: 'New search',
    description: 'Gradual rollout: 25% of users get the new search.',
    tags: ['rollout'],
    temporary: true,
    variations: bool,
    defaults: { onVariation: 1, offVariation: 1 },
    instructions: [
      { kind: 'turnFlagOn' },
      {
        kind: 'updateFallthroughVariationOrRollout',
        rollout: {
          variations: [
            { variation: 0, weight: 25_000 },
            { variation: 1, weight: 75_000 },
          ],
        },
      },
    ],
  },
  {
    key: 'staff-preview',
    name: 'Staff preview',
    description: 'Targeting: on for people whose email ends with @example.com.',
    tags: ['targeting'],
    variations: bool,
    defaults: { onVariation: 1, offVariation: 1 },
    instructions: [
      { kind: 'turnFlagOn' },
      {
        kind: 'addRule',
        id: 'example-staff',
        clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@example.com'] }],
        variation: 0,
      },
    ],
  },
  {
    key: 'pricing-config',
    name: 'Pricing configuration',
    description: 'A JSON configuration flag: each variation is a whole settings object.',
    tags: ['config'],
    variations: [
      { value: { currency: 'USD', trialDays: 14, plans: ['starter', 'team'] }, name: 'standard' },
      {
        value: { currency: 'USD', trialDays: 30, plans: ['starter', 'team', 'enterprise'] },
        name: 'extended trial',
      },
    ],
    defaults: { onVariation: 0, offVariation: 0 },
    instructions: [{ kind: 'turnFlagOn' }],
  },
];

async function call(
  app: FastifyInstance,
  token: string,
  method: 'POST' | 'PATCH',
  url: string,
  payload: unknown,
) {
  const res = await app.inject({
    method,
    url,
    payload: payload as object,
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed with ${res.statusCode}: ${res.body}`);
  return res.json() as unknown;
}

/** A segment in each environment, so the dashboard's segment pages and `segmentMatch` have something. */
const SEGMENT = {
  key: 'beta-testers',
  name: 'Beta testers',
  description: 'People who asked for early features; use it in a rule with "is in segment".',
  included: ['beta-user-1', 'beta-user-2'],
  rules: [
    {
      clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@beta.example.com'] }],
    },
  ],
};

export async function seedDemo(app: FastifyInstance, adminToken: string): Promise<void> {
  await call(app, adminToken, 'POST', '/api/v1/projects', {
    key: DEMO_PROJECT,
    name: 'Demo project',
    description: 'Created by `flagstaff dev` on first start.',
  });
  for (const { instructions, ...flag } of FLAGS) {
    await call(app, adminToken, 'POST', `/api/v1/projects/${DEMO_PROJECT}/flags`, flag);
    for (const env of ['production', 'test']) {
      await call(
        app,
        adminToken,
        'PATCH',
        `/api/v1/projects/${DEMO_PROJECT}/environments/${env}/flags/${flag.key}`,
        {
          comment: 'demo data',
          instructions,
        },
      );
    }
  }
  for (const env of ['production', 'test']) {
    await call(app, adminToken, 'POST', `/api/v1/projects/${DEMO_PROJECT}/environments/${env}/segments`, {
      ...SEGMENT,
      comment: 'demo data',
    });
  }
}
