import type { ComponentChildren } from 'preact';

interface EditGroupProps {
  /** Why nothing inside can be changed (a read-only token, an archived item); editable when absent. */
  lockedBecause?: string;
  /** The id of the visible notice that explains it, for screen readers. */
  noticeId?: string;
  class?: string;
  children: ComponentChildren;
}

/**
 * An editor's controls in an unstyled fieldset, so one `disabled` turns every input, select and
 * button inside off at once while their values stay on screen: someone who may not change a flag
 * can still read its targeting. Nothing inside has to know about roles.
 */
export function EditGroup({ lockedBecause, noticeId, class: className, children }: EditGroupProps) {
  const locked = lockedBecause !== undefined;
  return (
    <fieldset
      class={`edit-group ${className ?? ''}`}
      disabled={locked}
      aria-describedby={locked ? noticeId : undefined}
      title={lockedBecause}
      data-locked={locked || undefined}
    >
      {children}
    </fieldset>
  );
}
