import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { Dialog } from './Dialog.js';

interface ArchiveDialogProps {
  /** "flag" or "segment". */
  what: string;
  itemKey: string;
  /** What SDKs and people will notice, in a sentence. */
  consequence: string;
  /** Reads what depends on the item, as the service counts it (each entry a readable phrase). */
  loadDependents(): Promise<string[]>;
  onArchive(comment: string): Promise<void>;
  onClose(): void;
}

/**
 * Confirms archiving, naming the key. What still depends on the item is read first and shown as a
 * reason it cannot be archived yet, since the service would refuse; a refusal that arrives anyway
 * (something changed meanwhile) is shown the same way.
 */
export function ArchiveDialog({
  what,
  itemKey,
  consequence,
  loadDependents,
  onArchive,
  onClose,
}: ArchiveDialogProps) {
  const [dependents, setDependents] = useState<string[]>();
  const [problem, setProblem] = useState<string>();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loadDependents().then(setDependents, (err: unknown) => {
      // Without the list the service still refuses when needed; say so rather than block.
      setDependents([]);
      setProblem(`Could not check what depends on it: ${(err as Error).message}`);
    });
    // Read once when the dialog opens: the loader is a fresh closure on every render.
  }, []);

  const blocked = (dependents?.length ?? 0) > 0;
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onArchive(comment.trim());
    } catch (err) {
      if (err instanceof ApiError && err.code === 'in_use' && Array.isArray(err.body.usedBy)) {
        setDependents((err.body.usedBy as unknown[]).map(String));
        setProblem(undefined);
      } else setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Archive ${what} “${itemKey}”?`} onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <p>{consequence}</p>
        {dependents === undefined ? (
          <p class="muted" aria-busy="true">
            Checking what depends on {itemKey}…
          </p>
        ) : blocked ? (
          <div class="problem-summary" role="alert">
            <strong>
              {itemKey} cannot be archived while {dependents.length === 1 ? 'this depends' : 'these depend'}{' '}
              on it:
            </strong>
            <ul data-testid="archive-dependents">
              {dependents.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
            <span>Change {dependents.length === 1 ? 'it' : 'them'} first, then archive.</span>
          </div>
        ) : (
          <>
            <p>Nothing else depends on it. It can be restored later from the archived list.</p>
            <label class="field">
              <span>Comment for the audit log (optional)</span>
              <textarea
                rows={2}
                value={comment}
                maxLength={4096}
                onInput={(e) => setComment(e.currentTarget.value)}
              />
            </label>
          </>
        )}
        {problem ? (
          <p class="field-problems" role="alert">
            {problem}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" class="button" data-autofocus onClick={onClose}>
            {blocked ? 'Close' : 'Cancel'}
          </button>
          <button type="submit" class="button danger" disabled={busy || dependents === undefined || blocked}>
            {busy ? 'Archiving…' : `Archive ${itemKey}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
