import type { Problem } from '../targeting/draft.js';

/** The problems at a path (and below it), shown under the field they concern. */
export function FieldProblems({
  problems,
  path,
  id,
}: {
  problems: readonly Problem[];
  path: string;
  id?: string;
}) {
  const mine = problems.filter((p) => p.path === path);
  if (mine.length === 0) return null;
  return (
    <ul class="field-problems" id={id}>
      {mine.map((p) => (
        <li key={p.message}>{p.message}</li>
      ))}
    </ul>
  );
}

/** Every problem, as a summary at the top of a form; each names its place. */
export function ProblemSummary({ problems, title }: { problems: readonly Problem[]; title: string }) {
  if (problems.length === 0) return null;
  return (
    <div class="problem-summary" role="alert">
      <strong>{title}</strong>
      <ul>
        {problems.map((p) => (
          <li key={`${p.path} ${p.message}`}>
            {p.path ? <code>{p.path}</code> : null} {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
