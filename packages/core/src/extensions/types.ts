/**
 * Extension slots in the Rust cpex 0.2 field shapes (snake_case, they are wire data).
 * Tier per slot: immutable (request, agent, mcp, completion, provenance, llm, framework, meta,
 * security except labels), monotonic (security.labels, delegation), guarded (http headers),
 * mutable (custom). The precise slot types live next to their schemas (issue: CMF/extensions).
 */
export interface Extensions {
  request?: Record<string, unknown> | null;
  agent?: Record<string, unknown> | null;
  http?: Record<string, unknown> | null;
  security?: Record<string, unknown> | null;
  delegation?: Record<string, unknown> | null;
  raw_credentials?: Record<string, unknown> | null;
  candidate_constraint?: Record<string, unknown> | null;
  mcp?: Record<string, unknown> | null;
  completion?: Record<string, unknown> | null;
  provenance?: Record<string, unknown> | null;
  llm?: Record<string, unknown> | null;
  framework?: Record<string, unknown> | null;
  meta?: Record<string, unknown> | null;
  custom?: Record<string, unknown> | null;
}
