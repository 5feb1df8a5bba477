import { useState } from 'preact/hooks';
import { useApp } from '../state.js';
import { copyText } from './clipboard.js';

/** Copies a value and says so; `label` names what is copied ("SDK key for Production"). */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const { toast } = useApp();
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await copyText(value);
      setDone(true);
      toast(`Copied the ${label}`);
      window.setTimeout(() => setDone(false), 1500);
    } catch (err) {
      toast(`Could not copy: ${(err as Error).message}`, 'error');
    }
  };
  return (
    <button type="button" class="button small" onClick={copy} aria-label={`Copy the ${label}`}>
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}
