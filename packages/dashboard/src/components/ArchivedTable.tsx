import { formatTime } from '../lib/format.js';
import { Link } from '../router.js';

export interface ArchivedItem {
  key: string;
  name: string;
  updatedAt: number;
}

interface ArchivedTableProps<T extends ArchivedItem> {
  /** `flag` or `segment`: the column heading and the rows' `data-archived-<kind>` attribute. */
  kind: 'flag' | 'segment';
  items: T[];
  caption: string;
  hrefFor: (item: T) => string;
  /** Restoring is a writer's change; a reader sees the list only (the read-only notice says why). */
  canRestore: boolean;
  /** The key being restored, whose button is disabled meanwhile. */
  busy: string | undefined;
  onRestore: (item: T) => void;
}

/** Archived flags or segments, each with its archive time and a Restore button. */
export function ArchivedTable<T extends ArchivedItem>(props: ArchivedTableProps<T>) {
  const { kind, items, canRestore, busy } = props;
  return (
    <table class="simple archived-table">
      <caption class="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{kind === 'flag' ? 'Flag' : 'Segment'}</th>
          <th scope="col">Archived</th>
          {canRestore ? (
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={item.key} {...{ [`data-archived-${kind}`]: item.key }}>
            <th scope="row">
              <Link href={props.hrefFor(item)} class="flag-name">
                {item.name}
              </Link>
              <div class="flag-meta">
                <code>{item.key}</code>
              </div>
            </th>
            <td data-label="Archived">{formatTime(item.updatedAt)}</td>
            {canRestore ? (
              <td>
                <button
                  type="button"
                  class="button small"
                  disabled={busy === item.key}
                  onClick={() => props.onRestore(item)}
                >
                  Restore {item.key}
                </button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
