// The mark of a run that is an evaluation: "evaluation: <dataset names>", a link to the run's
// Evaluation tab.

import type { Run } from "../api/types";
import { datasetsTag, evaluatedOn } from "../lib/evaluation";
import { Link, enc } from "../lib/router";

export function EvalBadge({ run, compact = false }: { run: Run; compact?: boolean }) {
  const names = evaluatedOn(run);
  if (!names.length) return null;
  const models = [...new Set(datasetsTag(run).map((d) => d.model).filter(Boolean))];
  const title = `Evaluated on ${names.join(", ")}${models.length ? ` (model ${models.join(", ")})` : ""}: the mlflow.datasets tag`;
  const shown = names.length > 2 ? `${names.slice(0, 2).join(", ")} +${names.length - 2}` : names.join(", ");
  return (
    <Link href={`/runs/${enc(run.info.run_id)}?tab=evaluation`} className={`badge eval-badge${compact ? " compact" : ""}`} data-testid="eval-badge" title={title}>
      {compact ? "eval" : "evaluation"}: {shown}
    </Link>
  );
}
