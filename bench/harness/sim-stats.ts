/** Reading the simulator's request counters (GET /_sim/stats). */
import { Simulator } from './simulator';

export interface SimCounters {
  total: number;
  /** endpoint -> status -> count */
  byEndpoint: Record<string, Record<string, number>>;
  byStatus: Record<string, number>;
  byFault: Record<string, number>;
}

const LIST_ENDPOINTS = ['pipeline_runs', 'task_runs', 'operations'];

export async function counters(sim: Simulator): Promise<SimCounters> {
  return (await sim.stats()) as unknown as SimCounters;
}

/** Requests to the three list endpoints so far, whatever their status: the pages a client asked for. */
export async function listRequestCount(sim: Simulator): Promise<number> {
  const c = await counters(sim);
  let sum = 0;
  for (const endpoint of LIST_ENDPOINTS) {
    for (const count of Object.values(c.byEndpoint[endpoint] ?? {})) sum += count;
  }
  return sum;
}
