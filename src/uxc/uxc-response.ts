/**
 * The shapes UXC answers with, typed from the API document and its fixtures
 * (`test/fixtures/uxc/`). The simulator imports these types too, so the two
 * sides cannot drift apart silently.
 */

/** `data` of a task answer. Every field is optional: UXC documents no required ones. */
export interface UxcTaskData {
  sid?: string;
  /** Status code; its meaning comes from `UXC_STATUS_MAP`. */
  status?: number;
  podIp?: string;
  /** A string in UXC's answers (`"8103"`), not a number. */
  podPort?: string;
  /** Documented as integer, but 0..1 in practice (the finished example shows 1). */
  progress?: number;
  /** Seconds, a float (`66.59`). */
  costTime?: number;
  message?: string;
  queueNum?: number;
  queueTotal?: number;
  /** `cos://<bucket>/<key>` object-storage URLs. */
  outputResult?: string[];
  /** `{info, parameters}`: the ComfyUI workflow, node id → `{class_type, inputs, _meta}`. */
  photoParameters?: Record<string, unknown>;
  /** Fields UXC may add later are kept, never dropped. */
  [extra: string]: unknown;
}

/** Every UXC answer: HTTP 200 for business errors too; `errNo` 0 means success. */
export interface UxcEnvelope<T = UxcTaskData> {
  errNo: number;
  errMsg: string;
  data: T;
}

export const UXC_TASK_GET_PATH = '/api/dispatch/task/get';

/** errNo 0 is the only success; the document lists 3002, 3103 and 5000 and its example uses 1000. */
export const UXC_OK = 0;
