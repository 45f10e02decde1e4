/**
 * The credential the simulator always accepts. Local mode creates its
 * `default` tenant with it, so a fresh clone polls something that answers.
 * It guards nothing: the simulator is a test double, never a real UXC.
 */
export const SIMULATOR_DEFAULT_AK = 'uxc-simulator-ak';
export const SIMULATOR_DEFAULT_SK = 'uxc-simulator-sk';

/**
 * Wrong or missing ak/sk. UXC documents 3002 without a meaning; a credential
 * failure is the likeliest reading of a code listed next to 3103 and 5000.
 */
export const SIMULATOR_AUTH_ERRNO = 3002;
/** No usable `sid` in the body: 1000 is the document's own error example. */
export const SIMULATOR_BAD_REQUEST_ERRNO = 1000;

/** Status codes of the simulator's lifecycle, as in the relay's default UXC_STATUS_MAP. */
export const SIMULATOR_STATUS = {
  queued: 100,
  running: 200,
  succeeded: 1,
  failed: 2,
  canceled: 1000,
} as const;

export const SIMULATOR_DEFAULT_PORT = 4100;

/** The document's path, spelled out here: the simulator takes nothing but types from the relay. */
export const SIMULATOR_TASK_GET_PATH = '/api/dispatch/task/get';
