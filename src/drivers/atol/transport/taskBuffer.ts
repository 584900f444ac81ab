/** Task-buffer commands: the first DATA byte of a host packet (docs/protocol/atol-v3.md §3). */
export const TaskCommand = {
  Add: 0xc1,
  Ack: 0xc2,
  Req: 0xc3,
  Abort: 0xc4,
  AckAdd: 0xc5,
} as const;

/** Task states and buffer answers: the first DATA byte of a device packet. */
export const TaskState = {
  Pending: 0xa1,
  InProgress: 0xa2,
  Result: 0xa3,
  Error: 0xa4,
  Stopped: 0xa5,
  AsyncResult: 0xa6,
  AsyncError: 0xa7,
  Waiting: 0xa8,
  Overflow: 0xb1,
  AlreadyExists: 0xb2,
  NotFound: 0xb3,
  IllegalValue: 0xb4,
} as const;

/** Add-task flags. NeedResult keeps the result in the buffer until we Ack it, which makes Req safe. */
export const TaskFlags = {
  NeedResult: 0x01,
  IgnoreError: 0x02,
  WaitAsyncData: 0x04,
} as const;

/** Task ids, like packet ids, cycle over 0x00–0xDF. */
export const MAX_TASK_ID = 0xdf;

export function taskStateName(state: number): string {
  const entry = Object.entries(TaskState).find(([, value]) => value === state);
  return entry ? entry[0] : `0x${state.toString(16).padStart(2, '0')}`;
}
