// Limits of what a person types that the API declares and the console's fields enforce alike (web/ imports this
// file), so that the two cannot disagree. No imports: the console's build reads it as it is.

/** The longest note of an incident's acknowledgement or resolution, and of a stream's pause or resume. */
export const NOTE_MAX_CHARS = 2_000;

/** The longest note of a suppression made, removed or restored by hand. */
export const SUPPRESSION_NOTE_MAX_CHARS = 1_000;
