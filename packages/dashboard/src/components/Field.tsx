import { type ComponentChildren, cloneElement, type VNode } from 'preact';
import { useId } from 'preact/hooks';

/**
 * A labelled control whose label holds only its text. A `<select>` nested in its `<label>` would get
 * the option texts mixed into its label, which screen readers then read out; `for`/`id` avoids that.
 */
export function Field({
  label,
  children,
  class: className,
}: {
  label: ComponentChildren;
  children: VNode;
  class?: string;
}) {
  const id = useId();
  return (
    <div class={`field ${className ?? ''}`}>
      <label for={id}>{label}</label>
      {cloneElement(children, { id })}
    </div>
  );
}
