// Loads the SDK test harness data files (fixtures/sdk-test-harness) and expands their templating:
// `constants` and `parameters` are substituted wherever `<NAME>` appears, and a list of parameter
// lists expands to every combination. A string that is exactly `<NAME>` takes the constant's JSON
// value; inside a longer string (or a map key) the value is spliced in as text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Params = Record<string, Json>;

export interface HarnessEvaluation {
  name?: string;
  flagKey: string;
  context: Json;
  default: Json;
  valueType?: string;
  expect: { value: Json; variationIndex?: number | null; reason: Json };
}

export interface HarnessSuite {
  file: string;
  name: string;
  sdkData: { flags?: Record<string, Record<string, Json>>; segments?: Record<string, Record<string, Json>> };
  evaluations: HarnessEvaluation[];
}

const PLACEHOLDER = /<([A-Za-z0-9_]+)>/g;

function substitute(value: Json, params: Params, depth = 0): Json {
  if (depth > 20) throw new Error('constants refer to each other too deeply');
  if (typeof value === 'string') {
    const whole = /^<([A-Za-z0-9_]+)>$/.exec(value);
    if (whole && Object.hasOwn(params, whole[1]!)) return substitute(params[whole[1]!]!, params, depth + 1);
    return substituteText(value, params);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params, depth));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) out[substituteText(k, params)] = substitute(v, params, depth);
    return out;
  }
  return value;
}

function substituteText(text: string, params: Params): string {
  return text.replace(PLACEHOLDER, (match, name: string) => {
    if (!Object.hasOwn(params, name)) return match;
    const v = params[name]!;
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/** `parameters` is a list of sets, or a list of lists whose combinations are every set. */
function expandParameters(parameters: Json | undefined): Params[] {
  if (!Array.isArray(parameters) || parameters.length === 0) return [{}];
  if (!parameters.every((p) => Array.isArray(p))) return parameters as Params[];
  let combos: Params[] = [{}];
  for (const group of parameters as Params[][]) {
    const next: Params[] = [];
    for (const option of group) for (const combo of combos) next.push({ ...combo, ...option });
    combos = next;
  }
  return combos;
}

export function loadHarnessSuites(dir: string): HarnessSuite[] {
  const suites: HarnessSuite[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()) {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { merge: true });
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const raw = doc.toJS() as Record<string, Json> | null;
      if (!raw) continue;
      const constants = (raw.constants ?? {}) as Params;
      for (const params of expandParameters(raw.parameters)) {
        const all = { ...constants, ...params };
        const expanded = substitute({ ...raw, constants: null, parameters: null }, all) as Record<
          string,
          Json
        >;
        suites.push({
          file,
          name: String(expanded.name ?? file),
          sdkData: (expanded.sdkData ?? {}) as HarnessSuite['sdkData'],
          evaluations: (expanded.evaluations ?? []) as unknown as HarnessEvaluation[],
        });
      }
    }
  }
  return suites;
}
