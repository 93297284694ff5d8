// The fixed limits the MIME scanner stops at, so that any input is parsed in bounded time and memory.
export interface MimeLimits {
  /** Deepest nesting of multiparts and enclosed messages that is parsed. */
  maxDepth: number;
  /** Most parts parsed in one mail (all levels). */
  maxParts: number;
  /** Most header lines read per header block. */
  maxHeaderLines: number;
  /** Most bytes of one text leaf that are decoded. */
  maxBodyBytes: number;
  /** Most bytes of the whole mail that are looked at. */
  maxMailBytes: number;
}

export const DEFAULT_LIMITS: MimeLimits = {
  maxDepth: 20,
  maxParts: 400,
  maxHeaderLines: 2000,
  maxBodyBytes: 512 * 1024,
  maxMailBytes: 32 * 1024 * 1024,
};
