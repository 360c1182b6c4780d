/**
 * Background jobs that must run once per period across all nodes (pruning), not once per node.
 * A lease row names the node that runs the job and until when; claiming is one atomic
 * statement, so of any number of nodes exactly one wins each period.
 */
export interface JobLeases {
  /** True if `holder` now holds `job` until `until` (the previous lease had run out by `now`). */
  claim(job: string, holder: string, now: number, until: number): Promise<boolean>;
}
