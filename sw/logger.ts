export type Logger = (...args: unknown[]) => void;

const silent: Logger = () => {};

/** The one prefixed logger: silent unless the `debug` option is on. */
export function createLogger(debug: boolean): Logger {
  return debug ? (...args) => console.log('[sw-outbox]', ...args) : silent;
}
