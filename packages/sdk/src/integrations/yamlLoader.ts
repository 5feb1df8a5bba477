/** Turns YAML text into plain JSON-like values, as the `parse` function of the `yaml` package does. */
export type YamlParser = (text: string) => unknown;

export const YAML_UNAVAILABLE =
  'parsing YAML needs the optional "yaml" package: install it (npm install yaml) or pass ' +
  '`yamlParser` (for example the `parse` function of the "yaml" package) in the file data source options';

let cached: Promise<YamlParser> | undefined;

/**
 * Loads the `parse` function of the optional peer dependency `yaml`, once per process.
 *
 * The module name goes through a function parameter on purpose: bundlers (esbuild for Lambda, among
 * others) fail the build on a literal `import('yaml')` they cannot resolve, which would break every user
 * who has no YAML files. Users who bundle and need YAML pass `yamlParser` instead.
 */
export function loadYamlParser(): Promise<YamlParser> {
  cached ??= findYamlParser((name) => import(name));
  return cached;
}

/** Finds `parse` in what `importModule('yaml')` gives; rejects with a how-to-fix message. */
export async function findYamlParser(importModule: (name: string) => Promise<unknown>): Promise<YamlParser> {
  const moduleName = 'yaml';
  let loaded: unknown;
  try {
    loaded = await importModule(moduleName);
  } catch (err) {
    throw new Error(
      `${YAML_UNAVAILABLE} (loading it failed: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  // ES module namespace, or a CommonJS build seen through `default`.
  for (const candidate of [loaded, (loaded as { default?: unknown } | undefined)?.default]) {
    const parse = (candidate as { parse?: unknown } | null | undefined)?.parse;
    if (typeof parse === 'function') return (text) => parse.call(candidate, text);
  }
  throw new Error(`${YAML_UNAVAILABLE} (the "yaml" module that was found has no parse function)`);
}
