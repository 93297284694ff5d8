// The pauses in force, per tenant, kept in memory for the lookups (a lookup must not wait on the database): read
// again when older than `ttlMs`, and at once after this process paused or resumed a stream. A pause made in
// another process is seen within `ttlMs`. While the database does not answer, the pauses last read stand.
import type { Db } from "../store/db.js";
import { activePauses, type ActivePause } from "../store/stream-pauses.js";

export class PauseCache {
  private readonly entries = new Map<string, { at: number; pauses: ActivePause[] }>();
  private readonly loading = new Map<string, Promise<ActivePause[]>>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The tenant's pauses when known and fresh (no waiting); undefined otherwise. */
  peek(tenant: string): ActivePause[] | undefined {
    const e = this.entries.get(tenant);
    return e && this.clock() - e.at < this.ttlMs ? e.pauses : undefined;
  }

  /**
   * The tenant's pauses as last read, whatever their age, with a read started when they are older than `ttlMs`
   * (a lookup never waits for it); undefined when never read yet (call get).
   */
  current(tenant: string): ActivePause[] | undefined {
    const e = this.entries.get(tenant);
    if (!e) return undefined;
    if (this.clock() - e.at >= this.ttlMs && !this.loading.has(tenant)) void this.get(tenant);
    return e.pauses;
  }

  async get(tenant: string): Promise<ActivePause[]> {
    const fresh = this.peek(tenant);
    if (fresh) return fresh;
    let p = this.loading.get(tenant);
    if (!p) {
      const at = this.clock();
      p = activePauses(this.db, tenant)
        .then((pauses) => {
          this.entries.set(tenant, { at, pauses });
          // A bounded map: tenants are few, but names come from requests.
          if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value!);
          return pauses;
        })
        // The database not answering must not fail the lookups the suppression index can answer alone: the
        // pauses last read (none if never read) stand until it answers again.
        .catch(() => this.entries.get(tenant)?.pauses ?? [])
        .finally(() => this.loading.delete(tenant));
      this.loading.set(tenant, p);
    }
    return p;
  }

  invalidate(tenant: string): void {
    this.entries.delete(tenant);
  }
}
