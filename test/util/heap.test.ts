import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const HEAP_MODULE = fileURLToPath(new URL("../../src/util/heap.ts", import.meta.url));

/**
 * In a fresh process (the setting is process-wide), under `setup` (code using `growth`, a HeapGrowth of 10%): a
 * live set of ~30 MB, then objects that live long enough to be promoted and die there. Returns the largest old
 * generation seen, in MB.
 */
function oldGenerationPeakMb(percent: number, setup = ""): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { HeapGrowth } from ${JSON.stringify(HEAP_MODULE)};
    const growth = new HeapGrowth(${percent});
    ${setup}
    const live = Array.from({ length: 200_000 }, (_, i) => ({ i, s: "x" + i, a: [i, i + 1] }));
    const ring = new Array(64);
    let peak = 0;
    for (let k = 0; k < 4000; k++) {
      ring[k % 64] = Array.from({ length: 2000 }, (_, i) => ({ k, i, t: "y" + i }));
      if (k % 50 === 0)
        peak = Math.max(peak, getHeapSpaceStatistics().find((s) => s.space_name === "old_space").space_used_size);
    }
    console.log(JSON.stringify({ live: live.length, peakMb: peak / 1048576 }));`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(child.stderr);
  return (JSON.parse(child.stdout) as { peakMb: number }).peakMb;
}

describe("HeapGrowth", () => {
  it("keeps the old generation close to its live size where V8 alone lets garbage pile up, unless relaxed", () => {
    const unbounded = oldGenerationPeakMb(0);
    const bounded = oldGenerationPeakMb(10);
    const relaxed = oldGenerationPeakMb(10, "growth.relax();");
    const relaxedThenRestored = oldGenerationPeakMb(
      10,
      "const restore = growth.relax(); restore(); restore();",
    );
    expect(bounded).toBeLessThan(unbounded * 0.6);
    expect(relaxed).toBeGreaterThan(bounded * 1.5);
    expect(relaxedThenRestored).toBeLessThan(unbounded * 0.6);
  });
});
