import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { DataSource, DataSourceContext, DataSourceFactory, FullDataSet } from '../api/dataSource.js';
import type { LDLogger } from '../api/logger.js';
import { buildDataSet, FileDataError, type ParsedFile, parseFile } from './fileData.js';
import { loadYamlParser, type YamlParser } from './yamlLoader.js';

/** Options of {@link FileDataSourceFactory} (same as LaunchDarkly's v9 `FileDataSourceOptions`). */
export interface FileDataSourceOptions {
  /** The files to read: JSON or YAML (`.yml`/`.yaml`), with optional `flags`, `flagValues` and `segments`. */
  paths: string[];
  /** Reload all files whenever one of them changes. Default false. */
  autoUpdate?: boolean;
  /** Where warnings and errors go. Default: the client's logger. */
  logger?: LDLogger;
  /**
   * Parses YAML text, for example the `parse` function of the `yaml` package. Without it the optional
   * peer dependency `yaml` is loaded when a YAML file is read.
   */
  yamlParser?: (text: string) => unknown;
}

// Editors save in several writes (truncate, write, rename); reload once they are done.
const RELOAD_DEBOUNCE_MS = 50;

/**
 * Flag data read from local files (same API as LaunchDarkly's v9 `integrations.FileDataSourceFactory`):
 *
 * ```ts
 * const files = new integrations.FileDataSourceFactory({ paths: ['flags.json'], autoUpdate: true });
 * const client = init('sdk-key', { updateProcessor: files.getFactory(), sendEvents: false });
 * ```
 *
 * Invalid files make the client fail to initialize, as in v9; when a reload finds invalid files, the
 * previous data stays in use and the error is logged.
 */
export class FileDataSourceFactory {
  private readonly options: FileDataSourceOptions;

  constructor(options: FileDataSourceOptions) {
    const paths: unknown = options?.paths;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw new TypeError('FileDataSourceFactory: `paths` must be an array of file paths');
    }
    this.options = { ...options, paths: [...paths] };
  }

  /** The data source factory for `options.updateProcessor`. */
  getFactory(): DataSourceFactory {
    return (context) => new FileDataSource(this.options, context);
  }
}

class FileDataSource implements DataSource {
  private readonly logger: LDLogger;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private readonly watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  // Loads run one at a time; at most one more waits, and it reads the files when it runs.
  private queue: Promise<void> = Promise.resolve();
  private reloadQueued = false;
  /** The data set last stored and the file contents it came from (undefined after a failed reload). */
  private current: FullDataSet | undefined;
  private currentTexts: string[] | undefined;

  constructor(
    private readonly options: FileDataSourceOptions,
    private readonly context: DataSourceContext,
  ) {
    this.logger = options.logger ?? context.logger;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    // Watching before the first read, so a change made while it runs is not missed.
    if (this.options.autoUpdate) this.watch();
    this.enqueue(() => this.load(true));
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.debounce);
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      // load() handles its own errors; this only keeps a surprise from becoming an unhandled rejection.
      this.logger.error(`FileDataSource: unexpected error: ${messageOf(err)}`);
    });
  }

  private async load(initial: boolean): Promise<void> {
    if (this.state !== 'running') return;
    let texts: string[];
    let data: FullDataSet;
    try {
      ({ texts, data } = await this.readAll());
    } catch (err) {
      if (this.state !== 'running') return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.currentTexts = undefined;
      if (initial) {
        // As in v9, bad files at startup fail client initialization instead of leaving it waiting.
        this.logger.error(`FileDataSource: could not load the flag data: ${error.message}`);
        this.stop();
        this.context.status.failed(error);
      } else {
        this.logger.error(`FileDataSource: reload failed, keeping the previous flag data: ${error.message}`);
        this.context.status.interrupted(error);
      }
      return;
    }
    if (this.state !== 'running') return;
    // fs.watch reports touches and duplicate events; do not churn the store when nothing changed.
    if (!initial && sameTexts(texts, this.currentTexts)) return;
    try {
      await this.context.updates.init(data);
    } catch (err) {
      if (this.state !== 'running') return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.error(`FileDataSource: storing the flag data failed: ${error.message}`);
      if (initial) {
        this.stop();
        this.context.status.failed(error);
      } else {
        this.context.status.interrupted(error);
      }
      return;
    }
    this.current = data;
    this.currentTexts = texts;
    if (this.state !== 'running') return;
    if (!initial) {
      this.logger.info(`FileDataSource: reloaded ${this.options.paths.join(', ')}`);
    }
    // The first call makes the client ready. Later ones are ignored today, but they are the only way to
    // say that the data is good again after an interruption.
    this.context.status.ready();
  }

  /** Reads, parses and merges every file, collecting all problems before failing. */
  private async readAll(): Promise<{ texts: string[]; data: FullDataSet }> {
    const paths = this.options.paths;
    const reads = await Promise.allSettled(paths.map((path) => readFile(path, 'utf8')));
    const problems: string[] = [];
    const texts: string[] = [];
    const parsed: ParsedFile[] = [];
    const getYaml = this.yamlParser();
    for (const [i, path] of paths.entries()) {
      const read = reads[i];
      if (read?.status !== 'fulfilled') {
        problems.push(`${path}: could not read the file (${messageOf(read?.reason)})`);
        continue;
      }
      texts.push(read.value);
      try {
        parsed.push({ path, data: await parseFile(path, read.value, getYaml) });
      } catch (err) {
        problems.push(messageOf(err));
      }
    }
    let data: FullDataSet | undefined;
    try {
      data = buildDataSet(parsed, this.current);
    } catch (err) {
      if (!(err instanceof FileDataError)) throw err;
      problems.push(...err.problems);
    }
    if (problems.length > 0 || data === undefined) throw new FileDataError(problems);
    return { texts, data };
  }

  private yamlParser(): () => Promise<YamlParser> {
    const given = this.options.yamlParser;
    return given === undefined ? loadYamlParser : () => Promise.resolve(given);
  }

  /**
   * Watches the directories that hold the files rather than the files: editors that save by writing a new
   * file and renaming it over the old one would otherwise leave the watcher on a deleted file.
   */
  private watch(): void {
    const namesByDir = new Map<string, Set<string>>();
    for (const path of this.options.paths) {
      const absolute = resolve(path);
      const names = namesByDir.get(dirname(absolute)) ?? new Set<string>();
      names.add(basename(absolute));
      namesByDir.set(dirname(absolute), names);
    }
    for (const [dir, names] of namesByDir) {
      try {
        // Not persistent: watching must not keep the process alive after the client is done with.
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          // Some platforms do not say which file changed; then any change may be ours.
          if (filename === null || names.has(String(filename))) this.changed();
        });
        watcher.on('error', (err) => {
          this.logger.warn(
            `FileDataSource: watching ${dir} failed, changes there are no longer seen: ${err.message}`,
          );
        });
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn(`FileDataSource: cannot watch ${dir} for changes: ${messageOf(err)}`);
      }
    }
  }

  private changed(): void {
    if (this.state !== 'running') return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.reloadQueued) return;
      this.reloadQueued = true;
      this.enqueue(() => {
        this.reloadQueued = false;
        return this.load(false);
      });
    }, RELOAD_DEBOUNCE_MS);
    this.debounce.unref();
  }
}

function sameTexts(a: string[], b: string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((text, i) => text === b[i]);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
