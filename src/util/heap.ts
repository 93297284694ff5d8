// How far V8 lets the old generation grow past what the last full collection left alive.
import { setFlagsFromString } from "node:v8";

/** The growing factor while a stream of Buffers runs: 2.5. */
const RELAXED_PERCENT = 150;

/**
 * After each full collection, V8 sets the next one at the live size times a factor of its own choosing, up to 4.
 * A process whose live heap is small but whose requests promote a steady trickle of short-lived objects to the
 * old generation (the API under lookups) then carries up to three times its live heap as garbage, and its RSS
 * wanders by tens of MB from one run to the next. A fixed factor of 1 + percent/100 keeps the old generation
 * within that of its live size (V8 still grows it by a few MB at least), for a major collection that comes more
 * often but marks a small heap.
 *
 * V8 counts the Buffer memory taken since the last full collection against that limit too. An export reads its COPY in
 * 64 kB socket chunks, and V8 frees young Buffers only once 32 MB of them wait: under the bound, that set off 10
 * full collections per million rows, a third more CPU. So while such a stream runs (`relax`), the factor is 2.5:
 * room for those 32 MB over an API's live heap of about 25 MB (measured: one full collection per export; at 2,
 * six). It is not V8's largest, 4, because the factor in force at the last full collection holds until the next:
 * after an export, lookups pile garbage up to that limit before the bound is back.
 *
 * The setting is V8's, so it holds for the whole process: `rebound start` sets it only where the API runs without
 * the intake and the worker, whose streams of raw mails would meet the same fate as an export's. 0 leaves V8's own
 * heuristic throughout.
 */
export class HeapGrowth {
  private relaxedBy = 0;

  constructor(private readonly percent: number) {
    this.apply();
  }

  /** The largest factor until the returned function is called (once; later calls do nothing). */
  relax(): () => void {
    this.relaxedBy++;
    this.apply();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.relaxedBy--;
      this.apply();
    };
  }

  private apply(): void {
    if (this.percent > 0)
      setFlagsFromString(
        `--heap-growing-percent=${this.relaxedBy > 0 ? RELAXED_PERCENT : Math.round(this.percent)}`,
      );
  }
}
