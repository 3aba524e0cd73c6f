import { definePlugin, envNameField, pathField, PluginRegistry, urlField, z, type Backbone, type Dataset, type Judge, type Reward } from '@medad/core';

/**
 * TEST DOUBLES: plugin definitions with real config schemas, for validating GraphQL inputs in
 * tests. The server only validates configs; it never creates plugins (run processes do), so
 * `create` refuses to run.
 */
const never = (what: string) => (): never => {
  throw new Error(`${what} is a test double for input validation; it cannot be created`);
};

/** A backbone named `fixture-backbone` (a preset and an optional learning-rate multiplier). */
export const fixtureBackbone = definePlugin({
  kind: 'backbone',
  id: 'fixture-backbone',
  version: '0.0.0',
  description: 'TEST DOUBLE backbone for control-plane tests',
  configSchema: z.object({ preset: z.enum(['tiny', 'small']).default('tiny'), lrScale: z.number().positive().optional() }).strict(),
  create: never('fixture-backbone') as () => Backbone,
});

/** The plugin ids the server uses by default, as test doubles with the same shapes of config. */
export function testRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  r.register(fixtureBackbone);
  r.register(definePlugin({ kind: 'backbone', id: 'tfjs-vlm', version: '0.0.0', configSchema: z.object({ preset: z.string().optional() }), create: never('tfjs-vlm') as () => Backbone }));
  for (const id of ['format', 'accuracy', 'consistency']) {
    r.register(definePlugin({ kind: 'reward', id, version: '0.0.0', configSchema: z.object({ maxChars: z.number().int().positive().optional() }).strict(), create: never(id) as () => Reward }));
  }
  const synthetic = z.object({ dir: z.string().optional(), samples: z.number().int().min(10).default(2000), seed: z.number().int().min(0).default(0), zoom: z.boolean().default(false) }).strict();
  r.register(definePlugin({ kind: 'dataset', id: 'synthetic', version: '0.0.0', configSchema: synthetic, create: never('synthetic') as () => Dataset }));
  // Judges whose configs point outside the process (a checkpoint path; an endpoint and a key variable), as the real ones.
  r.register(definePlugin({ kind: 'judge', id: 'learned', version: '0.0.0', configSchema: z.object({ checkpoint: pathField(z.string().min(1)) }), create: never('learned') as () => Judge }));
  r.register(
    definePlugin({
      kind: 'judge',
      id: 'openai',
      version: '0.0.0',
      configSchema: z.object({ baseUrl: urlField(z.string().url()), model: z.string().default('m'), apiKeyEnv: envNameField(z.string().default('OPENAI_API_KEY')) }),
      create: never('openai') as () => Judge,
    }),
  );
  r.register(definePlugin({ kind: 'judge', id: 'rule', version: '0.0.0', configSchema: z.object({}).strict(), create: never('rule') as () => Judge }));
  return r;
}
