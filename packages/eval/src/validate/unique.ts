import type { Checker } from './checker.js';
import { quote } from './describe.js';

/** Reports values seen twice, pointing at the first occurrence so the duplicate is easy to find. */
export class UniqueValues {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly c: Checker,
    private readonly what: string,
  ) {}

  add(path: string, value: string): void {
    const first = this.seen.get(value);
    if (first === undefined) this.seen.set(value, path);
    else this.c.fail(path, `duplicate ${this.what} ${quote(value)}: it is already used at ${first}`);
  }
}
