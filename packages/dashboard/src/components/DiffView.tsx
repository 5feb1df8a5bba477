import { type DiffLine, withContext } from '../lib/diff.js';

/** A line diff with markers that do not rely on colour alone (+ and −, and the screen-reader text). */
export function DiffView({
  lines,
  context = 3,
  label,
}: {
  lines: DiffLine[];
  context?: number;
  label: string;
}) {
  const shown = withContext(lines, context);
  if (!lines.some((l) => l.kind !== 'same')) return <p class="muted">No changes.</p>;
  return (
    // A scrollable region must be reachable by keyboard to be scrolled without a mouse.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
    <section class="diff" aria-label={label} tabIndex={0}>
      <pre>
        {shown.map((line, i) =>
          line.kind === 'skip' ? (
            <span key={i} class="diff-skip">
              {`  … ${line.count} unchanged line${line.count === 1 ? '' : 's'}\n`}
            </span>
          ) : (
            <span key={i} class={`diff-${line.kind}`}>
              {line.kind === 'added' ? (
                <span class="sr-only">added: </span>
              ) : line.kind === 'removed' ? (
                <span class="sr-only">removed: </span>
              ) : null}
              {`${line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '− ' : '  '}${line.text}\n`}
            </span>
          ),
        )}
      </pre>
    </section>
  );
}
