/**
 * Marker strings to search a profile for. No two share four characters in a row: Firefox
 * (and Chromium, once it compacts) compress IndexedDB records with Snappy, which would
 * replace a repeat with a back-reference and hide a marker that is there in plain text.
 */
export const MARKERS = {
  one: { body: 'bQ7xK2mZrd', header: 'hV9pW4tLcy', auth: 'aF3gN8eUjo', bin: 'nR3cY8fJwi' },
  two: { body: 'dG5sT1qEzk', header: 'kM6wA0uHxb', auth: 'tC1vD6rSog', bin: 'pX2zB7vNlm' },
  plain: { body: 'eJ4hL9yWqa', header: 'mT8bK3nPsf', auth: 'uZ5oI2xGcd', bin: 'rW0jE7kAvh' },
} as const;

export type MarkerSet = (typeof MARKERS)[keyof typeof MARKERS];

/** Every byte value, then a marker: a binary body that must come back byte for byte. */
export const markedBinary = (marker: string): number[] => [...Array.from({ length: 256 }, (_, i) => i), ...Buffer.from(marker)];
