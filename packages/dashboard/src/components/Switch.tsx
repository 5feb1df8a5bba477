import { READ_ONLY_NOTICE_ID } from '../state.js';

interface SwitchProps {
  on: boolean;
  /** The accessible name: what is switched, e.g. "checkout-enabled in Production". */
  label: string;
  disabled?: boolean;
  busy?: boolean;
  /** Why the token may not switch it (read-only role); the switch still shows its state. */
  readOnly?: string;
  onToggle(): void;
}

/** An on/off switch: a button with role="switch", so it is announced and operated as one. */
export function Switch({ on, label, disabled, busy, readOnly, onToggle }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      class={`switch ${on ? 'switch-on' : ''}`}
      aria-checked={on}
      aria-label={label}
      aria-busy={busy}
      // Read-only is aria-disabled rather than disabled: the switch stays focusable, so keyboard and
      // screen-reader users still reach its state and hear why it cannot change (the notice it points
      // at); the title says the same on hover.
      aria-disabled={readOnly ? true : undefined}
      aria-describedby={readOnly ? READ_ONLY_NOTICE_ID : undefined}
      title={readOnly}
      disabled={disabled || busy}
      onClick={readOnly ? undefined : onToggle}
    >
      <span class="switch-track" aria-hidden="true">
        <span class="switch-thumb" />
      </span>
      <span class="switch-text" aria-hidden="true">
        {on ? 'On' : 'Off'}
      </span>
    </button>
  );
}
