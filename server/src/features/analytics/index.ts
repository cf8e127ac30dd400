/** What other parts use of analytics directly: sinks mark the hours whose rollup late samples change. */
export { markHoursDirty } from './rollup-dirty.ts';
