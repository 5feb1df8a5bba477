import { useMemo, useRef, useState } from 'preact/hooks';
import { navigate } from '../router.js';
import { type AppState, projectPath } from '../state.js';
import { copyText } from './clipboard.js';
import { Dialog } from './Dialog.js';

export interface Command {
  id: string;
  title: string;
  /** Extra words that find it (a flag's key, say). */
  keywords?: string;
  group: 'Flags' | 'Keys' | 'Toggle' | 'Go to' | 'Environment' | 'Session';
  run(): void | Promise<void>;
}

/** Everything the palette offers, for the current project and environment. */
export function buildCommands(app: AppState): Command[] {
  const { project, env, flags, environments } = app;
  const commands: Command[] = [];
  const copy = (id: string, what: string, value: string) =>
    commands.push({
      id,
      title: `Copy ${what} for ${env.name}`,
      keywords: `${env.key} clipboard key`,
      group: 'Keys',
      run: async () => {
        try {
          await copyText(value);
          app.toast(`Copied the ${what} for ${env.name}`);
        } catch (err) {
          app.toast(`Could not copy: ${(err as Error).message}`, 'error');
        }
      },
    });
  copy('copy-sdk', 'SDK key', env.sdkKey);
  copy('copy-mobile', 'mobile key', env.mobileKey);
  copy('copy-client', 'client-side ID', env.clientSideId);
  for (const flag of flags) {
    commands.push({
      id: `flag-${flag.key}`,
      title: `Go to flag ${flag.name}`,
      keywords: flag.key,
      group: 'Flags',
      run: () => navigate(projectPath(project.key, `/flags/${encodeURIComponent(flag.key)}`)),
    });
  }
  // Switching is a writer's change: a read-only token is offered only what it can do.
  for (const flag of app.can.write ? flags : []) {
    const on = flag.environments[env.key]?.on ?? false;
    commands.push({
      id: `toggle-${flag.key}`,
      title: `Turn ${on ? 'off' : 'on'} ${flag.name} in ${env.name}`,
      keywords: `${flag.key} toggle switch`,
      group: 'Toggle',
      run: () => app.requestToggle(flag, env),
    });
  }
  const pages: [string, string][] = [
    ['Flags', '/flags'],
    ['Segments', '/segments'],
    ['Environments and keys', '/environments'],
    ['Audit log', '/audit'],
    ['Insights', '/insights'],
  ];
  for (const [title, path] of pages) {
    commands.push({
      id: `go-${path}`,
      title: `Go to ${title}`,
      group: 'Go to',
      run: () => navigate(projectPath(project.key, path)),
    });
  }
  for (const other of environments) {
    if (other.key === env.key) continue;
    commands.push({
      id: `env-${other.key}`,
      title: `Switch to environment ${other.name}`,
      keywords: other.key,
      group: 'Environment',
      run: () => app.setEnv(other.key),
    });
  }
  commands.push({ id: 'sign-out', title: 'Sign out', group: 'Session', run: () => app.signOut() });
  return commands;
}

/** Commands whose title or keywords contain every word typed; title prefixes rank first. */
export function filterCommands(commands: readonly Command[], query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return commands.slice(0, 60);
  const scored: { command: Command; score: number }[] = [];
  for (const command of commands) {
    const title = command.title.toLowerCase();
    const haystack = `${title} ${command.keywords?.toLowerCase() ?? ''} ${command.group.toLowerCase()}`;
    if (!words.every((w) => haystack.includes(w))) continue;
    const score = words.reduce((s, w) => s + (title.includes(w) ? 2 : 1) + (title.startsWith(w) ? 2 : 0), 0);
    scored.push({ command, score });
  }
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, 60).map((s) => s.command);
}

/**
 * The Ctrl/Cmd+K command palette: an ARIA combobox with a listbox. Typing filters, the arrow keys
 * move, Enter runs, Escape closes; focus never leaves the input, so it is all keyboard.
 */
export function Palette({ app, onClose }: { app: AppState; onClose(): void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLDivElement>(null);
  const commands = useMemo(() => buildCommands(app), [app]);
  const results = useMemo(() => filterCommands(commands, query), [commands, query]);
  const current = Math.min(active, Math.max(0, results.length - 1));

  const run = (command: Command | undefined) => {
    if (!command) return;
    onClose();
    // After the dialog is gone: focus is back on the page (the clipboard wants a focused document).
    window.setTimeout(() => void command.run(), 0);
  };
  const move = (to: number) => {
    const next = Math.max(0, Math.min(results.length - 1, to));
    setActive(next);
    listRef.current?.querySelector(`#palette-option-${next}`)?.scrollIntoView({ block: 'nearest' });
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown') move(current + 1);
    else if (event.key === 'ArrowUp') move(current - 1);
    else if (event.key === 'Home' && event.ctrlKey) move(0);
    else if (event.key === 'End' && event.ctrlKey) move(results.length - 1);
    else if (event.key === 'Enter') run(results[current]);
    else return;
    event.preventDefault();
  };

  return (
    <Dialog title="Command palette" onClose={onClose} class="palette">
      <input
        type="text"
        role="combobox"
        aria-label="Type a command or a flag"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-autocomplete="list"
        aria-activedescendant={results.length > 0 ? `palette-option-${current}` : undefined}
        placeholder="Type a command or a flag…"
        value={query}
        data-autofocus
        class="palette-input"
        autoComplete="off"
        spellcheck={false}
        onInput={(e) => {
          setQuery(e.currentTarget.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div id="palette-list" role="listbox" aria-label="Commands" class="palette-list" ref={listRef}>
        {results.map((command, index) => (
          // Options are picked with the mouse too; the keyboard path is the combobox above, which keeps
          // focus and points at the active option with aria-activedescendant.
          // biome-ignore lint/a11y/useKeyWithClickEvents: the combobox handles the keys for the listbox
          <div
            key={command.id}
            id={`palette-option-${index}`}
            role="option"
            tabIndex={-1}
            aria-selected={index === current}
            class={index === current ? 'active' : ''}
            onMouseMove={() => setActive(index)}
            onClick={() => run(command)}
          >
            <span class="palette-group">{command.group}</span>
            <span>{command.title}</span>
          </div>
        ))}
        {results.length === 0 ? <p class="muted palette-empty">Nothing matches “{query}”</p> : null}
      </div>
      <p class="palette-help muted">↑ ↓ to move, Enter to run, Esc to close</p>
    </Dialog>
  );
}
