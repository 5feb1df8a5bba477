interface SwitchProps {
  on: boolean;
  /** The accessible name: what is switched, e.g. "checkout-enabled in Production". */
  label: string;
  disabled?: boolean;
  busy?: boolean;
  onToggle(): void;
}

/** An on/off switch: a button with role="switch", so it is announced and operated as one. */
export function Switch({ on, label, disabled, busy, onToggle }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      class={`switch ${on ? 'switch-on' : ''}`}
      aria-checked={on}
      aria-label={label}
      aria-busy={busy}
      disabled={disabled || busy}
      onClick={onToggle}
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
