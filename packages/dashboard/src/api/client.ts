import type {
  ApiToken,
  AuditEntry,
  BusiestFlags,
  CallerIdentity,
  Environment,
  Flag,
  FlagDependent,
  FlagInsights,
  FlagSummary,
  JsonPatchOp,
  Page,
  Project,
  Role,
  Segment,
  SegmentDependent,
  TargetingDoc,
} from './types.js';

export interface FieldProblem {
  path: string;
  message: string;
}

/** A refused request, with the service's `{code, message, errors?}` answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldProblem[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Someone else changed the resource since it was read (`version_conflict` or a lost race). */
  get isConflict(): boolean {
    return this.status === 409 && (this.code === 'version_conflict' || this.code === 'conflict');
  }
}

const enc = encodeURIComponent;

/**
 * The admin API over fetch, with the token in the `Authorization` header (never in a URL, where proxies
 * and servers would log it). A `401` signs the dashboard out through `onUnauthorized`.
 */
export class ApiClient {
  constructor(
    readonly token: string,
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError(0, 'network', 'The flag service could not be reached. Check that it is running.');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const answer = (json ?? {}) as { code?: string; message?: string; errors?: FieldProblem[] };
      if (res.status === 401) this.onUnauthorized();
      throw new ApiError(
        res.status,
        answer.code ?? 'http_error',
        answer.message ?? `The service answered ${res.status} ${res.statusText}`,
        Array.isArray(answer.errors) ? answer.errors : [],
        (json ?? {}) as Record<string, unknown>,
      );
    }
    return json as T;
  }

  projects = () => this.request<Page<Project>>('GET', '/projects?limit=200');

  environments = (project: string) =>
    this.request<{ items: Environment[] }>('GET', `/projects/${enc(project)}/environments`);

  callerIdentity = () => this.request<CallerIdentity>('GET', '/caller-identity');

  /**
   * Every live flag of the project (or every archived one), following `next` (the list is small
   * enough to filter in the page).
   */
  async flags(project: string, options: { archived?: boolean } = {}): Promise<FlagSummary[]> {
    const items: FlagSummary[] = [];
    let after: string | undefined;
    const archived = options.archived ? '&archived=true' : '';
    do {
      const page = await this.request<Page<FlagSummary>>(
        'GET',
        `/projects/${enc(project)}/flags?limit=500${archived}${after ? `&after=${enc(after)}` : ''}`,
      );
      items.push(...page.items);
      after = typeof page.next === 'string' ? page.next : undefined;
    } while (after);
    return items;
  }

  flag = (project: string, key: string) =>
    this.request<Flag>('GET', `/projects/${enc(project)}/flags/${enc(key)}`);

  createFlag = (project: string, body: Record<string, unknown>) =>
    this.request<Flag>('POST', `/projects/${enc(project)}/flags`, body);

  patchFlag = (project: string, key: string, patch: JsonPatchOp[], version: number, comment?: string) =>
    this.request<Flag>('PATCH', `/projects/${enc(project)}/flags/${enc(key)}`, {
      patch,
      version,
      ...(comment ? { comment } : {}),
    });

  /** Archives (`archive`) or restores (`restore`) a flag; SDKs see an archived flag as deleted. */
  setFlagArchived = (project: string, key: string, archived: boolean, comment?: string) =>
    this.request<Flag>(
      'POST',
      `/projects/${enc(project)}/flags/${enc(key)}/${archived ? 'archive' : 'restore'}`,
      comment ? { comment } : {},
    );

  flagDependents = (project: string, key: string) =>
    this.request<{ items: FlagDependent[] }>('GET', `/projects/${enc(project)}/flags/${enc(key)}/dependents`);

  patchTargeting = (
    project: string,
    env: string,
    key: string,
    patch: JsonPatchOp[],
    version: number,
    comment?: string,
  ) =>
    this.request<TargetingDoc>(
      'PATCH',
      `/projects/${enc(project)}/environments/${enc(env)}/flags/${enc(key)}`,
      {
        patch,
        version,
        ...(comment ? { comment } : {}),
      },
    );

  /** Turns a flag on or off, failing with a conflict if its version moved on since `version`. */
  toggle = (project: string, env: string, key: string, on: boolean, version: number, comment?: string) =>
    this.request<TargetingDoc>(
      'PATCH',
      `/projects/${enc(project)}/environments/${enc(env)}/flags/${enc(key)}`,
      {
        instructions: [{ kind: on ? 'turnFlagOn' : 'turnFlagOff' }],
        version,
        ...(comment ? { comment } : {}),
      },
    );

  /** The environment's live segments (or its archived ones), following `next`. */
  async segments(project: string, env: string, options: { archived?: boolean } = {}): Promise<Segment[]> {
    const items: Segment[] = [];
    let after: string | undefined;
    const archived = options.archived ? '&archived=true' : '';
    do {
      const page = await this.request<Page<Segment>>(
        'GET',
        `/projects/${enc(project)}/environments/${enc(env)}/segments?limit=500${archived}${after ? `&after=${enc(after)}` : ''}`,
      );
      items.push(...page.items);
      after = typeof page.next === 'string' ? page.next : undefined;
    } while (after);
    return items;
  }

  segment = (project: string, env: string, key: string) =>
    this.request<Segment>('GET', `/projects/${enc(project)}/environments/${enc(env)}/segments/${enc(key)}`);

  createSegment = (project: string, env: string, body: Record<string, unknown>) =>
    this.request<Segment>('POST', `/projects/${enc(project)}/environments/${enc(env)}/segments`, body);

  patchSegment = (
    project: string,
    env: string,
    key: string,
    patch: JsonPatchOp[],
    version: number,
    comment?: string,
  ) =>
    this.request<Segment>(
      'PATCH',
      `/projects/${enc(project)}/environments/${enc(env)}/segments/${enc(key)}`,
      {
        patch,
        version,
        ...(comment ? { comment } : {}),
      },
    );

  /** Archives or restores a segment of one environment; restoring checks its rules still hold. */
  setSegmentArchived = (project: string, env: string, key: string, archived: boolean, comment?: string) =>
    this.request<Segment>(
      'POST',
      `/projects/${enc(project)}/environments/${enc(env)}/segments/${enc(key)}/${archived ? 'archive' : 'restore'}`,
      comment ? { comment } : {},
    );

  segmentDependents = (project: string, env: string, key: string) =>
    this.request<{ items: SegmentDependent[] }>(
      'GET',
      `/projects/${enc(project)}/environments/${enc(env)}/segments/${enc(key)}/dependents`,
    );

  tokens = () => this.request<{ items: ApiToken[] }>('GET', '/tokens');

  /** The answer is the only place the secret ever appears. */
  createToken = (name: string, role: Role) =>
    this.request<ApiToken & { secret: string }>('POST', '/tokens', { name, role });

  revokeToken = (id: string) => this.request<ApiToken>('DELETE', `/tokens/${enc(id)}`);

  rotateKey = (
    project: string,
    env: string,
    kind: 'sdkKey' | 'mobileKey',
    gracePeriodSeconds: number,
    comment?: string,
  ) =>
    this.request<Environment>(
      'POST',
      `/projects/${enc(project)}/environments/${enc(env)}/keys/${kind}/rotate`,
      { gracePeriodSeconds, ...(comment ? { comment } : {}) },
    );

  audit = (query: { project: string; env?: string; resource?: string; before?: number; limit?: number }) => {
    const params = new URLSearchParams({ project: query.project, limit: String(query.limit ?? 50) });
    if (query.env) params.set('env', query.env);
    if (query.resource) params.set('resource', query.resource);
    if (query.before !== undefined) params.set('before', String(query.before));
    return this.request<{ items: AuditEntry[]; next?: number }>('GET', `/audit?${params}`);
  };

  busiestFlags = (project: string, env: string, range: InsightsRange) =>
    this.request<BusiestFlags>(
      'GET',
      `/projects/${enc(project)}/environments/${enc(env)}/insights/flags?${rangeParams(range)}`,
    );

  flagInsights = (project: string, env: string, key: string, range: InsightsRange) =>
    this.request<FlagInsights>(
      'GET',
      `/projects/${enc(project)}/environments/${enc(env)}/insights/flags/${enc(key)}?${rangeParams(range)}`,
    );
}

export interface InsightsRange {
  from: number;
  to: number;
  granularity: 'hour' | 'day';
}

function rangeParams(range: InsightsRange): string {
  return new URLSearchParams({
    from: String(range.from),
    to: String(range.to),
    granularity: range.granularity,
  }).toString();
}
