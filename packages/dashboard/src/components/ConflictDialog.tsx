import { Dialog } from './Dialog.js';

/**
 * What a `409 version_conflict` means for a person: someone else saved first. Nothing was written;
 * reloading shows their change, and the edits made here are given up (they were based on old data).
 */
export function ConflictDialog({
  what,
  onReload,
  onClose,
}: {
  what: string;
  onReload(): void;
  onClose(): void;
}) {
  return (
    <Dialog title="Someone else changed this first" onClose={onClose}>
      <div class="stack">
        <p>
          {what} was changed by someone else after you opened it, so your change was{' '}
          <strong>not saved</strong>.
        </p>
        <p>Reload to see the current version, then make your change again.</p>
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Not now
          </button>
          <button type="button" class="button primary" data-autofocus onClick={onReload}>
            Reload
          </button>
        </div>
      </div>
    </Dialog>
  );
}
