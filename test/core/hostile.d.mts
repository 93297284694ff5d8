// Types of hostile.mjs (plain JavaScript, shared by the tests and the bench).
export declare const UNITS: readonly string[];
export interface HostileContext {
  name: string;
  /** The whole mail, with `payload` (a run of `unit`) where this context reads it. */
  mail(payload: string, unit: string): string;
}
export declare const CONTEXTS: readonly HostileContext[];
export declare function run(unit: string, size: number): string;
export declare function foldedRun(unit: string, size: number, width?: number, fold?: string): string;
export declare function hostileMails(
  size: number,
  options?: { contexts?: readonly HostileContext[]; units?: readonly string[] },
): Generator<{ context: string; unit: string; mail: string }>;
export declare function rng(seed: number): () => number;
export declare function mutate(src: Buffer, rand: () => number): Buffer;
