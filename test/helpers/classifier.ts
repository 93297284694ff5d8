// The classifier threads of a test file: one pool, started when first needed (no deadline). Its threads are
// unref'd while idle, so the pool never holds the test process open.
import { createClassifyPool, type ClassifyPool } from "../../src/worker/classify-pool.js";

let pool: ClassifyPool | undefined;

export function testClassifier(): ClassifyPool {
  pool ??= createClassifyPool({ threads: 2, timeoutMs: 0 });
  return pool;
}
