import { useState } from 'preact/hooks';
import type { DiffLine } from '../lib/diff.js';
import { Dialog } from './Dialog.js';
import { DiffView } from './DiffView.js';

interface SaveDialogProps {
  title: string;
  diff: DiffLine[];
  /** Critical environments require a comment. */
  requireComment: boolean;
  onSave(comment: string): Promise<void>;
  onClose(): void;
}

/** Review before saving: the exact change as a diff, and a comment for the audit log. */
export function SaveDialog({ title, diff, requireComment, onSave, onClose }: SaveDialogProps) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    if (requireComment && comment.trim() === '') {
      setProblem('A comment is required for changes in a critical environment: say why.');
      return;
    }
    setBusy(true);
    try {
      await onSave(comment.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose} size="wide">
      <form onSubmit={submit} class="stack">
        <DiffView lines={diff} label="Changes to be saved" />
        <label class="field">
          <span>Comment for the audit log{requireComment ? ' (required)' : ' (optional)'}</span>
          <textarea
            rows={2}
            value={comment}
            maxLength={4096}
            data-autofocus
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'save-comment-problem' : undefined}
            onInput={(e) => {
              setComment(e.currentTarget.value);
              setProblem(undefined);
            }}
          />
        </label>
        {problem ? (
          <p class="field-problems" id="save-comment-problem" role="alert">
            {problem}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Keep editing
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
